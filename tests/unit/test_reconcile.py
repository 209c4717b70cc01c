"""Which waiting instances get a workflow from the reconciler, and how reconciled actions look."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from asg_lifecycle import lifecycle_states
from asg_lifecycle.adapters import fleet
from asg_lifecycle.events import InvalidEvent, parse_event
from asg_lifecycle.model import LifecycleAction, Transition, execution_prefix
from asg_lifecycle.reconcile import (
    RETAINED_STATES,
    WAIT_STATES,
    Hook,
    WaitingInstance,
    orphans,
    other_workflows,
)
from asg_lifecycle.served import ServedGroups
from tests.conftest import load_event

RUN = datetime(2026, 1, 1, 0, 5, 7, tzinfo=UTC)
I1, I2 = "i-0123456789abcdef0", "i-0fedcba9876543210"
HOOKS = {
    "web": [
        Hook("web-launch", Transition.LAUNCHING),
        Hook("web-terminate", Transition.TERMINATING),
    ]
}


def test_each_waiting_instance_gets_one_action_per_hook_of_its_transition() -> None:
    waiting = [
        WaitingInstance("web", I1, "Pending:Wait"),
        WaitingInstance("web", I2, "Terminating:Wait"),
    ]
    found = orphans(waiting, HOOKS, running=[], found_at=RUN)
    assert [(a.instance_id, a.hook_name, a.transition) for a in found] == [
        (I1, "web-launch", Transition.LAUNCHING),
        (I2, "web-terminate", Transition.TERMINATING),
    ]
    assert all(a.token is None and a.reconciled and a.started_at == RUN for a in found)


def test_an_instance_with_a_running_workflow_for_its_hook_is_left_alone() -> None:
    waiting = [WaitingInstance("web", I1, "Pending:Wait")]
    running = [execution_prefix(Transition.LAUNCHING, I1, "web-launch") + "-c3f1e4a2-token"]
    assert orphans(waiting, HOOKS, running, RUN) == []
    other_hook = [execution_prefix(Transition.LAUNCHING, I1, "another-hook") + "-token"]
    assert len(orphans(waiting, HOOKS, other_hook, RUN)) == 1, "another hook's workflow"


@pytest.mark.parametrize(
    ("state", "held_by"),
    [
        # From EC2, from the warm pool, or back from a root-volume replacement: not knowable.
        ("Pending:Wait", [(Transition.LAUNCHING, None, "AutoScalingGroup", None)]),
        # A launch into the warm pool, or a scale-in returning an instance to it (ReuseOnScaleIn).
        (
            "Warmed:Pending:Wait",
            [
                (Transition.LAUNCHING, "EC2", "WarmPool", None),
                (Transition.TERMINATING, "AutoScalingGroup", "WarmPool", None),
            ],
        ),
        ("Terminating:Wait", [(Transition.TERMINATING, "AutoScalingGroup", "EC2", None)]),
        ("Warmed:Terminating:Wait", [(Transition.TERMINATING, "WarmPool", "EC2", None)]),
        (
            "ReplacingRootVolume:Wait",
            [(Transition.TERMINATING, "AutoScalingGroup", "AutoScalingGroup", "ReplaceRootVolume")],
        ),
    ],
)
def test_each_wait_state_gets_a_workflow_per_hook_of_each_transition_that_can_hold_it(
    state: str, held_by: list[tuple[Transition, str | None, str | None, str | None]]
) -> None:
    found = orphans([WaitingInstance("web", I1, state, reuse_on_scale_in=True)], HOOKS, [], RUN)
    assert [(a.transition, a.origin, a.destination, a.action_name) for a in found] == held_by
    assert [a.hook_name for a in found] == [
        {Transition.LAUNCHING: "web-launch", Transition.TERMINATING: "web-terminate"}[t]
        for t, *_ in held_by
    ]


def test_the_reconciler_knows_every_wait_state_the_hook_read_accepts_and_no_other() -> None:
    """The hook read (lifecycle_states) and the reconciler (WAIT_STATES) agree on which
    transition can hold an instance in which state: a state one knows and the other not would
    be an action recovered then ended not-waiting, or one never recovered."""
    reconciled = {(state, h.transition) for state, hs in WAIT_STATES.items() for h in hs}
    read = {(state, t) for t, states in lifecycle_states.WAIT_STATES.items() for state in states}
    assert reconciled == read


def test_without_reuse_on_scale_in_no_terminate_hook_holds_an_instance_going_into_the_pool() -> (
    None
):
    """User Guide, "Warm pool instance lifecycle": only a warm pool with ReuseOnScaleIn returns
    a scaled-in instance to the pool (a terminate action in Warmed:Pending:Wait); otherwise that
    state is a launch into the pool, and a terminate workflow would only be refused."""
    (action,) = orphans([WaitingInstance("web", I1, "Warmed:Pending:Wait")], HOOKS, [], RUN)
    assert (action.hook_name, action.path) == ("web-launch", "EC2->WarmPool")


def test_a_state_two_transitions_can_hold_follows_the_transition_a_workflow_already_runs_for() -> (
    None
):
    """One transition holds an instance at a time: a running workflow of one of them (its event
    arrived, for another of its hooks) names it, and the other transition's hooks get none."""
    waiting = [WaitingInstance("web", I1, "Warmed:Pending:Wait", reuse_on_scale_in=True)]
    launching = [execution_prefix(Transition.LAUNCHING, I1, "other-launch") + "-c3f1e4a2-token"]
    (action,) = orphans(waiting, HOOKS, launching, RUN)
    assert (action.hook_name, action.transition) == ("web-launch", Transition.LAUNCHING)
    terminating = [execution_prefix(Transition.TERMINATING, I1, "web-terminate") + "-c3f1e4a2"]
    assert orphans(waiting, HOOKS, terminating, RUN) == [], "its one terminate hook runs"
    (both,) = {a.transition for a in orphans(waiting, HOOKS, [], RUN)} - {Transition.LAUNCHING}
    assert both is Transition.TERMINATING, "with nothing running, each transition's hooks"


