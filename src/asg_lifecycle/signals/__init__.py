"""Signals: events that mean a waiting action's checks may now pass, so its round should run now.

Where they come from and what they mean live here, one module per kind of event, each with a
sample event atop (after aws-node-termination-handler's layout); what is done with them (the
signal table, SendTaskSuccess) lives in :mod:`handlers.signal`. A signal is untrusted: it only
names instances, and all it can do is end a waiting round's wait early. It never completes an
action, carries nothing the workflow reads, and finds nothing for an instance no workflow of
this stack waits for.
"""

from __future__ import annotations

from asg_lifecycle.signals import ec2_tags, ecs, instance, parameter_store, run_command
from asg_lifecycle.signals.base import InvalidSignal, Signal, SignalKind, instance_ids_in

KINDS: tuple[SignalKind, ...] = (
    instance.KIND,
    ec2_tags.KIND,
    parameter_store.KIND,
    run_command.KIND,
    ecs.KIND,
)
"""Every kind of signal, as the template's rules route them (tests tie the two)."""


def parse(event: object) -> Signal:
    """The instances an EventBridge event names, by its kind; :class:`InvalidSignal` for an event
    of no kind here or without an instance id in the expected place."""
    if not isinstance(event, dict):
        raise InvalidSignal("the event must be a JSON object")
    source, detail_type = event.get("source"), event.get("detail-type")
    for kind in KINDS:
        if (kind.source, kind.detail_type) == (source, detail_type):
            return kind.parse(event)
    raise InvalidSignal(f"no signal is {str(source)[:64]!r} / {str(detail_type)[:64]!r}")


__all__ = ["KINDS", "InvalidSignal", "Signal", "SignalKind", "instance_ids_in", "parse"]
