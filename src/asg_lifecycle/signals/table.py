"""The signal table's items: one per waiting round, written by the workflow's "Wait for the next
round or a signal" state (PutItem with the wait's task token), read by a signal.

Key: ``instanceId`` and ``hook`` (one round waits per instance and hook; the next wait
overwrites it). ``signalAfter`` and ``signalUntil``: when a signal may end the wait (epoch
seconds; a wait whose rounds cannot be spared takes none,
:data:`asg_lifecycle.policy.SIGNAL_ROUNDS`; the wait before a heartbeat, only until a margin
before it is due). ``expiresAt``: the TTL
attribute, an hour after the wait's end. DynamoDB deletes expired items late ("typically
within a few days"), so they are filtered here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WaitingRound:
    """A round's wait as the table holds it."""

    hook: str
    token: str
    signal_after: int
    signal_until: int

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> WaitingRound | None:
        """The item in DynamoDB's typed form; None for one this stack did not write."""
        try:
            return cls(
                hook=str(item["hook"]["S"]),
                token=str(item["taskToken"]["S"]),
                signal_after=int(item["signalAfter"]["N"]),
                signal_until=int(item["signalUntil"]["N"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def to_signal(items: Iterable[Mapping[str, Any]], now: float) -> list[WaitingRound]:
    """The waits a signal at ``now`` (epoch seconds) may end: within their signal window (an
    expired item is out of it: its window closed at least an hour before)."""
    rounds = (WaitingRound.from_item(item) for item in items)
    return [r for r in rounds if r is not None and r.signal_after <= now < r.signal_until]
