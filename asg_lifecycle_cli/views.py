"""What an execution says about its lifecycle action: pure functions over Step Functions' answers.

Every task of the workflow returns the whole state document (``asg_lifecycle.document``), so the
latest state an execution entered or left holds everything an operator asks: the action, the
plan (deadlines), the progress (when the hook expires), the last round's checks, the decision
and, at the end, the outcome. The history's events, in order, are the action's timeline: each
task state is one AWS call or round of checks (``asg_lifecycle.narrative`` says what it did).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asg_lifecycle import narrative
from asg_lifecycle.decision import Next
from asg_lifecycle.model import (
    INSTANCE_ID,
    InvalidAction,
    LifecycleAction,
    hook_digest,
    parse_time,
)
from asg_lifecycle.reconcile import WaitingInstance

# <launch|terminate>-<instance>-<hook digest>-<token, or r<YYYYmmddHHMM> when reconciled>
_NAME = re.compile(r"^(launch|terminate)-(i-[0-9a-f]{8,17})-([0-9a-f]{8})-(.+)$")


@dataclass(frozen=True, slots=True)
class ExecutionName:
    transition: str
    instance_id: str
    hook_digest: str

    @classmethod
    def parse(cls, name: str) -> ExecutionName | None:
        """None for an execution this project did not name (started by hand, another tool)."""
        match = _NAME.match(name)
        return cls(match[1], match[2], match[3]) if match else None

    def is_for(self, instance_id: str, hook: str | None) -> bool:
        return self.instance_id == instance_id and (
            hook is None or hook_digest(hook) == self.hook_digest
        )


NO_WORKFLOW = "NO_WORKFLOW"
"""The status of an action Auto Scaling holds with no workflow running for it
(:mod:`asg_lifecycle_cli.waiting`): no execution, so no plan, checks or start time."""


@dataclass(frozen=True, slots=True)
class ActionView:
    """One execution as an operator sees it (or, with status :data:`NO_WORKFLOW`, an action
    waiting without one)."""

    execution_name: str
    execution_arn: str
    status: str
    action: LifecycleAction
    state: Mapping[str, Any]
    retrying: str | None = None  # the error a task failed with, while Step Functions retries it

    @property
    def plan(self) -> Mapping[str, Any]:
        plan = self.state.get("plan")
        return plan if isinstance(plan, dict) else {}

    @property
    def hook_expires_at(self) -> datetime | None:
        progress = self.state.get("progress")
        return _moment(progress.get("hookExpiresAt")) if isinstance(progress, dict) else None

    @property
    def gives_up_at(self) -> datetime | None:
        """When the checks' time (maxWaitSeconds, bounded by the hook's global timeout) is up."""
        return _moment(self.plan.get("giveUpAt"))

    @property
    def checks(self) -> list[Mapping[str, Any]]:
        checks = self.state.get("checks")
        return [c for c in checks if isinstance(c, dict)] if isinstance(checks, list) else []

    @property
    def decision(self) -> Mapping[str, Any]:
        decision = self.state.get("decision")
        return decision if isinstance(decision, dict) else {}

    @property
    def outcome(self) -> Mapping[str, Any] | None:
        outcome = self.state.get("outcome")
        return outcome if isinstance(outcome, dict) else None

    def phase(self, now: datetime | None = None) -> str:
        """What the workflow is doing: the task Step Functions is trying again, else what its
        last decision asked for (with ``now``: when the next round is due)."""
        if self.status == NO_WORKFLOW:
            return "no workflow running"
        if self.status != "RUNNING":
            return self.status.lower()
        if self.retrying:
            return f"retrying after {self.retrying}"
        if self.outcome is not None:
            return "ending"
        decision = self.decision
        step = str(decision.get("next", ""))
        if not step:
            return "waiting for a late event" if "settleSeconds" in self.state else "reading hook"
        due = _moment(decision.get("dueAt"))
        if step in (Next.WAIT, Next.HEARTBEAT) and now is not None and due is not None:
            left = int((due - now).total_seconds())
            if step == Next.HEARTBEAT:
                return f"heartbeat in {duration(left)}" if left > 0 else "recording a heartbeat"
            return f"next round in {duration(left)}" if left > 0 else "running checks"
        if step in (Next.COMPLETE, Next.HOLD):
            return _PHASES[step].format(result=decision.get("result") or "?")
        return _PHASES.get(step, step)

    def age_seconds(self, now: datetime) -> int | None:
        """Since the wait began; None without a workflow (Auto Scaling does not say)."""
        if self.status == NO_WORKFLOW:
            return None
        return int((now - self.action.started_at).total_seconds())

    def to_json(self, now: datetime) -> dict[str, Any]:
        known = self.status != NO_WORKFLOW
        return {
            "execution": self.execution_name if known else None,
            "executionArn": self.execution_arn if known else None,
            "status": self.status,
            "group": self.action.group_name,
            "hook": self.action.hook_name,
            "instanceId": self.action.instance_id,
            "transition": self.action.transition.short,
            "path": self.action.path,
            "action": self.action.action_name,
            "startedAt": self.action.started_at.isoformat() if known else None,
            "ageSeconds": self.age_seconds(now),
            "hookExpiresInSeconds": seconds_until(self.hook_expires_at, now),
            "givesUpInSeconds": seconds_until(self.gives_up_at, now),
            "phase": self.phase(now),
            "checks": list(self.checks),
            "decision": dict(self.decision),
            "outcome": dict(self.outcome) if self.outcome else None,
        }


RETAINED = "RETAINED"
"""The status of an instance retained after an abandoned termination: no hook holds it, no
workflow runs for it; it stays until an operator terminates it (:data:`RELEASE_COMMAND`)."""

RELEASE_COMMAND = (
    "aws autoscaling terminate-instance-in-auto-scaling-group --instance-id INSTANCE "
    "--no-should-decrement-desired-capacity"
)
"""How an operator releases a retained instance: it does not count toward desired capacity (a
replacement already runs), so the capacity is not decremented."""


def transition_words(action: LifecycleAction) -> str:
    """``launch``, ``terminate``; ``terminate (root-volume replacement)`` for an instance refresh
    that replaces the root volume (the instance stays)."""
    kind = narrative.action_kind({"Action": action.action_name})
    return f"{action.transition.short} ({kind})" if kind else action.transition.short


def retained_json(instance: WaitingInstance) -> dict[str, Any]:
    """A retained instance in ``list --json``: the keys of :meth:`ActionView.to_json` that apply,
    its state and the command that releases it."""
    return {
        "execution": None,
        "executionArn": None,
        "status": RETAINED,
        "group": instance.group_name,
        "hook": None,
        "instanceId": instance.instance_id,
        "transition": "terminate",
        "lifecycleState": instance.lifecycle_state,
        "phase": "retained: waiting for an operator to terminate it",
        "release": RELEASE_COMMAND.replace("INSTANCE", instance.instance_id, 1),
    }


_PHASES: dict[str, str] = {
    Next.CHECK: "running checks",
    Next.WAIT: "waiting for the next round",
    Next.HEARTBEAT: "recording a heartbeat",
    Next.COMPLETE: "completing with {result}",
    Next.HOLD: "holding {result} (invalid configuration)",
    Next.CONFIRM: "confirming (lost event)",
    Next.END: "ending",
}


def _moment(value: Any) -> datetime | None:
    """A document's timestamp; None when absent or unreadable (a history is read tolerantly)."""
    try:
        return None if value is None else parse_time(value)
    except InvalidAction:
        return None


