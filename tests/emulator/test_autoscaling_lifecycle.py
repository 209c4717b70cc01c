"""The Auto Scaling lifecycle-action emulator against the AWS rules it claims to follow.

Every test drives moto through boto3 with the emulator installed and names the AWS rule it checks
(EC2 Auto Scaling User Guide "Lifecycle hooks", API Reference, event reference, warm pool docs).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.autoscaling.exceptions import AutoscalingClientError

from lifecycle_emulator.autoscaling import LifecycleActions
from lifecycle_emulator.clock import VirtualClock

REGION = "us-east-1"
START = datetime(2026, 1, 1, tzinfo=UTC)
LAUNCH = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATE = "autoscaling:EC2_INSTANCE_TERMINATING"


def hook(name: str, transition: str = LAUNCH, **extra: Any) -> dict[str, Any]:
    return {"LifecycleHookName": name, "LifecycleTransition": transition, **extra}


def create_group(asg: Any, desired: int, hooks: list[dict[str, Any]], name: str = "g") -> None:
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName="lc",
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=desired,
        AvailabilityZones=[f"{REGION}a"],
        LifecycleHookSpecificationList=hooks,
    )


def states(asg: Any, name: str = "g") -> dict[str, str]:
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return {i["InstanceId"]: i["LifecycleState"] for i in group["Instances"]}


def ec2_state(instance_id: str) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    state: str = reservations[0]["Instances"][0]["State"]["Name"]
    return state


def complete(asg: Any, hook_name: str, result: str = "CONTINUE", **target: str) -> None:
    asg.complete_lifecycle_action(
        AutoScalingGroupName="g",
        LifecycleHookName=hook_name,
        LifecycleActionResult=result,
        **target,
    )


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


# --- wait states, tokens, events ------------------------------------------------------------------
def test_launch_hook_puts_each_new_instance_in_pending_wait_with_its_own_token(
    emulator: Any, asg: Any
) -> None:
    """AWS: a launch lifecycle hook puts the instance into Pending:Wait; the token is a UUID."""
    create_group(asg, desired=2, hooks=[hook("launch")])

    assert list(states(asg).values()) == ["Pending:Wait", "Pending:Wait"]
    details = asg.describe_auto_scaling_instances()["AutoScalingInstances"]
    assert {d["LifecycleState"] for d in details} == {"Pending:Wait"}
    records = emulator.actions(group_name="g")
    assert [r.instance_id for r in records] == list(states(asg))
    assert len({r.token for r in records}) == 2
    for record in records:
        assert str(uuid.UUID(record.token)) == record.token
        assert len(record.token) == 36
        assert (record.transition, record.origin, record.destination) == (
            LAUNCH,
            "EC2",
            "AutoScalingGroup",
        )
        assert record.started_at == START.timestamp()
        assert record.active


def test_event_matches_aws_shape_on_the_rule_target_and_the_observer(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """AWS event reference: 'EC2 Instance-launch Lifecycle Action' from aws.autoscaling."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="lifecycle")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events = boto3.client("events", region_name=REGION)
    pattern = {
        "source": ["aws.autoscaling"],
        "detail-type": ["EC2 Instance-launch Lifecycle Action"],
    }
    events.put_rule(Name="hooks", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="hooks", Targets=[{"Id": "q", "Arn": queue_arn}])
    clock.advance(90)
    create_group(asg, desired=1, hooks=[hook("launch", NotificationMetadata='{"drain": 300}')])

    assert len(seen) == 1  # the observer sees it as it is sent ...
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
    clock.advance(0)  # ... and the rule's target gets it from the clock, like AWS's async delivery

    (record,) = emulator.actions()
    group_arn = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    expected = {
        "version": "0",
        "id": record.event["id"],
        "detail-type": "EC2 Instance-launch Lifecycle Action",
        "source": "aws.autoscaling",
        "account": "123456789012",
        "time": "2026-01-01T00:01:30.000Z",  # AWS's example events carry milliseconds
        "region": REGION,
        "resources": [group_arn],
        "detail": {
            "LifecycleActionToken": record.token,
            "AutoScalingGroupName": "g",
            "LifecycleHookName": "launch",
            "EC2InstanceId": record.instance_id,
            "LifecycleTransition": LAUNCH,
            "NotificationMetadata": '{"drain": 300}',
            "Origin": "EC2",
            "Destination": "AutoScalingGroup",
        },
    }
    assert len(expected["id"]) == 36
    assert seen == [expected]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [expected]
    assert record.event_sent_at == clock.time()


