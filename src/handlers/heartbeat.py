"""Workflow task "Record lifecycle action heartbeat" (and a reconciled action's "Confirm with a
heartbeat"): RecordLifecycleActionHeartbeat, which restarts the hook's full HeartbeatTimeout.

Sent only when the round decided the hook would lapse before the next one (``decide`` in
:mod:`asg_lifecycle.policy`), never past the hook's expiry (the action is then recorded as timed
out). "No active Lifecycle Action found" is believed only once Auto Scaling agrees the instance
no longer waits (:func:`handlers.task.after_not_found`).

Calls: RecordLifecycleActionHeartbeat; DescribeAutoScalingInstances after "No active".
"""

from __future__ import annotations

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.document import StateDocument
from handlers.observability import Metric, count, counted_ending, logger
from handlers.task import after_not_found, workflow_task


def record_heartbeat(doc: StateDocument) -> StateDocument:
    sent_at = clock.now()  # the hook's new expiry counts from the request, not from the answer
    if workflow.lapsed(doc, sent_at):  # e.g. tried again after the hook expired
        logger.warning("Hook expired before the heartbeat; not sent")
        return counted_ending(workflow.timed_out(doc, sent_at, "the heartbeat"))
    try:
        autoscaling.record_heartbeat(client("autoscaling"), doc.action)
    except autoscaling.ActionGone as exc:
        return after_not_found(doc, "the heartbeat", str(exc))
    count(Metric.HEARTBEATS)
    doc = workflow.heartbeat_recorded(doc, sent_at)
    expires = doc.progress.to_json()["hookExpiresAt"] if doc.progress else None
    logger.info("Heartbeat recorded", extra={"hook_expires_at": expires})
    return doc


handler = workflow_task(record_heartbeat)
