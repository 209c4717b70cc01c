"""Workflow task: read the hook once (timeout, default result, configuration), plan the action."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.checks import allowed_for
from asg_lifecycle.config import ActionConfig, Defaults, InvalidConfig, read_config
from asg_lifecycle.model import without_token
from handlers.observability import (
    Metric,
    correlation_keys,
    count,
    logger,
    metrics,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = workflow.action_of(event)
    logger.append_keys(**correlation_keys(action))
    if action.reconciled:  # rare: imported on this path only (python -m bench.imports)
        from asg_lifecycle import reconcile  # noqa: PLC0415
        from asg_lifecycle.adapters import stepfunctions  # noqa: PLC0415

        if not event.get("settled"):
            return workflow.settling(event, reconcile.SETTLE_SECONDS)
        running = stepfunctions.running_execution_names(
            client("stepfunctions"), os.environ["STATE_MACHINE_ARN"]
        )
        others = reconcile.other_workflows(action, running)
        if others:
            logger.info(
                "Another workflow handles this action",
                extra={"other_execution": without_token(others[0])},
            )
            return workflow.duplicate(event, clock.now(), others[0])
        state = autoscaling.instance_lifecycle_state(client("autoscaling"), action.instance_id)
        if not reconcile.still_waiting(action, state):  # e.g. the late event's workflow is done
            return workflow.action_gone(event, clock.now(), f"instance is {state or 'gone'}")
    hook = autoscaling.describe_hook(client("autoscaling"), action.group_name, action.hook_name)
    if hook is not None and action.reconciled:
        # The reconciler cannot tell which of a group's hooks still hold the instance: a heartbeat
        # by instance id confirms this one does (and restarts its timeout, which the plan assumes).
        try:
            autoscaling.record_heartbeat(client("autoscaling"), action)
        except autoscaling.ActionGone:
            logger.info("Reconciled action is not active for this hook")
            return workflow.action_gone(event, clock.now(), "confirming a reconciled action")
    if hook is None:
        logger.warning("Lifecycle hook not found")
        return workflow.planned(event, None, None, "", clock.now())
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
    return workflow.planned(event, hook.heartbeat_timeout, hook.default_result, config, clock.now())
