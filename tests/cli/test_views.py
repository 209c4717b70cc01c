"""The CLI's pure parts: execution names, what an execution's history says (the latest state, the
phase, the timeline), the stack's name and outputs, what a dead-letter message holds. No AWS.

The histories are built as Step Functions records them for ``src/orchestrator/lifecycle.asl.json``
(its state names and event types), with state documents encoded by ``asg_lifecycle.document``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asg_lifecycle import narrative
from asg_lifecycle.checks.base import CheckResult
from asg_lifecycle.config import ActionConfig, CheckSpec
from asg_lifecycle.decision import Decision, Next
from asg_lifecycle.document import Outcome, StateDocument, Status
from asg_lifecycle.model import LifecycleAction, LifecycleResult, hook_digest
from asg_lifecycle.policy import Progress, Verdict, make_plan
from asg_lifecycle_cli import executions
from asg_lifecycle_cli.errors import OperatorError
from asg_lifecycle_cli.operations import event_of
from asg_lifecycle_cli.stack import from_outputs, name_from_samconfig
from asg_lifecycle_cli.views import (
    ExecutionName,
    checks_summary,
    duration,
    latest_state,
    pending_retry,
    timeline,
    transition_words,
    view_of,
)
from tests.conftest import ROOT

T = datetime(2026, 1, 1, tzinfo=UTC)
ACTION = {
    "AutoScalingGroupName": "web",
    "LifecycleHookName": "web-launch",
    "EC2InstanceId": "i-0123456789abcdef0",
    "LifecycleActionToken": "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
    "StartedAt": "2026-01-01T00:00:00Z",
    "Origin": "EC2",
    "Destination": "AutoScalingGroup",
}
# A reconcile run's action, as the reconciler encodes it: no token (addressed by instance id).
RECONCILED = replace(LifecycleAction.from_json(ACTION), token=None).to_json()
ABANDON, CONTINUE = LifecycleResult.ABANDON, LifecycleResult.CONTINUE
# HeartbeatTimeout 300 s, poll 30 s, maxWaitSeconds 900: gives up at 00:15:00.
CONFIG = ActionConfig((CheckSpec("instance-status"),), 30, 900, ABANDON, ABANDON)
PLAN, _ = make_plan(LifecycleAction.from_json(ACTION), 300, ABANDON, CONFIG, T)
RUNNING = {"name": "n", "executionArn": "arn:x", "status": "RUNNING"}
WAITING = CheckResult("instance-status", Verdict.WAIT, "initializing")
PASSED = CheckResult("instance-status", Verdict.PASS, "instance and system status ok")
ALL_PASSED = "all checks passed: instance-status"


def _at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def _doc(
    *,
    rounds: int = 0,
    heartbeats: int = 0,
    expires: int = 300,
    checks: Sequence[CheckResult] = (),
    decision: Decision | None = None,
    outcome: Outcome | None = None,
    action: Mapping[str, Any] = ACTION,
) -> dict[str, Any]:
    """A state document after the hook was read, as a task returns it."""
    progress = Progress(_at(expires), heartbeats=heartbeats, rounds=rounds)
    doc = StateDocument(LifecycleAction.from_json(action), plan=PLAN, progress=progress)
    return replace(doc, checks=tuple(checks), decision=decision, outcome=outcome).to_json()


def _wait(seconds: int, now: int, step: Next = Next.WAIT) -> Decision:
    """A round's decision at ``now``: the next round ``seconds`` later (``step``: heartbeat
    first)."""
    return Decision(step, "instance-status: initializing", seconds, due_at=_at(now + seconds))


def _completed(seconds: int, result: LifecycleResult = CONTINUE) -> Outcome:
    return Outcome(Status.COMPLETED, ALL_PASSED, result, _at(seconds), rounds=3)


def _event(kind: str, seconds: float, **details: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": _at(seconds), **details}


def _lambda_error(error: str, message: str) -> str:
    """A Lambda function error's cause as Step Functions records it: with the stack trace."""
    trace = ['  File "/var/task/handlers/task.py", line 48, in handler\n    return step(doc)\n']
    return json.dumps({"errorType": error, "errorMessage": message, "stackTrace": trace})


