"""The catalogue of checks: one module per check, all implementing :class:`base.Check`.

Only ReadHook (to validate a hook's checks) and RunChecks import this package; the other
functions' code reaches the check interface through :mod:`asg_lifecycle.checks.base` alone, when
at all, so that they do not import every check (``python -m bench.imports``).
"""

from __future__ import annotations

from asg_lifecycle.checks.base import Check, CheckResult, combine, run_round
from asg_lifecycle.checks.catalogue import CATALOGUE, allowed_for

__all__ = ["CATALOGUE", "Check", "CheckResult", "allowed_for", "combine", "run_round"]
