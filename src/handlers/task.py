"""What every workflow task shares: the state document decoded at the edge, the action's log keys,
and how a task reads Auto Scaling's "No active Lifecycle Action found".

Each task of ``src/orchestrator/lifecycle.asl.json`` invokes its own small function with the
whole state document and gets the next one back. Errors are raised, not handled here: the
definition's Retry and Catch decide what a failure costs, by the exception's class name
(the task's ``errorType``, the same on AWS and on the local emulator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.document import StateDocument, Status
from asg_lifecycle.lifecycle_states import may_still_wait, where_result_takes
from asg_lifecycle.model import LifecycleResult
from handlers.observability import (
    correlation_keys,
    count_completion,
    counted_ending,
    logger,
    metrics,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

Step = Callable[[StateDocument], StateDocument]
Handler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]


class LifecycleActionNotFound(Exception):
    """Auto Scaling answered "No active Lifecycle Action found" while the instance still waits in
    the transition's state. The answer can be stale (Auto Scaling is eventually consistent): the
    definition makes the same call again, and believes the answer once it has repeated for 30 s.
    """


class InstanceNotWaitingYet(Exception):
    """The instance does not show the transition's wait state yet, shortly after its event
    (DescribeAutoScalingInstances is eventually consistent): the definition reads the hook again
    until the event is 30 s old, and only then believes it."""


def workflow_task(step: Step) -> Handler:
    """A Lambda handler for one workflow task: decode the document (an invalid one raises
    :class:`~asg_lifecycle.document.InvalidDocument`), log with the action's keys, run ``step``,
    encode what it returns."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        doc = StateDocument.from_json(event)
        logger.append_keys(**correlation_keys(doc.action))
        return step(doc).to_json()

    return handler


def after_not_found(
    doc: StateDocument, during: str, answer: str, sent: LifecycleResult | None = None
) -> StateDocument:
    """Auto Scaling found no active action for ``during`` (the heartbeat, the completion):
    believe it only once DescribeAutoScalingInstances agrees the instance no longer waits;
    otherwise raise :class:`LifecycleActionNotFound` so that the call is made again.

    A completion (``sent``: its result) tried again after its function timed out finds its own
    earlier try accepted: when the instance is where ``sent`` takes it, the action ends
    ``completed`` with that result, and the reason says how it was known."""
    now = clock.now()
    if workflow.lapsed(doc, now):
        logger.info("No active action: the hook had expired", extra={"during": during})
        return counted_ending(workflow.timed_out(doc, now, during))
    instance = autoscaling.describe_instance(client("autoscaling"), doc.action.instance_id)
    state = instance.lifecycle_state if instance else None
    ours = instance is not None and instance.group_name == doc.action.group_name
    if ours and may_still_wait(doc.action.transition, state):
        # the instance waits, or shows a state before the wait (also possibly stale): the
        # workflow saw it waiting when it read the hook, so only a repeated answer is believed
        logger.warning(
            "No active action, yet the instance may still wait: trying again",
            extra={"during": during, "lifecycle_state": state},
        )
        raise LifecycleActionNotFound(
            f"{answer[:200]} (for {during}); instance {doc.action.instance_id} is "
            f"{state}: the answer may be stale"
        )
    where = state or "in no group"
    if sent is not None and state in where_result_takes(doc.action, sent):
        logger.info(
            "No active action: an earlier try of this completion was accepted",
            extra={"result": sent.value, "instance_now": where},
        )
        count_completion(doc.action, sent)
        decided = doc.decision.reason if doc.decision else ""
        reason = (
            f"{decided}; CompleteLifecycleAction {sent.value} was accepted on an earlier try "
            f"whose answer was lost (or the action was completed the same way elsewhere): "
            f"Auto Scaling no longer holds the action and the instance is {where}"
        )
        return workflow.ended(doc, Status.COMPLETED, reason, now, sent)
    logger.info("Action already finished", extra={"during": during, "instance_now": where})
    reason = f"Auto Scaling has no active lifecycle action any more ({during}); instance {where}"
    return workflow.ended(doc, Status.ALREADY_FINISHED, reason, now)
