"""The state machine definition, read as data: retries, error paths and the backstop."""

from __future__ import annotations

import json
from typing import Any

from asg_lifecycle.policy import EXECUTION_TIMEOUT, GLOBAL_TIMEOUT_CAP
from tests.conftest import ROOT

DEFINITION: dict[str, Any] = json.loads(
    (ROOT / "src" / "orchestrator" / "lifecycle.asl.json").read_text()
)
STATES: dict[str, Any] = DEFINITION["States"]
TASKS = {name: s for name, s in STATES.items() if s["Type"] == "Task"}


def test_the_backstop_is_the_48_hour_global_timeout_plus_an_hour() -> None:
    assert DEFINITION["TimeoutSeconds"] == EXECUTION_TIMEOUT == GLOBAL_TIMEOUT_CAP + 3600


def test_every_task_retries_with_bounded_exponential_backoff_and_full_jitter() -> None:
    assert set(TASKS) == {
        "ReadHook",
        "RunChecks",
        "RecordHeartbeat",
        "CompleteAction",
        "HeartbeatAfterChecksError",
    }
    for name, task in TASKS.items():
        for retrier in task["Retry"]:
            assert retrier["JitterStrategy"] == "FULL", name
            assert retrier["BackoffRate"] > 1, name
            assert retrier["MaxAttempts"] <= 4, name
            assert retrier["MaxDelaySeconds"] <= 30, name
        assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"], name


def test_a_failed_heartbeat_goes_straight_to_the_safe_result() -> None:
    """Its retries already used the safety margin: waiting longer would let the hook lapse."""
    assert TASKS["RecordHeartbeat"]["Catch"][0]["Next"] == "SafeResultAfterError"
    assert TASKS["HeartbeatAfterChecksError"]["Catch"][0]["Next"] == "SafeResultAfterError"


def test_other_failures_are_tried_again_a_bounded_number_of_times() -> None:
    for name in ("ReadHook", "RunChecks", "CompleteAction"):
        assert TASKS[name]["Catch"][0]["Next"] == "AfterError"
    bound = STATES["AfterError"]["Choices"][1]
    assert bound == {
        "Variable": "$.recovery.rounds",
        "NumericLessThan": 4,
        "Next": "NextErrorRound",
    }
    assert STATES["AfterError"]["Default"] == "ErrorsExhausted"
    # A completion that keeps failing stops (the execution fails, an alarm fires) instead of
    # looping through the safe result forever.
    assert STATES["ErrorsExhaustedAfterDecision"]["Choices"][0]["Next"] == "CompletionFailed"
    assert STATES["CompletionFailed"]["Type"] == "Fail"


def test_every_state_is_reachable_and_every_next_exists() -> None:
    def targets(state: dict[str, Any]) -> set[str]:
        found = {state[k] for k in ("Next", "Default") if k in state}
        found |= {c["Next"] for c in state.get("Choices", [])}
        found |= {c["Next"] for c in state.get("Catch", [])}
        return found

    reached, todo = set(), [DEFINITION["StartAt"]]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        assert name in STATES, name
        todo += sorted(targets(STATES[name]))
    assert reached == set(STATES)