class History:
    """An execution's history, oldest first: each task's input is the document the last one
    returned."""

    def __init__(self, start: dict[str, Any]) -> None:
        self.doc = start
        self.events = [
            _event("ExecutionStarted", 0, executionStartedEventDetails={"input": json.dumps(start)})
        ]

    def _add(self, kind: str, seconds: float, **details: Any) -> None:
        self.events.append(_event(kind, seconds, **details))

    def state(self, kind: str, name: str, seconds: float) -> History:
        """A Choice, Wait, Pass or Succeed state, entered and left with the document."""
        text = json.dumps(self.doc)
        self._add(
            f"{kind}StateEntered", seconds, stateEnteredEventDetails={"name": name, "input": text}
        )
        self._add(
            f"{kind}StateExited", seconds, stateExitedEventDetails={"name": name, "output": text}
        )
        return self

    def task(
        self,
        name: str,
        seconds: float,
        output: dict[str, Any] | None,
        fails: Sequence[tuple[float, str, str]] = (),
    ) -> History:
        """The task ``name``: each failed try (at, error, cause), then its output at ``seconds``
        (None: it is still being tried again)."""
        entered = min([seconds, *(at for at, _, _ in fails)])
        self._add(
            "TaskStateEntered",
            entered,
            stateEnteredEventDetails={"name": name, "input": json.dumps(self.doc)},
        )
        for at, error, cause in fails:
            self._add("TaskScheduled", at, taskScheduledEventDetails={"resource": "invoke"})
            self._add("TaskStarted", at, taskStartedEventDetails={"resource": "invoke"})
            self._add("TaskFailed", at, taskFailedEventDetails={"error": error, "cause": cause})
        if output is not None:
            self._add("TaskScheduled", seconds, taskScheduledEventDetails={"resource": "invoke"})
            self._add("TaskStarted", seconds, taskStartedEventDetails={"resource": "invoke"})
            payload = json.dumps({"StatusCode": 200, "Payload": output})
            self._add("TaskSucceeded", seconds, taskSucceededEventDetails={"output": payload})
            self._add(
                "TaskStateExited",
                seconds,
                stateExitedEventDetails={"name": name, "output": json.dumps(output)},
            )
            self.doc = output
        return self

    def signal_wait(
        self,
        entered: float,
        ended: float,
        how: str,
        name: str = "Wait for the next round or a signal",
    ) -> History:
        """A wait a signal may end (``name``: DynamoDB PutItem with its task token) that ends at
        ``ended``: ``timeout`` (its time), ``signal`` (SendTaskSuccess) or ``failed`` (the table
        could not be written)."""
        text = json.dumps(self.doc)
        details = {"resourceType": "aws-sdk:dynamodb", "resource": "putItem.waitForTaskToken"}
        self._add(
            "TaskStateEntered", entered, stateEnteredEventDetails={"name": name, "input": text}
        )
        self._add("TaskScheduled", entered, taskScheduledEventDetails=details)
        self._add("TaskStarted", entered, taskStartedEventDetails=details)
        self._add("TaskSubmitted", entered, taskSubmittedEventDetails=details)
        if how == "timeout":
            self._add("TaskTimedOut", ended, taskTimedOutEventDetails={"error": "States.Timeout"})
        elif how == "signal":
            self._add("TaskSucceeded", ended, taskSucceededEventDetails={"output": "{}"})
        else:
            error = {"error": "DynamoDB.ResourceNotFoundException", **details}
            self._add("TaskFailed", ended, taskFailedEventDetails=error)
        self._add("TaskStateExited", ended, stateExitedEventDetails={"name": name, "output": text})
        return self

    def caught(self, name: str, seconds: float, error: str, exit_recorded: bool = True) -> History:
        """The Catch of a task with no try left: the error at ``$.error`` of its input."""
        self.doc = {**self.doc, "error": {"Error": error, "Cause": "..."}}
        if exit_recorded:
            self._add(
                "TaskStateExited",
                seconds,
                stateExitedEventDetails={"name": name, "output": json.dumps(self.doc)},
            )
        return self

    def succeeded(self, seconds: float) -> History:
        self.state("Succeed", "Done", seconds)
        output = json.dumps(self.doc)
        self._add("ExecutionSucceeded", seconds, executionSucceededEventDetails={"output": output})
        return self

    def failed(self, name: str, seconds: float, error: str, cause: str) -> History:
        self._add("FailStateEntered", seconds, stateEnteredEventDetails={"name": name})
        self._add(
            "ExecutionFailed", seconds, executionFailedEventDetails={"error": error, "cause": cause}
        )
        return self

    def newest_first(self) -> list[dict[str, Any]]:
        return list(reversed(self.events))


