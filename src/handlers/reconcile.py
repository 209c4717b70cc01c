"""Scheduled: start a workflow for each served instance waiting on a hook without one (a lost
event), so that a lost event costs at most one reconcile period instead of the hook's timeout;
and count the instances retained after an abandoned termination (``RetainedInstances``, every run,
also 0), which wait for an operator.

A hook whose workflow already ran for this wait while another hook's still runs (a fast and a slow
hook) is not an orphan (:func:`asg_lifecycle.reconcile.handled_this_wait`): nothing is started
for it and ``OrphansReconciled`` does not count it. Telling them apart reads the running
executions' start dates and the executions since, only when such a candidate exists.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from asg_lifecycle import clock, reconcile, workflow
from asg_lifecycle.adapters import fleet, stepfunctions
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.document import StateDocument
from asg_lifecycle.model import InvalidAction, LifecycleAction, parse_time
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
    handled: list[LifecycleAction] = []
    if waiting:
        groups = sorted({w.group_name for w in waiting})
        hooks = {g: fleet.lifecycle_hooks(client("autoscaling"), g) for g in groups}
        running = stepfunctions.running_execution_names(client("stepfunctions"), state_machine)
        candidates = reconcile.orphans(waiting, hooks, running, found_at)
        candidates, handled = _not_handled_this_wait(candidates, running, state_machine)
        if handled:
            logger.info(
                "Hooks whose workflow already ran for this wait (another hook's runs): not orphans",
                extra={
                    "handled": [
                        f"{a.group_name} {a.instance_id} {a.hook_name}"
                        for a in handled[:RETAINED_LOGGED]
                    ]
                },
            )
        for action in candidates:
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
    summary = {
        "waiting": len(waiting),
        "started": len(started),
        "handled": len(handled),
        "retained": len(found.retained),
    }
    logger.info("Reconciled", extra=summary)
    return {"waiting": len(waiting), "started": started, "retained": len(found.retained)}


def _not_handled_this_wait(
    candidates: list[LifecycleAction], running: set[str], state_machine: str
) -> tuple[list[LifecycleAction], list[LifecycleAction]]:
    """``candidates`` split into (to start, handled already for this wait). Reads nothing more
    unless a candidate's instance has another hook's workflow running."""
    if not any(
        name.startswith(f"{a.transition.short}-{a.instance_id}-")
        for a in candidates
        for name in running
    ):
        return candidates, []
    started = stepfunctions.running_executions(client("stepfunctions"), state_machine)
    since = reconcile.history_since(candidates, started)
    if since is None:
        return candidates, []
    history = stepfunctions.executions_since(client("stepfunctions"), state_machine, since)
    return reconcile.handled_this_wait(candidates, started, history)
