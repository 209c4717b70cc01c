"""Scheduled: start a workflow for each served instance waiting on a hook without one (a lost
event), so that a lost event costs at most one reconcile period instead of the hook's timeout;
and count the instances retained after an abandoned termination (``RetainedInstances``, every run,
also 0), which wait for an operator."""

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

RETAINED_LOGGED = 50  # retained instances named in the run's warning (all are counted)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:  # the scheduled time names the executions: a run delivered twice starts each once
        found_at = parse_time(event.get("time") if isinstance(event, dict) else None, "time")
    except InvalidAction:
        found_at = clock.now()
    state_machine = os.environ["STATE_MACHINE_ARN"]
    found = fleet.read_fleet(client("autoscaling"), ServedGroups.from_env(os.environ))
    waiting = found.waiting
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
    count(Metric.RETAINED_INSTANCES, len(found.retained))
    if found.retained:
        logger.warning(
            "Instances retained after an abandoned termination: terminate them when done",
            extra={
                "retained": [
                    f"{r.group_name} {r.instance_id} {r.lifecycle_state}"
                    for r in found.retained[:RETAINED_LOGGED]
                ]
            },
        )
    summary = {"waiting": len(waiting), "started": len(started), "retained": len(found.retained)}
    logger.info("Reconciled", extra=summary)
    return {"waiting": len(waiting), "started": started, "retained": len(found.retained)}
