"""What an execution says about its lifecycle action: pure functions over Step Functions' answers.

Every task of the workflow returns the whole state document (``asg_lifecycle.workflow``), so the
latest state an execution entered or left holds everything an operator asks: the action, the
plan (deadlines), the progress (when the hook expires), the last round's checks, the decision
and, at the end, the outcome. The history's events, in order, are the action's timeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asg_lifecycle import workflow
from asg_lifecycle.model import INSTANCE_ID, LifecycleAction, hook_digest, parse_time

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

    @property
    def plan(self) -> Mapping[str, Any]:
        plan = self.state.get("plan")
        return plan if isinstance(plan, dict) else {}

    @property
    def hook_expires_at(self) -> datetime | None:
        progress = self.state.get("progress")
        if isinstance(progress, dict) and "hookExpiresAt" in progress:
            return parse_time(progress["hookExpiresAt"])
        return None

    @property
    def gives_up_at(self) -> datetime | None:
        """When the checks' time (maxWaitSeconds, bounded by the hook's global timeout) is up."""
        return parse_time(self.plan["giveUpAt"]) if "giveUpAt" in self.plan else None

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

    def phase(self) -> str:
        """What the workflow is doing: what its last decision asked for."""
        if self.status == NO_WORKFLOW:
            return "no workflow running"
        if self.status != "RUNNING":
            return self.status.lower()
        if "recovery" in self.state:
            return f"recovering ({self.state['recovery'].get('rounds', '?')}/4)"
        step = str(self.decision.get("next", ""))
        if step in workflow.CALLS:  # a call left to the next task
            left = workflow.left_over(self.decision)
            if left is not None and left[0] == "deferred":
                return f"{workflow.CALLS[step]} deferred to the next task"
            return f"{workflow.CALLS[step]} failed, trying again"
        return {
            "": "reading hook",
            "wait": "waiting",
            "hold": "holding (invalid configuration)",
            "settle": "settling (reconciled)",
            "end": "ending",
        }.get(step, step)

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
            "startedAt": self.action.started_at.isoformat() if known else None,
            "ageSeconds": self.age_seconds(now),
            "hookExpiresInSeconds": seconds_until(self.hook_expires_at, now),
            "givesUpInSeconds": seconds_until(self.gives_up_at, now),
            "phase": self.phase(),
            "checks": list(self.checks),
            "decision": dict(self.decision),
            "outcome": dict(self.outcome) if self.outcome else None,
        }


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


_DOCUMENT_FIELDS = (
    ("executionSucceededEventDetails", "output"),
    ("stateExitedEventDetails", "output"),
    ("stateEnteredEventDetails", "input"),
    ("executionStartedEventDetails", "input"),
)


def view_of(summary: Mapping[str, Any], state: Mapping[str, Any]) -> ActionView:
    """``summary``: a ListExecutions/DescribeExecution entry; ``state``: its latest document."""
    return ActionView(
        execution_name=str(summary["name"]),
        execution_arn=str(summary["executionArn"]),
        status=str(summary["status"]),
        action=LifecycleAction.from_json(state["action"]),
        state=state,
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


def timeline(events: Sequence[Mapping[str, Any]]) -> list[Entry]:
    """The action's story from its execution history (oldest first): how the hook was read, every
    round of checks with its results and decision, heartbeats, errors and retries, the ending."""
    entries: list[Entry] = []
    task = ""
    for event in events:
        at = event["timestamp"]
        kind = event["type"]
        if kind == "ExecutionStarted":
            doc = state_document(event["executionStartedEventDetails"].get("input")) or {}
            how = (
                "reconcile run" if "LifecycleActionToken" not in doc.get("action", {}) else "event"
            )
            entries.append(Entry(at, f"workflow started (from the {how})"))
        elif kind == "TaskStateEntered":
            task = event["stateEnteredEventDetails"]["name"]
        elif kind in ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut"):
            details = _details(event)
            cause = str(details.get("cause", ""))[:200]
            entries.append(Entry(at, f"{task} failed: {details.get('error', kind)}", [cause]))
        elif kind == "TaskStateExited":
            exited = state_document(event["stateExitedEventDetails"].get("output"))
            if exited is not None:
                entries.extend(_after_task(at, exited))
        elif kind == "PassStateExited" and event["stateExitedEventDetails"]["name"].endswith(
            "ErrorRound"
        ):
            doc = state_document(event["stateExitedEventDetails"].get("output")) or {}
            recovery = doc.get("recovery", {})
            entries.append(
                Entry(
                    at,
                    f"error recovery {recovery.get('rounds')}/4: trying again in "
                    f"{recovery.get('waitSeconds')} s",
                )
            )
        elif kind == "ExecutionSucceeded":
            doc = state_document(event["executionSucceededEventDetails"].get("output")) or {}
            entries.append(Entry(at, "workflow ended: " + _outcome_text(doc.get("outcome"))))
        elif kind in ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
            details = _details(event)
            word = kind.removeprefix("Execution").lower()
            entries.append(
                Entry(
                    at, f"workflow {word}: {details.get('error', '')}", [details.get("cause", "")]
                )
            )
    return entries


def _after_task(at: datetime, doc: Mapping[str, Any]) -> list[Entry]:
    """What a task did (its document's ``ran``, in order), an entry each."""
    decision = doc.get("decision", {})
    following = _decision_text(decision)
    entries: list[Entry] = []
    for work in doc.get("ran", []):
        if work == "read-hook":
            entries.append(_hook_read(at, doc, following))
        elif work == "checks":
            rounds = doc.get("progress", {}).get("rounds", "?")
            results = [
                f"{c.get('name')}: {c.get('status')} - {c.get('reason', '')} "
                f"({c.get('durationMs', 0)} ms)"
                for c in doc.get("checks", [])
            ]
            then = following
            if decision.get("next") == "wait":  # the checks below say why
                then = f"not ready, next round in {decision.get('waitSeconds')} s"
            elif "complete" in doc.get("ran", []):
                then = "complete"
            entries.append(Entry(at, f"round {rounds}: {then}", results))
            left_over = workflow.left_over_text(decision)
            if left_over:  # the call the round decided on: the next task makes it
                entries.append(Entry(at, left_over))
        elif work == "heartbeat":
            if "outcome" in doc:
                entries.append(Entry(at, "heartbeat not sent: " + _outcome_text(doc["outcome"])))
            else:
                expires = doc.get("progress", {}).get("hookExpiresAt")
                entries.append(Entry(at, f"heartbeat recorded: hook now expires at {expires}"))
        elif work == "complete":
            entries.append(Entry(at, "completion: " + _outcome_text(doc.get("outcome"))))
    return entries


def _hook_read(at: datetime, doc: Mapping[str, Any], following: str) -> Entry:
    plan = doc.get("plan")
    if not isinstance(plan, dict):
        return Entry(at, f"hook read: {following}")
    checks = ", ".join(c["name"] for c in plan.get("checks", [])) or "none"
    return Entry(
        at,
        f"hook read: HeartbeatTimeout {plan['heartbeatTimeout']} s, DefaultResult "
        f"{plan['defaultResult']}, poll {plan['pollSeconds']} s, checks {checks}",
        [
            f"gives up at {plan['giveUpAt']} ({plan['onTimeout']}); "
            f"global timeout {plan['globalDeadline']}"
        ],
    )


def _decision_text(decision: Mapping[str, Any]) -> str:
    step = decision.get("next")
    reason = decision.get("reason", "")
    if step in ("wait", "settle", "hold"):
        return f"{step} {decision.get('waitSeconds')} s ({reason})"
    if step == "complete":
        return f"complete with {decision.get('result')} ({reason})"
    return f"{step} ({reason})"


def _outcome_text(outcome: Any) -> str:
    if not isinstance(outcome, dict):
        return "no outcome recorded"
    result = f" {outcome['result']}" if outcome.get("result") else ""
    return f"{outcome.get('status')}{result} - {outcome.get('reason', '')}"


def is_instance_id(text: str) -> bool:
    return bool(INSTANCE_ID.match(text))
