"""Workflow task "Read lifecycle hook": is this an action the stack serves and Auto Scaling holds?
Then the hook's settings and configuration make the action's plan.

Nothing of the execution's input is trusted but the action it names, and that only once Auto
Scaling agrees: the group is served (by name, or by its serving tag), the instance is in that
group and in a wait state AWS documents for the transition. Otherwise the action ends
``not-waiting`` before any check runs or any call is made (``ActionsNotWaiting``).

The hook's checks may name only what the stack's parameters allow (SSM documents, functions,
ECS clusters, the readiness parameter path: :class:`asg_lifecycle.config.StackLimits`, from the
environment): anything else is an invalid configuration, ended before any round.

Where the instance goes is taken from Auto Scaling's view too: its wait state says whether it goes
into the warm pool and whether a terminate action replaces its root volume
(:func:`workflow.as_auto_scaling_sees_it`), which choose the hook's ``warmPool`` or
``replaceRootVolume`` block. For a terminate action the group's instance lifecycle policy is read:
under ``retain`` the safe result is ABANDON (:func:`asg_lifecycle.config.safe_result`).

A served group is this stack's only if no other stack has claimed it (:mod:`asg_lifecycle.served`:
two stacks serving one group would each act on every action); one nobody has claimed is claimed
now. A late event (its workflow started :data:`workflow.LATE_EVENT_SECONDS` or more after the
event's time: a dead-letter replay, a resend) may carry the token of an earlier action of an
instance that waits again on the same hook; the API lists no tokens, so its plan first confirms
the token with a heartbeat ("Confirm with a heartbeat"), before any check runs
(:func:`workflow.confirming_why`).

Calls: DescribeTags (the serving and claim tags of a served group), CreateOrUpdateTags (once per
group, to claim it), DescribeAutoScalingInstances, DescribeLifecycleHooks,
DescribeAutoScalingGroups (terminate actions); ListExecutions for a reconciled action (its event
was lost; first: it steps aside for any other workflow of the action). Errors are raised: the
definition retries the task.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from typing import Any

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.checks.catalogue import allowed_for, not_for_warm_pool
from asg_lifecycle.config import (
    ActionConfig,
    Defaults,
    InvalidConfig,
    OnAbandon,
    StackLimits,
    read_config,
)
from asg_lifecycle.document import StateDocument, Status
from asg_lifecycle.lifecycle_states import may_still_wait
from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition, without_token
from asg_lifecycle.served import (
    CLAIM_TAG,
    SERVING_TAG,
    ServedGroups,
    claim_group,
    claimed_by_another,
    group_tags,
    stack_identity,
)
from handlers.observability import Metric, count, counted_ending, logger
from handlers.task import InstanceNotWaitingYet, workflow_task

# How long after its event an instance that does not (yet) show its wait state is read again
# (InstanceNotWaitingYet, retried by the definition) before "not waiting" is believed.
CONFIRM_NOT_WAITING_SECONDS = 30


def read_hook(doc: StateDocument) -> StateDocument:
    # Of the input, only the action (and when the event was received, or how long a lost event
    # waits) is taken: whatever else an execution was started with is dropped here.
    doc = StateDocument(doc.action, received_at=doc.received_at, settle_seconds=doc.settle_seconds)
    action = doc.action
    asg = client("autoscaling")
    if action.reconciled:
        other = _other_workflow(doc)
        if other is not None:
            logger.info("Another workflow handles this action", extra={"other_execution": other})
            reason = f"workflow {other} handles this action"
            return workflow.ended(doc, Status.DUPLICATE, reason, clock.now())
    why_not_ours = _not_ours(asg, action.group_name)
    if why_not_ours is not None:
        return _not_waiting(doc, why_not_ours)
    instance = autoscaling.describe_instance(asg, action.instance_id)
    hook = autoscaling.describe_hook(asg, action.group_name, action.hook_name)
    now = clock.now()
    if hook is None:
        logger.warning("Lifecycle hook not found")
        reason = "the lifecycle hook no longer exists; Auto Scaling ended its actions"
        return workflow.ended(doc, Status.HOOK_DELETED, reason, now)
    if hook.transition is not None and hook.transition != action.transition:
        why = f"hook {action.hook_name!r} is for {hook.transition}, not {action.transition}"
        return _not_waiting(doc, why)
    if not action.reconciled:
        if workflow.stale_event(doc, hook.heartbeat_timeout):
            why = f"the event was older than the hook's {hook.heartbeat_timeout} s timeout"
            return _not_waiting(doc, why)
        if workflow.expired_before_read(doc, hook.heartbeat_timeout, now):
            logger.warning("The hook expired before it could be read")
            expired = workflow.timed_out(doc, now, "it could be read", hook.default_result)
            return counted_ending(expired)
    why_not = workflow.not_waiting(action, instance)
    if why_not is not None:
        if action.reconciled:  # found waiting a minute ago: someone has finished it since
            reason = f"Auto Scaling has no active lifecycle action any more: {why_not}"
            return workflow.ended(doc, Status.ALREADY_FINISHED, reason, now)
        state = instance.lifecycle_state if instance else None
        ours = instance is None or instance.group_name == action.group_name
        age = (now - action.started_at).total_seconds()
        if age < CONFIRM_NOT_WAITING_SECONDS and ours and may_still_wait(action.transition, state):
            logger.info("Instance not waiting yet: reading again", extra={"why": why_not})
            raise InstanceNotWaitingYet(f"{why_not} (the event is {int(age)} s old)")
        return _not_waiting(doc, why_not)
    state = instance.lifecycle_state if instance else None
    conflict = workflow.disagreement(action, state)
    age = (now - action.started_at).total_seconds()
    if conflict and age < CONFIRM_NOT_WAITING_SECONDS:  # a stale read of one side: read again
        logger.info("Event and instance disagree: reading again", extra={"why": conflict})
        raise InstanceNotWaitingYet(f"{conflict} (the event is {int(age)} s old)")
    return _planned(doc, hook, state, now)


def _not_ours(asg: Any, group_name: str) -> str | None:
    """Why the group's actions are not this stack's to act on: not served (by name, or by its
    serving tag), or claimed by another stack (:mod:`asg_lifecycle.served`); None when they are.
    A served group nobody has claimed is claimed for this stack now."""
    served = ServedGroups.from_env(os.environ)
    if not served.by_tag and not served.serves(group_name):
        return f"group {group_name[:64]!r} is not served by this stack"
    tags = group_tags(asg, group_name)
    if not served.serves(group_name, tags.get(SERVING_TAG)):
        return f"group {group_name[:64]!r} is not served by this stack"
    own = stack_identity(os.environ)
    claim = tags.get(CLAIM_TAG)
    if claim is None:
        claim_group(asg, group_name, own)
        logger.info("Group claimed for this stack", extra={"tag": CLAIM_TAG, "stack": own})
        return None
    why = claimed_by_another(claim, own)
    if why is not None:
        logger.error(
            "Group served by another stack: this stack does not act on it",
            extra={"tag": CLAIM_TAG, "claimed_by": claim[:128], "stack": own},
        )
    return why


def _planned(
    doc: StateDocument, hook: autoscaling.HookInfo, state: str | None, now: datetime
) -> StateDocument:
    """The plan of an action Auto Scaling holds (in ``state``), made from the hook's settings and
    configuration, the instance's way as Auto Scaling sees it and, for a termination, the
    group's instance lifecycle policy."""
    action = workflow.as_auto_scaling_sees_it(doc.action, state)
    if action != doc.action:
        logger.info(
            "The action as Auto Scaling sees it",
            extra={"state": state, "event": _way(doc.action), "seen": _way(action)},
        )
        doc = replace(doc, action=action)
    on_abandon = OnAbandon.TERMINATE
    if action.transition is Transition.TERMINATING:
        on_abandon = autoscaling.on_abandon(client("autoscaling"), action.group_name)
        if on_abandon is OnAbandon.RETAIN and hook.default_result is LifecycleResult.CONTINUE:
            logger.warning(
                "The group retains abandoned terminations but the hook's DefaultResult is "
                "CONTINUE: an action the workflow cannot complete is terminated, not retained"
            )
    config: ActionConfig | str
    try:
        defaults = Defaults.from_env(os.environ)
        config = read_config(
            hook.metadata,
            action.transition,
            defaults,
            allowed_for(action.transition, StackLimits.from_env(os.environ)),
            action=action,
            on_abandon=on_abandon,
            not_for_warm_pool=not_for_warm_pool(),
        )
    except InvalidConfig as exc:
        logger.error("Invalid hook configuration", extra={"reason": str(exc)})
        count(Metric.INVALID_HOOK_CONFIGURATION)
        config = str(exc)
    else:
        if config.block is not None:
            logger.info("Configuration from the hook's block", extra={"block": config.block})
    return workflow.planned(
        doc, hook.heartbeat_timeout, hook.default_result, config, now, on_abandon=on_abandon
    )


def _way(action: LifecycleAction) -> str:
    return f"{action.path} {action.action_name or ''}".strip()


def _other_workflow(doc: StateDocument) -> str | None:
    """A running workflow a reconciled action steps aside for (the event's, started late, or an
    earlier reconcile run's); rare, so the modules are imported here only."""
    from asg_lifecycle import reconcile  # noqa: PLC0415
    from asg_lifecycle.adapters import stepfunctions  # noqa: PLC0415

    running = stepfunctions.running_execution_names(
        client("stepfunctions"), os.environ["STATE_MACHINE_ARN"]
    )
    others = reconcile.other_workflows(doc.action, running)
    return without_token(others[0]) if others else None


def _not_waiting(doc: StateDocument, why: str) -> StateDocument:
    logger.warning("Not an action this stack serves and Auto Scaling holds", extra={"why": why})
    reason = f"not acted on: {why}"
    return counted_ending(workflow.ended(doc, Status.NOT_WAITING, reason, clock.now()))


handler = workflow_task(read_hook)
