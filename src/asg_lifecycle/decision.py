"""What a workflow task decides comes next: one enum for the definition's Choice states, the policy,
the handlers, the operator CLI and the emulator's timeline.

``src/orchestrator/lifecycle.asl.json`` routes on ``decision.next`` with exactly these values
(tests/unit/test_definition.py checks both ways), so a value added here without a route, or a route
the code never asks for, fails a test instead of an execution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from asg_lifecycle.model import InvalidAction, LifecycleResult, format_time, parse_time


class Next(StrEnum):
    """The step after a task, in the words of the state it leads to."""

    CHECK = "check"
    """Run the checks now: the hook was read and the action is waiting (or was just confirmed)."""
    WAIT = "wait"
    """Wait ``waitSeconds``, or until a signal (from ``signal.after``), then run the next round
    of checks."""
    HEARTBEAT = "heartbeat"
    """Wait ``waitSeconds``, until the hook needs its heartbeat; record it; then run the next
    round at once (its checks never stand between the hook and its heartbeat)."""
    COMPLETE = "complete"
    """Complete the lifecycle action with ``result``."""
    HOLD = "hold"
    """The hook's configuration is invalid: wait ``waitSeconds``, then complete with ``result``
    (the safe result), running no check."""
    CONFIRM = "confirm"
    """Confirm with a heartbeat that Auto Scaling holds the action before any check: a reconciled
    action by instance id (that this hook holds it), a late event's by its token."""
    END = "end"
    """Nothing more to do: ``outcome`` says how the action ended."""

    @property
    def waits(self) -> bool:
        """The definition waits ``waitSeconds`` after this decision."""
        return self in (Next.WAIT, Next.HEARTBEAT, Next.HOLD)


SIGNALLED = frozenset({Next.WAIT, Next.HEARTBEAT})
"""The decisions whose wait a signal may end (the definition's callback tasks)."""
SIGNAL_ITEM_TTL_SECONDS = 3600
"""A wait's item in the signal table outlives the wait by this much before DynamoDB's TTL may
delete it (a signal reads only items whose window is open)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """A task's decision. ``wait_seconds`` for the steps that wait, ``result`` for those that
    complete; ``reason`` in words, for the execution history and the logs; ``due_at``, when the
    step it leads to is due (the round, or the heartbeat before it: a round that starts well
    after its time was retried, :func:`asg_lifecycle.policy.before_round`).

    The waits before a round (``wait``, and ``heartbeat``: the wait until the hook needs its
    heartbeat) are written to the signal table for a signal to end them early
    (:mod:`asg_lifecycle.signals`): a signal may from ``signal_after`` until before
    ``signal_until`` (default for both: the wait's end, ``due_at``: no signal), and DynamoDB's
    TTL may delete the item an hour after the wait (:data:`SIGNAL_ITEM_TTL_SECONDS`). The
    definition writes them as they are (``signal``: epoch seconds, as DynamoDB writes numbers:
    strings), so every such decision carries them: a path missing there would fail the
    execution (States.Runtime)."""

    next: Next
    reason: str
    wait_seconds: int | None = None
    result: LifecycleResult | None = None
    due_at: datetime | None = None
    signal_after: datetime | None = None
    signal_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.next.waits and (self.wait_seconds is None or self.wait_seconds < 1):
            raise InvalidAction(f"decision {self.next} needs waitSeconds of at least 1")
        if self.next in SIGNALLED and self.due_at is None:
            raise InvalidAction(f"decision {self.next} needs dueAt (its signal window ends there)")
        if self.next in (Next.COMPLETE, Next.HOLD) and self.result is None:
            raise InvalidAction(f"decision {self.next} needs a result")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"next": self.next.value, "reason": self.reason}
        if self.wait_seconds is not None:
            data["waitSeconds"] = self.wait_seconds
        if self.result is not None:
            data["result"] = self.result.value
        if self.due_at is not None:
            data["dueAt"] = format_time(self.due_at)
        if self.next in SIGNALLED and self.due_at is not None:
            after = self.signal_after or self.due_at
            until = self.signal_until or self.due_at
            expires = self.due_at + timedelta(seconds=SIGNAL_ITEM_TTL_SECONDS)
            data["signal"] = {
                "after": str(math.floor(after.timestamp())),
                "until": str(math.floor(until.timestamp())),
                "expires": str(math.ceil(expires.timestamp())),
            }
        return data

    @classmethod
    def from_json(cls, data: Any) -> Decision:
        if not isinstance(data, dict):
            raise InvalidAction("decision must be an object")
        try:
            step = Next(str(data.get("next")))
            result = None if data.get("result") is None else LifecycleResult(data["result"])
        except ValueError as exc:
            raise InvalidAction(f"decision: {exc}") from exc
        seconds = data.get("waitSeconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)):
            raise InvalidAction("decision.waitSeconds must be a whole number")
        due = data.get("dueAt")
        due_at = None if due is None else parse_time(due, "decision.dueAt")
        signal = data.get("signal")
        after = until = None
        if signal is not None:
            after, until = _epoch(signal, "after"), _epoch(signal, "until")
        return cls(step, str(data.get("reason", "")), seconds, result, due_at, after, until)


def _epoch(signal: Any, key: str) -> datetime:
    """``decision.signal.<key>``: whole epoch seconds written as a string."""
    value = signal.get(key) if isinstance(signal, dict) else None
    if not isinstance(value, str) or not value.isdigit() or len(value) > 12:
        raise InvalidAction(f"decision.signal.{key} must be whole epoch seconds, as a string")
    return datetime.fromtimestamp(int(value), tz=UTC)
