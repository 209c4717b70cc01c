"""The instance states in which a lifecycle hook holds an instance, per transition.

From the EC2 Auto Scaling User Guide ("How lifecycle hooks work", "Warm pool instance lifecycle",
"Instance refresh example events") and botocore's ``LifecycleState`` enum:

* a launch hook holds a launching instance in ``Pending:Wait``, or ``Warmed:Pending:Wait`` on
  its way into a warm pool;
* a terminate hook holds a terminating instance in ``Terminating:Wait``, or
  ``Warmed:Terminating:Wait`` when it leaves a warm pool to be terminated; with a warm pool's
  ``ReuseOnScaleIn`` a scale-in sends a terminate action whose instance waits in
  ``Warmed:Pending:Wait`` (on its way back into the pool); an instance refresh that replaces root
  volumes holds the instance in ``ReplacingRootVolume:Wait``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition

WAIT_STATES: Final[dict[Transition, frozenset[str]]] = {
    Transition.LAUNCHING: frozenset({"Pending:Wait", "Warmed:Pending:Wait"}),
    Transition.TERMINATING: frozenset(
        {
            "Terminating:Wait",
            "Warmed:Terminating:Wait",
            "Warmed:Pending:Wait",
            "ReplacingRootVolume:Wait",
        }
    ),
}


BEFORE_WAIT: Final[dict[Transition, frozenset[str | None]]] = {
    # an instance leaving a warm pool is started (Warmed:*) before Pending:Wait; one whose root
    # volume was replaced shows RootVolumeReplaced first ("Instance refresh example events")
    Transition.LAUNCHING: frozenset(
        {
            None,
            "Pending",
            "Warmed:Pending",
            "Warmed:Stopped",
            "Warmed:Running",
            "Warmed:Hibernated",
            "RootVolumeReplaced",
        }
    ),
    Transition.TERMINATING: frozenset(
        {
            "InService",
            "Terminating",
            "Warmed:Terminating",
            "Warmed:Pending",
            "Warmed:Running",
            "Warmed:Stopped",
            "Warmed:Hibernated",
            "ReplacingRootVolume",
        }
    ),
}
"""States an instance passes through on its way into a transition's wait state (None: not listed
in its group yet). Auto Scaling's reads are eventually consistent: right after a lifecycle event,
one of these may be a stale view of an instance that does wait."""


def waits_for(transition: Transition, lifecycle_state: str | None) -> bool:
    """Whether an instance in ``lifecycle_state`` can be held by a hook of ``transition``."""
    return lifecycle_state in WAIT_STATES[transition]


def may_still_wait(transition: Transition, lifecycle_state: str | None) -> bool:
    """Whether ``lifecycle_state`` may be a stale view of an instance waiting for ``transition``:
    a wait state itself, or one on the way to it."""
    return waits_for(transition, lifecycle_state) or lifecycle_state in BEFORE_WAIT[transition]


# What an instance shows once a result has taken it on ("How lifecycle hooks work", "Warm pool
# instance lifecycle", "Manage retained instances": X:Wait -> X:Proceed -> the next state).
_INTO_THE_POOL = frozenset(
    {"Warmed:Pending:Proceed", "Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated"}
)
_INTO_SERVICE = frozenset({"Pending:Proceed", "InService"})
_GOING_AWAY: frozenset[str | None] = frozenset(
    {
        None,
        "Terminating",
        "Terminating:Wait",
        "Terminating:Proceed",
        "Terminated",
        "Warmed:Terminating",
        "Warmed:Terminating:Wait",
        "Warmed:Terminating:Proceed",
        "Warmed:Terminated",
    }
)
_RETAINED = frozenset({"Terminating:Retained", "Warmed:Terminating:Retained"})
_VOLUME_REPLACED = frozenset(
    {
        "ReplacingRootVolume:Proceed",
        "ReplacingRootVolume",
        "RootVolumeReplaced",
        "Pending",
        "Pending:Wait",
        "Pending:Proceed",
        "InService",
    }
)


def where_result_takes(action: LifecycleAction, result: LifecycleResult) -> frozenset[str | None]:
    """The states (None: in no group) an instance can show once ``result`` completed ``action``
    (User Guide, "How lifecycle hooks work", "Warm pool instance lifecycle", "Manage retained
    instances", "Instance refresh example events"). Empty where the state would not tell this
    result from another one's."""
    into_pool = action.into_warm_pool
    if action.transition is Transition.LAUNCHING:
        if result is LifecycleResult.ABANDON:
            return _GOING_AWAY
        if action.destination is None:
            return frozenset(_INTO_SERVICE | _INTO_THE_POOL)
        return frozenset(_INTO_THE_POOL if into_pool else _INTO_SERVICE)
    if action.replaces_root_volume:
        return frozenset(_VOLUME_REPLACED) if result is LifecycleResult.CONTINUE else frozenset()
    if into_pool:  # a scale-in returning the instance to the pool (ReuseOnScaleIn)
        if result is LifecycleResult.CONTINUE:
            return frozenset(_INTO_THE_POOL)
        return frozenset(_INTO_THE_POOL | {"Warmed:Pending:Retained"}) | _GOING_AWAY
    return _GOING_AWAY | _RETAINED if result is LifecycleResult.ABANDON else _GOING_AWAY


@dataclass(frozen=True, slots=True)
class Instance:
    """Auto Scaling's own view of an instance (DescribeAutoScalingInstances)."""

    group_name: str
    lifecycle_state: str
