"""EventBridge target: start exactly one workflow per lifecycle action.

Malformed events are logged and dropped (retrying cannot fix them), and so are events of groups
this stack does not serve (:mod:`asg_lifecycle.served`). In tag mode the group's serving tag is
read first; if Auto Scaling cannot answer (an outage at a fleet's launch), the workflow is started
anyway: its first task checks the group, the instance and its state against Auto Scaling and
retries that read for as long as the hook can wait, where this function has only Lambda's two
asynchronous retries. Step Functions errors propagate, so that those retries and the dead-letter
queue keep the event.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from asg_lifecycle import clock
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.adapters.stepfunctions import start_workflow
from asg_lifecycle.document import StateDocument
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
    if not isinstance(parsed, Ignored) and not _may_serve(parsed.group_name):
        parsed = Ignored(f"group {parsed.group_name[:64]!r} is not served by this stack")
    if isinstance(parsed, Ignored):
        logger.info("Ignored event", extra={"reason": parsed.reason, "event_id": event_id})
        count(Metric.EVENTS_IGNORED)
        return {"status": "ignored", "reason": parsed.reason}
    logger.append_keys(**correlation_keys(parsed))
    doc = StateDocument(parsed, received_at=clock.now())
    status, arn = start_workflow(client("stepfunctions"), os.environ["STATE_MACHINE_ARN"], doc)
    logger.info(  # the ARN ends in the execution's name, and so in the whole token
        "Workflow " + status,
        extra={"execution_arn": without_token(arn), "event_id": event_id},
    )
    count(Metric.ACTIONS_STARTED if status == "started" else Metric.DUPLICATE_EVENTS)
    return {"status": status, "executionArn": arn}


def _may_serve(group_name: str) -> bool:
    """Whether the group may be served: named, or (tag mode) tagged, or its tag unreadable now
    (the workflow's first task decides then)."""
    served = ServedGroups.from_env(os.environ)
    if not served.by_tag:
        return served.serves(group_name)
    try:
        tag = autoscaling.group_tag(client("autoscaling"), group_name, SERVING_TAG)
    except (BotoCoreError, ClientError) as exc:
        logger.warning(
            "Serving tag unreadable: the workflow checks the group", extra={"error": repr(exc)}
        )
        return True
    return served.serves(group_name, tag)
