"""Warm pools and instance refresh (root volume replacement) as the emulator runs them.

Each test names the AWS rule it checks and the page it comes from (EC2 Auto Scaling User Guide
unless an API Reference is named). Rules marked "inferred" are where AWS is silent; the emulator's
choice is written down in ``warm_pool.py`` / ``instance_refresh.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lifecycle_emulator.autoscaling import LifecycleActions
from lifecycle_emulator.clock import VirtualClock
from lifecycle_emulator.fleet import Fleet, InstanceBehaviour

REGION = "us-east-1"
START = datetime(2026, 1, 1, tzinfo=UTC)
AMI = "ami-12c6146b"
LAUNCH = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATE = "autoscaling:EC2_INSTANCE_TERMINATING"
READY_AFTER = 60.0


@pytest.fixture
def fleet(aws: None, clock: VirtualClock) -> Iterator[Fleet]:
    """Status checks pass READY_AFTER seconds after EC2 (re)starts an instance."""
    behaviours = itertools.repeat(InstanceBehaviour(ready_after=READY_AFTER))
    fleet = Fleet(clock, behaviours)
    fleet.install()
    yield fleet
    fleet.uninstall()


@pytest.fixture
def emulator(
    aws: None, fleet: Fleet, clock: VirtualClock, seen: list[dict[str, Any]]
) -> Iterator[LifecycleActions]:
    with LifecycleActions(clock, on_event=seen.append) as emu:
        yield emu


def hook(name: str, transition: str = LAUNCH, **extra: Any) -> dict[str, Any]:
    return {"LifecycleHookName": name, "LifecycleTransition": transition, **extra}


HOOKS = [hook("up"), hook("down", TERMINATE)]


def create_group(asg: Any, desired: int, hooks: list[dict[str, Any]] = HOOKS) -> None:
    asg.create_auto_scaling_group(
        AutoScalingGroupName="g",
        LaunchConfigurationName="lc",
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=desired,
        AvailabilityZones=[f"{REGION}a"],
        LifecycleHookSpecificationList=hooks,
    )


def states(asg: Any) -> dict[str, str]:
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["g"])["AutoScalingGroups"][0]
    return {i["InstanceId"]: i["LifecycleState"] for i in group["Instances"]}


def pool(asg: Any) -> dict[str, str]:
    instances = asg.describe_warm_pool(AutoScalingGroupName="g")["Instances"]
    return {i["InstanceId"]: i["LifecycleState"] for i in instances}


def ec2_state(instance_id: str) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    state: str = reservations[0]["Instances"][0]["State"]["Name"]
    return state


def status_check(instance_id: str) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    found = ec2.describe_instance_status(InstanceIds=[instance_id], IncludeAllInstances=True)
    status: str = found["InstanceStatuses"][0]["InstanceStatus"]["Status"]
    return status


def complete(asg: Any, hook_name: str, instance_id: str, result: str = "CONTINUE") -> None:
    asg.complete_lifecycle_action(
        AutoScalingGroupName="g",
        LifecycleHookName=hook_name,
        LifecycleActionResult=result,
        InstanceId=instance_id,
    )


def in_service(asg: Any, clock: VirtualClock, desired: int) -> list[str]:
    """A group of ``desired`` InService instances (launch hooks completed)."""
    create_group(asg, desired)
    clock.advance(0)
    ids = list(states(asg))
    for instance_id in ids:
        complete(asg, "up", instance_id)
    assert set(states(asg).values()) == {"InService"}
    return ids


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


# --- InstanceReusePolicy --------------------------------------------------------------------------
def test_instance_reuse_policy_is_kept_and_described(emulator: Any, asg: Any) -> None:
    """API Reference PutWarmPool / WarmPoolConfiguration: InstanceReusePolicy.ReuseOnScaleIn is
    part of the pool's configuration (DescribeWarmPool, DescribeAutoScalingGroups)."""
    create_group(asg, 0)
    asg.put_warm_pool(
        AutoScalingGroupName="g", MinSize=0, InstanceReusePolicy={"ReuseOnScaleIn": True}
    )
    config = asg.describe_warm_pool(AutoScalingGroupName="g")["WarmPoolConfiguration"]
    assert config["InstanceReusePolicy"] == {"ReuseOnScaleIn": True}
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["g"])["AutoScalingGroups"][0]
    assert group["WarmPoolConfiguration"]["InstanceReusePolicy"] == {"ReuseOnScaleIn": True}


