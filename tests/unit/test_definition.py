"""The state machine definition, read as data: a state per AWS call, each with its own Retry and
Catch; Choice states that route exactly the decisions the code makes; every path walked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from asg_lifecycle import narrative
from asg_lifecycle.decision import Next
from asg_lifecycle.document import InvalidDocument
from asg_lifecycle.policy import EXECUTION_TIMEOUT, GLOBAL_TIMEOUT_CAP, HEARTBEAT_TIMEOUT_MAX
from handlers.task import InstanceNotWaitingYet, LifecycleActionNotFound
from tests.conftest import ROOT

DEFINITION: dict[str, Any] = json.loads(
    (ROOT / "src" / "orchestrator" / "lifecycle.asl.json").read_text()
)
STATES: dict[str, Any] = DEFINITION["States"]
LAMBDA = "arn:aws:states:::lambda:invoke"
# The tasks that invoke the product's functions; the one other task is a round's wait.
TASKS = {n: s for n, s in STATES.items() if s["Type"] == "Task" and s["Resource"] == LAMBDA}
SIGNAL_WAIT = "Wait for the next round or a signal"
HEARTBEAT_WAIT = "Wait for the heartbeat or a signal"
# The notifications: each an EventBridge PutEvents of its own, in the graph.
TOLD_STARTED = "Tell that the action started"
TOLD_WAITING = "Tell that the action waits long"
TOLD_ENDED = "Tell how the action ended"
NOTIFICATIONS = {
    TOLD_STARTED: "Run checks",
    TOLD_WAITING: "Complete, heartbeat or wait?",
    TOLD_ENDED: "Done",
}
CHOICES = {name: s for name, s in STATES.items() if s["Type"] == "Choice"}

HEARTBEAT = "Record lifecycle action heartbeat"
CONFIRM = "Confirm with a heartbeat"
CONFIRM_TOKEN = "Confirm the event's token with a heartbeat"
COMPLETE = "Complete lifecycle action"
ENDED_ELSEWHERE = "Action ended elsewhere"
FIRST = "Started from a lifecycle event?"

# What each task state's function can return as decision.next (asg_lifecycle.workflow and
# handlers/*, tested there): the hook read ends an action (not waiting, hook deleted, expired),
# holds, or goes to the first round; a lost event's read ends it (also: another workflow has it)
# or confirms it; the confirming heartbeat goes to the first round or holds; a round decides; a
# heartbeat is followed by the round at once; any may find the action over; a completion ends.
RETURNS: dict[str, set[Next]] = {
    "Read lifecycle hook": {Next.CHECK, Next.CONFIRM, Next.HOLD, Next.END},
    "Read lifecycle hook of a lost event": {Next.CONFIRM, Next.END},
    CONFIRM: {Next.CHECK, Next.HOLD, Next.END},
    CONFIRM_TOKEN: {Next.CHECK, Next.HOLD, Next.END},
    "Run checks": {Next.COMPLETE, Next.HEARTBEAT, Next.WAIT, Next.END},
    HEARTBEAT: {Next.CHECK, Next.END},
    COMPLETE: {Next.END},
}


def _function(task: dict[str, Any]) -> str:
    return str(task["Parameters"]["FunctionName"]).removeprefix("${").removesuffix("Arn}")


def test_the_backstop_is_the_48_hour_global_timeout_plus_an_hour() -> None:
    assert DEFINITION["TimeoutSeconds"] == EXECUTION_TIMEOUT == GLOBAL_TIMEOUT_CAP + 3600


def test_each_call_the_product_exists_for_is_a_state_of_its_own() -> None:
    """Read alone, the graph names every AWS call: the hook read, the rounds of checks, each
    heartbeat and the completion, each task invoking the one function that makes that call."""
    assert {name: _function(task) for name, task in TASKS.items()} == {
        "Read lifecycle hook of a lost event": "ReadHookFunction",
        "Read lifecycle hook": "ReadHookFunction",
        CONFIRM: "HeartbeatFunction",
        CONFIRM_TOKEN: "HeartbeatFunction",
        "Run checks": "CheckFunction",
        HEARTBEAT: "HeartbeatFunction",
        COMPLETE: "CompleteFunction",
    }
    for name, task in TASKS.items():
        assert narrative.STATES[name] is narrative.FUNCTIONS[_function(task)], name
        assert task["Resource"] == "arn:aws:states:::lambda:invoke"
        assert task["Parameters"]["Payload.$"] == "$", "every task gets the whole document"
        assert task["OutputPath"] == "$.Payload", "and returns the next one"
        assert task.get("Comment"), f"{name}: say what it does"
    assert set(narrative.STATES) == set(TASKS)
    others = {n for n, s in STATES.items() if s["Type"] == "Task"} - set(TASKS)
    assert others == {SIGNAL_WAIT, HEARTBEAT_WAIT, *NOTIFICATIONS}


SIGNAL_WAITS = {
    # callback task: (its decision, where its time leads, its fallback Wait state)
    SIGNAL_WAIT: ("wait", "Run checks", "Wait for the next round"),
    HEARTBEAT_WAIT: ("heartbeat", HEARTBEAT, "Wait until the hook needs its heartbeat"),
}


@pytest.mark.parametrize("name", sorted(SIGNAL_WAITS))
def test_a_wait_ends_at_its_time_or_on_a_signal_that_carries_nothing(name: str) -> None:
    """The waits before a round put their task token in the signal table (Step Functions
    Developer Guide, "Wait for a Callback with Task Token": an AWS SDK integration with
    .waitForTaskToken) and wait ``waitSeconds`` (TimeoutSecondsPath): the timeout is the wait's
    own end (the round, or the heartbeat), a SendTaskSuccess a signal, which runs the round now.
    ResultPath null: whatever a signal sends is dropped, so it can make the round come sooner
    and nothing else. If the table cannot be written, the same wait without signals."""
    from asg_lifecycle.signals.table import WaitingRound  # noqa: PLC0415

    decision, at_its_time, fallback_name = SIGNAL_WAITS[name]
    task = STATES[name]
    assert task["Resource"] == "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken"
    assert task["Parameters"]["TableName"] == "${SignalTableName}"
    item = task["Parameters"]["Item"]
    assert item["taskToken"] == {"S.$": "$$.Task.Token"}
    assert item["instanceId"] == {"S.$": "$.action.EC2InstanceId"}
    assert item["hook"] == {"S.$": "$.action.LifecycleHookName"}
    assert item["signalAfter"] == {"N.$": "$.decision.signal.after"}
    assert item["signalUntil"] == {"N.$": "$.decision.signal.until"}
    assert item["expiresAt"] == {"N.$": "$.decision.signal.expires"}
    typed = {k: {next(iter(v)).removesuffix(".$"): "1"} for k, v in item.items()}
    assert WaitingRound.from_item(typed) is not None, "the signal reads what the wait writes"
    assert task["TimeoutSecondsPath"] == "$.decision.waitSeconds"
    assert task["ResultPath"] is None
    assert task["Next"] == "Run checks", "a signal: the round now"
    assert "Retry" not in task, "a failed write falls back at once"
    timeout, other = task["Catch"]
    assert (timeout["ErrorEquals"], timeout["Next"]) == (["States.Timeout"], at_its_time)
    assert (other["ErrorEquals"], other["Next"]) == (["States.ALL"], fallback_name)
    assert timeout["ResultPath"] is None
    assert other["ResultPath"] is None
    fallback = STATES[fallback_name]
    # until the wait's own end, not waitSeconds again: a callback failed late (a SendTaskFailure
    # by whoever holds the token) must not push the heartbeat past the hook's expiry
    assert fallback["TimestampPath"] == "$.decision.dueAt"
    assert fallback["Next"] == at_its_time
    assert _routes(STATES["Complete, heartbeat or wait?"])[decision] == name


def _retrier(task: dict[str, Any], error: str) -> dict[str, Any]:
    return next(r for r in task["Retry"] if r["ErrorEquals"] == [error])


def _span(retrier: dict[str, Any], jitter: bool = True) -> float:
    """The time a retrier keeps trying (its waits added up; with full jitter, their mean)."""
    interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
    ceiling = retrier.get("MaxDelaySeconds", float("inf"))
    waits = [min(interval * rate**k, ceiling) for k in range(retrier["MaxAttempts"])]
    share = 0.5 if jitter and retrier.get("JitterStrategy") == "FULL" else 1.0
    return share * sum(waits)


def test_every_task_retries_its_own_failures_and_catches_the_rest() -> None:
    """The error names are the functions' own exception classes (``errorType``), the same on AWS
    and on the emulator; ``States.ALL`` comes last, alone, as Step Functions requires."""
    for name, task in TASKS.items():
        names = [r["ErrorEquals"] for r in task["Retry"]]
        assert names[0] == [InvalidDocument.__name__], name
        assert _retrier(task, InvalidDocument.__name__)["MaxAttempts"] == 0, "never retried"
        assert names[-1] == ["States.ALL"], name
        assert task["Catch"][0]["ErrorEquals"] == [InvalidDocument.__name__], name
        assert task["Catch"][0]["Next"] == "Invalid state document", "its own Fail, at once"
        assert task["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
        assert task["Catch"][-1]["ResultPath"] == "$.error", "the history keeps why"
        assert STATES[task["Catch"][-1]["Next"]]["Type"] == "Fail", f"{name}: alarm, no guess"
        transient = _retrier(task, "States.ALL")
        assert transient["JitterStrategy"] == "FULL", "a fleet does not retry in step"
        assert transient["BackoffRate"] > 1


def test_a_read_that_does_not_see_the_instance_waiting_yet_reads_again_for_30_s() -> None:
    """Right after its event, DescribeAutoScalingInstances may not show the wait state yet: the
    hook read is tried again (never a check) until the event is 30 s old."""
    from handlers.read_hook import CONFIRM_NOT_WAITING_SECONDS  # noqa: PLC0415

    task = TASKS["Read lifecycle hook"]
    retrier = _retrier(task, InstanceNotWaitingYet.__name__)
    assert task["Retry"].index(retrier) == 1, "before the catch-all"
    assert "JitterStrategy" not in retrier
    assert _span(retrier, jitter=False) > CONFIRM_NOT_WAITING_SECONDS
    lost = TASKS["Read lifecycle hook of a lost event"]
    assert all(r["ErrorEquals"] != [InstanceNotWaitingYet.__name__] for r in lost["Retry"])


def test_transient_errors_are_tried_again_longer_than_any_hook_can_wait() -> None:
    """An outage never ends an action with the safe result: the tasks of a workflow that has
    started keep trying for longer than the longest HeartbeatTimeout (the functions record the
    action as timed out once the hook has expired)."""
    for name in ("Read lifecycle hook", "Run checks", CONFIRM_TOKEN, HEARTBEAT, COMPLETE):
        span = _span(_retrier(TASKS[name], "States.ALL"))
        assert span > HEARTBEAT_TIMEOUT_MAX, (name, span)


def test_a_lost_events_workflow_gives_up_quickly_before_it_confirmed_its_action() -> None:
    """Errors before a lost event's action is confirmed end the workflow (a Fail state, so an
    alarm) without a completion; the next reconcile run starts another."""
    for name in ("Read lifecycle hook of a lost event", CONFIRM):
        assert _span(_retrier(TASKS[name], "States.ALL"), jitter=False) <= 120, name
        assert TASKS[name]["Catch"][-1]["Next"] == "Action not confirmed"


@pytest.mark.parametrize("name", [CONFIRM, CONFIRM_TOKEN, HEARTBEAT, COMPLETE])
def test_no_active_lifecycle_action_is_believed_only_once_it_repeats_over_30_seconds(
    name: str,
) -> None:
    """The same call again (never the checks); then the action ended elsewhere."""
    task = TASKS[name]
    retrier = _retrier(task, LifecycleActionNotFound.__name__)
    assert task["Retry"].index(retrier) == 1, "before the catch-all"
    assert _span(retrier, jitter=False) >= 30
    assert "JitterStrategy" not in retrier, "no jitter may shorten it"
    (caught,) = [c for c in task["Catch"] if c["ErrorEquals"] == retrier["ErrorEquals"]]
    assert caught["Next"] == ENDED_ELSEWHERE
    ending = STATES[ENDED_ELSEWHERE]
    assert ending["Parameters"]["status"] == "already-finished"
    assert ending["ResultPath"] == "$.outcome"
    assert ending["Next"] == TOLD_ENDED


def test_no_error_leads_to_a_completion() -> None:
    """The safe result is sent only for a check's definitive failure, maxWaitSeconds, an invalid
    configuration or the global timeout: never because a task failed."""
    for name, task in TASKS.items():
        for catcher in task["Catch"]:
            assert catcher["Next"] == ENDED_ELSEWHERE or STATES[catcher["Next"]]["Type"] == "Fail"
            assert COMPLETE not in _reachable(catcher["Next"]), name


def _routes(choice: dict[str, Any]) -> dict[str, str]:
    """The decision routes (``decision.next`` values), without the notice's rule."""
    return {rule["StringEquals"]: rule["Next"] for rule in choice["Choices"] if "Variable" in rule}