def _read_and_round_one() -> History:
    """The hook read at 1 s, round 1 at 2 s (not ready: the next round in 31 s), its wait."""
    return (
        History({"action": ACTION})
        .task(
            "Read lifecycle hook",
            1,
            _doc(decision=Decision(Next.CHECK, "hook read", due_at=_at(1))),
        )
        .state("Choice", "Is the action waiting?", 1)
        .task("Run checks", 2, _doc(rounds=1, checks=[WAITING], decision=_wait(31, 2)))
        .state("Choice", "Complete, heartbeat or wait?", 2)
        .state("Wait", "Wait for the next round", 2)
    )


HOOK_READ = (
    "hook read: HeartbeatTimeout 300 s, DefaultResult ABANDON, poll 30 s, checks instance-status; "
    "gives up at 2026-01-01T00:15:00Z (ABANDON)"
)
ROUND_ONE = "round 1: instance-status wait (initializing) -> next round in 31 s"
THROTTLED = "An error occurred (Throttling) when calling the {} operation: Rate exceeded"


def test_execution_names_of_this_workflow_are_parsed_and_others_are_not() -> None:
    name = ExecutionName.parse(f"launch-i-0123456789abcdef0-{hook_digest('web-launch')}-tok")
    assert name is not None
    assert name.is_for("i-0123456789abcdef0", None)
    assert name.is_for("i-0123456789abcdef0", "web-launch")
    assert not name.is_for("i-0123456789abcdef0", "web-warmup")
    assert not name.is_for("i-0000000000000000f", None)
    assert ExecutionName.parse("my-own-execution") is None
    assert ExecutionName.parse("reboot-i-0123456789abcdef0-01234567-x") is None


def test_the_latest_state_is_the_newest_document_in_a_reversed_history() -> None:
    history = _read_and_round_one()
    assert latest_state(history.newest_first()) == _doc(
        rounds=1, checks=[WAITING], decision=_wait(31, 2)
    )
    history.task("Run checks", 33, _doc(rounds=2, checks=[PASSED], decision=None))
    assert latest_state(history.newest_first())["progress"]["rounds"] == 2  # type: ignore[index]
    not_ours = [_event("ExecutionStarted", 0, executionStartedEventDetails={"input": "[1]"})]
    assert latest_state(not_ours) is None


def test_a_view_reads_deadlines_checks_and_phase_from_the_state() -> None:
    state = _doc(rounds=3, checks=[WAITING], decision=_wait(31, 94))  # next round due at 125 s
    view = view_of(RUNNING, state)
    document = view.to_json(_at(100))
    assert document["hookExpiresInSeconds"] == 200
    assert document["givesUpInSeconds"] == 800
    assert document["ageSeconds"] == 100
    assert document["checks"] == [WAITING.to_json()]
    assert document["phase"] == "next round in 25s"
    assert view.phase(_at(125)) == "running checks"  # the round is due: its task runs
    assert view.phase() == "waiting for the next round"
    assert view_of({**RUNNING, "status": "ABORTED"}, state).phase(_at(100)) == "aborted"


