"""Every built-in scenario of ``asg-lifecycle-local``, played on the emulation and audited.

For each lifecycle action: the expected result, exactly one CompleteLifecycleAction (by the
workflow, which reports the same result), no call after the action ended, a hook that never
lapsed between heartbeats, and no heartbeat that the remaining time did not need.
"""

from __future__ import annotations

import pytest

from lifecycle_emulator import scenarios
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.play import T0, Report, play
from tests.flow.stack import (
    assert_completed_once_by_the_workflow,
    assert_heartbeats_only_when_needed,
    assert_hook_never_lapsed,
)

BUILT_IN = sorted(scenarios.available())


SLOW = {"scale-100"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] * (n in SLOW)) for n in BUILT_IN]
)
def test_built_in_scenario(name: str) -> None:
    scenario = scenarios.load(name)
    report = play(scenario)
    timeouts = {hook.name: hook.heartbeat_timeout for hook in scenario.hooks}

    assert report.problems == []
    assert report.results() == scenario.expect
    for action in report.actions:
        # One workflow per event; a reconciler run that races an event only adds a workflow
        # that steps aside without a lifecycle call (calls_after_end is 0 below).
        assert sum(w.endswith(action.token) for w in action.workflows) == 1, action.workflows
        assert_completed_once_by_the_workflow(action)
        assert_hook_never_lapsed(action, timeouts[action.hook])
        assert_heartbeats_only_when_needed(action, timeouts[action.hook])


def test_scale_100_scenario_really_has_100_instances_each_way() -> None:
    scenario = scenarios.load("scale-100")
    assert [s.desired for s in scenario.steps] == [100, 0]
    assert scenario.expect == {"launch": {"CONTINUE": 100}, "terminate": {"CONTINUE": 100}}


def test_warm_pool_runs_launch_hooks_into_the_pool_and_out_of_it() -> None:
    """AWS: launch hooks run when an instance enters the warm pool (EC2 -> WarmPool) and again
    when it leaves it for the group (WarmPool -> AutoScalingGroup); the pool is then refilled."""
    report = play(scenarios.load("warm-pool"))

    paths = sorted((a.origin, a.destination) for a in report.actions)
    assert paths == [("EC2", "WarmPool")] * 4 + [("WarmPool", "AutoScalingGroup")] * 2
    into_group = [a for a in report.actions if a.destination == "AutoScalingGroup"]
    assert all(a.started_at == 1800 for a in into_group)
    assert {a.instance_id for a in into_group} <= {
        a.instance_id for a in report.actions if a.destination == "WarmPool"
    }, "the instances that go into service are the warmed ones"


# --- the terminate timeline: one scenario per termination cause, and a retained instance --------
def _audited(report: Report) -> None:
    """Each action: exactly one completion (by its workflow), no Auto Scaling call after it."""
    assert report.problems == []
    for action in report.actions:
        assert action.completions == 1, action
        assert action.calls_after_end == 0, action
        assert action.end_reason == "completed", action


def test_scale_in_drains_before_the_wait_so_the_drain_check_passes_at_once() -> None:
    """AWS ("How lifecycle hooks work"): deregistration and its 120 s delay come before
    Terminating:Wait, so the terminate hook's target-group-drain check passes at its first round."""
    report = play(scenarios.load("terminate-scale-in"))
    _audited(report)
    (leaving,) = [a for a in report.actions if a.transition == "terminate"]
    assert leaving.started_at == 600 + 120
    assert (leaving.origin, leaving.destination, leaving.result) == (
        "AutoScalingGroup",
        "EC2",
        "CONTINUE",
    )
    assert [c["name"] for c in leaving.checks] == ["target-group-drain"]
    assert leaving.checks[0]["status"] == "pass"
    assert leaving.heartbeats == []
    assert leaving.duration is not None
    assert leaving.duration < 30, "completed at the first round"
    # the timeline (make run) tells it in AWS's order: deregistered and drained, then the wait
    said = [(at, text) for at, instance, text in report.timeline if instance == leaving.instance_id]
    drained = next(i for i, (_, t) in enumerate(said) if "deregistered" in t)
    waited = next(i for i, (_, t) in enumerate(said) if "Terminating:Wait hook" in t)
    passed = next(i for i, (_, t) in enumerate(said) if "target-group-drain pass" in t)
    assert drained < waited < passed
    assert said[drained] == (
        600,
        "terminate Terminating: deregistered from its load balancers, draining 120 s before the "
        "terminate hooks",
    )


