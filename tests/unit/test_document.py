"""The state document decoded at each handler's edge: what each bad input gets (a clear
InvalidDocument, which the definition never retries), and that a good one survives the trip."""

from __future__ import annotations

from typing import Any

import pytest

from asg_lifecycle.decision import Decision, Next
from asg_lifecycle.document import InvalidDocument, StateDocument
from asg_lifecycle.model import InvalidAction, LifecycleResult

ACTION = {
    "AutoScalingGroupName": "web",
    "LifecycleHookName": "web-launch",
    "EC2InstanceId": "i-0123456789abcdef0",
    "LifecycleActionToken": "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
    "StartedAt": "2026-01-01T00:00:00Z",
}


PLAN = {
    "transition": "autoscaling:EC2_INSTANCE_TERMINATING",
    "startedAt": "2026-01-01T00:00:00Z",
    "heartbeatTimeout": 300,
    "defaultResult": "ABANDON",
    "globalDeadline": "2026-01-01T08:20:00Z",
    "giveUpAt": "2026-01-01T00:10:00Z",
    "pollSeconds": 30,
    "margin": 30,
    "onFailure": "CONTINUE",
    "onTimeout": "CONTINUE",
    "checks": [{"name": "target-group-drain", "params": {}}],
    "jitterKey": "k",
}


def test_a_plan_written_before_the_groups_policy_was_read_decodes_as_terminate() -> None:
    old = StateDocument.from_json({"action": ACTION, "plan": PLAN})
    assert old.plan is not None
    assert old.plan.on_abandon.value == "terminate"
    retained = StateDocument.from_json(
        {"action": ACTION, "plan": {**PLAN, "terminateHookAbandon": "retain"}}
    )
    assert retained.plan is not None
    assert retained.plan.on_abandon.value == "retain"
    assert StateDocument.from_json(retained.to_json()) == retained


def test_the_execution_input_decodes_to_an_action_and_nothing_else() -> None:
    doc = StateDocument.from_json({"action": ACTION})
    assert doc.action.instance_id == "i-0123456789abcdef0"
    assert (doc.plan, doc.progress, doc.decision, doc.outcome) == (None, None, None, None)
    assert StateDocument.from_json(doc.to_json()) == doc


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ([], "must be a JSON object"),
        ({}, "the lifecycle action must be a JSON object"),
        ({"action": {**ACTION, "EC2InstanceId": "i-1; rm -rf"}}, "EC2InstanceId"),
        ({"action": ACTION, "decision": {"next": "launch-missiles"}}, "decision"),
        ({"action": ACTION, "decision": {"next": "wait"}}, "waitSeconds"),
        ({"action": ACTION, "decision": {"next": "wait", "waitSeconds": "30"}}, "whole number"),
        ({"action": ACTION, "decision": {"next": "complete"}}, "needs a result"),
        ({"action": ACTION, "decision": {"next": "complete", "result": "MAYBE"}}, "decision"),
        ({"action": ACTION, "plan": {"transition": "x"}}, "plan"),
        ({"action": ACTION, "plan": {**PLAN, "terminateHookAbandon": "keep"}}, "plan.*keep"),
        ({"action": ACTION, "progress": []}, "progress must be a JSON object"),
        ({"action": ACTION, "checks": {"a": 1}}, "must be lists"),
        ({"action": ACTION, "checks": [{"status": "pass"}]}, "a check result"),
        ({"action": ACTION, "settleSeconds": 86400}, "settleSeconds"),
        ({"action": ACTION, "outcome": {"status": "won"}}, "outcome"),
    ],
)
def test_a_bad_document_is_rejected_with_what_is_wrong(document: Any, says: str) -> None:
    with pytest.raises((InvalidDocument, InvalidAction), match=says):
        StateDocument.from_json(document)


def test_invalid_action_fields_surface_as_invalid_document() -> None:
    """One error name for the definition's retrier (InvalidDocument is never retried)."""
    with pytest.raises(InvalidDocument):
        StateDocument.from_json({"action": {**ACTION, "LifecycleTransition": "nope"}})


def test_decisions_that_wait_must_say_how_long_and_completions_with_what() -> None:
    with pytest.raises(InvalidAction):
        Decision(Next.HEARTBEAT, "r")
    with pytest.raises(InvalidAction):
        Decision(Next.HOLD, "r", wait_seconds=5)
    held = Decision(Next.HOLD, "r", wait_seconds=5, result=LifecycleResult.ABANDON)
    assert Decision.from_json(held.to_json()) == held
    assert {step for step in Next if step.waits} == {Next.WAIT, Next.HEARTBEAT, Next.HOLD}
