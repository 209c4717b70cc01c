"""Scheduled: start a workflow for each served instance waiting on a hook without one (a lost
event), so that a lost event costs at most one reconcile period instead of the hook's timeout."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from asg_lifecycle import clock, reconcile, workflow
from asg_lifecycle.adapters import fleet, stepfunctions
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.document import StateDocument
from asg_lifecycle.model import InvalidAction, parse_time
from asg_lifecycle.served import ServedGroups
from handlers.observability import Metric, correlation_keys, count, logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:  # the scheduled time names the executions: a run delivered twice starts each once
        found_at = parse_time(event.get("time") if isinstance(event, dict) else None, "time")
    except InvalidAction:
        found_at = clock.now()
    state_machine = os.environ["STATE_MACHINE_ARN"]
    waiting = fleet.waiting_instances(client("autoscaling"), ServedGroups.from_env(os.environ))
    started: list[str] = []
    if waiting:
        groups = sorted({w.group_name for w in waiting})
        hooks = {g: fleet.lifecycle_hooks(client("autoscaling"), g) for g in groups}
        running = stepfunctions.running_execution_names(client("stepfunctions"), state_machine)
        for action in reconcile.orphans(waiting, hooks, running, found_at):
            doc = workflow.settling(StateDocument(action), reconcile.SETTLE_SECONDS)
            status, arn = stepfunctions.start_workflow(client("stepfunctions"), state_machine, doc)
            logger.warning(
                "Lifecycle action without a workflow: " + status,
                extra={**correlation_keys(action), "execution_arn": arn},
            )
            if status == "started":
                started.append(arn)
    count(Metric.ORPHANS_RECONCILED, len(started))
    logger.info("Reconciled", extra={"waiting": len(waiting), "started": len(started)})
    return {"waiting": len(waiting), "started": started}