@pytest.mark.parametrize(
    ("name", "index", "delay"), [("terminate-ec2", 0, 60), ("terminate-unhealthy", 1, 90)]
)
def test_a_replaced_instance_goes_through_the_terminate_hook(
    name: str, index: int, delay: int
) -> None:
    """AWS ("Health checks"; lifecycle hooks): an instance terminated through EC2 or marked
    unhealthy is replaced (a launch through the launch hook at once) and its termination still
    runs the terminate hook, after the deregistration delay."""
    scenario = scenarios.load(name)
    with LocalAws(scenario.parameters, start=T0, behaviours=scenario.behaviour()) as aws:
        report = play(scenario, aws)
        victim = list(aws.fleet.behaviour)[index]
        group = aws.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]
    _audited(report)
    (leaving,) = [a for a in report.actions if a.transition == "terminate"]
    assert (leaving.instance_id, leaving.started_at, leaving.result) == (
        victim,
        600 + delay,
        "CONTINUE",
    )
    replacement = [a for a in report.actions if a.transition == "launch"][-1]
    assert replacement.started_at == 600, "launched as the instance started terminating"
    assert group["DesiredCapacity"] == 2
    assert sorted(i["LifecycleState"] for i in group["Instances"]) == ["InService", "InService"]


def test_retain_policy_keeps_the_abandoned_instance_until_terminated_by_hand() -> None:
    """AWS ("Configure instance retention", "Manage retained instances"): the terminate check
    fails, the workflow ABANDONs and the instance stays in Terminating:Retained, running and not
    counted; TerminateInstanceInAutoScalingGroup then terminates it without running its hooks
    again."""
    scenario = scenarios.load("terminate-retained")
    with LocalAws(scenario.parameters, start=T0, behaviours=scenario.behaviour()) as aws:
        report = play(scenario, aws)
        asg = aws.client("autoscaling")
        group = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
        first = next(iter(aws.fleet.behaviour))
        asg.terminate_instance_in_auto_scaling_group(
            InstanceId=first, ShouldDecrementDesiredCapacity=False
        )
        aws.run()
        after = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
        records = len(aws.autoscaling.records)
        ec2 = aws.client("ec2").describe_instances(InstanceIds=[first])
    _audited(report)
    (leaving,) = [a for a in report.actions if a.transition == "terminate"]
    assert (leaving.instance_id, leaving.result) == (first, "ABANDON")
    assert leaving.checks[-1]["name"] == "ssm-command"
    assert leaving.checks[-1]["status"] == "fail"
    assert group["InstanceLifecyclePolicy"] == {
        "RetentionTriggers": {"TerminateHookAbandon": "retain"}
    }
    assert {i["InstanceId"]: i["LifecycleState"] for i in group["Instances"]}[first] == (
        "Terminating:Retained"
    )
    assert [i["LifecycleState"] for i in group["Instances"]].count("InService") == 1
    assert first not in {i["InstanceId"] for i in after["Instances"]}
    assert records == len(report.actions), "no hook ran again"
    assert ec2["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"


def test_long_shutdown_heartbeats_through_a_four_hour_script() -> None:
    """A terminate check that legitimately waits: the drain is over within the 300 s
    deregistration delay (before Terminating:Wait), then a 4-hour SSM script keeps the action
    alive on heartbeats until it exits 0 (no drain longer than ELB's 3600 s cap)."""
    report = play(scenarios.load("long-shutdown"))
    _audited(report)
    (leaving,) = [a for a in report.actions if a.transition == "terminate"]
    assert leaving.started_at == 600 + 300
    assert leaving.result == "CONTINUE"
    assert leaving.duration is not None
    assert 14_400 <= leaving.duration <= 14_400 + 120
    assert len(leaving.heartbeats) >= 14_400 // 300 - 1
    assert [c["name"] for c in leaving.checks] == ["target-group-drain", "ssm-command"]
