"""Actions waiting with no workflow running: instances of the served groups that a hook holds
while no execution runs for them (a lost event, a workflow that failed or was stopped). The
reconciler starts a workflow for each on its next run; ``list`` shows them meanwhile, and
``extend`` and ``complete`` reach them (by instance id, as a reconciled workflow does).

Read as the reconciler reads them (``asg_lifecycle.adapters.fleet``) and decided by its pure
logic (``asg_lifecycle.reconcile.orphans``). Cost: DescribeAutoScalingGroups for the served groups
(a DescribeWarmPool for each with a warm pool), and DescribeLifecycleHooks for each group with a
waiting instance. Auto Scaling does not say which of a group's hooks for a transition still holds
an instance: with two launch hooks, one already completed shows too (the reconciler's workflow
for it finds so when its confirming heartbeat is refused, and ends already-finished; ``extend`` or
``complete`` of it says the action is over).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from asg_lifecycle.adapters import fleet
from asg_lifecycle.reconcile import orphans
from asg_lifecycle_cli.stack import Stack, served_groups
from asg_lifecycle_cli.views import NO_WORKFLOW, ActionView


def without_workflow(
    autoscaling: Any,
    stack: Stack,
    running: Iterable[str],
    now: datetime,
    group: str | None = None,
) -> list[ActionView] | None:
    """Each (waiting instance, hook) with no running execution (``running``: their names), as a
    view of status ``NO_WORKFLOW``; None when the stack does not say which groups it serves (one
    deployed before its ``ServedGroups`` output)."""
    if stack.served_groups_output is None:
        return None
    served = served_groups(stack.served_groups_output)
    waiting = [
        w
        for w in fleet.waiting_instances(autoscaling, served)
        if group is None or w.group_name == group
    ]
    groups = sorted({w.group_name for w in waiting})
    hooks = {g: fleet.lifecycle_hooks(autoscaling, g) for g in groups}
    return [
        ActionView("", "", NO_WORKFLOW, action, {"action": action.to_json()})
        for action in orphans(waiting, hooks, running, now)
    ]
