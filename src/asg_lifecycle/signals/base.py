"""What every kind of signal has: the event it is (source, detail-type) and how to read the
instances it names."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INSTANCE_ID = re.compile(r"i-[0-9a-f]{8}(?:[0-9a-f]{9})?")
_INSTANCE_ID_IN_TEXT = re.compile(r"\bi-(?:[0-9a-f]{17}|[0-9a-f]{8})\b")
MAX_INSTANCES = 10
"""The most instances one signal may name (a custom event could list thousands)."""


class InvalidSignal(ValueError):
    """The event is not a signal this stack reads; the message says why."""


@dataclass(frozen=True, slots=True)
class Signal:
    """The instances a signal names, and its kind's name for logs and the CLI."""

    kind: str
    instance_ids: tuple[str, ...]


class SignalKind(ABC):
    """One kind of event that can end a waiting round's wait early."""

    name: str
    source: str
    detail_type: str
    checks: tuple[str, ...]
    """The checks whose answer this event may change (docs)."""

    @abstractmethod
    def instance_ids(self, event: Mapping[str, Any]) -> tuple[str, ...]:
        """The instance ids the event names (validated, at most :data:`MAX_INSTANCES`)."""

    def parse(self, event: Mapping[str, Any]) -> Signal:
        ids = self.instance_ids(event)
        if not ids:
            raise InvalidSignal(f"{self.name}: the event names no instance")
        return Signal(self.name, ids[:MAX_INSTANCES])


def detail_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidSignal("the event has no detail object")
    return detail


def instance_id(value: Any, where: str) -> str:
    """``value`` if it is an instance id, whole (a trailing newline is refused)."""
    if not isinstance(value, str) or not INSTANCE_ID.fullmatch(value):
        raise InvalidSignal(f"{where} is not an instance id: {str(value)[:32]!r}")
    return value


def instance_ids_in(text: str) -> tuple[str, ...]:
    """Instance ids inside a longer string (a parameter name, an ARN), each once, in order."""
    found = _INSTANCE_ID_IN_TEXT.findall(text)
    return tuple(dict.fromkeys(found))
