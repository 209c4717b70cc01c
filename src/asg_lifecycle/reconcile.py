"""Find lifecycle actions whose event never arrived, so that a workflow can be started for them.

Auto Scaling sends lifecycle events to EventBridge best-effort: an event can be lost, and its
instance then sits in a wait state until the hook times out and DefaultResult applies. The
reconciler runs on a schedule, lists the served groups' instances in a wait state, and starts a
workflow for each (instance, hook) that has none running.

Auto Scaling's API does not list lifecycle action tokens, so a reconciled action has none and is
addressed by its instance id. Nor does it say which of a group's hooks are still pending for an
instance, nor, for ``Warmed:Pending:Wait``, which transition holds it (a launch into the warm pool,
or a scale-in returning the instance to it): a workflow is started for each hook of each
transition the state can be held by, without a running one, and the workflow's first steps (the
hook read, then a heartbeat by instance id and hook name) end those Auto Scaling does not hold
(``already-finished``), without sending anything else.

Nor does Auto Scaling say which of an instance's hooks still hold it. With two hooks of one
transition, one fast and one slow, the instance stays in its wait state after the fast hook's
workflow has completed its action: that hook has no running workflow, and a workflow started for
it would only find its action over, run after run while the slow hook waits. The reconciler
therefore leaves out (:func:`handled_this_wait`) a hook whose own workflow ran and succeeded for
this wait while another hook's workflow for the same instance and transition runs; "this wait"
is known from ListExecutions alone: the other hook's running workflow started after the instance
entered the wait, and the hook's own workflow for the same wait started at most
:data:`SIBLING_START_SKEW` before it (both events leave when the wait begins). A hook whose last
workflow for the wait failed, timed out or was stopped gets a new one, and so does each hook of an
instance no workflow holds: a lost event is still recovered.

A terminate hook abandoned (or timed out with DefaultResult ABANDON) in a group whose instance
lifecycle policy retains on ``TerminateHookAbandon`` leaves its instance in a ``Retained`` state
until an operator terminates it: no hook holds it any more, so no workflow is started; the
reconciler counts them (:data:`RETAINED_STATES`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from asg_lifecycle.model import REPLACE_ROOT_VOLUME, LifecycleAction, Transition, execution_prefix

# How long a reconciled workflow waits before it acts: an event that was only late starts its own
# workflow meanwhile, and the reconciled one steps aside. A lost event is therefore picked up at
# most ReconcileMinutes + this after its wait began: hooks need a longer HeartbeatTimeout for the
# reconciler to act before Auto Scaling applies DefaultResult.
SETTLE_SECONDS = 60

# How much earlier than another hook's running workflow for the same wait a hook's own workflow
# may have started and still be taken for this wait: Auto Scaling sends one event per hook as the
# instance enters the wait, and the two StartFunction invocations start their workflows seconds
# apart (a minute with Lambda's first asynchronous retry). An instance cannot leave a wait and
# come back to one of the same transition that fast: a warm pool's instance is stopped and started
# in between.
SIBLING_START_SKEW: Final = timedelta(seconds=60)
SUCCEEDED = "SUCCEEDED"


@dataclass(frozen=True, slots=True)
class Holder:
    """What a wait state says about an action of one transition that holds the instance there:
    Origin, Destination and the event's Action, each None where the state does not determine it
    (as an event leaves out what is not available: never guessed)."""

    transition: Transition
    origin: str | None
    destination: str | None
    action_name: str | None = None
    # Only with the warm pool's InstanceReusePolicy ReuseOnScaleIn does a scale-in return an
    # instance to the pool ("Warm pool instance lifecycle"): otherwise no terminate hook holds it.
    needs_reuse_on_scale_in: bool = False


# LifecycleState of an instance held by a hook -> the actions that can hold it there (EC2 Auto
# Scaling User Guide: "Warm pool instance lifecycle", "Warm pool example events", "Instance
# refresh example events"; asg_lifecycle.lifecycle_states lists the same states per transition).
WAIT_STATES: Final[Mapping[str, tuple[Holder, ...]]] = {
    # From EC2, from the warm pool, or back after a root-volume replacement (AutoScalingGroup,
    # Action ReplaceRootVolume): the state does not say which; always into the group.
    "Pending:Wait": (Holder(Transition.LAUNCHING, None, "AutoScalingGroup"),),
    # Into the warm pool: a launch (from EC2), or a scale-in of a warm pool with ReuseOnScaleIn
    # (a terminate action returning the instance from the group).
    "Warmed:Pending:Wait": (
        Holder(Transition.LAUNCHING, "EC2", "WarmPool"),
        Holder(Transition.TERMINATING, "AutoScalingGroup", "WarmPool", None, True),
    ),
    "Terminating:Wait": (Holder(Transition.TERMINATING, "AutoScalingGroup", "EC2"),),
    "Warmed:Terminating:Wait": (Holder(Transition.TERMINATING, "WarmPool", "EC2"),),
    # An instance refresh replacing root volumes: the instance stays in the group.
    "ReplacingRootVolume:Wait": (
        Holder(Transition.TERMINATING, "AutoScalingGroup", "AutoScalingGroup", REPLACE_ROOT_VOLUME),
    ),
}

RETAINED_STATES: Final[frozenset[str]] = frozenset(
    {"Terminating:Retained", "Warmed:Terminating:Retained", "Warmed:Pending:Retained"}
)
"""Where an instance lifecycle policy with ``TerminateHookAbandon: retain`` leaves an instance
whose terminate hook was abandoned or timed out with ABANDON: until an operator calls
TerminateInstanceInAutoScalingGroup (it does not count toward desired capacity meanwhile)."""


@dataclass(frozen=True, slots=True)
class WaitingInstance:
    group_name: str
    instance_id: str
    lifecycle_state: str
    reuse_on_scale_in: bool = False  # the group's warm pool returns instances on scale-in


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
    """The actions to start: each waiting instance x each of its group's hooks of each
    transition its state can be held by, less those with a running execution (``running``:
    execution names).

    ``found_at`` (the scheduled time of the reconcile run) names the executions, so that a run
    delivered twice starts each workflow once.
    """
    busy = set(running)  # names
    found: list[LifecycleAction] = []
    for instance in waiting:
        holders = [
            h
            for h in WAIT_STATES.get(instance.lifecycle_state, ())
            if instance.reuse_on_scale_in or not h.needs_reuse_on_scale_in
        ]
        if len(holders) > 1:  # one transition holds an instance at a time: a running workflow
            # of one of them names it
            handled = [
                h
                for h in holders
                if any(n.startswith(f"{h.transition.short}-{instance.instance_id}-") for n in busy)
            ]
            holders = handled or holders
        for holder in holders:
            for hook in hooks.get(instance.group_name, ()):
                if hook.transition is not holder.transition:
                    continue
                prefix = execution_prefix(holder.transition, instance.instance_id, hook.name)
                if any(name.startswith(prefix + "-") for name in busy):
                    continue
                found.append(
                    LifecycleAction(
                        group_name=instance.group_name,
                        hook_name=hook.name,
                        instance_id=instance.instance_id,
                        token=None,
                        transition=holder.transition,
                        started_at=found_at,
                        origin=holder.origin,
                        destination=holder.destination,
                        action_name=holder.action_name,
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


@dataclass(frozen=True, slots=True)
class PastExecution:
    """One execution as ListExecutions lists it (any status)."""

    name: str
    status: str  # RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE
    started: datetime
    stopped: datetime | None = None


def _wait_began_by(action: LifecycleAction, running: Mapping[str, datetime]) -> datetime | None:
    """When, at the earliest, a workflow of ``action``'s hook taken for this wait may have
    started: :data:`SIBLING_START_SKEW` before the first running workflow of another hook of
    the same instance and transition; None when no other hook's workflow runs (nothing then
    says when this wait began)."""
    same = f"{action.transition.short}-{action.instance_id}-"
    own = execution_prefix(action.transition, action.instance_id, action.hook_name) + "-"
    starts = [
        started
        for name, started in running.items()
        if name.startswith(same) and not name.startswith(own)
    ]
    return min(starts) - SIBLING_START_SKEW if starts else None


def history_since(
    candidates: Iterable[LifecycleAction], running: Mapping[str, datetime]
) -> datetime | None:
    """How far back :func:`handled_this_wait` needs the executions for ``candidates``; None when
    no candidate's instance has another hook's workflow running (then none can be left out, and
    nothing needs reading)."""
    bounds = [b for a in candidates if (b := _wait_began_by(a, running)) is not None]
    return min(bounds) if bounds else None


def handled_this_wait(
    candidates: Iterable[LifecycleAction],
    running: Mapping[str, datetime],
    history: Iterable[PastExecution],
) -> tuple[list[LifecycleAction], list[LifecycleAction]]:
    """``candidates`` (from :func:`orphans`) split into (to start, handled already).

    Handled already: another hook's workflow for the same instance and transition runs (the
    instance is still in this wait), and this hook's own workflow for this wait (started since
    :func:`_wait_began_by`) ended last with SUCCEEDED, i.e. completed the action, found it over,
    or stepped aside for a workflow that itself ended later. Its last one failed, timed out or
    was stopped: the action may still be held, and gets a workflow.
    """
    past = [e for e in history if e.status != "RUNNING"]
    to_start: list[LifecycleAction] = []
    handled: list[LifecycleAction] = []
    for action in candidates:
        since = _wait_began_by(action, running)
        prefix = execution_prefix(action.transition, action.instance_id, action.hook_name) + "-"
        own = [
            e
            for e in past
            if since is not None and e.name.startswith(prefix) and e.started >= since
        ]
        last = max(own, key=lambda e: (e.stopped or e.started, e.started), default=None)
        (handled if last is not None and last.status == SUCCEEDED else to_start).append(action)
    return to_start, handled
