"""Workflow task: one round of checks, then the decision (complete, heartbeat, wait)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.checks import CATALOGUE, run_round
from asg_lifecycle.policy import Plan
from handlers.observability import (
    Metric,
    correlation_keys,
    count,
    logger,
    metrics,
    record_check_durations,
)


def _log_error(check: str, exc: BaseException) -> None:
    logger.warning(
        "Check raised; treated as not ready yet", extra={"check": check, "error": repr(exc)}
    )
    count(Metric.CHECK_ERRORS)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = workflow.action_of(event)
    logger.append_keys(**correlation_keys(action))
    plan = Plan.from_json(event["plan"])
    results = run_round(
        plan.checks,
        CATALOGUE,
        action,
        client,
        on_error=_log_error,
        memos=workflow.memos_of(event),
        now=clock.now(),
    )
    record_check_durations(results)
    state = workflow.checked(event, results, clock.now())
    logger.info("Checks done", extra={"checks": state["checks"], "decision": state["decision"]})
    return state
