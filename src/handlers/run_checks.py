"""Workflow task "Run checks": one round of the hook's checks, then the decision: complete (the
checks passed, one failed definitively, or the time is up), heartbeat, or wait.

A check that raises or cannot reach its dependency answers "not yet" (WAIT), never a failure:
only a check's definitive answer, ``maxWaitSeconds`` or the global timeout end an action early.
A round whose task was retried until the hook nearly expired runs no check: it heartbeats first
or, past the give-up time, completes with ``onTimeout`` (``policy.before_round``).

Calls: whatever the configured checks call (each check's module says).
"""

from __future__ import annotations

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.checks.base import run_round
from asg_lifecycle.checks.catalogue import CATALOGUE
from asg_lifecycle.document import StateDocument
from handlers.observability import Metric, count, counted_ending, logger, record_check_durations
from handlers.task import workflow_task


def run_checks(doc: StateDocument) -> StateDocument:
    now = clock.now()
    if workflow.lapsed(doc, now):
        logger.warning("Hook expired before the round; no check run")
        return counted_ending(workflow.timed_out(doc, now, "the round of checks"))
    late = workflow.late_round(doc, now)
    if late is not None:
        decision = late.decision.to_json() if late.decision else None
        logger.warning("Round started late: no check run", extra={"decision": decision})
        return late
    plan, _ = doc.planned()
    results = run_round(
        plan.checks,
        CATALOGUE,
        doc.action,
        client,
        on_error=_log_check_error,
        memos=doc.memos,
        now=now,
    )
    record_check_durations(results)
    doc = workflow.checked(doc, results, clock.now())
    logger.info(
        "Checks done",
        extra={
            "checks": [r.to_json() for r in doc.checks],
            "decision": doc.decision.to_json() if doc.decision else None,
        },
    )
    return doc


def _log_check_error(check: str, exc: BaseException) -> None:
    logger.warning(
        "Check raised; treated as not ready yet", extra={"check": check, "error": repr(exc)}
    )
    count(Metric.CHECK_ERRORS)


handler = workflow_task(run_checks)
