"""The emulator's timeline says what each AdvanceFunction invocation did, including a call the
round decided and left to the next task (failed, or not started for want of time)."""

from __future__ import annotations

from typing import Any

from lifecycle_emulator.play import _describe_invocation

ACTION = {
    "EC2InstanceId": "i-0123456789abcdef0",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
}
CHECKS = [{"name": "instance-status", "status": "pass", "reason": "ok"}]


def _round(decision: dict[str, Any]) -> list[str]:
    result = {"action": ACTION, "ran": ["checks"], "checks": CHECKS, "decision": decision}
    lines = _describe_invocation("AdvanceFunction", {"action": ACTION}, result, None)
    assert {instance for instance, _ in lines} == {"i-0123456789abcdef0"}
    return [text for _, text in lines]


def test_a_deferred_completion_is_told_as_not_started() -> None:
    decision = {
        "next": "complete",
        "result": "CONTINUE",
        "waitSeconds": 2,
        "deferred": "900 ms left",
    }
    assert _round(decision) == [
        "launch    checks: instance-status pass (ok) -> complete",
        "launch    completion not started (900 ms left); the next task makes it in 2 s",
    ]


def test_a_failed_heartbeat_is_told_as_failed_and_tried_again() -> None:
    decision = {"next": "heartbeat", "waitSeconds": 3, "failed": "ClientError('Throttling')"}
    assert _round(decision)[1] == (
        "launch    heartbeat failed (ClientError('Throttling')); the next task tries again in 3 s"
    )


def test_a_round_that_made_its_call_has_no_left_over_line() -> None:
    assert len(_round({"next": "wait", "waitSeconds": 30})) == 1
