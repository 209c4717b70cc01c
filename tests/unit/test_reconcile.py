"""Which waiting instances get a workflow from the reconciler, and how reconciled actions look."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asg_lifecycle import lifecycle_states
from asg_lifecycle.adapters import fleet
from asg_lifecycle.events import InvalidEvent, parse_event
from asg_lifecycle.model import LifecycleAction, Transition, execution_prefix
from asg_lifecycle.reconcile import (
    RETAINED_STATES,
    SIBLING_START_SKEW,
    WAIT_STATES,
    Hook,
    PastExecution,
    WaitingInstance,
    handled_this_wait,
    history_since,
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


# --- two hooks of one transition: the fast one's workflow already ran (issue 19, item 8) ---------
TWO_LAUNCH_HOOKS = {
    "web": [Hook("web-launch", Transition.LAUNCHING), Hook("web-slow", Transition.LAUNCHING)]
}
WAIT_BEGAN = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
FAST = execution_prefix(Transition.LAUNCHING, I1, "web-launch")
SLOW = execution_prefix(Transition.LAUNCHING, I1, "web-slow")
SLOW_RUNNING = {f"{SLOW}-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d": WAIT_BEGAN + timedelta(seconds=2)}


def _fast(status: str, started: float = 1, stopped: float | None = 90) -> PastExecution:
    """The fast hook's workflow, ``started`` / ``stopped`` seconds after the wait began."""
    return PastExecution(
        f"{FAST}-c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f",
        status,
        WAIT_BEGAN + timedelta(seconds=started),
        None if stopped is None else WAIT_BEGAN + timedelta(seconds=stopped),
    )


def _candidates() -> list[LifecycleAction]:
    waiting = [WaitingInstance("web", I1, "Pending:Wait")]
    found = orphans(waiting, TWO_LAUNCH_HOOKS, SLOW_RUNNING, RUN)
    assert [a.hook_name for a in found] == ["web-launch"], "what Auto Scaling's API lets us see"
    return found


def test_a_hook_whose_workflow_succeeded_for_this_wait_is_not_an_orphan() -> None:
    """Before: the fast hook got a workflow every run while the slow one waited (each ended
    already-finished) and OrphansReconciled counted it every period."""
    candidates = _candidates()
    assert history_since(candidates, SLOW_RUNNING) == WAIT_BEGAN + timedelta(seconds=2) - (
        SIBLING_START_SKEW
    )
    to_start, handled = handled_this_wait(candidates, SLOW_RUNNING, [_fast("SUCCEEDED")])
    assert (to_start, handled) == ([], candidates)


def test_the_fast_hooks_workflow_may_have_started_a_little_before_the_slow_ones() -> None:
    early = _fast("SUCCEEDED", started=2 - SIBLING_START_SKEW.total_seconds())
    assert handled_this_wait(_candidates(), SLOW_RUNNING, [early])[0] == []


def test_a_reconciled_workflow_that_found_the_action_over_counts_as_this_waits() -> None:
    """A workflow the reconciler started (named -r<minute>) that ended already-finished: the
    next runs start no other."""
    reconciled = PastExecution(
        f"{FAST}-r202601010005",
        "SUCCEEDED",
        RUN + timedelta(seconds=1),
        RUN + timedelta(seconds=60),
    )
    assert handled_this_wait(_candidates(), SLOW_RUNNING, [reconciled])[0] == []


def test_a_lost_event_beside_a_running_hook_is_still_recovered() -> None:
    """No workflow of the fast hook ran for this wait (its event was lost): it is an orphan."""
    candidates = _candidates()
    to_start, handled = handled_this_wait(candidates, SLOW_RUNNING, [])
    assert (to_start, handled) == (candidates, [])


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_a_hook_whose_last_workflow_for_this_wait_did_not_succeed_gets_a_new_one(
    status: str,
) -> None:
    """A failed workflow may have left its action held: the reconciler starts one, as for a lost
    event; and a workflow that stepped aside (SUCCEEDED) for one that then failed does not hide
    the failure (the one that ended last decides)."""
    candidates = _candidates()
    assert handled_this_wait(candidates, SLOW_RUNNING, [_fast(status)])[0] == candidates
    stepped_aside = _fast("SUCCEEDED", started=330, stopped=400)
    failed_later = _fast(status, started=1, stopped=900)
    assert handled_this_wait(candidates, SLOW_RUNNING, [stepped_aside, failed_later])[0] == (
        candidates
    )
    recovered = _fast("SUCCEEDED", started=940, stopped=1000)
    assert handled_this_wait(candidates, SLOW_RUNNING, [failed_later, recovered])[0] == []


