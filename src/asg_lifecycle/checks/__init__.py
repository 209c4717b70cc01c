"""The catalogue of checks: one module per check, all implementing :class:`base.Check`."""

from __future__ import annotations

from asg_lifecycle.checks.base import Check, CheckResult, combine, run_round
from asg_lifecycle.checks.instance_status import InstanceStatusCheck
from asg_lifecycle.checks.target_group_drain import TargetGroupDrainCheck
from asg_lifecycle.model import Transition

CATALOGUE: dict[str, type[Check]] = {
    check.name: check for check in (InstanceStatusCheck, TargetGroupDrainCheck)
}


def names_for(transition: Transition) -> frozenset[str]:
    """The checks that make sense for a transition (and so may be configured for it)."""
    return frozenset(name for name, check in CATALOGUE.items() if transition in check.transitions)


__all__ = ["CATALOGUE", "Check", "CheckResult", "combine", "names_for", "run_round"]