def seconds_until(moment: datetime | None, now: datetime) -> int | None:
    """Whole seconds from ``now`` to ``moment`` (negative once past); None for no moment."""
    return None if moment is None else int((moment - now).total_seconds())


def state_document(text: str | None) -> dict[str, Any] | None:
    """A state's input or output, if it is one of this workflow's documents (has an action)."""
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("action"), dict) else None


def latest_state(events_newest_first: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The newest state document in a history read newest first (``reverseOrder``)."""
    for event in events_newest_first:
        for key, field_name in _DOCUMENT_FIELDS:
            details = event.get(key)
            if isinstance(details, dict):
                doc = state_document(details.get(field_name))
                if doc is not None:
                    return doc
    return None


def pending_retry(events_newest_first: Iterable[Mapping[str, Any]]) -> str | None:
    """The error of a task Step Functions is about to try again: its newest task event is a
    failure (the state has not been left)."""
    for event in events_newest_first:
        kind = str(event.get("type", ""))
        if kind == "TaskTimedOut" or _details(event).get("resourceType") == "aws-sdk:dynamodb":
            return None  # a round's wait ran its course (or its table write failed): no retry
        if kind in ("TaskFailed", "LambdaFunctionFailed"):
            details = _details(event)
            return str(details.get("error", kind))
        if kind.endswith(("Succeeded", "Exited", "Entered", "Started", "Scheduled")):
            return None
    return None


_DOCUMENT_FIELDS = (
    ("executionSucceededEventDetails", "output"),
    ("stateExitedEventDetails", "output"),
    ("stateEnteredEventDetails", "input"),
    ("executionStartedEventDetails", "input"),
)


def view_of(
    summary: Mapping[str, Any], state: Mapping[str, Any], retrying: str | None = None
) -> ActionView:
    """``summary``: a ListExecutions/DescribeExecution entry; ``state``: its latest document;
    ``retrying``: :func:`pending_retry`."""
    return ActionView(
        execution_name=str(summary["name"]),
        execution_arn=str(summary["executionArn"]),
        status=str(summary["status"]),
        action=LifecycleAction.from_json(state["action"]),
        state=state,
        retrying=retrying,
    )


def duration(seconds: float | None) -> str:
    """``1h02m``, ``4m10s``, ``35s``; ``expired`` for a moment already past; ``-`` for none."""
    if seconds is None:
        return "-"
    if seconds < 0:
        return "expired"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def checks_summary(checks: Sequence[Mapping[str, Any]], width: int = 60) -> str:
    """``instance-status: wait (initializing)``, one per check, cut to ``width``."""
    if not checks:
        return "-"
    text = "; ".join(f"{c.get('name')}: {c.get('status')} ({c.get('reason', '')})" for c in checks)
    return text if len(text) <= width else text[: width - 1] + "…"


# --- the timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    what: str
    details: list[str] = field(default_factory=list)


def _details(event: Mapping[str, Any]) -> dict[str, Any]:
    """The ``...EventDetails`` of a history event (each type names its own)."""
    found = next((v for k, v in event.items() if k.endswith("EventDetails")), None)
    return found if isinstance(found, dict) else {}


_TASK_FAILED = ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut")
_LATE_EVENT_WAIT = "Wait for a late event"
# The waits a signal may end (callback tasks); their timeout is their own end, not an error.
_SIGNAL_WAITS = frozenset(
    {"Wait for the next round or a signal", "Wait for the heartbeat or a signal"}
)


@dataclass(slots=True)
class _Failures:
    """A task's failed tries in a row with one error: one entry however many (a task is tried
    again up to 300 times through an outage)."""

    task: str
    error: str
    first: datetime
    last: datetime
    cause: str
    tries: int = 1

    def entry(self) -> Entry:
        if self.tries == 1:
            return Entry(self.first, f"{self.task} failed: {self.error}", [self.cause])
        span = duration((self.last - self.first).total_seconds())
        what = f"{self.task} failed {self.tries} times in {span}: {self.error}"
        return Entry(self.first, what, [self.cause])


def timeline(events: Sequence[Mapping[str, Any]]) -> list[Entry]:
    """The action's story from its execution history (oldest first): how the hook was read, every
    round of checks with its results and decision, each heartbeat and the completion with what
    Auto Scaling answered, the tries that failed (with their error) and where the workflow went
    when a task had no try left, the ending."""
    entries: list[Entry] = []
    entered: dict[str, Any] | None = None
    task = ""
    failures: _Failures | None = None  # the current task's latest failed tries
    for event in events:
        at = event["timestamp"]
        kind = str(event["type"])
        details = _details(event)
        if task in _SIGNAL_WAITS and kind in ("TaskTimedOut", "TaskSucceeded", "TaskFailed"):
            signal = _signal_wait(kind, entered, at, details)
            if signal is not None:
                entries.append(signal)
            task = ""
            continue
        if kind.endswith("StateEntered"):
            name = str(details.get("name", ""))
            if failures is not None:  # the task failed and was not tried again: caught
                entries.append(Entry(at, f"{failures.task}: no try left -> {name}"))
                failures = None
            if kind == "TaskStateEntered":
                task, entered = name, state_document(details.get("input"))
            elif name == _LATE_EVENT_WAIT:
                seconds = _dict(state_document(details.get("input"))).get("settleSeconds")
                late = f"waiting {seconds} s in case the event is late (its workflow goes first)"
                entries.append(Entry(at, late))
        elif kind.startswith("Execution"):
            entries += _execution_entry(kind, at, details)
        elif kind in _TASK_FAILED:
            error, cause = str(details.get("error", kind)), _cause_text(details.get("cause"))
            if failures is not None and failures.error == error:
                failures.tries, failures.last, failures.cause = failures.tries + 1, at, cause
                entries[-1] = failures.entry()
            else:
                failures = _Failures(task, error, at, at, cause)
                entries.append(failures.entry())
        elif kind == "TaskSucceeded":
            failures = None
        elif kind == "TaskStateExited" and failures is None:
            exited = state_document(details.get("output"))
            known = narrative.STATES.get(str(details.get("name")))
            if exited is not None and known is not None:
                entries.append(Entry(at, narrative.describe(known, entered, exited)))
    return entries


def _execution_entry(kind: str, at: datetime, details: Mapping[str, Any]) -> list[Entry]:
    """How the workflow started, or how it ended."""
    if kind == "ExecutionStarted":
        doc = state_document(details.get("input")) or {}
        action = _dict(doc.get("action"))
        how = "event" if "LifecycleActionToken" in action else "reconcile run"
        what = narrative.action_words(action)
        return [Entry(at, f"workflow started (from the {how}): {what}")]
    if kind == "ExecutionSucceeded":
        doc = state_document(details.get("output")) or {}
        return [Entry(at, "workflow ended: " + narrative.outcome_text(doc.get("outcome")))]
    if kind in ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
        word = kind.removeprefix("Execution").lower()
        cause = str(details.get("cause", ""))
        return [Entry(at, f"workflow {word}: {details.get('error', '')}", [cause] if cause else [])]
    return []


_CAUSE_LIMIT = 500


def _signal_wait(
    kind: str, entered: Mapping[str, Any] | None, at: datetime, details: Mapping[str, Any]
) -> Entry | None:
    """How a round's wait ended: at its time (no entry: the round's own says when it ran), on a
    signal (how much earlier), or without its signal table (a plain wait instead)."""
    if kind == "TaskTimedOut":
        return None
    if kind == "TaskFailed":
        error = str(details.get("error", ""))
        return Entry(at, f"signal table not written ({error}): the round waits without signals")
    due = _dict(_dict(entered).get("decision")).get("dueAt")
    early = ""
    if isinstance(due, str):
        try:
            seconds = (datetime.fromisoformat(due.replace("Z", "+00:00")) - at).total_seconds()
        except ValueError:
            seconds = -1
        if seconds >= 1:
            early = f", {duration(seconds)} before its time"
    return Entry(at, f"signal: the round runs now{early}")


def _cause_text(cause: Any) -> str:
    """A failed try's cause, short: a Lambda error's ``errorMessage`` (not its stack trace)."""
    text = str(cause or "")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and "errorMessage" in data:
        text = str(data["errorMessage"])
    return text if len(text) <= _CAUSE_LIMIT else text[: _CAUSE_LIMIT - 1] + "…"


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def is_instance_id(text: str) -> bool:
    return bool(INSTANCE_ID.match(text))