@pytest.mark.parametrize("state", sorted(RETAINED_STATES))
def test_a_retained_instance_gets_no_workflow(state: str) -> None:
    """No hook holds it any more: it waits for TerminateInstanceInAutoScalingGroup."""
    assert orphans([WaitingInstance("web", I1, state)], HOOKS, [], RUN) == []


@pytest.mark.parametrize("state", ["InService", "Pending", "Pending:Proceed", "Terminating", ""])
def test_instances_not_held_by_a_hook_are_ignored(state: str) -> None:
    assert orphans([WaitingInstance("web", I1, state)], HOOKS, [], RUN) == []


def test_a_group_without_hooks_yields_nothing() -> None:
    assert orphans([WaitingInstance("api", I1, "Pending:Wait")], HOOKS, [], RUN) == []


def test_reconciled_names_are_the_same_for_two_deliveries_of_one_run() -> None:
    (first,) = orphans([WaitingInstance("web", I1, "Pending:Wait")], HOOKS, [], RUN)
    (again,) = orphans([WaitingInstance("web", I1, "Pending:Wait")], HOOKS, [], RUN)
    assert first.execution_name == again.execution_name
    assert first.execution_name.endswith("-r202601010005")
    assert len(first.execution_name) <= 80
    assert first.token_prefix == "reconciled", "logs say so; there is no token to shorten"


def test_a_reconciled_action_round_trips_through_json_without_a_token() -> None:
    (action,) = orphans([WaitingInstance("web", I1, "Pending:Wait")], HOOKS, [], RUN)
    data = action.to_json()
    assert "LifecycleActionToken" not in data
    assert data["Reconciled"] == "true"
    assert LifecycleAction.from_json(data) == action


def test_an_event_cannot_pass_for_a_reconciled_action() -> None:
    """Only the reconciler starts token-less actions: an event claiming to be one is rejected."""
    event = load_event("launch.json")
    del event["detail"]["LifecycleActionToken"]
    event["detail"]["Reconciled"] = "true"
    with pytest.raises(InvalidEvent, match="LifecycleActionToken"):
        parse_event(event)


def test_a_reconciled_action_steps_aside_for_the_events_workflow_or_an_earlier_run() -> None:
    (action,) = orphans([WaitingInstance("web", I1, "Pending:Wait")], HOOKS, [], RUN)
    prefix = execution_prefix(Transition.LAUNCHING, I1, "web-launch")
    event_workflow = f"{prefix}-c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f"
    earlier, later = f"{prefix}-r202601010000", f"{prefix}-r202601010010"
    other_hook = execution_prefix(Transition.LAUNCHING, I1, "another") + "-token"
    running = [action.execution_name, event_workflow, earlier, later, other_hook, "unrelated"]
    assert other_workflows(action, running) == [event_workflow, earlier]
    # Of two reconciled workflows for one action, exactly one goes on: the earlier run's.
    (late_action,) = orphans(
        [WaitingInstance("web", I1, "Pending:Wait")],
        HOOKS,
        [],
        datetime(2026, 1, 1, 0, 10, tzinfo=UTC),
    )
    assert other_workflows(late_action, [action.execution_name, late_action.execution_name])
    assert not other_workflows(action, [action.execution_name, late_action.execution_name])


def test_served_groups_by_name_or_by_tag() -> None:
    named = ServedGroups.from_env(
        {"SERVED_GROUP_NAMES": " web, api ,", "SERVED_GROUP_TAG_VALUE": "x"}
    )
    assert named.names == {"web", "api"}
    assert not named.by_tag
    assert named.serves("web")
    assert not named.serves("db")
    tagged = ServedGroups.from_env({"SERVED_GROUP_NAMES": "", "SERVED_GROUP_TAG_VALUE": "on"})
    assert tagged.by_tag
    assert tagged.serves("any", "on")
    assert not tagged.serves("any", "off")
    assert not tagged.serves("any", None), "an untagged group is not served"
    assert ServedGroups.from_env({}).tag_value == "enabled"