@pytest.mark.parametrize(
    ("state", "phase"),
    [
        ({"action": ACTION}, "reading hook"),
        ({"action": RECONCILED, "settleSeconds": 75},
         "waiting for a late event"),
        (_doc(decision=Decision(Next.CHECK, "hook read")), "running checks"),
        (_doc(decision=Decision(Next.CONFIRM, "reconciled")), "confirming (lost event)"),
        (_doc(decision=_wait(30, 0, Next.HEARTBEAT)), "heartbeat in 20s"),
        (_doc(decision=_wait(5, 0, Next.HEARTBEAT)), "recording a heartbeat"),
        (_doc(decision=Decision(Next.COMPLETE, ALL_PASSED, result=CONTINUE)),
         "completing with CONTINUE"),
        (_doc(decision=Decision(Next.HOLD, "invalid configuration", 270, ABANDON)),
         "holding ABANDON (invalid configuration)"),
        (_doc(decision=Decision(Next.END, ALL_PASSED), outcome=_completed(60)), "ending"),
        ({**_doc(decision=_wait(30, 0)), "decision": {"next": "wait", "dueAt": "soon"}},
         "waiting for the next round"),
    ],
)  # fmt: skip
def test_the_phase_is_what_the_last_decision_asked_for(state: dict[str, Any], phase: str) -> None:
    assert view_of(RUNNING, state).phase(_at(10)) == phase


def test_the_timeline_tells_rounds_heartbeats_errors_and_the_end() -> None:
    throttled = _lambda_error("ClientError", THROTTLED.format("RecordLifecycleActionHeartbeat"))
    history = (
        _read_and_round_one()
        .task(
            "Run checks",
            33,
            _doc(rounds=2, checks=[WAITING], decision=_wait(30, 33, Next.HEARTBEAT)),
        )
        .state("Choice", "Complete, heartbeat or wait?", 33)
        .task(
            "Record lifecycle action heartbeat",
            36,
            _doc(rounds=2, heartbeats=1, expires=336, checks=[WAITING], decision=_wait(27, 36)),
            fails=[(33, "ClientError", throttled)],
        )
        .state("Choice", "Hook extended?", 36)
        .state("Wait", "Wait for the next round", 36)
        .task(
            "Run checks",
            63,
            _doc(
                rounds=3,
                heartbeats=1,
                expires=336,
                checks=[PASSED],
                decision=Decision(Next.COMPLETE, ALL_PASSED, result=CONTINUE),
            ),
        )
        .state("Choice", "Complete, heartbeat or wait?", 63)
    )
    history.task(
        "Complete lifecycle action",
        64,
        {**history.doc, **_doc(outcome=_completed(64), decision=Decision(Next.END, ALL_PASSED))},
    ).succeeded(64)
    story = timeline(history.events)
    assert [(int((e.at - T).total_seconds()), e.what) for e in story] == [
        (0, "workflow started (from the event): launch EC2->AutoScalingGroup"),
        (1, HOOK_READ),
        (2, ROUND_ONE),
        (33, "round 2: instance-status wait (initializing) -> "
             "heartbeat in 30 s, then the next round"),
        (33, "Record lifecycle action heartbeat failed: ClientError"),
        (36, "heartbeat #1 recorded: hook now expires at 2026-01-01T00:05:36Z"),
        (63, "round 3: instance-status pass (instance and system status ok) -> "
             "complete with CONTINUE"),
        (64, f"completion: completed CONTINUE - {ALL_PASSED}"),
        (64, f"workflow ended: completed CONTINUE - {ALL_PASSED}"),
    ]  # fmt: skip
    (failed,) = [e for e in story if "failed" in e.what]
    assert failed.details == [THROTTLED.format("RecordLifecycleActionHeartbeat")]
    assert pending_retry(history.newest_first()) is None


