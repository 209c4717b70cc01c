"""The emulator's terminate timeline against the AWS pages it follows.

Each test names its rule and the page it comes from: EC2 Auto Scaling User Guide "How lifecycle
hooks work", "Health checks for instances in an Auto Scaling group", "Amazon EC2 Auto Scaling
lifecycle hooks" (Considerations), "Configure instance retention", "Manage retained instances";
API Reference DescribeAutoScalingGroups and RetentionTriggers; the event reference.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from asg_lifecycle.events import parse_event
from asg_lifecycle.model import LifecycleAction
from lifecycle_emulator.autoscaling import LifecycleActions
from lifecycle_emulator.clock import VirtualClock
from lifecycle_emulator.fleet import Fleet, InstanceBehaviour
from lifecycle_emulator.scenarios import InvalidScenario, parse

REGION = "us-east-1"
START = datetime(2026, 1, 1, tzinfo=UTC)
LAUNCH = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATE = "autoscaling:EC2_INSTANCE_TERMINATING"


def hook(name: str, transition: str = TERMINATE, **extra: Any) -> dict[str, Any]:
    return {"LifecycleHookName": name, "LifecycleTransition": transition, **extra}


def target_group(name: str, delay: int) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    arn: str = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=80, VpcId=vpc["VpcId"], TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}],
    )
    return arn


def registered(arn: str) -> set[str]:
    elbv2 = boto3.client("elbv2", region_name=REGION)
    health = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return {t["Target"]["Id"] for t in health if t["TargetHealth"]["State"] != "draining"}


def create_group(
    asg: Any,
    desired: int,
    hooks: list[dict[str, Any]],
    *,
    target_groups: list[str] | None = None,
    name: str = "g",
    **extra: Any,
) -> None:
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName="lc",
        MinSize=0,
        MaxSize=6,
        DesiredCapacity=desired,
        AvailabilityZones=[f"{REGION}a"],
        TargetGroupARNs=target_groups or [],
        LifecycleHookSpecificationList=hooks,
        **extra,
    )


def states(asg: Any, name: str = "g") -> dict[str, str]:
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return {i["InstanceId"]: i["LifecycleState"] for i in group["Instances"]}


def health(asg: Any, instance_id: str) -> str:
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["g"])["AutoScalingGroups"][0]
    found: str = next(
        i["HealthStatus"] for i in group["Instances"] if i["InstanceId"] == instance_id
    )
    return found


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


def in_service(asg: Any, desired: int, **kwargs: Any) -> list[str]:
    """A group of ``desired`` InService instances (launch hook completed), in launch order."""
    hooks = kwargs.pop("hooks", [hook("drain")])
    create_group(asg, desired, [hook("up", LAUNCH), *hooks], **kwargs)
    ids = list(states(asg))
    for instance_id in ids:
        complete(asg, "up", InstanceId=instance_id)
    assert set(states(asg).values()) == {"InService"}
    return ids


# --- 1. terminate order ---------------------------------------------------------------------------
def test_scale_in_deregisters_and_waits_the_delay_before_terminating_wait(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """Rule: a terminating instance is first deregistered from its load balancers and waits out
    the deregistration delay, in ``Terminating`` (not counted toward desired capacity); only then
    does the terminate hook put it into ``Terminating:Wait`` and send the event. (User Guide,
    "How lifecycle hooks work in Auto Scaling groups", steps 4-5.)"""
    arn = target_group("tg", delay=120)
    old, young = in_service(asg, 2, target_groups=[arn])
    assert registered(arn) == {old, young}

    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    clock.advance(0)

    assert states(asg) == {old: "Terminating", young: "InService"}
    assert registered(arn) == {young}, "deregistered at once"
    assert emulator.actions(hook_name="drain") == []
    assert [e["detail-type"] for e in seen] == ["EC2 Instance-launch Lifecycle Action"] * 2
    clock.advance(119)
    assert states(asg)[old] == "Terminating"
    assert emulator.actions(hook_name="drain") == []

    clock.advance(1)

    (action,) = emulator.actions(hook_name="drain")
    assert action.started_at - START.timestamp() == 120
    assert states(asg) == {old: "Terminating:Wait", young: "InService"}
    assert seen[-1]["detail-type"] == "EC2 Instance-terminate Lifecycle Action"
    assert ec2_state(old) == "running"
    complete(asg, "drain", InstanceId=old)
    assert states(asg) == {young: "InService"}
    assert ec2_state(old) == "terminated"


def test_a_terminating_instance_in_its_delay_does_not_count_toward_desired_capacity(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """Rule: TerminateInstanceInAutoScalingGroup without decrement replaces the instance; the
    replacement launches while the old one is still ``Terminating`` (User Guide, "How lifecycle
    hooks work"; API Reference TerminateInstanceInAutoScalingGroup)."""
    arn = target_group("tg", delay=300)
    (victim,) = in_service(asg, 1, target_groups=[arn])

    asg.terminate_instance_in_auto_scaling_group(
        InstanceId=victim, ShouldDecrementDesiredCapacity=False
    )
    clock.advance(0)

    now = states(asg)
    assert now.pop(victim) == "Terminating"
    assert list(now.values()) == ["Pending:Wait"], "the replacement is launching"
    asg.terminate_instance_in_auto_scaling_group(  # a second request changes nothing
        InstanceId=victim, ShouldDecrementDesiredCapacity=False
    )
    clock.advance(300)
    assert states(asg)[victim] == "Terminating:Wait"
    assert len(emulator.actions(hook_name="drain")) == 1


def test_the_delay_is_the_longest_of_the_target_groups_and_classic_draining(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """Rule: the instance leaves every load balancer of the group; Auto Scaling waits for the
    slowest deregistration (target groups' deregistration delay, Classic Load Balancer connection
    draining timeout) before ``Terminating:Wait`` (User Guide, "How lifecycle hooks work")."""
    short, long_ = target_group("short", delay=30), target_group("long", delay=200)
    elb = boto3.client("elb", region_name=REGION)
    elb.create_load_balancer(
        LoadBalancerName="classic",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=[f"{REGION}a"],
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="classic",
        LoadBalancerAttributes={"ConnectionDraining": {"Enabled": True, "Timeout": 450}},
    )
    (victim,) = in_service(asg, 1, target_groups=[short, long_], LoadBalancerNames=["classic"])
    described = elb.describe_load_balancers(LoadBalancerNames=["classic"])
    assert [i["InstanceId"] for i in described["LoadBalancerDescriptions"][0]["Instances"]] == [
        victim
    ]

    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    described = elb.describe_load_balancers(LoadBalancerNames=["classic"])
    assert described["LoadBalancerDescriptions"][0]["Instances"] == []
    assert registered(short) == registered(long_) == set()
    clock.advance(449)
    assert states(asg) == {victim: "Terminating"}
    clock.advance(1)
    assert states(asg) == {victim: "Terminating:Wait"}


def test_a_targets_own_drain_length_counts_and_is_capped_at_3600_seconds(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """Rule: the deregistration delay is 0-3600 s (ELB target group attribute
    deregistration_delay.timeout_seconds), so no instance waits longer than 3600 s before
    ``Terminating:Wait`` ("How lifecycle hooks work"); a Fleet's per-instance ``drain_seconds``
    is that target's drain."""
    fleet = Fleet(
        clock,
        iter([InstanceBehaviour(drain_seconds=45), InstanceBehaviour(drain_seconds=21_600)]),
    )
    fleet.install()
    try:
        arn = target_group("tg", delay=300)
        quick, slow = in_service(asg, 2, target_groups=[arn])
        asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
        clock.advance(45)
        assert states(asg) == {quick: "Terminating:Wait", slow: "Terminating"}
        assert (arn, quick) in fleet.deregistered_at
        clock.advance(3600 - 45)
        assert states(asg) == {quick: "Terminating:Wait", slow: "Terminating:Wait"}
        elbv2 = boto3.client("elbv2", region_name=REGION)
        drained = elbv2.describe_target_health(TargetGroupArn=arn, Targets=[{"Id": slow}])
        assert drained["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "unused"
    finally:
        fleet.uninstall()


def test_without_load_balancers_there_is_no_delay(emulator: Any, asg: Any) -> None:
    """Rule: nothing to deregister from, nothing to wait for: ``Terminating:Wait`` at once
    ("How lifecycle hooks work": the deregistration step applies when the group is used with
    Elastic Load Balancing)."""
    (victim,) = in_service(asg, 1)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    assert states(asg) == {victim: "Terminating:Wait"}


# --- 2. terminations not caused by scale-in -------------------------------------------------------
def test_ec2_terminate_of_an_in_service_instance_runs_the_terminate_hooks_and_replaces_it(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """Rule: an instance that is no longer running is unhealthy at once and replaced ("Health
    checks for instances in an Auto Scaling group": any EC2 state other than running "is treated
    as an immediate failure"); its termination goes through the terminate hooks (terminate hooks
    apply to every termination; lifecycle hooks Considerations: "when a Spot Instance terminates,
    you must still complete the lifecycle action"). EC2 already reports the instance terminated
    while its hooks wait."""
    arn = target_group("tg", delay=60)
    (victim,) = in_service(asg, 1, target_groups=[arn])

    boto3.client("ec2", region_name=REGION).terminate_instances(InstanceIds=[victim])
    clock.advance(0)

    now = states(asg)
    assert now.pop(victim) == "Terminating"
    assert health(asg, victim) == "Unhealthy"
    (replacement,) = now
    assert now[replacement] == "Pending:Wait", "replaced at once: desired capacity unchanged"
    assert asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["DesiredCapacity"] == 1
    assert ec2_state(victim) == "terminated"
    clock.advance(60)
    (action,) = emulator.actions(hook_name="drain")
    assert (action.instance_id, action.origin, action.destination) == (
        victim,
        "AutoScalingGroup",
        "EC2",
    )
    assert states(asg)[victim] == "Terminating:Wait"
    assert seen[-1]["detail"]["EC2InstanceId"] == victim

    complete(asg, "drain", InstanceId=victim)
    assert victim not in states(asg)


def test_set_instance_health_unhealthy_replaces_the_instance_through_the_terminate_hooks(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """Rule: an instance marked unhealthy with SetInstanceHealth is replaced immediately: it
    terminates (LifecycleState ``Terminating``, HealthStatus ``Unhealthy`` in the page's example)
    while a new instance launches ("Health checks for instances in an Auto Scaling group")."""
    arn = target_group("tg", delay=30)
    first, second = in_service(asg, 2, target_groups=[arn])

    asg.set_instance_health(InstanceId=second, HealthStatus="Unhealthy")

    now = states(asg)
    assert (now.pop(first), now.pop(second)) == ("InService", "Terminating")
    assert health(asg, second) == "Unhealthy"
    assert list(now.values()) == ["Pending:Wait"]
    clock.advance(30)
    assert states(asg)[second] == "Terminating:Wait"
    assert ec2_state(second) == "running"
    complete(asg, "drain", InstanceId=second, result="ABANDON")
    assert second not in states(asg)
    assert ec2_state(second) == "terminated"


@pytest.mark.parametrize("result", ["CONTINUE", "ABANDON"])
def test_ec2_terminate_of_an_instance_in_pending_wait_keeps_its_action(
    emulator: Any, asg: Any, clock: VirtualClock, result: str
) -> None:
    """Rule: the lifecycle action stays until it is completed or times out (lifecycle hooks
    Considerations: "when a Spot Instance terminates, you must still complete the lifecycle
    action"); Auto Scaling health-checks InService instances (the grace period starts after the
    launch hooks, "Health checks"). Then the instance, no longer running, is replaced: a launch
    CONTINUE finds it unhealthy at once (terminate hooks run), an ABANDON terminates it."""
    create_group(asg, 1, [hook("up", LAUNCH), hook("drain")])
    (victim,) = states(asg)
    (launch,) = emulator.actions()

    boto3.client("ec2", region_name=REGION).terminate_instances(InstanceIds=[victim])
    clock.advance(10)

    assert launch.active
    assert states(asg) == {victim: "Pending:Wait"}, "no replacement while it waits"
    complete(asg, "up", result=result, InstanceId=victim)

    now = states(asg)
    if result == "CONTINUE":
        assert now.pop(victim) == "Terminating:Wait"
        assert health(asg, victim) == "Unhealthy"
        assert [a.hook_name for a in emulator.actions(instance_id=victim)] == ["up", "drain"]
    else:
        assert victim not in now
    assert list(now.values()) == ["Pending:Wait"], "replaced"


# --- 3. instance lifecycle policy -----------------------------------------------------------------
RETAIN_POLICY = {"RetentionTriggers": {"TerminateHookAbandon": "retain"}}


def test_describe_shows_the_instance_lifecycle_policy_and_rejects_unknown_values(
    emulator: Any, asg: Any
) -> None:
    """Rule: InstanceLifecyclePolicy is set by CreateAutoScalingGroup / UpdateAutoScalingGroup
    and returned by DescribeAutoScalingGroups; TerminateHookAbandon is ``retain | terminate``
    (API Reference, InstanceLifecyclePolicy and RetentionTriggers)."""
    create_group(asg, 0, [hook("drain")], InstanceLifecyclePolicy=RETAIN_POLICY)
    group = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["InstanceLifecyclePolicy"] == RETAIN_POLICY

    terminate = {"RetentionTriggers": {"TerminateHookAbandon": "terminate"}}
    asg.update_auto_scaling_group(AutoScalingGroupName="g", InstanceLifecyclePolicy=terminate)
    asg.update_auto_scaling_group(AutoScalingGroupName="g", MaxSize=5)  # left out: kept
    group = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["InstanceLifecyclePolicy"] == terminate

    with pytest.raises(ClientError) as caught:
        asg.update_auto_scaling_group(
            AutoScalingGroupName="g",
            InstanceLifecyclePolicy={"RetentionTriggers": {"TerminateHookAbandon": "keep"}},
        )
    assert caught.value.response["Error"]["Code"] == "ValidationError"


@pytest.mark.parametrize("how", ["abandon", "heartbeat-timeout", "abandon-by-other-hook"])
def test_retain_policy_keeps_an_abandoned_terminating_instance_in_terminating_retained(
    emulator: Any, asg: Any, clock: VirtualClock, how: str
) -> None:
    """Rule: with TerminateHookAbandon ``retain``, a terminate action that is abandoned (a
    CompleteLifecycleAction ABANDON, or a heartbeat/global timeout with DefaultResult ABANDON)
    leaves the instance in ``Terminating:Retained``: not terminated, not counted toward desired
    capacity (a replacement launches), kept until TerminateInstanceInAutoScalingGroup (User
    Guide "Configure instance retention", "Manage retained instances"; API RetentionTriggers)."""
    hooks = [hook("drain", HeartbeatTimeout=60, DefaultResult="ABANDON"), hook("logs")]
    (victim,) = in_service(asg, 1, hooks=hooks, InstanceLifecyclePolicy=RETAIN_POLICY)
    asg.terminate_instance_in_auto_scaling_group(
        InstanceId=victim, ShouldDecrementDesiredCapacity=False
    )
    drain, _logs = emulator.actions(instance_id=victim, active=True)
    if how == "abandon":
        complete(asg, "drain", result="ABANDON", InstanceId=victim)
    elif how == "heartbeat-timeout":
        complete(asg, "logs", InstanceId=victim)
        clock.advance(60)
        assert drain.end_reason == "heartbeat-timeout"
    else:
        complete(asg, "logs", result="ABANDON", InstanceId=victim)
        assert drain.end_reason == "abandoned-by-other-hook"

    now = states(asg)
    assert now.pop(victim) == "Terminating:Retained"
    assert ec2_state(victim) == "running"
    assert list(now.values()) == ["Pending:Wait"], "a replacement launches (it counts instead)"
    clock.advance(7 * 24 * 3600)
    assert states(asg)[victim] == "Terminating:Retained", "kept until terminated by hand"

    before = len(emulator.records)
    asg.terminate_instance_in_auto_scaling_group(
        InstanceId=victim, ShouldDecrementDesiredCapacity=True
    )
    assert victim not in states(asg)
    assert ec2_state(victim) == "terminated"
    assert len(emulator.records) == before, "its terminate hooks do not run again"
    group = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 1, "it never counted, so nothing is decremented"


@pytest.mark.parametrize(
    ("policy", "result"), [("retain", "CONTINUE"), ("terminate", "ABANDON"), (None, "ABANDON")]
)
def test_an_instance_is_retained_only_for_abandon_under_retain(
    emulator: Any, asg: Any, policy: str | None, result: str
) -> None:
    """Rule: instance lifecycle policies apply only when terminate actions are abandoned, not
    when they complete with CONTINUE; ``terminate`` (the default) terminates as usual (User
    Guide, "Configure instance retention")."""
    extra = (
        {"InstanceLifecyclePolicy": {"RetentionTriggers": {"TerminateHookAbandon": policy}}}
        if policy
        else {}
    )
    (victim,) = in_service(asg, 1, **extra)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    complete(asg, "drain", result=result, InstanceId=victim)
    assert states(asg) == {}
    assert ec2_state(victim) == "terminated"


# --- 4. DescribeAutoScalingGroups -----------------------------------------------------------------
def test_describe_auto_scaling_groups_takes_at_most_50_names(emulator: Any, asg: Any) -> None:
    """Rule: AutoScalingGroupNames "By default, you can only specify up to 50 names. You can
    optionally increase this limit using the MaxRecords property" (API Reference,
    DescribeAutoScalingGroups; MaxRecords at most 100); more is a ValidationError. botocore's
    paginator passes the names through unchanged, so a caller with more groups must ask in
    chunks."""
    names = [f"g{i:02d}" for i in range(51)]
    for name in names[:3]:
        create_group(asg, 0, [], name=name)

    found = asg.describe_auto_scaling_groups(AutoScalingGroupNames=names[:50])
    assert [g["AutoScalingGroupName"] for g in found["AutoScalingGroups"]] == names[:3]
    with pytest.raises(ClientError) as caught:
        asg.describe_auto_scaling_groups(AutoScalingGroupNames=names)
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert "50" in caught.value.response["Error"]["Message"]
    pages = asg.get_paginator("describe_auto_scaling_groups").paginate(AutoScalingGroupNames=names)
    with pytest.raises(ClientError):
        list(pages)
    raised = asg.describe_auto_scaling_groups(AutoScalingGroupNames=names, MaxRecords=100)
    assert len(raised["AutoScalingGroups"]) == 3, "MaxRecords raises the limit"
    with pytest.raises(ClientError):
        asg.describe_auto_scaling_groups(AutoScalingGroupNames=names * 2, MaxRecords=100)


# --- 5. event time -------------------------------------------------------------------------------
def test_event_time_carries_milliseconds_and_the_product_parses_it(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """Rule: lifecycle events' ``time`` has milliseconds, as in AWS's example events
    (``"2021-01-13T00:12:37.214Z"``, "Warm pool example events" / event reference); an SQS
    target receives the same string, and the product parses it."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.autoscaling"]}))
    events.put_targets(
        Rule="r", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:123456789012:q"}]
    )
    clock.advance(90.214)
    create_group(asg, 1, [hook("up", LAUNCH)])
    clock.advance(0)

    (event,) = seen
    assert event["time"] == "2026-01-01T00:01:30.214Z"
    (message,) = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(message["Body"]) == event
    action = parse_event(event)
    assert isinstance(action, LifecycleAction)
    # the product keeps whole seconds (its StartedAt format): a timer start at most 1 s early
    assert action.started_at == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)


# --- 6. Origin and Destination left out -----------------------------------------------------------
def test_omit_path_sends_events_without_origin_and_destination(
    aws: None, asg: Any, clock: VirtualClock
) -> None:
    """Rule: the event carries Origin and Destination only "if that information is available"
    (EC2 Auto Scaling User Guide, "Warm pool example events" and "Amazon EC2 Auto Scaling event
    reference"); with ``omit_path`` the emulator leaves both out and the product keeps them
    unknown."""
    seen: list[dict[str, Any]] = []
    with LifecycleActions(clock, on_event=seen.append, omit_path=True) as emu:
        create_group(asg, 1, [hook("up", LAUNCH)])
        (event,) = seen
        assert "Origin" not in event["detail"]
        assert "Destination" not in event["detail"]
        (record,) = emu.actions()
        assert (record.origin, record.destination) == ("EC2", "AutoScalingGroup")
        action = parse_event(event)
        assert isinstance(action, LifecycleAction)
        assert (action.origin, action.destination, action.path) == (None, None, "unknown->unknown")


# --- the scenario format for these terminations ---------------------------------------------------
def scenario_doc(**group: Any) -> dict[str, Any]:
    return {
        "group": {"name": "web", **group},
        "hooks": [{"name": "down", "transition": "terminate"}],
        "steps": [{"at": 0, "desired": 2}],
    }


def test_scenario_steps_can_end_instances_through_ec2_and_health() -> None:
    """The scenario format scripts the terminations above: ``ec2Terminate`` (EC2
    TerminateInstances), ``unhealthy`` (SetInstanceHealth Unhealthy) and ``terminate`` by
    launch-order index; ``instanceLifecyclePolicy`` is RetentionTriggers.TerminateHookAbandon."""
    document = scenario_doc(instanceLifecyclePolicy="retain")
    document["steps"].append({"at": 600, "ec2Terminate": [0], "unhealthy": [1], "terminate": [2]})
    scenario = parse(document)
    step = scenario.steps[1]
    assert (step.ec2_terminate, step.unhealthy, step.terminate) == ([0], [1], [2])
    assert scenario.lifecycle_policy == "retain"
    assert parse(scenario_doc()).lifecycle_policy is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"group": {"instanceLifecyclePolicy": "keep"}}, "instanceLifecyclePolicy"),
        ({"step": {"at": 600, "ec2Terminate": 0}}, "steps[1].ec2Terminate"),
        ({"step": {"at": 600, "unhealthy": [-1]}}, "steps[1].unhealthy"),
        ({"step": {"at": 600, "unhealthy": ["i-1"]}}, "launch-order indexes"),
        ({"step": {"at": 600, "stop": [0]}}, "unknown ['stop']"),
        ({"step": {"ec2Terminate": [0]}}, "needs 'at'"),
        ({"instance": {"drainSeconds": 21600}}, "drainSeconds"),
        ({"group": {"targetGroup": {"deregistrationDelay": 7200}}}, "deregistrationDelay"),
    ],
)
def test_scenario_rejects_what_aws_cannot_do_with_a_clear_error(
    change: dict[str, Any], message: str
) -> None:
    """Bad input fails with InvalidScenario naming the field: policies other than retain |
    terminate (API RetentionTriggers), indexes that are not launch-order positions, drains
    longer than ELB's 0-3600 s deregistration delay."""
    document = scenario_doc(**change.get("group", {}))
    if "step" in change:
        document["steps"].append(change["step"])
    if "instance" in change:
        document["instances"] = [change["instance"]]
    with pytest.raises(InvalidScenario, match=re.escape(message)):
        parse(document)
