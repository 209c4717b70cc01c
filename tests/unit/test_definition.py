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
    }
    for name, task in TASKS.items():
        assert [r["ErrorEquals"][0] for r in task["Retry"]] == [
            "Lambda.ServiceException",
            "States.TaskFailed",
        ], name
        for retrier in task["Retry"]:
            assert retrier["JitterStrategy"] == "FULL", name
            assert retrier["BackoffRate"] > 1, name
            assert retrier["MaxAttempts"] <= 4, name
            assert retrier["MaxDelaySeconds"] <= 30, name
        assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"], name


def test_every_failure_is_tried_again_a_bounded_number_of_times() -> None:
    for name in TASKS:
        assert TASKS[name]["Catch"][0]["Next"] == "AfterError", name
    bound = STATES["AfterError"]["Choices"][1]
    assert bound["Variable"] == "$.recovery.rounds"
    assert (bound["NumericLessThan"], bound["Next"]) == (4, "NextErrorRound")
    assert STATES["AfterError"]["Default"] == "ErrorsExhausted"
    # A completion that keeps failing stops (the execution fails, an alarm fires) instead of
    # looping through the safe result forever.
    exhausted = {c.get("StringEquals"): c["Next"] for c in STATES["ErrorsExhausted"]["Choices"]}
    assert exhausted == {None: "SafeResultAfterError", "complete": "CompletionFailed"}
    assert STATES["ErrorsExhausted"]["Default"] == "SafeResultAfterError"
    assert STATES["CompletionFailed"]["Type"] == "Fail"


def test_retries_after_errors_wait_a_jittered_time() -> None:
    for name in ("FirstErrorRound", "NextErrorRound"):
        assert STATES[name]["Parameters"]["waitSeconds.$"] == "States.MathRandom(10, 30)"
        assert STATES[name]["Next"] == "WaitAfterError"
    assert STATES["WaitAfterError"]["SecondsPath"] == "$.recovery.waitSeconds"
    assert STATES["WaitAfterError"]["Next"] == "Resume"


def test_resume_knows_every_step_that_can_fail_and_nothing_else_heartbeats() -> None:
    routes = {c.get("StringEquals"): c["Next"] for c in STATES["Resume"]["Choices"]}
    assert routes == {
        None: "ReadHook",  # no decision yet
        "settle": "ReadHook",
        "complete": "CompleteAction",
        "heartbeat": "RecordHeartbeat",
        "check": "RecordHeartbeat",  # checks that could not run: a heartbeat, then a round
        "wait": "RecordHeartbeat",
    }
    assert STATES["Resume"]["Default"] == "SafeResultAfterError"


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


def test_only_the_safe_result_after_errors_is_marked_as_such() -> None:
    """CompleteFunction counts CompletedAfterError from this mark, not from ``$.error`` (which a
    decided completion retried after an error also carries)."""
    marked = {n for n, st in STATES.items() if st.get("Result", {}).get("afterError")}
    assert marked == {"AbandonAfterError", "ContinueAfterError"}