def test_a_task_step_functions_is_trying_again_shows_as_retrying_with_its_errors() -> None:
    """Step Functions tries a failing task again (backoff, up to 300 tries): the phase says so,
    and the timeline tells the tries in a row with one error as one entry, with the error's
    message (not the function's stack trace)."""
    throttled = THROTTLED.format("CompleteLifecycleAction")
    history = _read_and_round_one().task(
        "Run checks",
        33,
        _doc(
            rounds=2, checks=[PASSED], decision=Decision(Next.COMPLETE, ALL_PASSED, result=CONTINUE)
        ),
    )
    tries = [(34, "ClientError", _lambda_error("ClientError", throttled))] * 2 + [
        (39, "ClientError", _lambda_error("ClientError", throttled + " (reached max retries: 4)"))
    ]
    history.task("Complete lifecycle action", 40, None, fails=tries)

    retrying = pending_retry(history.newest_first())
    assert retrying == "ClientError"
    view = view_of(RUNNING, latest_state(history.newest_first()) or {}, retrying)
    assert view.phase(_at(40)) == "retrying after ClientError"
    assert view.to_json(_at(40))["phase"] == "retrying after ClientError"
    *_, entry = timeline(history.events)
    assert entry.what == "Complete lifecycle action failed 3 times in 5s: ClientError"
    assert entry.at == _at(34)
    assert entry.details == [throttled + " (reached max retries: 4)"]  # the latest try's
    assert "File" not in entry.details[0]

    # another error is another entry; a cause that is not a function's error is kept as is
    history.events += [
        _event("TaskScheduled", 45, taskScheduledEventDetails={}),
        _event(
            "TaskFailed",
            45,
            taskFailedEventDetails={"error": "Lambda.ServiceException", "cause": "Lambda is down"},
        ),
    ]
    *_, before, entry = timeline(history.events)
    assert before.what.startswith("Complete lifecycle action failed 3 times")
    assert (entry.what, entry.details) == (
        "Complete lifecycle action failed: Lambda.ServiceException",
        ["Lambda is down"],
    )
    assert pending_retry(history.newest_first()) == "Lambda.ServiceException"

    # the next try succeeds: not retrying any more, and Auto Scaling's answer is told
    ended = _doc(rounds=2, outcome=_completed(50), decision=Decision(Next.END, ALL_PASSED))
    history.events += [
        _event("TaskSucceeded", 50, taskSucceededEventDetails={}),
        _event(
            "TaskStateExited",
            50,
            stateExitedEventDetails={
                "name": "Complete lifecycle action",
                "output": json.dumps(ended),
            },
        ),
    ]
    assert pending_retry(history.newest_first()) is None
    assert view_of(RUNNING, ended).phase(_at(50)) == "ending"
    assert timeline(history.events)[-1].what == f"completion: completed CONTINUE - {ALL_PASSED}"


@pytest.mark.parametrize("exit_recorded", [True, False])
def test_a_task_with_no_try_left_is_told_where_its_catch_went(exit_recorded: bool) -> None:
    """Auto Scaling's "No active Lifecycle Action found" repeated over 30 s: the heartbeat's Catch
    goes to "Action ended elsewhere". Its document (with $.error) is not a heartbeat recorded."""
    not_found = "No active Lifecycle Action found with token c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f"
    cause = _lambda_error("LifecycleActionNotFound", not_found)
    history = _read_and_round_one().task(
        "Run checks", 33, _doc(rounds=2, checks=[WAITING], decision=_wait(30, 33, Next.HEARTBEAT))
    )
    tries = [(at, "LifecycleActionNotFound", cause) for at in (33, 43, 53, 63)]
    history.task("Record lifecycle action heartbeat", 63, None, fails=tries)
    history.caught(
        "Record lifecycle action heartbeat", 63, "LifecycleActionNotFound", exit_recorded
    )
    elsewhere = 'Auto Scaling kept answering "No active Lifecycle Action found" for 30 s'
    history.state("Pass", "Action ended elsewhere", 63)
    history.doc = {**history.doc, "outcome": Outcome(Status.ALREADY_FINISHED, elsewhere).to_json()}
    history.succeeded(63)

    story = [e.what for e in timeline(history.events)]
    assert story[4:] == [
        "Record lifecycle action heartbeat failed 4 times in 30s: LifecycleActionNotFound",
        "Record lifecycle action heartbeat: no try left -> Action ended elsewhere",
        f"workflow ended: already-finished - {elsewhere}",
    ]
    assert not [line for line in story if line.startswith("heartbeat #")]


