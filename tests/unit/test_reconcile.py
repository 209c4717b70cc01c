"""Which waiting instances get a workflow from the reconciler, and how reconciled actions look."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asg_lifecycle.events import InvalidEvent, parse_event
from asg_lifecycle.model import LifecycleAction, Transition, execution_prefix
from asg_lifecycle.reconcile import Hook, WaitingInstance, orphans, other_workflows
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
    ("state", "transition", "destination"),
    [
        ("Pending:Wait", Transition.LAUNCHING, "AutoScalingGroup"),
        ("Warmed:Pending:Wait", Transition.LAUNCHING, "WarmPool"),
        ("Terminating:Wait", Transition.TERMINATING, "EC2"),
        ("Warmed:Terminating:Wait", Transition.TERMINATING, "EC2"),
    ],
)
def test_wait_states_map_to_their_transition(
    state: str, transition: Transition, destination: str
) -> None:
    (action,) = orphans([WaitingInstance("web", I1, state)], HOOKS, [], RUN)
    assert (action.transition, action.destination) == (transition, destination)


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
