"""The state document: what one lifecycle action's workflow carries from state to state.

Every task of ``src/orchestrator/lifecycle.asl.json`` gets the whole document and returns the
next one. It is decoded once, at each handler's edge (:meth:`StateDocument.from_json`), into the
frozen dataclasses below, and encoded once on the way out; in between, code works with types,
not dictionaries. The JSON keys are the ones an operator reads in the execution's history.

The execution's input is untrusted (anyone allowed to start an execution writes it): decoding
validates every field, and the first task of a workflow acts on nothing of the input but the
action, which it checks against Auto Scaling's own view before any check or call is made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from asg_lifecycle.checks.base import CheckResult
from asg_lifecycle.decision import Decision, Next
from asg_lifecycle.model import (
    InvalidAction,
    LifecycleAction,
    LifecycleResult,
    format_time,
    parse_time,
)
from asg_lifecycle.policy import Plan, Progress, Verdict

_T = TypeVar("_T")


class InvalidDocument(ValueError):
    """A document no task can act on: the message says which field and why.

    A task raises it as is (its ``errorType`` is this class's name): the definition does not
    retry it, and the execution fails with the reason, touching nothing.
    """


class Status(StrEnum):
    """How an action ended, for the workflow (``outcome.status``)."""

    COMPLETED = "completed"
    """This workflow sent CompleteLifecycleAction with ``result``, and Auto Scaling took it (or,
    when the answer to an earlier try was lost, no longer holds the action and shows the instance
    where ``result`` takes it: the reason then says so)."""
    ALREADY_FINISHED = "already-finished"
    """Auto Scaling had no active action any more: completed elsewhere, or the instance left."""
    TIMED_OUT = "timed-out"
    """The hook expired before the workflow could act: Auto Scaling applied its DefaultResult."""
    HOOK_DELETED = "hook-deleted"
    """The lifecycle hook no longer exists: Auto Scaling ended its actions."""
    DUPLICATE = "duplicate"
    """A reconciled workflow found another workflow handling the action and stepped aside."""
    NOT_WAITING = "not-waiting"
    """The action named is not one this stack serves and Auto Scaling holds: the instance is in
    no group, another group, a state that is not this transition's wait, or the group is not
    served. Nothing was checked or sent."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The one ending of an action."""

    status: Status
    reason: str
    result: LifecycleResult | None = None
    at: datetime | None = None
    heartbeats: int = 0
    rounds: int = 0
    config_error: str | None = None
    # Which action (instance, group, hook, transition: never the token), so that the outcome
    # alone is the "Lifecycle Action Ended" notification's detail.
    who: Mapping[str, str] | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status.value,
            "result": self.result.value if self.result else None,
            "reason": self.reason,
            "heartbeats": self.heartbeats,
            "rounds": self.rounds,
        }
        if self.at is not None:
            data["at"] = format_time(self.at)
        if self.config_error is not None:
            data["configError"] = self.config_error
        if self.who:  # an action's real ending: what its notification says, in a line too
            data.update(self.who)
            result = f" {self.result.value}" if self.result else ""
            data["summary"] = f"{self.status.value}{result}: {self.reason}"[:1000]
        return data

    @classmethod
    def from_json(cls, data: Any) -> Outcome:
        _require_object(data, "outcome")
        try:
            status = Status(data.get("status"))
            result = None if data.get("result") is None else LifecycleResult(data["result"])
        except ValueError as exc:
            raise InvalidDocument(f"outcome: {exc}") from exc
        return cls(
            status=status,
            reason=str(data.get("reason", "")),
            result=result,
            at=None if data.get("at") is None else parse_time(data["at"], "outcome.at"),
            heartbeats=_count(data.get("heartbeats", 0), "outcome.heartbeats"),
            rounds=_count(data.get("rounds", 0), "outcome.rounds"),
            config_error=None if data.get("configError") is None else str(data["configError"]),
            who={k: str(data[k]) for k in WHO_KEYS if isinstance(data.get(k), str)} or None,
        )


WHO_KEYS = ("instanceId", "group", "hook", "transition")
"""How the notifications name an action (never by its token)."""


def who_of(action: LifecycleAction) -> dict[str, str]:
    return {
        "instanceId": action.instance_id,
        "group": action.group_name,
        "hook": action.hook_name,
        "transition": action.transition.value,
    }


STARTED = "started"
WAITING_LONG = "waiting-long"


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification the next state sends, whole (its detail, as ``States.JsonToString`` of
    it): what happened (``kind``: started, waiting-long), which action (:func:`who_of`), and
    ``facts`` (when it began and gives up; for waiting-long the last round's checks in words:
    names, statuses, reasons, never a check's details, where command output may be)."""

    kind: str
    who: Mapping[str, str]
    facts: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.who, **self.facts}


