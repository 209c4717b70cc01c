"""The warm-pool and instance-refresh scenarios, played through the real definition, and the
scenario format's checks of their fields.

For each lifecycle action: its outcome, exactly one CompleteLifecycleAction (by its workflow),
no Auto Scaling lifecycle call after the action ended, the hook never lapsed between heartbeats.
AWS pages: "Use lifecycle hooks with a warm pool", "Warm pool example events", "Warm pool
instance lifecycle", "Replace root volumes during instance refresh", "Instance refresh example
events".
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lifecycle_emulator import scenarios
from lifecycle_emulator.play import ActionReport, Report, play
from lifecycle_emulator.scenarios import InvalidScenario
from tests.flow.stack import assert_completed_once_by_the_workflow, assert_hook_never_lapsed


def audited(name: str) -> Report:
    """Play the built-in scenario; every action completed once by its own workflow."""
    scenario = scenarios.load(name)
    report = play(scenario)
    timeouts = {hook.name: hook.heartbeat_timeout for hook in scenario.hooks}
    assert report.problems == []
    assert report.results() == scenario.expect
    for action in report.actions:
        assert sum(w.endswith(action.token) for w in action.workflows) == 1, action.workflows
        assert_completed_once_by_the_workflow(action)
        assert action.calls_after_end == 0
        assert_hook_never_lapsed(action, timeouts[action.hook])
    return report


def paths(actions: list[ActionReport]) -> list[tuple[str, str, str]]:
    return [(a.transition, a.origin, a.destination) for a in actions]


def test_warm_pool_reuse_on_scale_in_returns_instances_to_the_pool() -> None:
    """ReuseOnScaleIn: a scale-in sends an EC2 Instance-terminate Lifecycle Action with Origin
    AutoScalingGroup, Destination WarmPool for each instance, which waits in Warmed:Pending:Wait
    and goes back into the pool (no launch hook on the way back, no termination)."""
    report = audited("warm-pool-reuse")
    actions = sorted(report.actions, key=lambda a: a.started_at)

    assert paths(actions) == [
        ("launch", "EC2", "WarmPool"),
        ("launch", "EC2", "WarmPool"),
        ("launch", "WarmPool", "AutoScalingGroup"),
        ("launch", "WarmPool", "AutoScalingGroup"),
        ("terminate", "AutoScalingGroup", "WarmPool"),
        ("terminate", "AutoScalingGroup", "WarmPool"),
    ]
    assert [a.started_at for a in actions] == [0, 0, 1800, 1800, 3600, 3600]
    assert {a.result for a in actions} == {"CONTINUE"}
    assert len({a.instance_id for a in actions}) == 2, "the same two instances all along"
    assert all(a.action is None for a in actions)
    leaving_pool = [a for a in actions if a.origin == "WarmPool"]
    assert all(a.duration is not None and a.duration >= 60 for a in leaving_pool), (
        "started again from the stopped pool, each waits for its status checks (60 s)"
    )


def test_warm_pool_shrinking_passes_warmed_terminating_wait() -> None:
    """Instances leaving the pool to be terminated (marked unhealthy, the pool shrunk by
    PutWarmPool, DeleteWarmPool) each get a terminate action WarmPool -> EC2 at
    Warmed:Terminating:Wait; the unhealthy one is replaced, the others are not."""
    report = audited("warm-pool-shrink")
    actions = sorted(report.actions, key=lambda a: a.started_at)

    assert [(a.started_at, *p) for a, p in zip(actions, paths(actions), strict=True)] == [
        (0, "launch", "EC2", "WarmPool"),
        (0, "launch", "EC2", "WarmPool"),
        (900, "terminate", "WarmPool", "EC2"),
        (900, "launch", "EC2", "WarmPool"),  # the unhealthy one's replacement
        (1800, "terminate", "WarmPool", "EC2"),
        (3600, "terminate", "WarmPool", "EC2"),
    ]
    terminated = [a.instance_id for a in actions if a.transition == "terminate"]
    assert len(set(terminated)) == 3
    assert {a.result for a in actions} == {"CONTINUE"}


def test_root_volume_refresh_runs_terminate_then_launch_hooks_on_the_same_instances() -> None:
    """StartInstanceRefresh ReplaceRootVolume: per instance, one at a time, a terminate action
    (ReplacingRootVolume:Wait) and then a launch action (Pending:Wait), both with Action
    ReplaceRootVolume and AutoScalingGroup -> AutoScalingGroup; no instance is replaced."""
    report = audited("root-volume-refresh")
    refresh = sorted(
        (a for a in report.actions if a.action == "ReplaceRootVolume"), key=lambda a: a.started_at
    )
    first, second = {a.instance_id for a in report.actions if a.action is None}

    assert len(report.actions) == 6
    assert [(a.transition, a.origin, a.destination) for a in refresh] == [
        ("terminate", "AutoScalingGroup", "AutoScalingGroup"),
        ("launch", "AutoScalingGroup", "AutoScalingGroup"),
    ] * 2
    assert {a.instance_id for a in refresh} == {first, second}
    one, two = refresh[:2], refresh[2:]
    assert one[0].instance_id == one[1].instance_id != two[0].instance_id == two[1].instance_id
    assert one[0].ended_at is not None
    assert one[1].started_at >= one[0].ended_at
    assert one[1].ended_at is not None
    assert two[0].started_at >= one[1].ended_at, "one at a time"
    assert all(a.result == "CONTINUE" for a in refresh)
    assert all(a.duration is not None and a.duration >= 60 for a in refresh[1::2]), (
        "rebooted with the new root volume: the launch check waits for its status checks"
    )


# --- the scenario format --------------------------------------------------------------------------
BASE: dict[str, Any] = {
    "group": {"name": "api", "maxSize": 3},
    "hooks": [{"name": "up", "transition": "launch"}],
    "steps": [{"at": 0, "desired": 1}],
}


def with_(group: dict[str, Any] | None = None, step: dict[str, Any] | None = None) -> Any:
    doc = copy.deepcopy(BASE)
    doc["group"].update(group or {})
    if step is not None:
        doc["steps"].append({"at": 60, **step})
    return doc


def test_scenario_format_reads_warm_pool_and_refresh_fields() -> None:
    scenario = scenarios.parse(
        with_(
            {"warmPool": {"MinSize": 1, "InstanceReusePolicy": {"ReuseOnScaleIn": True}}},
            {"warmPool": {"MinSize": 0}, "deleteWarmPool": "force"},
        )
    )
    assert scenario.warm_pool == {"MinSize": 1, "InstanceReusePolicy": {"ReuseOnScaleIn": True}}
    assert scenario.steps[1].warm_pool == {"MinSize": 0}
    assert scenario.steps[1].delete_warm_pool == "force"
    assert not scenario.replaces_root_volumes
    refresh = scenarios.parse(with_(step={"instanceRefresh": {"strategy": "ReplaceRootVolume"}}))
    assert refresh.steps[1].instance_refresh == {"strategy": "ReplaceRootVolume"}
    assert refresh.replaces_root_volumes


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (with_({"warmPool": "yes"}), "group.warmPool: an object"),
        (with_({"warmPool": {"Size": 1}}), "group.warmPool: unknown ['Size']"),
        (with_({"warmPool": {"MinSize": -1}}), "group.warmPool.MinSize: -1"),
        (
            with_({"warmPool": {"MaxGroupPreparedCapacity": -2}}),
            "group.warmPool.MaxGroupPreparedCapacity: -2",
        ),
        (with_({"warmPool": {"PoolState": "Paused"}}), "group.warmPool.PoolState: 'Paused'"),
        (
            with_({"warmPool": {"InstanceReusePolicy": {"ReuseOnScaleIn": "yes"}}}),
            "group.warmPool.InstanceReusePolicy",
        ),
        (with_(step={"warmPool": {"MinSize": 1.5}}), "steps[1].warmPool.MinSize: 1.5"),
        (with_(step={"deleteWarmPool": "later"}), "steps[1].deleteWarmPool"),
        (
            with_(step={"instanceRefresh": {"strategy": "Rolling"}}),
            "runs only ['ReplaceRootVolume']",
        ),
        (with_(step={"instanceRefresh": {"Strategy": "ReplaceRootVolume"}}), "instanceRefresh: an"),
        (with_(step={"refresh": {}}), "steps[1]: unknown ['refresh']"),
        (
            with_(
                {"warmPool": {"MinSize": 1}},
                {"instanceRefresh": {"strategy": "ReplaceRootVolume"}},
            ),
            "cannot run on a group that has a warm pool",
        ),
    ],
)
def test_scenario_format_rejects_bad_warm_pool_and_refresh_fields(doc: Any, message: str) -> None:
    with pytest.raises(InvalidScenario) as caught:
        scenarios.parse(doc)
    assert message in str(caught.value)
