"""Find lifecycle actions whose event never arrived, so that a workflow can be started for them.

Auto Scaling sends lifecycle events to EventBridge best-effort: an event can be lost, and its
instance then sits in a wait state until the hook times out and DefaultResult applies. The
reconciler runs on a schedule, lists the served groups' instances in a wait state, and starts a
workflow for each (instance, hook) that has none running.

Auto Scaling's API does not list lifecycle action tokens, so a reconciled action has none and is
addressed by its instance id. Nor does it say which of a group's hooks for a transition are still
pending for an instance: a workflow is started for each hook without a running one, and the
workflow's first step (a heartbeat by instance id) ends at once those whose action is over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from asg_lifecycle.model import LifecycleAction, Transition, execution_prefix

# How long a reconciled workflow waits before it acts: an event that was only late starts its own
# workflow meanwhile, and the reconciled one steps aside. A lost event is therefore picked up at
# most ReconcileMinutes + this after its wait began: hooks need a longer HeartbeatTimeout for the
# reconciler to act before Auto Scaling applies DefaultResult.
SETTLE_SECONDS = 60

# LifecycleState of an instance held by a hook -> (transition, Origin, Destination). An instance
# leaving the warm pool for the group shows Pending:Wait too (its Origin WarmPool is not listed).
WAIT_STATES: dict[str, tuple[Transition, str, str]] = {
    "Pending:Wait": (Transition.LAUNCHING, "EC2", "AutoScalingGroup"),
    "Warmed:Pending:Wait": (Transition.LAUNCHING, "EC2", "WarmPool"),
    "Terminating:Wait": (Transition.TERMINATING, "AutoScalingGroup", "EC2"),
    "Warmed:Terminating:Wait": (Transition.TERMINATING, "WarmPool", "EC2"),
}


@dataclass(frozen=True, slots=True)
class WaitingInstance:
    group_name: str
    instance_id: str
    lifecycle_state: str


@dataclass(frozen=True, slots=True)
class Hook:
    name: str
    transition: Transition


def orphans(
    waiting: Iterable[WaitingInstance],
    hooks: Mapping[str, Sequence[Hook]],
    running: Iterable[str],
    found_at: datetime,
) -> list[LifecycleAction]:
    """The actions to start: each waiting instance x each of its group's hooks for its
    transition, less those with a running execution (``running``: execution names).

    ``found_at`` (the scheduled time of the reconcile run) names the executions, so that a run
    delivered twice starts each workflow once.
    """
    busy = set(running)  # names
    found: list[LifecycleAction] = []
    for instance in waiting:
        state = WAIT_STATES.get(instance.lifecycle_state)
        if state is None:
            continue
        transition, origin, destination = state
        for hook in hooks.get(instance.group_name, ()):
            if hook.transition is not transition:
                continue
            prefix = execution_prefix(transition, instance.instance_id, hook.name) + "-"
            if any(name.startswith(prefix) for name in busy):
                continue
            found.append(
                LifecycleAction(
                    group_name=instance.group_name,
                    hook_name=hook.name,
                    instance_id=instance.instance_id,
                    token=None,
                    transition=transition,
                    started_at=found_at,
                    origin=origin,
                    destination=destination,
                )
            )
    return found


def other_workflows(action: LifecycleAction, running: Iterable[str]) -> list[str]:
    """Running executions a reconciled action steps aside for: the event's own workflow (named
    by its token), or an earlier reconcile run's (a smaller ``-r<minute>`` name), so that of two
    reconciled workflows exactly one goes on."""
    own = action.execution_name
    prefix = execution_prefix(action.transition, action.instance_id, action.hook_name) + "-"
    return sorted(
        n
        for n in running
        if n.startswith(prefix) and n != own and (not _is_reconciled(n, prefix) or n < own)
    )


def _is_reconciled(name: str, prefix: str) -> bool:
    rest = name.removeprefix(prefix)
    return rest.startswith("r") and rest[1:].isdigit()