@dataclass(frozen=True, slots=True)
class StateDocument:
    """One action's workflow state.

    ``action``: what Auto Scaling holds (from the event, or the reconciler). ``plan``: fixed once
    the hook was read. ``progress``: when the hook expires, counts. ``checks``: the last round's
    results, ``memos`` what each check asked to get back next round. ``decision``: what comes
    next. ``outcome``: set once, when the action ends. ``config_error``: the hook's configuration
    could not be used (the safe result is held for the hook's timeout). ``settle_seconds``: how
    long a reconciled workflow waits for a late event's workflow first. ``received_at``: when the
    start function started the workflow for the event (a replayed event is older than that).
    ``error``: the last error a Catch recorded (the definition writes it; no task reads it).
    ``notice``: a notification the next state sends (``waiting-long``, with the last round's
    checks in words); one-shot: the definition's notification state overwrites it, and no task
    reads it back.
    """

    action: LifecycleAction
    plan: Plan | None = None
    progress: Progress | None = None
    checks: tuple[CheckResult, ...] = ()
    memos: tuple[Any, ...] = ()
    decision: Decision | None = None
    outcome: Outcome | None = None
    config_error: str | None = None
    settle_seconds: int | None = None
    received_at: datetime | None = None
    error: dict[str, Any] | None = field(default=None, compare=False)
    notice: Notice | None = None

    @property
    def next(self) -> Next | None:
        return None if self.decision is None else self.decision.next

    def planned(self) -> tuple[Plan, Progress]:
        """The plan and progress, which every step after the hook read needs."""
        if self.plan is None or self.progress is None:
            raise InvalidDocument("the hook has not been read: no plan or progress")
        return self.plan, self.progress

    def deciding(self, decision: Decision) -> StateDocument:
        return replace(self, decision=decision)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.action.to_json()}
        if self.settle_seconds is not None:
            data["settleSeconds"] = self.settle_seconds
        if self.received_at is not None:
            data["receivedAt"] = format_time(self.received_at)
        if self.plan is not None:
            data["plan"] = self.plan.to_json()
        if self.progress is not None:
            data["progress"] = self.progress.to_json()
        if self.checks:
            data["checks"] = [c.to_json() for c in self.checks]
        if any(memo is not None for memo in self.memos):
            data["checkMemos"] = list(self.memos)
        if self.decision is not None:
            data["decision"] = self.decision.to_json()
        if self.config_error is not None:
            data["configError"] = self.config_error
        if self.outcome is not None:
            data["outcome"] = self.outcome.to_json()
        if self.error is not None:
            data["error"] = self.error
        if self.notice is not None:
            data["notice"] = self.notice.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any) -> StateDocument:
        """Decode and validate a document (a task's input); :class:`InvalidDocument` says why
        one cannot be used."""
        _require_object(data, "the state document")
        try:
            action = LifecycleAction.from_json(data.get("action"))
            plan = None if data.get("plan") is None else _plan(data["plan"])
            progress = None if data.get("progress") is None else _progress(data["progress"])
            decision = (
                None if data.get("decision") is None else Decision.from_json(data["decision"])
            )
        except InvalidAction as exc:
            raise InvalidDocument(str(exc)) from exc
        checks = data.get("checks") or []
        memos = data.get("checkMemos") or []
        if not isinstance(checks, list) or not isinstance(memos, list):
            raise InvalidDocument("checks and checkMemos must be lists")
        settle = data.get("settleSeconds")
        if settle is not None and (not isinstance(settle, int) or not 0 <= settle <= 3600):
            raise InvalidDocument("settleSeconds must be a whole number of seconds (0-3600)")
        received = data.get("receivedAt")
        try:
            received_at = None if received is None else parse_time(received, "receivedAt")
        except InvalidAction as exc:
            raise InvalidDocument(str(exc)) from exc
        error = data.get("error")
        return cls(
            action=action,
            plan=plan,
            progress=progress,
            checks=tuple(_check_result(c) for c in checks),
            memos=tuple(memos),
            decision=decision,
            outcome=None if data.get("outcome") is None else Outcome.from_json(data["outcome"]),
            config_error=None if data.get("configError") is None else str(data["configError"]),
            settle_seconds=settle,
            received_at=received_at,
            error=error if isinstance(error, dict) else None,
        )


def _require_object(data: Any, what: str) -> None:
    if not isinstance(data, dict):
        raise InvalidDocument(f"{what} must be a JSON object")


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidDocument(f"{what} must be a whole number")
    return value


def _plan(data: Any) -> Plan:
    return _decoded(Plan.from_json, data, "plan")


def _progress(data: Any) -> Progress:
    return _decoded(Progress.from_json, data, "progress")


def _decoded(decode: Callable[[dict[str, Any]], _T], data: Any, what: str) -> _T:
    """``decode(data)``, its missing or malformed fields told as :class:`InvalidDocument`."""
    _require_object(data, what)
    try:
        return decode(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidDocument(f"{what}: {exc!r}") from exc


def _check_result(data: Any) -> CheckResult:
    _require_object(data, "a check result")
    try:
        return CheckResult(
            name=str(data["name"]),
            status=Verdict(data["status"]),
            reason=str(data.get("reason", "")),
            duration_ms=int(data.get("durationMs", 0)),
            details=dict(data.get("details") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidDocument(f"a check result: {exc!r}") from exc
