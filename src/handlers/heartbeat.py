"""Workflow task: RecordLifecycleActionHeartbeat, because the next round would outlast the hook."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from handlers.observability import (
    Metric,
    correlation_keys,
    count,
    counted_ending,
    logger,
    metrics,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = workflow.action_of(event)
    logger.append_keys(**correlation_keys(action))
    sent_at = clock.now()  # the hook's new expiry counts from the request, not from the answer
    if workflow.lapsed(event, sent_at):  # e.g. a retry after the hook expired: nothing to extend
        logger.warning("Hook expired before the heartbeat; not sent")
        return counted_ending(workflow.timed_out(event, sent_at, "the heartbeat"))
    try:
        autoscaling.record_heartbeat(client("autoscaling"), action)
    except autoscaling.ActionGone:
        logger.info("Action already finished; no heartbeat needed")
        return counted_ending(workflow.action_gone(event, clock.now(), "heartbeat"))
    logger.info("Heartbeat recorded")
    count(Metric.HEARTBEATS)
    return workflow.heartbeat_recorded(event, sent_at)
