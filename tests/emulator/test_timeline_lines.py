"""The emulator's timeline says what each workflow task's function did, in the words of the
operator CLI's timeline (asg_lifecycle.narrative), and which invocations failed and why."""

from __future__ import annotations

from typing import Any

from lifecycle_emulator.play import _describe_invocation

ACTION = {
    "EC2InstanceId": "i-0123456789abcdef0",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
}
CHECKS = [{"name": "instance-status", "status": "wait", "reason": "initializing"}]
PLAN = {
    "heartbeatTimeout": 300,
    "defaultResult": "ABANDON",
    "pollSeconds": 30,
    "giveUpAt": "2026-01-01T00:30:00Z",
    "onTimeout": "ABANDON",
    "checks": [{"name": "instance-status", "params": {}}],
}


def _lines(
    function: str, before: dict[str, Any], after: Any, error: str | None = None
) -> list[str]:
    lines = _describe_invocation(function, {"action": ACTION, **before}, after, error)
    assert {instance for instance, _ in lines} == {"i-0123456789abcdef0"}
    return [text for _, text in lines]


def test_the_hook_read_tells_the_plan() -> None:
    after = {"action": ACTION, "plan": PLAN, "decision": {"next": "check", "reason": "hook read"}}
    assert _lines("ReadHookFunction", {}, after) == [
        "launch    hook read: HeartbeatTimeout 300 s, DefaultResult ABANDON, poll 30 s, checks "
        "instance-status; gives up at 2026-01-01T00:30:00Z (ABANDON)"
    ]


def test_an_action_not_waiting_tells_why_nothing_was_done() -> None:
    outcome = {"status": "not-waiting", "result": None, "reason": "not acted on: is InService"}
    after = {"action": ACTION, "outcome": outcome, "decision": {"next": "end"}}
    assert _lines("ReadHookFunction", {}, after) == [
        "launch    hook read: not-waiting - not acted on: is InService"
    ]


def test_a_round_tells_its_checks_and_what_comes_next() -> None:
    before = {"plan": PLAN, "progress": {"rounds": 2}}
    after = {
        "action": ACTION,
        "progress": {"rounds": 3},
        "checks": CHECKS,
        "decision": {"next": "heartbeat", "waitSeconds": 30},
    }
    assert _lines("CheckFunction", before, after) == [
        "launch    round 3: instance-status wait (initializing) -> heartbeat in 30 s, then the "
        "next round"
    ]


def test_a_late_round_says_it_ran_no_check() -> None:
    before = {"plan": PLAN, "progress": {"rounds": 2}}
    decision = {"next": "heartbeat", "waitSeconds": 1, "reason": "the round started late"}
    after = {"action": ACTION, "progress": {"rounds": 2}, "decision": decision}
    assert _lines("CheckFunction", before, after) == [
        "launch    no round run: the round started late -> heartbeat in 1 s, then the next round"
    ]


def test_a_heartbeat_and_a_completion_say_what_auto_scaling_took() -> None:
    after = {"action": ACTION, "progress": {"heartbeats": 2, "hookExpiresAt": "T"}}
    assert _lines("HeartbeatFunction", {}, after) == [
        "launch    heartbeat #2 recorded: hook now expires at T"
    ]
    outcome = {"status": "completed", "result": "CONTINUE", "reason": "all checks passed"}
    assert _lines("CompleteFunction", {}, {"action": ACTION, "outcome": outcome}) == [
        "launch    completion: completed CONTINUE - all checks passed"
    ]


def test_a_failed_invocation_says_which_error_the_definition_retries() -> None:
    error = {"errorType": "LifecycleActionNotFound", "errorMessage": "No active Lifecycle Action"}
    assert _lines("CompleteFunction", {}, error, "LifecycleActionNotFound") == [
        "launch    CompleteFunction failed: LifecycleActionNotFound: No active Lifecycle Action"
    ]


def test_an_invalid_configuration_and_a_confirming_heartbeat_say_what_they_are() -> None:
    held = {
        "action": ACTION,
        "plan": {**PLAN, "checks": [], "pollSeconds": 3600},
        "configError": "pollSeconds must be between 5 and 3600 seconds, got 1",
        "decision": {"next": "hold", "waitSeconds": 270, "result": "ABANDON"},
    }
    assert _lines("ReadHookFunction", {}, held) == [
        "launch    hook read: HeartbeatTimeout 300 s; configuration invalid (pollSeconds must be "
        "between 5 and 3600 seconds, got 1): no check runs; hold ABANDON for 270 s"
    ]
    confirmed = {"action": ACTION, "progress": {"heartbeats": 1, "hookExpiresAt": "T"}}
    assert _lines("HeartbeatFunction", {"decision": {"next": "confirm"}}, confirmed) == [
        "launch    confirmed with a heartbeat that Auto Scaling holds it: expires at T"
    ]
