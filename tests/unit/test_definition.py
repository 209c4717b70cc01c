"""The state machine definition, read as data: retries, error paths and the backstop."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asg_lifecycle.policy import EXECUTION_TIMEOUT, GLOBAL_TIMEOUT_CAP, MAX_ROUNDS
from asg_lifecycle.workflow import RETRIED, WAITS
from bench import layouts
from bench.baseline import BASELINE_TRANSITIONS_FIXED, BASELINE_TRANSITIONS_PER_ROUND
from bench.definition import rounds_per_choice
from tests.conftest import ROOT

DEFINITION: dict[str, Any] = json.loads(
    (ROOT / "src" / "orchestrator" / "lifecycle.asl.json").read_text()
)
STATES: dict[str, Any] = DEFINITION["States"]
TASKS = {name: s for name, s in STATES.items() if s["Type"] == "Task"}


def test_the_backstop_is_the_48_hour_global_timeout_plus_an_hour() -> None:
    assert DEFINITION["TimeoutSeconds"] == EXECUTION_TIMEOUT == GLOBAL_TIMEOUT_CAP + 3600


def test_every_task_retries_with_bounded_exponential_backoff_and_full_jitter() -> None:
    assert set(TASKS) == {"ReadHookAndCheck", "Round", "NextRound"}
    for name, task in TASKS.items():
        assert task["Parameters"]["FunctionName"] == "${AdvanceFunctionArn}", name
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
    bound = STATES["AfterError"]["Choices"][2]
    assert bound["Variable"] == "$.recovery.rounds"
    assert (bound["NumericLessThan"], bound["Next"]) == (4, "NextErrorRound")
    assert STATES["AfterError"]["Default"] == "ErrorsExhausted"
    # A completion that keeps failing stops (the execution fails, an alarm fires) instead of
    # looping through the safe result forever.
    exhausted = {c.get("StringEquals"): c["Next"] for c in STATES["ErrorsExhausted"]["Choices"]}
    assert exhausted == {
        None: "SafeResultAfterError",
        "complete": "CompletionFailed",
        "hold": "CompletionFailed",  # the hold's safe result is the completion
        # a reconciled action that never read its hook has not confirmed the action is its own
        "settle": "ReconciledReadFailed",
    }
    assert STATES["ErrorsExhausted"]["Default"] == "SafeResultAfterError"
    assert STATES["CompletionFailed"]["Type"] == "Fail"
    assert STATES["ReconciledReadFailed"]["Type"] == "Fail"


def test_retries_after_errors_wait_a_jittered_time() -> None:
    for name in ("FirstErrorRound", "NextErrorRound"):
        assert STATES[name]["Parameters"]["waitSeconds.$"] == "States.MathRandom(10, 30)"
        assert STATES[name]["Next"] == "WaitAfterError"
    assert STATES["WaitAfterError"]["SecondsPath"] == "$.recovery.waitSeconds"
    # the task before Route: whatever the failed step was, the function knows it from the
    # document (asg_lifecycle.workflow.work_on_entry), and Route follows at once
    assert STATES["WaitAfterError"]["Next"] == "NextRound"
    for name in ("AbandonAfterError", "ContinueAfterError"):
        assert STATES[name]["Next"] == "NextRound"


def _chain(start: str) -> list[str]:
    """The states from ``start`` along Next, up to the first Choice."""
    names = [start]
    while STATES[names[-1]]["Type"] != "Choice":
        names.append(STATES[names[-1]]["Next"])
        assert len(names) <= len(STATES), f"a cycle without a Choice: {names}"
    return names


def test_rounds_run_back_to_back_with_one_choice_every_two() -> None:
    """A round costs a Wait and a task; Route comes after three rounds, then every two (the
    transition count per action: docs/PERFORMANCE.md, and the test below)."""
    assert _chain(DEFINITION["StartAt"]) == [
        "ReadHookAndCheck",
        "WaitForRound",
        "Round",
        "WaitForNextRound",
        "NextRound",
        "Route",
    ]
    waits = [name for name, state in STATES.items() if state["Type"] == "Wait"]
    for name in waits:
        if name != "WaitAfterError":
            assert STATES[name]["SecondsPath"] == "$.decision.waitSeconds", name
    # the tasks are one task: the same function, retries and error path
    first = {k: v for k, v in TASKS["ReadHookAndCheck"].items() if k not in ("Comment", "Next")}
    for name, task in TASKS.items():
        assert {k: v for k, v in task.items() if k not in ("Comment", "Next")} == first, name


def _transitions(rounds: int) -> int:
    """States an action whose checks decide in round ``rounds`` enters, from the start to
    ``Done``: every round before decides ``wait``; the deciding one (and every task after it,
    which has nothing left to do) returns ``end``, as ``asg_lifecycle.workflow`` does."""
    name, entered, tasks = DEFINITION["StartAt"], 0, 0
    document: dict[str, Any] = {"decision": {"next": "wait"}}
    while STATES[name]["Type"] != "Succeed":
        entered += 1
        assert entered <= 4 * rounds + 4 * len(STATES), f"no end after {rounds} rounds"
        state = STATES[name]
        if state["Type"] == "Task":
            tasks += 1
            document = {"decision": {"next": "end" if tasks >= rounds else "wait"}}
        name = _choose(state, document) if state["Type"] == "Choice" else state["Next"]
    return entered + 1


def test_an_odd_action_costs_under_half_the_baseline_and_an_even_one_a_transition_over() -> None:
    """What the layout costs against half the baseline's transitions at the same rounds (a
    workflow that routes after every task and heartbeats on every poll, ``bench.baseline``): an
    action of an odd number of rounds (three or more) is under half; an even one runs one empty
    round to Route and is one transition over; one to three rounds cost 7
    (docs/ARCHITECTURE.md)."""
    assert [_transitions(n) for n in range(1, 9)] == [7, 7, 7, 12, 12, 17, 17, 22]
    for rounds in [*range(2, 100), MAX_ROUNDS - 1, MAX_ROUNDS]:  # the chain repeats after 3
        half = (BASELINE_TRANSITIONS_FIXED + BASELINE_TRANSITIONS_PER_ROUND * rounds) / 2
        over = _transitions(rounds) - half
        assert over == (1 if rounds % 2 == 0 else -1.5), rounds


def test_the_layouts_model_counts_what_the_definition_does() -> None:
    """``python -m bench.layouts`` (docs/ARCHITECTURE.md's comparison of layouts) models the
    transitions of an action from where the Choices sit; for this definition's layout it must
    give what walking the definition gives."""
    first, loop = rounds_per_choice()
    after = layouts.choices([first], loop, 100)
    assert [layouts.transitions(n, after) for n in range(1, 100)] == [
        _transitions(n) for n in range(1, 100)
    ]


def test_route_knows_every_decision_a_task_returns() -> None:
    routes = {c["StringEquals"]: c["Next"] for c in STATES["Route"]["Choices"]}
    assert set(routes) == set(WAITS) | set(RETRIED)
    assert routes.pop("end") == "Done"
    assert set(routes.values()) == {"WaitForRound"}
    assert _chain("WaitForRound")[-1] == "Route"
    assert STATES["Route"]["Default"] == "UnknownDecision"


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
    """The completion counts CompletedAfterError from this mark, not from ``$.error`` (which a
    hold's completion retried after an error also carries)."""
    marked = {n for n, st in STATES.items() if st.get("Result", {}).get("afterError")}
    assert marked == {"AbandonAfterError", "ContinueAfterError"}


def _get(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    for key in path.removeprefix("$.").split("."):
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


_MISSING = object()


def _matches(rule: dict[str, Any], document: dict[str, Any]) -> bool:
    """The Choice rule forms this definition uses (and fails on any other)."""
    value = _get(document, rule["Variable"])
    if "IsPresent" in rule:
        return (value is not _MISSING) == rule["IsPresent"]
    assert value is not _MISSING, f"{rule['Variable']} missing: Step Functions would fail"
    if "StringEquals" in rule:
        return bool(value == rule["StringEquals"])
    if "NumericLessThan" in rule:
        return bool(value < rule["NumericLessThan"])
    raise AssertionError(f"rule form not evaluated here: {rule}")


def _after_choices(name: str, document: dict[str, Any]) -> str:
    """Follow Choice states from ``name`` with ``document``: the first state that is not one."""
    while STATES[name]["Type"] == "Choice":
        name = _choose(STATES[name], document)
    return name


def _choose(choice: dict[str, Any], document: dict[str, Any]) -> str:
    """The state one Choice state goes to with ``document``."""
    matched = next((r["Next"] for r in choice["Choices"] if _matches(r, document)), None)
    return str(matched or choice["Default"])


LAUNCH = {"LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING"}
TERMINATE = {"LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING"}
ENDED = {"outcome": {"status": "completed"}, "decision": {"next": "end", "waitSeconds": 1}}


@pytest.mark.parametrize(
    ("document", "then"),
    [
        # a task with nothing left to do failed on its way to Route: the action is over
        ({"action": LAUNCH, **ENDED}, "Done"),
        ({"action": TERMINATE, **ENDED, "recovery": {"rounds": 4}}, "Done"),
        ({"action": LAUNCH}, "FirstErrorRound"),  # the hook read failed
        (
            {"action": LAUNCH, "decision": {"next": "wait"}, "recovery": {"rounds": 3}},
            "NextErrorRound",
        ),
        # exhausted: checks (or a heartbeat) that never worked end with the safe result
        ({"action": LAUNCH, "recovery": {"rounds": 4}}, "AbandonAfterError"),
        (
            {"action": LAUNCH, "decision": {"next": "wait"}, "recovery": {"rounds": 4}},
            "AbandonAfterError",
        ),
        (
            {"action": TERMINATE, "decision": {"next": "wait"}, "recovery": {"rounds": 4}},
            "ContinueAfterError",
        ),
        (
            {
                "action": LAUNCH,
                "decision": {"next": "heartbeat", "failed": "x"},
                "recovery": {"rounds": 4},
            },
            "AbandonAfterError",
        ),
        # exhausted: a completion that never worked stops (the hook's DefaultResult applies)
        (
            {"action": LAUNCH, "decision": {"next": "complete"}, "recovery": {"rounds": 4}},
            "CompletionFailed",
        ),
        (
            {"action": LAUNCH, "decision": {"next": "hold"}, "recovery": {"rounds": 4}},
            "CompletionFailed",
        ),
        # exhausted: a reconciled action's hook read after settling sends nothing (the event's
        # workflow may own the action); the next reconcile run tries again
        (
            {"action": LAUNCH, "decision": {"next": "settle"}, "recovery": {"rounds": 3}},
            "NextErrorRound",
        ),
        (
            {"action": LAUNCH, "decision": {"next": "settle"}, "recovery": {"rounds": 4}},
            "ReconciledReadFailed",
        ),
    ],
)
def test_where_a_failed_task_leads(document: dict[str, Any], then: str) -> None:
    assert _after_choices("AfterError", document) == then