def test_a_lost_events_workflow_that_could_not_confirm_the_action_fails_as_such() -> None:
    cause = "A lost event's workflow could not confirm the action within its tries; it sent nothing"
    unavailable = "An error occurred (Unavailable) when calling the DescribeAutoScalingInstances"
    history = (
        History({"action": RECONCILED, "settleSeconds": 75})
        .state("Choice", "Started from a lifecycle event?", 0)
        .state("Wait", "Wait for a late event", 0)
    )
    tries = [
        (at, "ClientError", _lambda_error("ClientError", unavailable)) for at in (75, 80, 90, 110)
    ]
    history.task("Read lifecycle hook of a lost event", 110, None, fails=tries)
    history.caught("Read lifecycle hook of a lost event", 110, "ClientError")
    history.failed("Action not confirmed", 110, "ActionNotConfirmed", cause)

    story = timeline(history.events)
    assert [e.what for e in story] == [
        "workflow started (from the reconcile run): launch EC2->AutoScalingGroup",
        "waiting 75 s in case the event is late (its workflow goes first)",
        "Read lifecycle hook of a lost event failed 4 times in 35s: ClientError",
        "Read lifecycle hook of a lost event: no try left -> Action not confirmed",
        "workflow failed: ActionNotConfirmed",
    ]
    assert story[-1].details == [cause]


def test_an_action_auto_scaling_does_not_hold_ends_at_the_hook_read() -> None:
    """The new ending: not-waiting, with nothing checked or sent."""
    why = "instance i-0123456789abcdef0 is in no Auto Scaling group"
    ended = {
        "action": ACTION,
        "outcome": Outcome(Status.NOT_WAITING, why, at=_at(1)).to_json(),
        "decision": Decision(Next.END, why).to_json(),
    }
    history = History({"action": ACTION}).task("Read lifecycle hook", 1, ended)
    history.state("Choice", "Is the action waiting?", 1).succeeded(1)
    assert [e.what for e in timeline(history.events)] == [
        "workflow started (from the event): launch EC2->AutoScalingGroup",
        f"hook read: not-waiting - {why}",
        f"workflow ended: not-waiting - {why}",
    ]
    view = view_of({**RUNNING, "status": "SUCCEEDED"}, ended)
    assert view.phase(_at(1)) == "succeeded"
    assert view.to_json(_at(1))["outcome"]["status"] == "not-waiting"
    assert view.hook_expires_at is None  # the hook was never read: no deadline to show


def test_a_reconciled_start_and_an_operators_stop_are_told_as_such() -> None:
    events = [
        _event(
            "ExecutionStarted",
            0,
            executionStartedEventDetails={"input": json.dumps({"action": RECONCILED})},
        ),
        _event(
            "ExecutionAborted",
            50,
            executionAbortedEventDetails={
                "error": "CompletedByOperator",
                "cause": "ABANDON by x: y",
            },
        ),
    ]
    entries = timeline(events)
    assert (
        entries[0].what == "workflow started (from the reconcile run): launch EC2->AutoScalingGroup"
    )
    assert entries[1].what == "workflow aborted: CompletedByOperator"
    assert entries[1].details == ["ABANDON by x: y"]