def test_a_workflow_of_an_earlier_wait_of_the_same_transition_does_not_count() -> None:
    """A warm pool's instance is launched twice (into the pool, then out of it): the fast hook's
    workflow that succeeded for the first wait says nothing about the second."""
    earlier = _fast("SUCCEEDED", started=-3600, stopped=-3500)
    candidates = _candidates()
    assert handled_this_wait(candidates, SLOW_RUNNING, [earlier])[0] == candidates


def test_without_another_hooks_workflow_running_nothing_is_left_out_or_read() -> None:
    """Nothing then says when the wait began: each hook gets its workflow (the reconciler's
    first steps end those Auto Scaling does not hold), and no history is read."""
    (candidate,) = orphans([WaitingInstance("web", I1, "Pending:Wait")], HOOKS, [], RUN)
    assert history_since([candidate], {}) is None
    assert handled_this_wait([candidate], {}, [_fast("SUCCEEDED")]) == ([candidate], [])


def test_a_running_workflow_of_another_instance_or_transition_is_no_sibling() -> None:
    (candidate,) = _candidates()
    other_instance = {execution_prefix(Transition.LAUNCHING, I2, "web-slow") + "-t": WAIT_BEGAN}
    other_transition = {execution_prefix(Transition.TERMINATING, I1, "web-slow") + "-t": WAIT_BEGAN}
    for running in (other_instance, other_transition):
        assert history_since([candidate], running) is None
        assert handled_this_wait([candidate], running, [_fast("SUCCEEDED")])[0] == [candidate]


def test_a_running_workflow_is_not_a_finished_one() -> None:
    candidates = _candidates()
    running = _fast("RUNNING", stopped=None)
    assert handled_this_wait(candidates, SLOW_RUNNING, [running])[0] == candidates


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


# --- reading the executions (issue 19, item 8) ----------------------------------------------------
class _Paginator:
    """ListExecutions' pages, most recent first, as AWS answers; records what was read."""

    def __init__(self, pages: list[list[dict[str, Any]]], read: list[dict[str, Any]]) -> None:
        self.pages, self.read = pages, read

    def paginate(self, **kwargs: Any) -> Any:
        self.read.append(kwargs)
        status = kwargs.get("statusFilter")
        for page in self.pages:
            self.read.append({"page": len(self.read)})
            yield {"executions": [e for e in page if status in (None, e["status"])]}


class _Client:
    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.read: list[dict[str, Any]] = []
        self.pages = pages

    def get_paginator(self, operation: str) -> _Paginator:
        assert operation == "list_executions"
        return _Paginator(self.pages, self.read)


def _listed(name: str, status: str, minutes: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": name,
        "status": status,
        "startDate": WAIT_BEGAN + timedelta(minutes=minutes),
    }
    if status != "RUNNING":
        item["stopDate"] = WAIT_BEGAN + timedelta(minutes=minutes + 1)
    return item


def test_the_executions_since_a_time_are_read_back_to_it_and_no_further() -> None:
    from asg_lifecycle.adapters import stepfunctions  # noqa: PLC0415

    pages = [
        [_listed("c", "RUNNING", 30), _listed("b", "SUCCEEDED", 20)],
        [_listed("a", "FAILED", 10), _listed("old", "SUCCEEDED", -10)],
        [_listed("older", "SUCCEEDED", -20)],
    ]
    client = _Client(pages)
    found = stepfunctions.executions_since(client, "arn:sm", WAIT_BEGAN)
    assert [(e.name, e.status) for e in found] == [
        ("c", "RUNNING"),
        ("b", "SUCCEEDED"),
        ("a", "FAILED"),
    ]
    assert found[1].stopped == WAIT_BEGAN + timedelta(minutes=21)
    assert found[0].stopped is None
    assert "statusFilter" not in client.read[0], "every status: a failure counts too"
    assert len([r for r in client.read if "page" in r]) == 2, "the third page is not read"
    assert client.read[0]["PaginationConfig"]["MaxItems"] == 1000 * stepfunctions.HISTORY_PAGES


def test_the_running_executions_are_read_with_their_start_dates() -> None:
    from asg_lifecycle.adapters import stepfunctions  # noqa: PLC0415

    client = _Client([[_listed("c", "RUNNING", 30), _listed("b", "SUCCEEDED", 20)]])
    assert stepfunctions.running_executions(client, "arn:sm") == {
        "c": WAIT_BEGAN + timedelta(minutes=30)
    }
    assert client.read[0]["statusFilter"] == "RUNNING"
