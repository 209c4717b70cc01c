"""The one place the Lambda code reads the time.

In AWS it is the system clock. The local emulator points it at its virtual clock (``use``), so the
deadlines computed here agree with the emulated Auto Scaling timeouts and Step Functions waits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _system() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system


def now() -> datetime:
    return _source()


def use(source: Callable[[], datetime] | None) -> None:
    """Read time from ``source`` from now on (``None`` restores the system clock)."""
    global _source  # noqa: PLW0603 - a process-wide seam, set once by the emulator
    _source = source or _system