def test_the_choice_states_route_exactly_the_decisions_the_code_makes() -> None:
    """Every rule but the first state's compares ``decision.next`` with a value of
    :class:`~asg_lifecycle.decision.Next`; together they route every value, and a value no rule
    knows fails the execution ("Unexpected decision") instead of guessing."""
    routed: set[str] = set()
    for name, choice in CHOICES.items():
        if name == FIRST:
            assert choice["Choices"] == [
                {
                    "Variable": "$.action.LifecycleActionToken",
                    "IsPresent": True,
                    "Next": "Read lifecycle hook",
                }
            ]
            assert choice["Default"] == "Wait for a late event", "no token: a lost event's"
            continue
        variables = {r["Variable"] for r in choice["Choices"] if "Variable" in r}
        assert variables == {"$.decision.next"}, name
        assert choice["Default"] == "Unexpected decision", name
        routed |= set(_routes(choice))
    assert routed == {step.value for step in Next}


def test_each_choice_routes_every_decision_its_task_returns_and_no_other() -> None:
    """A Choice right after a task handles what that task's function returns, and nothing it
    never returns (a route nothing takes would be a lie in the graph)."""
    for name, task in TASKS.items():
        after = task["Next"]
        returns = {step.value for step in RETURNS[name]}
        if STATES[after]["Type"] == "Choice":
            assert set(_routes(STATES[after])) == returns, name
        else:
            assert returns == {Next.END.value}, name
            assert after == TOLD_ENDED, name


