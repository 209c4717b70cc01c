"""Workflow task: CompleteLifecycleAction with the decided result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.model import LifecycleResult
from handlers.observability import (
    correlation_keys,
    count_completion,
    counted_ending,
    logger,
    metrics,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = workflow.action_of(event)
    logger.append_keys(**correlation_keys(action))
    result = LifecycleResult(event["decision"]["result"])
    if workflow.lapsed(event, clock.now()):  # e.g. a retry after the hook expired
        logger.warning("Hook expired before completion; not sent", extra={"result": result.value})
        return counted_ending(workflow.timed_out(event, clock.now(), "completion"))
    try:
        autoscaling.complete(client("autoscaling"), action, result)
    except autoscaling.ActionGone:
        logger.info("Action already finished elsewhere")
        return counted_ending(workflow.action_gone(event, clock.now(), "complete"))
    logger.info("Completed", extra={"result": result.value, "reason": event["decision"]["reason"]})
    # afterError: the workflow's safe result after errors it could not get past (the definition's
    # AbandonAfterError / ContinueAfterError), not a decided result whose completion was retried
    count_completion(action, result, after_error=bool(event["decision"].get("afterError")))
    return workflow.completed(event, clock.now())