def test_scale_in_with_reuse_returns_the_instance_to_the_pool_through_terminate_hooks(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """ "Use lifecycle hooks with a warm pool": with an instance reuse policy "an instance that is
    returning to the warm pool pauses ... at the Warmed:Pending:Wait state for the
    EC2_INSTANCE_TERMINATING lifecycle action" (launch hooks are not named for it: none run);
    "Warm pool example events": an EC2 Instance-terminate Lifecycle Action with Origin
    AutoScalingGroup, Destination WarmPool. Then it enters the pool and, in a Stopped pool, is
    stopped ("As soon as an instance finishes launching into the warm pool, Amazon EC2 Auto
    Scaling stops or hibernates the instance"); it is not terminated."""
    (instance,) = in_service(asg, clock, 1)
    asg.put_warm_pool(
        AutoScalingGroupName="g",
        MaxGroupPreparedCapacity=1,
        PoolState="Stopped",
        InstanceReusePolicy={"ReuseOnScaleIn": True},
    )
    before = len(emulator.records)

    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    clock.advance(0)

    (returning,) = emulator.records[before:]
    assert (returning.transition, returning.hook_name) == (TERMINATE, "down")
    assert (returning.origin, returning.destination) == ("AutoScalingGroup", "WarmPool")
    event = seen[-1]
    assert event["detail-type"] == "EC2 Instance-terminate Lifecycle Action"
    assert (event["detail"]["Origin"], event["detail"]["Destination"]) == (
        "AutoScalingGroup",
        "WarmPool",
    )
    assert "Action" not in event["detail"]
    assert states(asg) == {}
    assert pool(asg) == {instance: "Warmed:Pending:Wait"}
    details = asg.describe_auto_scaling_instances(InstanceIds=[instance])["AutoScalingInstances"]
    assert details[0]["LifecycleState"] == "Warmed:Pending:Wait"
    assert ec2_state(instance) == "running"

    complete(asg, "down", instance)
    assert pool(asg) == {instance: "Warmed:Stopped"}
    assert ec2_state(instance) == "stopped"
    assert len(emulator.records) == before + 1, "no launch hook ran on the way back"


def test_abandon_on_the_way_back_still_enters_the_pool_and_ends_the_other_hooks(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """Inferred (AWS is silent on ABANDON for an instance returning to the warm pool): as for a
    terminating instance ("Lifecycle hooks": "both abandon and continue allow the instance to
    terminate. However, abandon stops any remaining actions, such as other lifecycle hooks"),
    the instance goes on to its destination, the pool, and the other hooks' actions end."""
    create_group(asg, 1, [hook("up"), hook("down", TERMINATE), hook("down2", TERMINATE)])
    clock.advance(0)
    (instance,) = states(asg)
    complete(asg, "up", instance)
    asg.put_warm_pool(
        AutoScalingGroupName="g",
        MaxGroupPreparedCapacity=1,
        PoolState="Running",
        InstanceReusePolicy={"ReuseOnScaleIn": True},
    )
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    clock.advance(0)
    other = emulator.actions(instance_id=instance, hook_name="down2")[0]

    complete(asg, "down", instance, "ABANDON")

    assert pool(asg) == {instance: "Warmed:Running"}
    assert ec2_state(instance) == "running", "a Running pool keeps it running"
    assert (other.end_reason, other.result) == ("abandoned-by-other-hook", None)


def test_without_reuse_policy_scale_in_terminates(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """ "Use lifecycle hooks with a warm pool": without an instance reuse policy a scale-in
    terminates the instance: it pauses at Terminating:Wait (Origin AutoScalingGroup,
    Destination EC2)."""
    (instance,) = in_service(asg, clock, 1)
    asg.put_warm_pool(AutoScalingGroupName="g", MaxGroupPreparedCapacity=1)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    clock.advance(0)
    leaving = emulator.actions(instance_id=instance, hook_name="down")[0]
    assert (leaving.origin, leaving.destination) == ("AutoScalingGroup", "EC2")
    assert states(asg) == {instance: "Terminating:Wait"}


# --- stopped pool: stop on the way in, start on the way out ---------------------------------------
def test_stopped_pool_instance_is_started_again_and_boots_before_pending_wait(
    emulator: Any, fleet: Fleet, asg: Any, clock: VirtualClock
) -> None:
    """ "Use lifecycle hooks with a warm pool": a launch hook pauses the instance at
    Warmed:Pending:Wait, then "again when the instance restarts and reaches the Pending:Wait
    state"; an instance is stopped as soon as it enters a Stopped pool. EC2 status checks of a
    restarted instance start over (initializing) until it has booted."""
    create_group(asg, 0)
    asg.put_warm_pool(AutoScalingGroupName="g", MaxGroupPreparedCapacity=1, PoolState="Stopped")
    clock.advance(0)
    (instance,) = pool(asg)
    assert ec2_state(instance) == "running", "it runs while its launch hooks wait"
    complete(asg, "up", instance)
    assert pool(asg) == {instance: "Warmed:Stopped"}
    assert ec2_state(instance) == "stopped"
    clock.advance(3600)

    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    clock.advance(0)

    assert states(asg) == {instance: "Pending:Wait"}
    assert ec2_state(instance) == "running"
    assert status_check(instance) == "initializing", "booted again, not ready at once"
    clock.advance(READY_AFTER)
    assert status_check(instance) == "ok"


def test_running_pool_instance_stays_running_and_ready(
    emulator: Any, fleet: Fleet, asg: Any, clock: VirtualClock
) -> None:
    """ "Warm pools" (PoolState Running): the pool's instances keep running; leaving the pool
    they are not restarted, so their status checks stay ok."""
    create_group(asg, 0)
    asg.put_warm_pool(AutoScalingGroupName="g", MaxGroupPreparedCapacity=1, PoolState="Running")
    clock.advance(0)
    (instance,) = pool(asg)
    complete(asg, "up", instance)
    assert pool(asg) == {instance: "Warmed:Running"}
    clock.advance(READY_AFTER)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    clock.advance(0)
    assert states(asg) == {instance: "Pending:Wait"}
    assert status_check(instance) == "ok"


def test_hibernated_pool_instance_is_stopped_in_ec2(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """ "Use lifecycle hooks with a warm pool": Amazon EC2 Auto Scaling "stops or hibernates" the
    instance as it enters the pool (moto has no hibernation: the instance is stopped)."""
    create_group(asg, 0)
    asg.put_warm_pool(AutoScalingGroupName="g", MaxGroupPreparedCapacity=1, PoolState="Hibernated")
    clock.advance(0)
    (instance,) = pool(asg)
    complete(asg, "up", instance)
    assert pool(asg) == {instance: "Warmed:Hibernated"}
    assert ec2_state(instance) == "stopped"


# --- Warmed:Terminating:Wait ----------------------------------------------------------------------
def warm_pool_of(asg: Any, clock: VirtualClock, size: int) -> list[str]:
    create_group(asg, 0)
    asg.put_warm_pool(AutoScalingGroupName="g", MinSize=size, MaxGroupPreparedCapacity=0)
    clock.advance(0)
    ids = list(pool(asg))
    for instance_id in ids:
        complete(asg, "up", instance_id)
    assert set(pool(asg).values()) == {"Warmed:Stopped"}
    return ids


def test_shrinking_pool_sends_the_surplus_through_warmed_terminating_wait(
    emulator: Any, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """ "Warm pool instance lifecycle" / botocore LifecycleState: an instance leaving the pool to
    be terminated passes Warmed:Terminating:Wait (terminate hooks) before Warmed:Terminated;
    the pool holds max(MinSize, MaxGroupPreparedCapacity - desired) ("Warm pools"). Origin
    WarmPool, Destination EC2 is inferred (no example event)."""
    first, second = warm_pool_of(asg, clock, 2)
    before = len(emulator.records)

    asg.put_warm_pool(AutoScalingGroupName="g", MinSize=1, MaxGroupPreparedCapacity=0)
    clock.advance(0)

    (leaving,) = emulator.records[before:]
    assert (leaving.transition, leaving.instance_id) == (TERMINATE, first)
    assert (leaving.origin, leaving.destination) == ("WarmPool", "EC2")
    assert seen[-1]["detail-type"] == "EC2 Instance-terminate Lifecycle Action"
    assert pool(asg) == {first: "Warmed:Terminating:Wait", second: "Warmed:Stopped"}
    assert ec2_state(first) == "stopped", "not terminated before its hooks"

    complete(asg, "down", first)
    assert pool(asg) == {second: "Warmed:Stopped"}
    assert ec2_state(first) == "terminated"
    assert len(emulator.records) == before + 1, "no replacement: the pool is at its size"


def test_delete_warm_pool_waits_for_terminate_hooks_then_the_pool_is_gone(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """API Reference DeleteWarmPool / WarmPoolConfiguration: the pool is ``PendingDelete`` while
    its instances are terminated (without ForceDelete it waits for them); each passes
    Warmed:Terminating:Wait with the terminate hooks ("Warm pool instance lifecycle")."""
    first, second = warm_pool_of(asg, clock, 2)

    asg.delete_warm_pool(AutoScalingGroupName="g")
    clock.advance(0)

    config = asg.describe_warm_pool(AutoScalingGroupName="g")["WarmPoolConfiguration"]
    assert config["Status"] == "PendingDelete"
    assert set(pool(asg).values()) == {"Warmed:Terminating:Wait"}
    complete(asg, "down", first)
    complete(asg, "down", second)
    described = asg.describe_warm_pool(AutoScalingGroupName="g")
    assert "WarmPoolConfiguration" not in described
    assert described["Instances"] == []
    assert {ec2_state(first), ec2_state(second)} == {"terminated"}
    assert states(asg) == {}


def test_force_delete_warm_pool_terminates_at_once_and_deletes_actions(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """API Reference DeleteWarmPool ForceDelete: "deleted along with all of its associated
    instances, without waiting for all instances to be terminated. This parameter also deletes
    any outstanding lifecycle actions associated with the warm pool instances."""
    create_group(asg, 0)
    asg.put_warm_pool(AutoScalingGroupName="g", MinSize=1, MaxGroupPreparedCapacity=0)
    clock.advance(0)
    (instance,) = pool(asg)
    (warming,) = emulator.actions(instance_id=instance)

    asg.delete_warm_pool(AutoScalingGroupName="g", ForceDelete=True)

    assert (warming.end_reason, warming.result) == ("warm-pool-deleted", None)
    assert ec2_state(instance) == "terminated"
    assert "WarmPoolConfiguration" not in asg.describe_warm_pool(AutoScalingGroupName="g")
    assert len(emulator.records) == 1, "no terminate hook ran"


def test_unhealthy_warm_instance_leaves_through_terminate_hooks_and_is_replaced(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """ "View health check status" (warm pools): an unhealthy warm instance is terminated and a
    new one created to replace it; custom health checks (SetInstanceHealth) are supported; on
    its way out it passes Warmed:Terminating:Wait ("Warm pool instance lifecycle")."""
    (instance,) = warm_pool_of(asg, clock, 1)

    asg.set_instance_health(InstanceId=instance, HealthStatus="Unhealthy")
    clock.advance(0)

    leaving = emulator.actions(instance_id=instance, hook_name="down")[0]
    assert (leaving.origin, leaving.destination) == ("WarmPool", "EC2")
    replacement = next(i for i in pool(asg) if i != instance)
    assert pool(asg) == {instance: "Warmed:Terminating:Wait", replacement: "Warmed:Pending:Wait"}
    complete(asg, "down", instance)
    assert ec2_state(instance) == "terminated"


# --- instance refresh: ReplaceRootVolume ----------------------------------------------------------
def mixed_group(asg: Any, clock: VirtualClock, desired: int, target_group: str | None) -> list[str]:
    """A group with a mixed instances policy (required for ReplaceRootVolume), InService."""
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"}
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="g",
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=desired,
        AvailabilityZones=[f"{REGION}a"],
        MixedInstancesPolicy=policy(),
        TargetGroupARNs=[target_group] if target_group else [],
        LifecycleHookSpecificationList=HOOKS,
    )
    clock.advance(0)
    ids = list(states(asg))
    for instance_id in ids:
        complete(asg, "up", instance_id)
    return ids


def policy() -> dict[str, Any]:
    return {
        "LaunchTemplate": {
            "LaunchTemplateSpecification": {"LaunchTemplateName": "web-lt", "Version": "1"},
            "Overrides": [{"InstanceType": "t3.micro", "ImageId": AMI}],
        }
    }


def start_rvr(asg: Any, **extra: Any) -> str:
    refresh_id: str = asg.start_instance_refresh(
        AutoScalingGroupName="g",
        Strategy="ReplaceRootVolume",
        DesiredConfiguration={"MixedInstancesPolicy": policy()},
        **extra,
    )["InstanceRefreshId"]
    return refresh_id


def refresh_of(asg: Any, refresh_id: str) -> dict[str, Any]:
    (found,) = asg.describe_instance_refreshes(
        AutoScalingGroupName="g", InstanceRefreshIds=[refresh_id]
    )["InstanceRefreshes"]
    return dict(found)


def make_target_group() -> tuple[Any, str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    arn = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][
        0
    ]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "0"}],
    )
    return elbv2, arn


def test_replace_root_volume_runs_terminate_then_launch_hooks_on_the_same_instance(
    emulator: Any, fleet: Fleet, asg: Any, clock: VirtualClock, seen: list[dict[str, Any]]
) -> None:
    """ "Replace root volumes during instance refresh" / "Use lifecycle hooks with replace root
    volume": the instance is not terminated; a terminate hook pauses it at
    ReplacingRootVolume:Wait, a launch hook at Pending:Wait after the replacement, both events
    with "Action": "ReplaceRootVolume" and Origin/Destination AutoScalingGroup ("Instance refresh
    example events"); it is deregistered from its load balancer on ReplacingRootVolume and
    registered again before InService ("How lifecycle hooks work"). One instance at a time;
    DescribeInstanceRefreshes reports progress and Successful (API Reference)."""
    elbv2, tg = make_target_group()
    first, second = mixed_group(asg, clock, 2, tg)
    clock.advance(READY_AFTER)
    before = len(emulator.records)

    refresh_id = start_rvr(asg)
    clock.advance(0)

    (pre,) = emulator.records[before:]
    assert (pre.transition, pre.instance_id, pre.action) == (TERMINATE, first, "ReplaceRootVolume")
    assert (pre.origin, pre.destination) == ("AutoScalingGroup", "AutoScalingGroup")
    detail = seen[-1]["detail"]
    assert seen[-1]["detail-type"] == "EC2 Instance-terminate Lifecycle Action"
    assert (detail["Origin"], detail["Destination"], detail["Action"]) == (
        "AutoScalingGroup",
        "AutoScalingGroup",
        "ReplaceRootVolume",
    )
    assert states(asg) == {first: "ReplacingRootVolume:Wait", second: "InService"}
    registered = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert first not in {
        t["Target"]["Id"] for t in registered if t["TargetHealth"]["State"] != "draining"
    }
    progress = refresh_of(asg, refresh_id)
    assert (progress["Status"], progress["PercentageComplete"], progress["InstancesToUpdate"]) == (
        "InProgress",
        0,
        2,
    )

    complete(asg, "down", first)
    clock.advance(0)

    post = emulator.records[-1]
    assert (post.transition, post.instance_id, post.action) == (LAUNCH, first, "ReplaceRootVolume")
    assert seen[-1]["detail-type"] == "EC2 Instance-launch Lifecycle Action"
    assert seen[-1]["detail"]["Action"] == "ReplaceRootVolume"
    assert states(asg) == {first: "Pending:Wait", second: "InService"}
    assert ec2_state(first) == "running"
    assert status_check(first) == "initializing", "rebooted with its new root volume"

    complete(asg, "up", first)
    clock.advance(0)
    assert states(asg) == {first: "InService", second: "ReplacingRootVolume:Wait"}
    complete(asg, "down", second)
    complete(asg, "up", second)

    assert states(asg) == {first: "InService", second: "InService"}, "no instance replaced"
    done = refresh_of(asg, refresh_id)
    assert (done["Status"], done["PercentageComplete"], done["InstancesToUpdate"]) == (
        "Successful",
        100,
        0,
    )
    assert done["Strategy"] == "ReplaceRootVolume"
    targets = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert {first, second} <= {t["Target"]["Id"] for t in targets}


def test_replace_root_volume_abandon_after_replacement_terminates_and_replaces(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """ "Lifecycle hooks" (launch): ABANDON "indicates that your custom actions were unsuccessful,
    and that we can terminate and replace the instance"; "Replace root volumes": "If root
    volume replacement fails for an instance, Auto Scaling marks that instance for termination
    and replaces it". ABANDON of the terminate hook before the replacement lets it go on
    (inferred from the terminate rule). The refresh goes on."""
    (instance,) = mixed_group(asg, clock, 1, None)
    refresh_id = start_rvr(asg)
    clock.advance(0)
    complete(asg, "down", instance, "ABANDON")
    assert states(asg) == {instance: "Pending:Wait"}, "replaced root volume, launch hooks next"

    complete(asg, "up", instance, "ABANDON")
    clock.advance(0)

    assert ec2_state(instance) == "terminated"
    (replacement,) = states(asg)
    assert replacement != instance
    assert states(asg)[replacement] == "Pending:Wait"
    assert emulator.actions(instance_id=replacement)[0].action is None
    assert refresh_of(asg, refresh_id)["Status"] == "Successful"


def test_replace_root_volume_requirements_and_limitations(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """ "Replace root volumes during instance refresh": the group must use a mixed instances
    policy and the DesiredConfiguration's overrides must all give an ImageId; not for a group
    with a warm pool; no warm pool may be added while it runs (API Reference PutWarmPool /
    StartInstanceRefresh: InstanceRefreshInProgress, also for a second refresh). The Rolling
    strategy is not emulated and is refused."""
    create_group(asg, 0)
    code, message = error_of(
        asg.start_instance_refresh,
        AutoScalingGroupName="g",
        Strategy="ReplaceRootVolume",
        DesiredConfiguration={"MixedInstancesPolicy": policy()},
    )
    assert code == "ValidationError"
    assert "mixed instances policy" in message
    asg.delete_auto_scaling_group(AutoScalingGroupName="g", ForceDelete=True)

    mixed_group(asg, clock, 1, None)
    no_image = {
        "MixedInstancesPolicy": {"LaunchTemplate": {"Overrides": [{"InstanceType": "t3.micro"}]}}
    }
    code, message = error_of(
        asg.start_instance_refresh,
        AutoScalingGroupName="g",
        Strategy="ReplaceRootVolume",
        DesiredConfiguration=no_image,
    )
    assert (code, "ImageId" in message) == ("ValidationError", True)
    code, _ = error_of(asg.start_instance_refresh, AutoScalingGroupName="g", Strategy="Rolling")
    assert code == "ValidationError"

    start_rvr(asg)
    code, _ = error_of(asg.put_warm_pool, AutoScalingGroupName="g", MinSize=1)
    assert code == "InstanceRefreshInProgress"
    code, _ = error_of(
        asg.start_instance_refresh,
        AutoScalingGroupName="g",
        Strategy="ReplaceRootVolume",
        DesiredConfiguration={"MixedInstancesPolicy": policy()},
    )
    assert code == "InstanceRefreshInProgress"


def test_replace_root_volume_refused_for_a_group_with_a_warm_pool(
    emulator: Any, asg: Any, clock: VirtualClock
) -> None:
    """ "Replace root volumes during instance refresh", Limitations: "You can't start an instance
    refresh with Replace Root Volume on an EC2 Auto Scaling Group that has a warm pool."""
    mixed_group(asg, clock, 1, None)
    asg.put_warm_pool(AutoScalingGroupName="g", MinSize=0, MaxGroupPreparedCapacity=1)
    code, message = error_of(
        asg.start_instance_refresh,
        AutoScalingGroupName="g",
        Strategy="ReplaceRootVolume",
        DesiredConfiguration={"MixedInstancesPolicy": policy()},
    )
    assert (code, "warm pool" in message) == ("ValidationError", True)