def test_the_routes_say_what_each_decision_means() -> None:
    for name, choice in CHOICES.items():
        if name == FIRST:
            continue
        for value, target in _routes(choice).items():
            expected = {
                "check": TOLD_STARTED if name in FIRST_ROUND else "Run checks",
                "wait": SIGNAL_WAIT,
                "heartbeat": HEARTBEAT_WAIT,
                "complete": COMPLETE,
                "hold": "Hold the safe result",
                "confirm": CONFIRM_TOKEN if name == "Is the action waiting?" else CONFIRM,
                "end": TOLD_ENDED,
            }[value]
            assert target == expected, (value, target)
    waits = {
        "Hold the safe result": COMPLETE,
        "Wait for the next round": "Run checks",  # a round's wait when the table fails
        # the heartbeat before the round: no check stands between the hook and its heartbeat
        "Wait until the hook needs its heartbeat": HEARTBEAT,
    }
    for wait, then in waits.items():
        timed = STATES[wait].get("SecondsPath") or STATES[wait].get("TimestampPath")
        assert timed in ("$.decision.waitSeconds", "$.decision.dueAt"), wait
        assert STATES[wait]["Next"] == then
    assert _routes(STATES[TASKS[HEARTBEAT]["Next"]])["check"] == "Run checks"


