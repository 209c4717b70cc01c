"""What an operator does to an action or an event: the AWS calls, thin, reusing the functions'
own adapters so that an action is addressed exactly as the workflow addresses it (by its token, or
by instance id when the reconciler started it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.model import LifecycleResult
from asg_lifecycle_cli.errors import ActionFinished, OperatorError
from asg_lifecycle_cli.stack import Stack
from asg_lifecycle_cli.views import ActionView

STOP_ERROR = "CompletedByOperator"


def extend(asg: Any, view: ActionView) -> None:
    """RecordLifecycleActionHeartbeat now: the hook's HeartbeatTimeout starts again."""
    try:
        autoscaling.record_heartbeat(asg, view.action)
    except autoscaling.ActionGone as exc:
        raise ActionFinished(view.action.instance_id, view.action.hook_name) from exc


def complete(
    asg: Any, sfn: Any, view: ActionView, *, result: LifecycleResult, reason: str, operator: str
) -> bool:
    """CompleteLifecycleAction now, then stop the workflow (it would only find the action gone).

    The completion comes first: if it fails, nothing is stopped. Returns whether a running
    workflow was stopped; the stop's cause records who completed it, with which result and why.
    """
    try:
        autoscaling.complete(asg, view.action, result)
    except autoscaling.ActionGone as exc:
        raise ActionFinished(view.action.instance_id, view.action.hook_name) from exc
    if view.status != "RUNNING":
        return False
    cause = f"{result.value} by {operator}: {reason}"[:32_768]
    try:
        sfn.stop_execution(executionArn=view.execution_arn, error=STOP_ERROR, cause=cause)
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return True


def invoke_start(lam: Any, stack: Stack, event: Any) -> dict[str, Any]:
    """StartFunction with ``event``, synchronously: its answer (started, duplicate, ignored,
    rejected). A function error raises :class:`OperatorError` with the function's message."""
    response = lam.invoke(
        FunctionName=stack.start_function,
        InvocationType="RequestResponse",
        Payload=json.dumps(event).encode(),
    )
    payload = response["Payload"].read()
    if response.get("FunctionError"):
        raise OperatorError(
            f"{stack.start_function} failed: {payload[:500].decode(errors='replace')}"
        )
    answer = json.loads(payload or b"null")
    if not isinstance(answer, dict):
        raise OperatorError(f"{stack.start_function} answered {answer!r}")
    return answer


# --- the dead-letter queue ------------------------------------------------------------------------

Disposition = Literal["resent", "kept", "discarded", "would resend", "would discard", "would keep"]


@dataclass(frozen=True, slots=True)
class Resent:
    message_id: str
    what: str
    disposition: Disposition
    answer: str


def event_of(body: str) -> tuple[str, Any]:
    """What a dead-letter message holds: ``("lifecycle", event)`` (EventBridge puts the event
    itself; Lambda's on-failure destination a record with it as ``requestPayload``),
    ``("schedule", event)`` for a reconcile run, ``("unknown", body)`` otherwise."""
    try:
        message = json.loads(body)
    except ValueError:
        return "unknown", body
    if isinstance(message, dict) and isinstance(message.get("requestPayload"), dict):
        message = message["requestPayload"]
    if not isinstance(message, dict):
        return "unknown", body
    if message.get("detail-type") == "Scheduled Event":
        return "schedule", message
    if message.get("source") == "aws.autoscaling":
        return "lifecycle", message
    return "unknown", body


def _describe(kind: str, event: Any) -> str:
    if kind == "lifecycle":
        detail = event.get("detail", {})
        instance, hook = detail.get("EC2InstanceId"), detail.get("LifecycleHookName")
        return f"{event.get('detail-type')}: {instance} ({hook})"
    if kind == "schedule":
        return f"reconcile run of {event.get('time')}"
    return "unrecognised message"


def resend_dead_letters(
    sqs: Any, stack: Stack, start: Callable[[Any], dict[str, Any]], limit: int, dry_run: bool
) -> list[Resent]:
    """Re-send the lifecycle events held in the stack's dead-letter queue to StartFunction.

    A message is deleted only once StartFunction handled its event (started, found the workflow
    already there, or ignored it as not served); a rejected event, a function error and an
    unrecognised message stay in the queue for a person to read. A reconcile run's message is
    discarded: every run looks at the whole fleet, so a missed one has nothing to replay.
    """
    if not stack.dead_letter_queue_url:
        raise OperatorError(f"stack {stack.name!r} has no DeadLetterQueueUrl output")
    done: list[Resent] = []
    seen: set[str] = set()
    while len(done) < limit:
        messages = sqs.receive_message(
            QueueUrl=stack.dead_letter_queue_url,
            MaxNumberOfMessages=min(10, limit - len(done)),
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        for message in messages:
            if message["MessageId"] in seen:  # kept earlier in this run: every message was seen
                _release(sqs, stack, message)
                continue
            seen.add(message["MessageId"])
            resent = _handle(sqs, stack, start, message, dry_run)
            done.append(resent)
            if resent.disposition not in ("resent", "discarded"):
                _release(sqs, stack, message)
        if not fresh:
            break
    return done


def _release(sqs: Any, stack: Stack, message: Any) -> None:
    """Back in the queue at once: nothing was done with it."""
    sqs.change_message_visibility(
        QueueUrl=stack.dead_letter_queue_url,
        ReceiptHandle=message["ReceiptHandle"],
        VisibilityTimeout=0,
    )


def _handle(
    sqs: Any, stack: Stack, start: Callable[[Any], dict[str, Any]], message: Any, dry_run: bool
) -> Resent:
    kind, event = event_of(message["Body"])
    what = _describe(kind, event)
    if kind == "unknown":
        kept: Disposition = "would keep" if dry_run else "kept"
        return Resent(message["MessageId"], what, kept, "not a lifecycle event: read it yourself")
    if kind == "schedule":
        if dry_run:
            return Resent(message["MessageId"], what, "would discard", "")
        _delete(sqs, stack, message)
        return Resent(message["MessageId"], what, "discarded", "the next reconcile run covers it")
    if dry_run:
        return Resent(message["MessageId"], what, "would resend", "")
    try:
        answer = start(event)
    except OperatorError as exc:
        return Resent(message["MessageId"], what, "kept", exc.message)
    status = str(answer.get("status"))
    text = f"{status}: {answer.get('reason') or answer.get('executionArn', '')}"
    if status not in ("started", "duplicate", "ignored"):
        return Resent(message["MessageId"], what, "kept", text)
    _delete(sqs, stack, message)
    return Resent(message["MessageId"], what, "resent", text)


def _delete(sqs: Any, stack: Stack, message: Any) -> None:
    sqs.delete_message(QueueUrl=stack.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