# --- reading the fleet ----------------------------------------------------------------------------


def _groups(asg: Any, count: int) -> list[str]:
    """``count`` groups of one instance each (moto), named so that they sort in order."""
    asg.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    names = [f"g{n:02d}" for n in range(1, count + 1)]
    for name in names:
        asg.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchConfigurationName="lc",
            MinSize=0,
            MaxSize=1,
            DesiredCapacity=1,
            AvailabilityZones=["us-east-1a"],
        )
    return names


def _set_state(group: str, state: str) -> str:
    from moto.autoscaling.models import autoscaling_backends  # noqa: PLC0415
    from moto.core import DEFAULT_ACCOUNT_ID  # noqa: PLC0415

    (instance,) = (
        autoscaling_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        .autoscaling_groups[group]
        .instance_states
    )
    instance.lifecycle_state = state
    return str(instance.instance.id)


def test_named_groups_are_described_at_most_fifty_names_a_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DescribeAutoScalingGroups takes at most 50 AutoScalingGroupNames (API Reference): 120
    served groups are read in three calls of 50, 50 and 20, and nothing in any is missed."""
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        asg = boto3.client("autoscaling", region_name="us-east-1")
        names = _groups(asg, 120)
        late = _set_state("g117", "Terminating:Wait")
        early = _set_state("g03", "Pending:Wait")
        retained = _set_state("g51", "Terminating:Retained")
        sent: list[int] = []
        asg.meta.events.register(
            "before-parameter-build.autoscaling.DescribeAutoScalingGroups",
            lambda params, **_: sent.append(len(params.get("AutoScalingGroupNames", []))),
        )
        found = fleet.read_fleet(asg, ServedGroups(frozenset(names), "enabled"))
    assert sent == [50, 50, 20]
    assert sorted(found.waiting, key=lambda w: w.group_name) == [
        WaitingInstance("g03", early, "Pending:Wait"),
        WaitingInstance("g117", late, "Terminating:Wait"),
    ]
    assert found.retained == [WaitingInstance("g51", retained, "Terminating:Retained")]


def test_chunks_keep_every_name_once_in_order() -> None:
    names = [f"g{n:03d}" for n in range(101)]
    parts = fleet.chunks(names)
    assert [len(p) for p in parts] == [50, 50, 1]
    assert [n for p in parts for n in p] == names
    assert fleet.chunks([]) == []


class _Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **query: Any) -> list[dict[str, Any]]:
        return self.pages


class _FleetClient:
    """DescribeAutoScalingGroups (by tag) and DescribeWarmPool answers, as AWS shapes them."""

    def __init__(self, groups: list[dict[str, Any]], pool: list[dict[str, Any]]) -> None:
        self.answers = {
            "describe_auto_scaling_groups": _Pages([{"AutoScalingGroups": groups}]),
            "describe_warm_pool": _Pages([{"Instances": pool}]),
        }

    def get_paginator(self, name: str) -> _Pages:
        return self.answers[name]


def test_the_warm_pools_waiting_and_retained_instances_are_read_too() -> None:
    group = {
        "AutoScalingGroupName": "web",
        "WarmPoolConfiguration": {
            "PoolState": "Stopped",
            "InstanceReusePolicy": {"ReuseOnScaleIn": True},
        },
        "Instances": [
            {"InstanceId": I1, "LifecycleState": "ReplacingRootVolume:Wait"},
            {"InstanceId": "i-0000000000000000a", "LifecycleState": "InService"},
        ],
    }
    pool = [
        {"InstanceId": I2, "LifecycleState": "Warmed:Pending:Wait"},
        {"InstanceId": "i-0000000000000000b", "LifecycleState": "Warmed:Terminating:Retained"},
        {"InstanceId": "i-0000000000000000c", "LifecycleState": "Warmed:Pending:Retained"},
        {"InstanceId": "i-0000000000000000d", "LifecycleState": "Warmed:Stopped"},
    ]
    found = fleet.read_fleet(_FleetClient([group], pool), ServedGroups(frozenset(), "enabled"))
    assert [(w.instance_id, w.lifecycle_state) for w in found.waiting] == [
        (I1, "ReplacingRootVolume:Wait"),
        (I2, "Warmed:Pending:Wait"),
    ]
    assert all(w.reuse_on_scale_in for w in found.waiting), "the group's InstanceReusePolicy"
    assert [w.lifecycle_state for w in found.retained] == [
        "Warmed:Terminating:Retained",
        "Warmed:Pending:Retained",
    ]
