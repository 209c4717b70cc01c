"""The catalogue of checks: one module per check, all implementing :class:`base.Check`.

Only the workflow's function (AdvanceFunction: it validates a hook's checks and runs them)
imports this package; StartFunction and ReconcileFunction do not load every check
(``python -m bench.imports``).
"""

from __future__ import annotations

from asg_lifecycle.checks.base import Check, CheckResult, combine, run_round
from asg_lifecycle.checks.catalogue import CATALOGUE, allowed_for

__all__ = ["CATALOGUE", "Check", "CheckResult", "allowed_for", "combine", "run_round"]