def test_group_without_hooks_behaves_as_plain_moto(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """No lifecycle hook, no wait state, no token and no event: instances go InService at once."""
    create_group(asg, desired=2, hooks=[])
    clock.advance(0)
    assert list(states(asg).values()) == ["InService", "InService"]

    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)

    assert states(asg) == {}
    assert emulator.records == []
    assert seen == []


# --- heartbeat and timeouts -----------------------------------------------------------------------
def test_heartbeat_restarts_the_full_heartbeat_timeout(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """AWS: a heartbeat restarts the timeout period (the full HeartbeatTimeout, from then)."""
    create_group(asg, desired=1, hooks=[hook("launch", HeartbeatTimeout=60)])
    (record,) = emulator.actions()
    clock.advance(50)
    asg.record_lifecycle_action_heartbeat(
        AutoScalingGroupName="g", LifecycleHookName="launch", LifecycleActionToken=record.token
    )
    clock.advance(59)  # 109 s after the start: past the first timeout, not past the second
    assert record.active
    assert states(asg)[record.instance_id] == "Pending:Wait"

    clock.advance(2)

    assert not record.active
    assert (record.end_reason, record.result) == ("heartbeat-timeout", "ABANDON")
    assert record.ended_at - record.started_at == 110
    assert record.heartbeats == [record.started_at + 50]


def test_global_timeout_caps_heartbeats(emulator: Any, asg: Any, clock: VirtualClock) -> None:
    """AWS: at most min(100 x HeartbeatTimeout, 48 h) in a wait state, whatever the heartbeats."""
    create_group(
        asg, desired=1, hooks=[hook("launch", HeartbeatTimeout=30, DefaultResult="CONTINUE")]
    )
    (record,) = emulator.actions()
    assert record.global_deadline - record.started_at == 3000
    for _ in range(200):  # 200 x 25 s would be 5000 s: well past the 3000 s cap
        if not record.active:
            break
        asg.record_lifecycle_action_heartbeat(
            AutoScalingGroupName="g", LifecycleHookName="launch", InstanceId=record.instance_id
        )
        clock.advance(25)

    assert (record.end_reason, record.result) == ("global-timeout", "CONTINUE")
    assert record.ended_at - record.started_at == 3000
    assert len(record.heartbeats) == 120  # one every 25 s, none after the cap
    assert states(asg)[record.instance_id] == "InService"

    asg.put_lifecycle_hook(
        AutoScalingGroupName="g", LifecycleHookName="launch", HeartbeatTimeout=7200
    )
    described = asg.describe_lifecycle_hooks(AutoScalingGroupName="g")["LifecycleHooks"][0]
    assert (described["HeartbeatTimeout"], described["GlobalTimeout"]) == (7200, 172800)
    assert described["DefaultResult"] == "CONTINUE"  # an update keeps what it leaves out


def test_default_result_continue_on_heartbeat_timeout_puts_instance_in_service(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """AWS DefaultResult: applied when the heartbeat timeout elapses; CONTINUE -> InService."""
    create_group(
        asg, desired=1, hooks=[hook("launch", HeartbeatTimeout=30, DefaultResult="CONTINUE")]
    )
    (record,) = emulator.actions()
    clock.advance(30)
    assert (record.end_reason, record.result) == ("heartbeat-timeout", "CONTINUE")
    assert states(asg) == {record.instance_id: "InService"}


def test_default_result_abandon_on_heartbeat_timeout_terminates_and_replaces(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """AWS DefaultResult defaults to ABANDON: the launching instance is terminated and replaced."""
    create_group(asg, desired=1, hooks=[hook("launch", HeartbeatTimeout=30)])
    (first,) = emulator.actions()
    clock.advance(30)

    assert (first.end_reason, first.result) == ("heartbeat-timeout", "ABANDON")
    assert ec2_state(first.instance_id) == "terminated"
    replacement = emulator.actions(active=True)
    assert len(replacement) == 1
    assert replacement[0].instance_id != first.instance_id
    assert states(asg) == {replacement[0].instance_id: "Pending:Wait"}


# --- completing -----------------------------------------------------------------------------------
@pytest.mark.parametrize("by", ["token", "instance"])
def test_complete_continue_by_token_or_instance_id_puts_instance_in_service(
    emulator: Any, asg: Any, by: str
) -> None:
    """AWS CompleteLifecycleAction: the action is named by LifecycleActionToken or InstanceId."""
    create_group(asg, desired=1, hooks=[hook("launch")])
    (record,) = emulator.actions()
    target = (
        {"LifecycleActionToken": record.token}
        if by == "token"
        else {"InstanceId": record.instance_id}
    )
    complete(asg, "launch", **target)

    assert (record.end_reason, record.result) == ("completed", "CONTINUE")
    assert states(asg) == {record.instance_id: "InService"}
    (call,) = record.calls
    assert (call.operation, call.outcome, call.result) == (
        "CompleteLifecycleAction",
        "accepted",
        "CONTINUE",
    )


def test_finished_and_unknown_actions_get_aws_validation_error(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """AWS: 'No active Lifecycle Action found with token ...' / '... with instance ID ...'."""
    create_group(asg, desired=1, hooks=[hook("launch")])
    (record,) = emulator.actions()
    complete(asg, "launch", LifecycleActionToken=record.token)
    clock.advance(7)
    heartbeat = asg.record_lifecycle_action_heartbeat

    by_token = error_of(
        heartbeat,
        AutoScalingGroupName="g",
        LifecycleHookName="launch",
        LifecycleActionToken=record.token,
    )
    by_instance = error_of(
        asg.complete_lifecycle_action,
        AutoScalingGroupName="g",
        LifecycleHookName="launch",
        LifecycleActionResult="CONTINUE",
        InstanceId=record.instance_id,
    )
    unknown = str(uuid.uuid4())
    by_unknown = error_of(
        heartbeat,
        AutoScalingGroupName="g",
        LifecycleHookName="launch",
        LifecycleActionToken=unknown,
    )

    assert by_token == (
        "ValidationError",
        f"No active Lifecycle Action found with token {record.token}",
    )
    assert by_instance == (
        "ValidationError",
        f"No active Lifecycle Action found with instance ID {record.instance_id}",
    )
    assert by_unknown == (
        "ValidationError",
        f"No active Lifecycle Action found with token {unknown}",
    )
    outcomes = [(c.operation, c.outcome, c.at - record.started_at) for c in record.calls]
    assert outcomes == [
        ("CompleteLifecycleAction", "accepted", 0),
        ("RecordLifecycleActionHeartbeat", "rejected", 7),
        ("CompleteLifecycleAction", "rejected", 7),
    ]
    assert emulator.calls[-1].token == unknown
    assert emulator.calls[-1].outcome == "rejected"


def test_launch_abandon_terminates_the_instance_and_launches_a_replacement_through_the_hooks(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """AWS: launch ABANDON -> 'we can terminate and replace the instance'; desired capacity kept."""
    create_group(asg, desired=1, hooks=[hook("launch")])
    (first,) = emulator.actions()
    complete(asg, "launch", result="ABANDON", InstanceId=first.instance_id)
    clock.advance(0)

    assert ec2_state(first.instance_id) == "terminated"
    second = emulator.actions()[1]
    assert states(asg) == {second.instance_id: "Pending:Wait"}
    assert [e["detail"]["EC2InstanceId"] for e in seen] == [first.instance_id, second.instance_id]
    group = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 1


# --- terminating ----------------------------------------------------------------------------------
def test_scale_in_waits_in_terminating_wait_then_terminates(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """AWS: a terminate hook pauses the instance in Terminating:Wait; CONTINUE lets it terminate."""
    create_group(asg, desired=2, hooks=[hook("drain", TERMINATE)])
    old, young = states(asg)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    clock.advance(0)

    assert states(asg) == {old: "Terminating:Wait", young: "InService"}
    assert ec2_state(old) == "running"
    (event,) = seen
    assert event["detail-type"] == "EC2 Instance-terminate Lifecycle Action"
    assert (event["detail"]["Origin"], event["detail"]["Destination"]) == (
        "AutoScalingGroup",
        "EC2",
    )

    complete(asg, "drain", InstanceId=old)

    assert states(asg) == {young: "InService"}
    assert ec2_state(old) == "terminated"


def test_terminate_instance_in_group_waits_and_launches_replacement(
    emulator: Any, asg: Any
) -> None:
    """AWS TerminateInstanceInAutoScalingGroup without decrement: the instance gets replaced."""
    create_group(asg, desired=1, hooks=[hook("drain", TERMINATE)])
    (victim,) = states(asg)
    activity = asg.terminate_instance_in_auto_scaling_group(
        InstanceId=victim, ShouldDecrementDesiredCapacity=False
    )["Activity"]

    assert activity["Description"] == f"Terminating EC2 instance: {victim}"
    now = states(asg)
    assert now.pop(victim) == "Terminating:Wait"
    assert list(now.values()) == ["InService"]  # no launch hook: the replacement is in service
    complete(asg, "drain", result="ABANDON", InstanceId=victim)
    assert victim not in states(asg)
    assert ec2_state(victim) == "terminated"


# --- several hooks --------------------------------------------------------------------------------
def test_two_launch_hooks_each_get_an_action_and_all_must_continue(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """AWS: each hook of a transition gets its own action, token and event; all run together and
    the instance goes InService only when every launch hook has completed with CONTINUE."""
    create_group(asg, desired=1, hooks=[hook("a", NotificationMetadata="m"), hook("b")])
    clock.advance(0)
    a, b = emulator.actions()
    assert (a.hook_name, b.hook_name) == ("a", "b")
    assert a.instance_id == b.instance_id
    assert a.token != b.token
    assert [e["detail"]["LifecycleActionToken"] for e in seen] == [a.token, b.token]
    assert "NotificationMetadata" not in seen[1]["detail"]  # only when the hook has some

    complete(asg, "a", LifecycleActionToken=a.token)
    assert states(asg) == {a.instance_id: "Pending:Wait"}
    complete(asg, "b", LifecycleActionToken=b.token)
    assert states(asg) == {a.instance_id: "InService"}


def test_terminate_abandon_skips_the_remaining_terminate_hooks(emulator: Any, asg: Any) -> None:
    """AWS: 'abandon stops any remaining actions, such as other lifecycle hooks'."""
    create_group(asg, desired=1, hooks=[hook("x", TERMINATE), hook("y", TERMINATE)])
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    x, y = emulator.actions()

    complete(asg, "x", result="ABANDON", LifecycleActionToken=x.token)

    assert (y.end_reason, y.result) == ("abandoned-by-other-hook", None)
    assert states(asg) == {}
    assert ec2_state(x.instance_id) == "terminated"
    code, message = error_of(
        asg.record_lifecycle_action_heartbeat,
        AutoScalingGroupName="g",
        LifecycleHookName="y",
        LifecycleActionToken=y.token,
    )
    assert (code, message) == (
        "ValidationError",
        f"No active Lifecycle Action found with token {y.token}",
    )


# --- warm pool ------------------------------------------------------------------------------------
def test_warm_pool_launch_hooks_run_into_the_pool_and_again_out_of_it(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """AWS warm pools: launch hooks pause at Warmed:Pending:Wait (EC2 -> WarmPool), then again at
    Pending:Wait when the instance leaves the pool on scale out (WarmPool -> AutoScalingGroup)."""
    create_group(asg, desired=0, hooks=[hook("launch")])
    asg.put_warm_pool(AutoScalingGroupName="g", MaxGroupPreparedCapacity=1)
    clock.advance(0)
    (warming,) = emulator.actions()
    assert (warming.origin, warming.destination) == ("EC2", "WarmPool")
    assert (seen[0]["detail"]["Origin"], seen[0]["detail"]["Destination"]) == ("EC2", "WarmPool")
    pool = asg.describe_warm_pool(AutoScalingGroupName="g")["Instances"]
    assert [(i["InstanceId"], i["LifecycleState"]) for i in pool] == [
        (warming.instance_id, "Warmed:Pending:Wait")
    ]
    assert states(asg) == {}

    complete(asg, "launch", InstanceId=warming.instance_id)
    pool = asg.describe_warm_pool(AutoScalingGroupName="g")["Instances"]
    assert [i["LifecycleState"] for i in pool] == ["Warmed:Stopped"]

    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    clock.advance(0)
    leaving = emulator.actions()[1]
    assert leaving.instance_id == warming.instance_id
    assert (leaving.origin, leaving.destination) == ("WarmPool", "AutoScalingGroup")
    assert states(asg) == {warming.instance_id: "Pending:Wait"}
    assert asg.describe_warm_pool(AutoScalingGroupName="g")["Instances"] == []

    complete(asg, "launch", LifecycleActionToken=leaving.token)
    assert states(asg) == {warming.instance_id: "InService"}


# --- hook deletion --------------------------------------------------------------------------------
def test_deleting_hooks_completes_outstanding_actions(emulator: Any, asg: Any) -> None:
    """AWS DeleteLifecycleHook: outstanding actions are completed first (ABANDON for launching
    instances, CONTINUE for terminating instances)."""
    create_group(asg, desired=1, hooks=[hook("launch"), hook("drain", TERMINATE)])
    (old,) = states(asg)
    complete(asg, "launch", InstanceId=old)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=2)
    (new,) = set(states(asg)) - {old}
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    assert states(asg) == {old: "Terminating:Wait", new: "Pending:Wait"}
    launching = emulator.actions(instance_id=new)[0]
    terminating = emulator.actions(instance_id=old, hook_name="drain")[0]

    asg.delete_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="launch")
    assert (launching.end_reason, launching.result) == ("hook-deleted", "ABANDON")
    assert ec2_state(new) == "terminated"
    (replacement,) = set(states(asg)) - {old}
    assert states(asg)[replacement] == "InService"  # the deleted hook no longer applies

    asg.delete_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="drain")
    assert (terminating.end_reason, terminating.result) == ("hook-deleted", "CONTINUE")
    assert states(asg) == {replacement: "InService"}
    assert ec2_state(old) == "terminated"


# --- delivery and fault seams ---------------------------------------------------------------------
def test_failing_target_is_recorded_and_does_not_block_other_targets(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """EventBridge delivers to each target independently; moto cannot invoke Lambda targets."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:123456789012:q"
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.autoscaling"]}))
    lambda_arn = f"arn:aws:lambda:{REGION}:123456789012:function:f"
    events.put_targets(
        Rule="r", Targets=[{"Id": "fn", "Arn": lambda_arn}, {"Id": "q", "Arn": queue_arn}]
    )
    create_group(asg, desired=1, hooks=[hook("launch")])
    clock.advance(0)

    (error,) = emulator.delivery_errors
    assert (error.rule, error.target_id) == ("r", "fn")
    assert error.error.startswith("NotImplementedError")
    assert len(sqs.receive_message(QueueUrl=queue_url)["Messages"]) == 1


def test_dropped_event_leaves_the_action_waiting(aws: None, asg: Any, clock: VirtualClock) -> None:
    """AWS: events are best effort; a lost event does not end the action (the timeout does)."""
    seen: list[dict[str, Any]] = []
    with LifecycleActions(clock, on_event=seen.append, drop_event=lambda e: True) as emu:
        create_group(asg, desired=1, hooks=[hook("launch", HeartbeatTimeout=30)])
        clock.advance(0)
        (record,) = emu.actions()
        assert len(seen) == 1, "Auto Scaling sent it (its side effects happen)"
        assert record.event_dropped
        assert record.event_sent_at is None, "no rule ever received it"
        assert record.event is not None
        assert record.active
        clock.advance(30)
        assert record.end_reason == "heartbeat-timeout"


class Throttling(AutoscalingClientError):
    code = "Throttling"
    message = "Rate exceeded"


def test_before_call_seam_can_throttle_and_the_call_is_recorded(
    aws: None, asg: Any, clock: VirtualClock
) -> None:
    """The Auto Scaling API throttles with Throttling / 'Rate exceeded'; the action is unchanged."""

    def throttle(operation: str, params: dict[str, Any]) -> None:
        if operation == "CompleteLifecycleAction":
            raise Throttling

    with LifecycleActions(clock, before_call=throttle) as emu:
        create_group(asg, desired=1, hooks=[hook("launch")])
        (record,) = emu.actions()
        no_retries = Config(retries={"total_max_attempts": 1})  # botocore retries Throttling
        client = boto3.client("autoscaling", region_name=REGION, config=no_retries)
        code, message = error_of(
            client.complete_lifecycle_action,
            AutoScalingGroupName="g",
            LifecycleHookName="launch",
            LifecycleActionResult="CONTINUE",
            LifecycleActionToken=record.token,
        )
        assert (code, message) == ("Throttling", "Rate exceeded")
        assert record.active
        (call,) = record.calls
        assert (call.outcome, call.error) == ("rejected", "Throttling: Rate exceeded")


def test_target_groups_hold_only_in_service_instances(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """AWS: an instance is registered with the group's target groups after its launch hooks
    complete, and a terminating instance, once deregistered, is not registered again while its
    terminate hook waits (moto alone re-registers every instance of the group on any change)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    tg_arn = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)[
        "TargetGroups"
    ][0]["TargetGroupArn"]

    def registered() -> set[str]:
        health = elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        return {t["Target"]["Id"] for t in health}

    asg.create_auto_scaling_group(
        AutoScalingGroupName="g",
        LaunchConfigurationName="lc",
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=2,
        AvailabilityZones=[f"{REGION}a"],
        TargetGroupARNs=[tg_arn],
        LifecycleHookSpecificationList=[hook("up"), hook("down", TERMINATE)],
    )
    clock.advance(0)
    first, second = states(asg)
    assert registered() == set(), "Pending:Wait instances are not registered"

    complete(asg, "up", InstanceId=first)
    assert registered() == {first}
    complete(asg, "up", InstanceId=second)
    assert registered() == {first, second}

    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    clock.advance(0)
    leaving = next(i for i, s in states(asg).items() if s == "Terminating")
    staying = first if leaving == second else second
    assert leaving not in registered(), "Auto Scaling deregistered it before its wait"
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=2)
    clock.advance(300)  # the deregistration delay: now in Terminating:Wait
    assert states(asg)[leaving] == "Terminating:Wait"
    newcomer = next(i for i, s in states(asg).items() if s == "Pending:Wait")
    complete(asg, "up", InstanceId=newcomer)

    assert leaving not in registered()
    assert {staying, newcomer} <= registered()
