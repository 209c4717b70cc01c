"""What an incoming EventBridge event means: a lifecycle action to handle, or something to ignore.

Every field is untrusted. Anything that is not a well-formed Auto Scaling lifecycle event raises
:class:`InvalidEvent` with a message that names the field, so the handler can log one clear line and
drop it without retrying (a malformed event never becomes valid by retrying it).

Powertools' ``EventBridgeEvent`` data class is left out: its properties index the raw dict, so it
adds nothing to the field-by-field validation below but an import (``python -m bench.imports``
measures it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asg_lifecycle.model import InvalidAction, LifecycleAction, Transition, format_time, parse_time

SOURCE = "aws.autoscaling"
DETAIL_TYPES: dict[str, Transition] = {
    "EC2 Instance-launch Lifecycle Action": Transition.LAUNCHING,
    "EC2 Instance-terminate Lifecycle Action": Transition.TERMINATING,
}
TEST_NOTIFICATION = "autoscaling:TEST_NOTIFICATION"


class InvalidEvent(ValueError):
    """The event is not a lifecycle action this tool can act on; the message says why."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed event that needs no workflow (e.g. Auto Scaling's test notification)."""

    reason: str


def parse_event(raw: Any) -> LifecycleAction | Ignored:
    """Turn an EventBridge event into a :class:`LifecycleAction`, :class:`Ignored`, or raise."""
    if not isinstance(raw, dict):
        raise InvalidEvent("the event is not a JSON object")
    detail = raw.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("the event has no 'detail' object")
    if TEST_NOTIFICATION in (detail.get("Event"), detail.get("LifecycleTransition")):
        return Ignored("Auto Scaling test notification")
    if raw.get("source") != SOURCE:
        raise InvalidEvent(f"source {str(raw.get('source'))[:64]!r} is not {SOURCE!r}")
    transition = DETAIL_TYPES.get(str(raw.get("detail-type")))
    if transition is None:
        raise InvalidEvent(
            f"detail-type {str(raw.get('detail-type'))[:64]!r} is not a lifecycle action"
        )
    if detail.get("LifecycleTransition") != transition.value:
        raise InvalidEvent(
            f"LifecycleTransition {str(detail.get('LifecycleTransition'))[:64]!r} does not match "
            f"detail-type {raw.get('detail-type')!r}"
        )
    try:
        # The hook's timer started when the instance entered the wait state: the event's time.
        started_at = parse_time(raw.get("time"), "time")
        # Only the reconciler starts token-less actions: an event must carry its token.
        fields = {key: value for key, value in detail.items() if key != "Reconciled"}
        return LifecycleAction.from_json({**fields, "StartedAt": format_time(started_at)})
    except InvalidAction as exc:
        raise InvalidEvent(str(exc)) from exc
