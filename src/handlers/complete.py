"""Workflow task "Complete lifecycle action": CompleteLifecycleAction with the decided result
(CONTINUE once the checks pass; ``onFailure`` / ``onTimeout`` otherwise; the safe result after a
hold for an invalid configuration).

Never sent past the hook's expiry (the action is then recorded as timed out). "No active
Lifecycle Action found" is believed only once Auto Scaling agrees the instance no longer waits
(:func:`handlers.task.after_not_found`); when the instance is where the result takes it, an
earlier try of this completion (its function timed out after the call) was accepted: the action
ends ``completed``.

Calls: CompleteLifecycleAction; DescribeAutoScalingInstances after "No active".
"""

from __future__ import annotations

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.document import InvalidDocument, StateDocument
from handlers.observability import count_completion, counted_ending, logger
from handlers.task import after_not_found, workflow_task


def complete(doc: StateDocument) -> StateDocument:
    decision = doc.decision
    if decision is None or decision.result is None:
        raise InvalidDocument("nothing to complete: the decision names no result")
    result = decision.result
    now = clock.now()
    if workflow.lapsed(doc, now):  # e.g. tried again after the hook expired
        logger.warning("Hook expired before completion; not sent", extra={"result": result.value})
        return counted_ending(workflow.timed_out(doc, now, "the completion"))
    try:
        autoscaling.complete(client("autoscaling"), doc.action, result)
    except autoscaling.ActionGone as exc:
        return after_not_found(doc, "the completion", str(exc), sent=result)
    logger.info("Completed", extra={"result": result.value, "reason": decision.reason})
    count_completion(doc.action, result)
    return workflow.completed(doc, clock.now())


handler = workflow_task(complete)
