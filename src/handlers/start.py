"""EventBridge target: start exactly one workflow per lifecycle action.

Malformed events are logged and dropped (retrying cannot fix them), and so are events of groups
this stack does not serve (:mod:`asg_lifecycle.served`); AWS errors propagate so that Lambda's
asynchronous retries and the dead-letter queue keep the event.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.adapters.stepfunctions import start_workflow
from asg_lifecycle.events import Ignored, InvalidEvent, parse_event
from asg_lifecycle.model import without_token
from asg_lifecycle.served import SERVING_TAG, ServedGroups
from handlers.observability import (
    Metric,
    correlation_keys,
    count,
    logger,
    metrics,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    event_id = event.get("id") if isinstance(event, dict) else None
    try:
        parsed = parse_event(event)
    except InvalidEvent as exc:
        logger.error("Rejected event", extra={"reason": str(exc), "event_id": event_id})
        count(Metric.EVENTS_REJECTED)
        return {"status": "rejected", "reason": str(exc)}
    if not isinstance(parsed, Ignored):
        served = ServedGroups.from_env(os.environ)
        tag = (
            autoscaling.group_tag(client("autoscaling"), parsed.group_name, SERVING_TAG)
            if served.by_tag
            else None
        )
        if not served.serves(parsed.group_name, tag):
            parsed = Ignored(f"group {parsed.group_name[:64]!r} is not served by this stack")
    if isinstance(parsed, Ignored):
        logger.info("Ignored event", extra={"reason": parsed.reason, "event_id": event_id})
        count(Metric.EVENTS_IGNORED)
        return {"status": "ignored", "reason": parsed.reason}
    logger.append_keys(**correlation_keys(parsed))
    status, arn = start_workflow(client("stepfunctions"), os.environ["STATE_MACHINE_ARN"], parsed)
    logger.info(  # the ARN ends in the execution's name, and so in the whole token
        "Workflow " + status,
        extra={"execution_arn": without_token(arn), "event_id": event_id},
    )
    count(Metric.ACTIONS_STARTED if status == "started" else Metric.DUPLICATE_EVENTS)
    return {"status": status, "executionArn": arn}
