"""The reconciler on the whole stack, at the edges of what Auto Scaling lets it read: a stack that
serves more groups than DescribeAutoScalingGroups takes names in one call, and a wait state two
transitions can hold."""

from __future__ import annotations

from typing import Any

import pytest
from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import AutoScalingBackend

from asg_lifecycle.adapters.fleet import NAMES_PER_CALL
from lifecycle_emulator.play import play
from tests.flow.stack import (
    assert_completed_once_by_the_workflow,
    assert_hook_never_lapsed,
    doc,
    emulated,
    launch_hook,
    only,
    terminate_hook,
)

GROUPS = [f"g{n:02d}" for n in range(1, 61)]  # 60 served groups, in the order they sort
LOST_IN = GROUPS[56]  # the 57th: in the second call of 50 names


@pytest.fixture
def names_per_call(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many group names each DescribeAutoScalingGroups asked for, and AWS's answer to more
    than 50 (API Reference: AutoScalingGroupNames, at most 50 items): a ValidationError, whether
    or not the emulator says so itself."""
    asked: list[int] = []
    real = AutoScalingBackend.describe_auto_scaling_groups

    def limited(self: AutoScalingBackend, names: list[str], filters: Any = None) -> list[Any]:
        asked.append(len(names or []))
        if len(names or []) > NAMES_PER_CALL:
            raise ValidationError("The AutoScalingGroupNames list is longer than 50 names")
        return real(self, names, filters)

    monkeypatch.setattr(AutoScalingBackend, "describe_auto_scaling_groups", limited)
    return asked


def _other_groups(aws: Any) -> None:
    """The 59 other served groups: empty, no hooks (read by every reconcile run all the same)."""
    asg = aws.client("autoscaling")
    asg.create_launch_configuration(
        LaunchConfigurationName="others-lc", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    for name in GROUPS:
        if name != LOST_IN:
            asg.create_auto_scaling_group(
                AutoScalingGroupName=name,
                LaunchConfigurationName="others-lc",
                MinSize=0,
                MaxSize=1,
                DesiredCapacity=0,
                AvailabilityZones=["us-east-1a"],
            )


def test_a_lost_event_in_the_57th_of_60_named_groups_is_recovered_once(
    names_per_call: list[int],
) -> None:
    document = doc([launch_hook(heartbeat=600, pollSeconds=30)], instances=[{"readyAfter": 60}])
    document["group"]["name"] = LOST_IN
    document["parameters"] = {"AutoScalingGroupNames": ",".join(GROUPS)}
    with emulated(document) as (aws, scenario):
        _other_groups(aws)
        aws.autoscaling.drop_event = lambda event: True  # the group's event is lost
        report = play(scenario, aws)
        reconciles = [i for i in aws.runtime.invocations if i.function == "ReconcileFunction"]

    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    (workflow,) = action.workflows
    assert workflow.endswith("-r202601010005"), "started by the first run (5 min 37 s)"
    assert reconciles[0].error is None
    assert reconciles[0].result["started"], "the first run found it"
    assert all(r.error is None for r in reconciles)
    assert_hook_never_lapsed(action, 600)
    # Every read of the served groups: 50 names, then the other 10 (the hook read and the
    # warm-pool reads ask for one group); never more than AWS takes.
    assert max(names_per_call) <= NAMES_PER_CALL
    assert names_per_call.count(50) >= len(reconciles)
    assert names_per_call.count(10) >= len(reconciles)


@pytest.mark.parametrize("reuse_on_scale_in", [False, True])
def test_warm_pool_instances_waiting_are_recovered_for_the_hook_that_holds_them_only(
    reuse_on_scale_in: bool,
) -> None:
    """Warmed:Pending:Wait is held by a launch hook (EC2 -> WarmPool) or, only in a warm pool
    with ReuseOnScaleIn, by a terminate hook (a scale-in returning the instance to the pool:
    User Guide, "Warm pool instance lifecycle"); the state does not say which. Every event is
    lost while ten instances warm up. Without ReuseOnScaleIn the reconciler starts the launch
    hook's workflow only. With it, a workflow for each hook of both transitions: the launch
    hook's completes each action once; the terminate hook's ends already-finished having
    completed nothing (its hook read finds the instance gone on into the pool, or its confirming
    heartbeat is refused, "No active Lifecycle Action found", for 30 s)."""
    document = doc(
        [launch_hook(heartbeat=600, pollSeconds=30), terminate_hook(heartbeat=600)],
        instances=[{"readyAfter": 60}],
        steps=[{"at": 0, "desired": 0}],
    )
    document["group"]["warmPool"] = {"MinSize": 1, "PoolState": "Stopped"}
    if reuse_on_scale_in:
        document["group"]["warmPool"]["InstanceReusePolicy"] = {"ReuseOnScaleIn": True}
    with emulated(document) as (aws, scenario):
        aws.autoscaling.drop_event = lambda event: True
        report = play(scenario, aws)
        executions = {e["name"]: e for e in aws.executions()}
        calls = list(aws.autoscaling.calls)

    assert len(report.actions) == 10, "the warm pool filled to the group's maximum"
    sent = [c for c in calls if c.hook_name == "web-terminate"]
    for warming in report.actions:
        assert (warming.transition, warming.destination) == ("launch", "WarmPool")
        assert_completed_once_by_the_workflow(warming)
        (name,) = warming.workflows
        assert executions[name]["input"]["action"]["Origin"] == "EC2"
        # the terminate hook's workflow for the same instance, started by the same run
        others = [n for n in executions if n.startswith(f"terminate-{warming.instance_id}-")]
        if not reuse_on_scale_in:
            assert others == [], "no terminate hook can hold an instance going into the pool"
            continue
        (other,) = others
        assert other.endswith(name.rsplit("-", 1)[-1])
        ended = executions[other]
        assert ended["status"] == "SUCCEEDED"
        assert ended["input"]["action"]["Origin"] == "AutoScalingGroup"
        assert ended["input"]["action"]["Destination"] == "WarmPool"
        assert ended["output"]["outcome"]["status"] == "already-finished"
    if not reuse_on_scale_in:
        assert sent == []
        return
    assert {c.operation for c in sent} == {"RecordLifecycleActionHeartbeat"}, "never completed"
    assert all(c.outcome == "rejected" for c in sent), "no hook of the other transition held one"
    refused = [
        e for e in executions.values() if "No active" in str(e["output"]["outcome"]["reason"])
    ]
    assert refused, "some were ended by the refused confirming heartbeat"