class _PagedHistory:
    """GetExecutionHistory as AWS pages it in reverse, for :func:`executions.view`."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.newest_first = list(reversed(events))
        self.calls: list[dict[str, Any]] = []

    def get_execution_history(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        assert kwargs["reverseOrder"] is True
        start = int(kwargs.get("nextToken", 0))
        end = start + int(kwargs["maxResults"])
        page: dict[str, Any] = {"events": self.newest_first[start:end]}
        if end < len(self.newest_first):
            page["nextToken"] = str(end)
        return page


def test_list_reads_past_a_long_run_of_tries_to_the_latest_document() -> None:
    """A task tried again 20 times (60 events) since its document: the view still has the
    plan and the hook's expiry, and says the task is being tried again."""
    history = _read_and_round_one().task(
        "Run checks", 33, _doc(rounds=2, checks=[WAITING], decision=_wait(30, 33, Next.HEARTBEAT))
    )
    tries = [(33 + 5 * n, "ClientError", "Rate exceeded") for n in range(20)]
    history.task("Record lifecycle action heartbeat", 200, None, fails=tries)
    sfn = _PagedHistory(history.events)
    view = executions.view(sfn, RUNNING)
    assert view is not None
    assert len(sfn.calls) == 2  # the newest 25 events, then further back
    assert view.hook_expires_at == _at(300)
    assert view.phase(_at(200)) == "retrying after ClientError"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (-1, "expired"), (0, "0s"), (59, "59s"), (250, "4m10s"), (3720, "1h02m")],
)
def test_durations_read_at_a_glance(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_checks_summary_is_cut_to_its_width() -> None:
    checks = [{"name": "instance-status", "status": "wait", "reason": "x" * 100}]
    assert len(checks_summary(checks, width=40)) == 40
    assert checks_summary([]) == "-"


def test_the_stack_name_in_samconfig(tmp_path: Path) -> None:
    assert name_from_samconfig(ROOT / "samconfig.toml") == "asg-lifecycle-orchestrator"
    assert name_from_samconfig(tmp_path / "absent.toml") is None
    deploy = tmp_path / "deploy.toml"
    deploy.write_text('[default.deploy.parameters]\nstack_name = "fleet-hooks"\n')
    assert name_from_samconfig(deploy) == "fleet-hooks"
    broken = tmp_path / "broken.toml"
    broken.write_text("stack_name = ")
    with pytest.raises(OperatorError, match="not valid TOML"):
        name_from_samconfig(broken)


def test_a_stack_without_this_projects_outputs_is_refused() -> None:
    with pytest.raises(OperatorError, match="no output StateMachineArn, StartFunctionName"):
        from_outputs("other", {"BucketName": "b"})
    stack = from_outputs("s", {"StateMachineArn": "arn:sm", "StartFunctionName": "f"})
    assert stack.dead_letter_queue_url is None


def test_what_a_dead_letter_message_holds() -> None:
    launch = json.loads((ROOT / "events" / "launch.json").read_text())
    assert event_of(launch) == ("lifecycle", launch)
    record = {"requestContext": {"condition": "RetriesExhausted"}, "requestPayload": launch}
    assert event_of(record) == ("lifecycle", launch)
    scheduled = {"detail-type": "Scheduled Event", "time": "2026-01-01T00:05:00Z"}
    assert event_of(scheduled) == ("schedule", scheduled)
    assert event_of("not json")[0] == "unknown"
    assert event_of([1, 2])[0] == "unknown"
    assert event_of({"source": "aws.ec2"})[0] == "unknown"


def test_the_served_groups_output_gives_names_or_the_serving_tag() -> None:
    from asg_lifecycle.served import ServedGroups  # noqa: PLC0415
    from asg_lifecycle_cli.errors import OperatorError  # noqa: PLC0415
    from asg_lifecycle_cli.stack import from_outputs, served_groups  # noqa: PLC0415

    named = served_groups("web, api")
    assert (named.names, named.by_tag) == (frozenset({"web", "api"}), False)
    tagged = served_groups("tag:asg-lifecycle-orchestrator=prod")
    assert (tagged.by_tag, tagged.tag_value) == (True, "prod")
    with pytest.raises(OperatorError, match="names no group"):
        served_groups(" , ")
    outputs = {"StateMachineArn": "arn", "StartFunctionName": "fn"}
    assert from_outputs("old", outputs).served_groups_output is None  # deployed before it
    # read only by the commands that need it: a malformed one does not stop the others
    assert from_outputs("odd", {**outputs, "ServedGroups": ","}).served_groups_output == ","
    assert served_groups("web") == ServedGroups(frozenset({"web"}), "")


# --- what the action is: Origin -> Destination, the event's Action -------------------------------

REFRESH = {
    **ACTION,
    "LifecycleHookName": "web-terminate",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
    "Origin": "AutoScalingGroup",
    "Destination": "AutoScalingGroup",
    "Action": "ReplaceRootVolume",
}


def test_a_root_volume_replacement_is_told_as_such_from_start_to_hook_read() -> None:
    why = "instance i-0123456789abcdef0 is InService, not in a terminate wait state"
    ended = {
        "action": REFRESH,
        "outcome": Outcome(Status.NOT_WAITING, why, at=_at(1)).to_json(),
        "decision": Decision(Next.END, why).to_json(),
    }
    history = History({"action": REFRESH}).task("Read lifecycle hook", 1, ended)
    history.state("Choice", "Is the action waiting?", 1).succeeded(1)
    assert [e.what for e in timeline(history.events)][:2] == [
        "workflow started (from the event): terminate (root-volume replacement) "
        "AutoScalingGroup->AutoScalingGroup",
        f"hook read (root-volume replacement): not-waiting - {why}",
    ]
    view = view_of(RUNNING, ended)
    assert transition_words(view.action) == "terminate (root-volume replacement)"
    document = view.to_json(_at(1))
    assert (document["path"], document["action"]) == (
        "AutoScalingGroup->AutoScalingGroup",
        "ReplaceRootVolume",
    )


def test_what_the_event_left_out_is_told_unknown() -> None:
    lost = {k: v for k, v in RECONCILED.items() if k not in ("Origin", "Destination")}
    history = History({"action": lost}).state("Wait", "Wait for a late event", 0)
    assert timeline(history.events)[0].what == (
        "workflow started (from the reconcile run): launch unknown->unknown"
    )
    view = view_of(RUNNING, {"action": lost})
    assert view.action.path == "unknown->unknown"
    assert transition_words(view.action) == "launch"
    assert narrative.action_kind({"Action": "SomethingNew"}) == "action SomethingNew"
    assert narrative.action_words({}) == "? unknown->unknown", "a history read tolerantly"


def test_show_heads_with_what_the_action_is() -> None:
    from asg_lifecycle_cli.main import _header  # noqa: PLC0415

    view = view_of(RUNNING, {"action": REFRESH})
    first = _header(view, _at(1)).splitlines()[0]
    assert first == (
        "i-0123456789abcdef0  terminate (root-volume replacement)  "
        "AutoScalingGroup->AutoScalingGroup  group web  hook web-terminate"
    )


@pytest.mark.parametrize(
    "name", ["Wait for the next round or a signal", "Wait for the heartbeat or a signal"]
)
@pytest.mark.parametrize(
    ("how", "told"),
    [
        ("timeout", None),
        ("signal", "signal: the round runs now, 21s before its time"),
        ("failed", "signal table not written (DynamoDB.ResourceNotFoundException): "
                   "the round waits without signals"),
    ],
)  # fmt: skip
def test_a_rounds_wait_is_told_by_how_it_ended_never_as_a_failed_task(
    how: str, told: str | None, name: str
) -> None:
    """The wait's timeout is its poll (not an error, nothing to tell: the next round says when
    it ran); a signal ends it early; a table that cannot be written leaves a plain wait. None is
    a task Step Functions tries again."""
    history = _read_and_round_one()
    history.events = history.events[:-2]  # round 1's wait is a signal wait here
    history.signal_wait(2, 12 if how != "timeout" else 33, how, name)
    if how == "failed":
        history.state("Wait", "Wait for the next round", 12)
    story = [e.what for e in timeline(history.events)]
    assert story[-1] == (told or ROUND_ONE)
    assert not [line for line in story if "failed" in line and "not written" not in line]
    assert pending_retry(history.newest_first()) is None
