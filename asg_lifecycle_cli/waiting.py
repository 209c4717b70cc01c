"""Actions waiting with no workflow running: instances of the served groups that a hook holds
while no execution runs for them (a lost event, a workflow that failed or was stopped). The
reconciler starts a workflow for each on its next run; ``list`` shows them meanwhile, and
``extend`` and ``complete`` reach them (by instance id, as a reconciled workflow does).

Read as the reconciler reads them (``asg_lifecycle.adapters.fleet``) and decided by its pure
logic (``asg_lifecycle.reconcile.orphans``). Cost: DescribeAutoScalingGroups for the served groups
(50 names a call; a DescribeWarmPool for each group with a warm pool), and DescribeLifecycleHooks
for each group with a waiting instance. Auto Scaling does not say which of a group's hooks still
holds an instance: with two launch hooks, one already completed shows too, and an instance in
``Warmed:Pending:Wait`` shows for the launch hooks and for the terminate hooks (a scale-in
returning it to the warm pool); the reconciler's workflow for a hook that does not hold it finds
so when its confirming heartbeat is refused, and ends already-finished; ``extend`` or
``complete`` of it says the action is over.

The same read finds the instances retained after an abandoned termination (``Terminating:Retained``
and the warm pool's ``Warmed:*:Retained``): no hook holds them, and they stay until an operator
terminates them; ``list`` shows them with what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asg_lifecycle.adapters import fleet
from asg_lifecycle.reconcile import WaitingInstance, orphans
from asg_lifecycle_cli.stack import Stack, served_groups
from asg_lifecycle_cli.views import NO_WORKFLOW, ActionView


@dataclass(frozen=True, slots=True)
class Unattended:
    """What Auto Scaling holds with no workflow running: each (waiting instance, hook) as a view
    of status ``NO_WORKFLOW``, and the retained instances."""

    views: list[ActionView]
    retained: list[WaitingInstance]


def unattended(
    autoscaling: Any,
    stack: Stack,
    running: Iterable[str],
    now: datetime,
    group: str | None = None,
) -> Unattended | None:
    """Each (waiting instance, hook) with no running execution (``running``: their names), and
    the retained instances, of the served groups (or of ``group``); None when the stack does not
    say which groups it serves (one deployed before its ``ServedGroups`` output)."""
    if stack.served_groups_output is None:
        return None
    found = fleet.read_fleet(autoscaling, served_groups(stack.served_groups_output))
    waiting = [w for w in found.waiting if group is None or w.group_name == group]
    groups = sorted({w.group_name for w in waiting})
    hooks = {g: fleet.lifecycle_hooks(autoscaling, g) for g in groups}
    views = [
        ActionView("", "", NO_WORKFLOW, action, {"action": action.to_json()})
        for action in orphans(waiting, hooks, running, now)
    ]
    retained = [r for r in found.retained if group is None or r.group_name == group]
    return Unattended(views, retained)


def without_workflow(
    autoscaling: Any,
    stack: Stack,
    running: Iterable[str],
    now: datetime,
    group: str | None = None,
) -> list[ActionView] | None:
    """:func:`unattended`'s views only."""
    found = unattended(autoscaling, stack, running, now, group)
    return None if found is None else found.views
