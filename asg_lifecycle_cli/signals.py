"""``asg-lifecycle signal``: the instance's own signal ("Run checks now"), sent by an operator.

The same ``PutEvents`` entry an instance's user data sends (:func:`asg_lifecycle.signals.instance.
event_entry`), on the default bus of the operator's account and Region: the stack's
``SignalFunction`` ends the waits of the instance's waiting rounds, so their checks run at once.
A signal never completes anything: the workflow runs its own checks and decides as on any round.

Auto Scaling is the truth about what waits: ``DescribeAutoScalingInstances`` first (50 ids a
call), and a signal only for an instance in a lifecycle wait state; one for any other would find
nothing waiting for it. Then one ``PutEvents`` per 10 instances (EventBridge's limit); an entry
EventBridge refuses is reported with its error code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from asg_lifecycle.lifecycle_states import WAIT_STATES
from asg_lifecycle.signals.base import InvalidSignal
from asg_lifecycle.signals.instance import event_entry

PUT_EVENTS_LIMIT = 10
"""Entries in one ``PutEvents`` call, at most (EventBridge API Reference, ``PutEvents``)."""
DESCRIBE_LIMIT = 50
"""Instance ids in one ``DescribeAutoScalingInstances`` call, at most."""
LIFECYCLE_WAIT_STATES = frozenset().union(*WAIT_STATES.values())
"""Every state in which a lifecycle hook holds an instance (``asg_lifecycle.lifecycle_states``)."""

_T = TypeVar("_T")


class MalformedInstance(ValueError):
    """An argument that is not an instance id; the message names it."""


def entries(instances: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each instance's ``PutEvents`` entry, each instance once, in the order given; every id is
    checked before any is used (:class:`MalformedInstance` names the first that is not one)."""
    found: dict[str, dict[str, str]] = {}
    for instance in instances:
        try:
            found.setdefault(instance, event_entry(instance))
        except InvalidSignal as exc:
            raise MalformedInstance(
                f"{instance[:64]!r} is not an EC2 instance id (i- and 8 or 17 hex digits)"
            ) from exc
    return found


@dataclass(frozen=True, slots=True)
class Whereabouts:
    """Where Auto Scaling has an instance: its group and lifecycle state."""

    group: str
    state: str

    @property
    def waiting(self) -> bool:
        return self.state in LIFECYCLE_WAIT_STATES


def whereabouts(asg: Any, instances: Sequence[str]) -> dict[str, Whereabouts]:
    """The instances Auto Scaling knows (warm pools' too), by id; one in no group is absent."""
    found: dict[str, Whereabouts] = {}
    paginator = asg.get_paginator("describe_auto_scaling_instances")
    for chunk in _chunks(instances, DESCRIBE_LIMIT):
        for page in paginator.paginate(InstanceIds=list(chunk)):
            for item in page["AutoScalingInstances"]:
                found[str(item["InstanceId"])] = Whereabouts(
                    str(item["AutoScalingGroupName"]), str(item["LifecycleState"])
                )
    return found


@dataclass(frozen=True, slots=True)
class Sent:
    """One signal's answer from EventBridge: its event id, or the error it was refused with."""

    instance: str
    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None and self.event_id is not None


def put(events: Any, entries_by_instance: dict[str, dict[str, str]]) -> list[Sent]:
    """``PutEvents`` of the entries, 10 a call; each instance's answer, in order. EventBridge
    answers an entry for each entry sent, in order (``FailedEntryCount`` counts those with an
    ``ErrorCode``); a call that fails as a whole (denied, throttled past the SDK's retries) fails
    each of its entries with its error, and the next calls are still made."""
    sent: list[Sent] = []
    for chunk in _chunks(list(entries_by_instance.items()), PUT_EVENTS_LIMIT):
        try:
            answer = events.put_events(Entries=[entry for _, entry in chunk])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            refused, why = str(error.get("Code")), str(error.get("Message"))
            sent.extend(Sent(i, error_code=refused, error_message=why) for i, _ in chunk)
            continue
        results = list(answer.get("Entries", []))
        for index, (instance, _) in enumerate(chunk):
            result = results[index] if index < len(results) else {}
            code = result.get("ErrorCode")
            if code is None and not result.get("EventId"):
                code = "NoAnswer"  # not seen from AWS; a missing answer is not a sent signal
            sent.append(
                Sent(
                    instance,
                    event_id=result.get("EventId"),
                    error_code=None if code is None else str(code),
                    error_message=result.get("ErrorMessage"),
                )
            )
    return sent


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