def _next_states(name: str) -> set[str]:
    state = STATES[name]
    found = {state[k] for k in ("Next", "Default") if k in state}
    found |= {c["Next"] for c in state.get("Choices", [])}
    found |= {c["Next"] for c in state.get("Catch", [])}
    return found


def _reachable(start: str, without: str | None = None) -> set[str]:
    reached, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in reached or name == without:
            continue
        reached.add(name)
        assert name in STATES, name
        todo += sorted(_next_states(name))
    return reached


def test_every_state_is_reachable_and_every_next_exists() -> None:
    assert _reachable(DEFINITION["StartAt"]) == set(STATES)


def test_a_lost_events_workflow_confirms_before_any_check_or_call() -> None:
    """From the reconciler's branch, the checks, heartbeats and completion are reached only
    through the confirming heartbeat."""
    lost = "Wait for a late event"
    assert {"Run checks", HEARTBEAT, COMPLETE} <= _reachable(lost)
    assert not {"Run checks", HEARTBEAT, COMPLETE} & _reachable(lost, without=CONFIRM)
    # and the event's branch reads (and verifies) the action before anything else
    event = "Read lifecycle hook"
    assert "Run checks" not in _reachable(STATES[FIRST]["Choices"][0]["Next"], event)


def _paths(name: str, seen: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every path from ``name`` to an end, each loop taken at most once."""
    path = (*seen, name)
    state = STATES[name]
    if state["Type"] in ("Succeed", "Fail"):
        yield path
        return
    for target in sorted(_next_states(name)):
        if path.count(target) < 2:
            yield from _paths(target, path)


def test_every_path_ends_in_done_or_a_named_failure() -> None:
    """Walk every path (loops once): each ends in Done or a Fail state whose cause says what
    failed and what Auto Scaling does next."""
    ends: set[str] = set()
    walked = 0
    for path in _paths(DEFINITION["StartAt"]):
        walked += 1
        ends.add(path[-1])
        if COMPLETE in path:  # a completion is only ever decided, never sent by an error path
            before = path[path.index(COMPLETE) - 1]
            assert before in ("Complete, heartbeat or wait?", "Hold the safe result"), path
    assert walked > 50
    fails = {n for n, s in STATES.items() if s["Type"] == "Fail"}
    assert ends == {"Done"} | fails
    for name in fails:
        assert STATES[name]["Error"], name
        assert STATES[name]["Cause"], name


def test_a_late_round_is_judged_by_the_longest_gap_between_two_tries() -> None:
    """``policy.RETRY_SPAN_SECONDS`` is the longest stretch between two tries of Run checks: its
    retry delay at most, after a try that ran to the check function's timeout."""
    from cfnlint.decode import decode_str  # noqa: PLC0415

    from asg_lifecycle.policy import RETRY_SPAN_SECONDS  # noqa: PLC0415

    template, _ = decode_str((ROOT / "template.yaml").read_text())
    assert template is not None
    timeout = template["Resources"]["CheckFunction"]["Properties"]["Timeout"]
    delay = _retrier(TASKS["Run checks"], "States.ALL")["MaxDelaySeconds"]
    assert delay + timeout == RETRY_SPAN_SECONDS


def test_the_safety_margin_outlasts_a_heartbeat_or_completion_that_times_out() -> None:
    """A try of "Record lifecycle action heartbeat" or "Complete lifecycle action" that runs into
    its function's Timeout fails as ``Lambda.Unknown`` (Step Functions Developer Guide, "Handle
    transient Lambda service exceptions") and is tried again after the first retry interval: the
    least safety margin leaves room for that try, the delay and the retried call."""
    from cfnlint.decode import decode_str  # noqa: PLC0415

    from asg_lifecycle.policy import (  # noqa: PLC0415
        LIFECYCLE_CALL_TRY_SECONDS,
        MARGIN_FLOOR,
        safety_margin,
    )

    template, _ = decode_str((ROOT / "template.yaml").read_text())
    assert template is not None
    for function, task in (
        ("HeartbeatFunction", "Record lifecycle action heartbeat"),
        ("CompleteFunction", "Complete lifecycle action"),
    ):
        assert template["Resources"][function]["Properties"]["Timeout"] == (
            LIFECYCLE_CALL_TRY_SECONDS
        )
        first_retry = _retrier(TASKS[task], "States.ALL")["IntervalSeconds"]
        assert LIFECYCLE_CALL_TRY_SECONDS + first_retry + 3 <= MARGIN_FLOOR
    assert safety_margin(120) == MARGIN_FLOOR
    assert safety_margin(60) == 20  # a third of a short hook: it cannot outlast a timeout


FIRST_ROUND = {"Is the action waiting?", "Confirmed?"}


@pytest.mark.parametrize("name", sorted(NOTIFICATIONS))
def test_each_notification_is_an_event_of_its_own_that_never_holds_the_action_up(name: str) -> None:
    """EventBridge PutEvents on the default bus, source asg-lifecycle-orchestrator, through the
    AWS SDK integration: the optimized one appends the execution's ARN, which ends in the token,
    to the event (Step Functions Developer Guide, "Add EventBridge events with Step Functions").
    The detail is what the tasks wrote for it (the notice, or the outcome), which names the
    action by instance, group, hook and transition: never the token nor a check's details
    (command output). Tried twice, then dropped: the action goes on to the same state."""
    task = STATES[name]
    assert task["Resource"] == "arn:aws:states:::aws-sdk:eventbridge:putEvents"
    (entry,) = task["Parameters"]["Entries"]
    assert entry["Source"] == "asg-lifecycle-orchestrator"
    assert entry["DetailType"].startswith("Lifecycle Action ")
    assert "EventBusName" not in entry, "the default bus"
    source = "$.outcome" if name == TOLD_ENDED else "$.notice"
    assert entry["Detail.$"] == f"States.JsonToString({source})"
    assert task["Next"] == NOTIFICATIONS[name]
    ((retry,),) = [task["Retry"]]
    assert retry["ErrorEquals"] == ["States.ALL"]
    assert retry["MaxAttempts"] <= 2
    (catch,) = task["Catch"]
    assert (catch["ErrorEquals"], catch["Next"]) == (["States.ALL"], task["Next"])
    ended_elsewhere = STATES[ENDED_ELSEWHERE]["Parameters"]
    assert {"instanceId.$", "group.$", "hook.$", "transition.$", "summary"} <= set(ended_elsewhere)


def test_every_ending_is_told_and_every_first_round_too() -> None:
    """Done is reached only through "Tell how the action ended"; the first round of checks is
    reached only through "Tell that the action started" (after the hook read, or after the
    confirming heartbeat); the waiting-long notice loops back to its Choice."""
    into_done = {n for n in STATES if "Done" in _next_states(n)}
    assert into_done == {TOLD_ENDED}
    for name in FIRST_ROUND:
        assert _routes(STATES[name])["check"] == TOLD_STARTED
    choice = STATES["Complete, heartbeat or wait?"]
    first = choice["Choices"][0]
    assert first["Next"] == TOLD_WAITING
    assert {c["Variable"] for c in first["And"]} == {"$.notice.kind"}
    assert STATES[TOLD_WAITING]["ResultPath"] == "$.notice", "its answer clears the notice"
    assert STATES[TOLD_WAITING]["Catch"][0]["ResultPath"] == "$.notice"
