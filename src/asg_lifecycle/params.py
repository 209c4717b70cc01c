"""The parameters a check accepts, declared as data so they are validated, defaulted and documented
from one place.

A hook's ``NotificationMetadata`` is untrusted input written by hand: every parameter is checked
for type, bounds and length before any check runs, and an unknown parameter is an error (a typo
must not silently fall back to a default). The checks reference in docs/CONFIGURATION.md is
generated from these declarations (``python -m docs_gen``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class InvalidParams(ValueError):
    """A check's parameters cannot be used; the message names the parameter and why."""


class Kind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    STRINGS = "list of strings"
    OBJECT = "object of strings"


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a check.

    ``default`` None with ``required`` False means "absent unless given". ``bounds`` apply to
    integers, ``max_length`` to strings (each string of a list, each value of an object) and
    ``max_items`` to lists and objects.
    """

    name: str
    kind: Kind
    doc: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int] | None = None
    max_length: int = 1024
    max_items: int = 50


def validate(params: Sequence[Param], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return the parameters with defaults filled in, or raise :class:`InvalidParams`."""
    known = {p.name: p for p in params}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        allowed = sorted(known) or "none"
        raise InvalidParams(f"unknown parameter(s) {_short(unknown)}; allowed: {allowed}")
    resolved: dict[str, Any] = {}
    for param in params:
        if param.name not in raw:
            if param.required:
                raise InvalidParams(f"{param.name} is required ({param.doc})")
            if param.default is not None:
                resolved[param.name] = param.default
            continue
        resolved[param.name] = _value(param, raw[param.name])
    return resolved


def _value(param: Param, value: Any) -> Any:
    name = param.name
    if param.kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise InvalidParams(f"{name} must be true or false")
        return value
    if param.kind is Kind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParams(f"{name} must be a whole number")
        if param.bounds is not None and not param.bounds[0] <= value <= param.bounds[1]:
            low, high = param.bounds
            raise InvalidParams(f"{name} must be between {low} and {high}, got {value}")
        return value
    if param.kind is Kind.STRING:
        _string(param, value, name)
        if param.choices and value not in param.choices:
            raise InvalidParams(f"{name} must be one of {list(param.choices)}, got {_short(value)}")
        return value
    if param.kind is Kind.STRINGS:
        if not isinstance(value, list) or not value:
            raise InvalidParams(f"{name} must be a non-empty list of strings")
        if len(value) > param.max_items:
            raise InvalidParams(f"{name} has more than {param.max_items} items")
        for index, item in enumerate(value):
            _string(param, item, f"{name}[{index}]")
        return list(value)
    if not isinstance(value, dict):
        raise InvalidParams(f"{name} must be an object of string values")
    if len(value) > param.max_items:
        raise InvalidParams(f"{name} has more than {param.max_items} keys")
    for key, item in value.items():
        _string(param, item, f"{name}.{_short(key)}")
    return dict(value)


def _string(param: Param, value: Any, where: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidParams(f"{where} must be a non-empty string")
    if len(value) > param.max_length:
        raise InvalidParams(f"{where} is longer than {param.max_length} characters")


def _short(value: Any) -> str:
    """A value from untrusted input, cut short for an error message."""
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."
