"""The catalogue of checks: one module per check, all implementing :class:`base.Check`.

``CATALOGUE``, ``names_for`` and ``allowed_for`` live in :mod:`asg_lifecycle.checks.catalogue`
and are loaded on first use, so that importing the check interface does not import every check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asg_lifecycle.checks.base import Check, CheckResult, combine, run_round

if TYPE_CHECKING:
    from asg_lifecycle.checks.catalogue import CATALOGUE, allowed_for, names_for

_LAZY = frozenset({"CATALOGUE", "allowed_for", "names_for"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from asg_lifecycle.checks import catalogue  # noqa: PLC0415

        return getattr(catalogue, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CATALOGUE",
    "Check",
    "CheckResult",
    "allowed_for",
    "combine",
    "names_for",
    "run_round",
]
