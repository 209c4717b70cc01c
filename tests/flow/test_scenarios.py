"""Every built-in scenario of ``asg-lifecycle-local``, played on the emulation and audited.

For each lifecycle action: the expected result, exactly one CompleteLifecycleAction (by the
workflow, which reports the same result), no call after the action ended, a hook that never
lapsed between heartbeats, and no heartbeat that the remaining time did not need.
"""

from __future__ import annotations

import pytest

from lifecycle_emulator import scenarios
from lifecycle_emulator.play import play
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
