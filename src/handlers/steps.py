"""The four things a workflow task does for an action, each an AWS call (or a few) around one
pure step of :mod:`asg_lifecycle.workflow`: read the hook, run a round of checks, record a
heartbeat, complete the action. :mod:`handlers.advance` runs them in the order the state document
asks for; each takes the state document and returns the next one.
"""

from __future__ import annotations

import os

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.checks import CATALOGUE, allowed_for, run_round
from asg_lifecycle.config import ActionConfig, Defaults, InvalidConfig, read_config
from asg_lifecycle.model import LifecycleAction, LifecycleResult, without_token
from asg_lifecycle.policy import Plan
from asg_lifecycle.workflow import State
from handlers.observability import (
    Metric,
    count,
    count_completion,
    counted_ending,
    logger,
    record_check_durations,
)


def read_hook(state: State, action: LifecycleAction) -> State:
    """DescribeLifecycleHooks once: HeartbeatTimeout, DefaultResult and the hook's configuration
    give the action's plan. A reconciled action first settles (a late event's workflow may be
    starting), then steps aside for any other workflow of the action, and confirms with a
    heartbeat that this hook still holds the instance."""
    if action.reconciled:  # rare: imported on this path only (python -m bench.imports)
        from asg_lifecycle import reconcile  # noqa: PLC0415
        from asg_lifecycle.adapters import stepfunctions  # noqa: PLC0415

        if not state.get("settled"):
            return workflow.settling(state, reconcile.SETTLE_SECONDS)
        running = stepfunctions.running_execution_names(
            client("stepfunctions"), os.environ["STATE_MACHINE_ARN"]
        )
        others = reconcile.other_workflows(action, running)
        if others:
            logger.info(
                "Another workflow handles this action",
                extra={"other_execution": without_token(others[0])},
            )
            return workflow.duplicate(state, clock.now(), others[0])
        held = autoscaling.instance_lifecycle_state(client("autoscaling"), action.instance_id)
        if not reconcile.still_waiting(action, held):  # e.g. the late event's workflow is done
            return workflow.action_gone(state, clock.now(), f"instance is {held or 'gone'}")
    hook = autoscaling.describe_hook(client("autoscaling"), action.group_name, action.hook_name)
    if hook is not None and action.reconciled:
        # The reconciler cannot tell which of a group's hooks still hold the instance: a heartbeat
        # by instance id confirms this one does (and restarts its timeout, which the plan assumes).
        try:
            autoscaling.record_heartbeat(client("autoscaling"), action)
        except autoscaling.ActionGone:
            logger.info("Reconciled action is not active for this hook")
            return workflow.action_gone(state, clock.now(), "confirming a reconciled action")
    if hook is None:
        logger.warning("Lifecycle hook not found")
        return workflow.planned(state, None, None, "", clock.now())
    config: ActionConfig | str
    try:
        defaults = Defaults.from_env(os.environ)
        config = read_config(
            hook.metadata, action.transition, defaults, allowed_for(action.transition)
        )
    except InvalidConfig as exc:
        logger.error("Invalid hook configuration", extra={"reason": str(exc)})
        count(Metric.INVALID_HOOK_CONFIGURATION)
        config = str(exc)
    return workflow.planned(state, hook.heartbeat_timeout, hook.default_result, config, clock.now())


def _log_check_error(check: str, exc: BaseException) -> None:
    logger.warning(
        "Check raised; treated as not ready yet", extra={"check": check, "error": repr(exc)}
    )
    count(Metric.CHECK_ERRORS)


def run_checks(state: State, action: LifecycleAction) -> State:
    """One round of the configured checks, then the decision: complete, heartbeat, or wait."""
    plan = Plan.from_json(state["plan"])
    results = run_round(
        plan.checks,
        CATALOGUE,
        action,
        client,
        on_error=_log_check_error,
        memos=workflow.memos_of(state),
        now=clock.now(),
    )
    record_check_durations(results)
    state = workflow.checked(state, results, clock.now())
    logger.info("Checks done", extra={"checks": state["checks"], "decision": state["decision"]})
    return state


def record_heartbeat(state: State, action: LifecycleAction) -> State:
    """RecordLifecycleActionHeartbeat: the next round would outlast the hook, or a round of checks
    could not run."""
    sent_at = clock.now()  # the hook's new expiry counts from the request, not from the answer
    if workflow.lapsed(state, sent_at):  # e.g. a retry after the hook expired: nothing to extend
        logger.warning("Hook expired before the heartbeat; not sent")
        return counted_ending(workflow.timed_out(state, sent_at, "the heartbeat"))
    try:
        autoscaling.record_heartbeat(client("autoscaling"), action)
    except autoscaling.ActionGone:
        logger.info("Action already finished; no heartbeat needed")
        return counted_ending(workflow.action_gone(state, clock.now(), "heartbeat"))
    logger.info("Heartbeat recorded")
    count(Metric.HEARTBEATS)
    return workflow.heartbeat_recorded(state, sent_at)


def complete(state: State, action: LifecycleAction) -> State:
    """CompleteLifecycleAction with the decided result (or the hold's, or the safe result after
    errors)."""
    decision = state["decision"]
    result = LifecycleResult(decision["result"])
    if workflow.lapsed(state, clock.now()):  # e.g. a retry after the hook expired
        logger.warning("Hook expired before completion; not sent", extra={"result": result.value})
        return counted_ending(workflow.timed_out(state, clock.now(), "completion"))
    try:
        autoscaling.complete(client("autoscaling"), action, result)
    except autoscaling.ActionGone:
        logger.info("Action already finished elsewhere")
        return counted_ending(workflow.action_gone(state, clock.now(), "complete"))
    logger.info("Completed", extra={"result": result.value, "reason": decision["reason"]})
    # afterError: the workflow's safe result after errors it could not get past (the definition's
    # AbandonAfterError / ContinueAfterError), not a decided result whose completion was retried
    count_completion(action, result, after_error=bool(decision.get("afterError")))
    return workflow.completed(state, clock.now())
