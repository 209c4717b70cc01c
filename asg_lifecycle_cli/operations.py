"""What an operator does to an action or an event: the AWS calls, thin, reusing the functions'
own adapters so that an action is addressed exactly as the workflow addresses it (by its token, or
by instance id when the reconciler started it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.events import Ignored, InvalidEvent, parse_event
from asg_lifecycle.model import LifecycleResult, execution_prefix, without_token
from asg_lifecycle.workflow import not_waiting
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


@dataclass(frozen=True, slots=True)
class Completed:
    stopped: list[str]  # workflows stopped
    not_stopped: list[str]  # "<execution>: <error>" for each stop that failed


def complete(
    asg: Any,
    sfn: Any,
    view: ActionView,
    running: list[str],
    *,
    result: LifecycleResult,
    reason: str,
    operator: str,
) -> Completed:
    """CompleteLifecycleAction now, then stop the action's running workflows (``running``: their
    ARNs; the event's and a reconcile run's may both be running), which would otherwise only find
    the action gone.

    The completion comes first: if it fails, nothing is stopped. A stop that fails after it does
    not undo it: it is reported (that workflow ends by itself, ``already-finished``, at its next
    heartbeat or completion). Each stop's cause records who completed it, with which result, why.
    """
    try:
        autoscaling.complete(asg, view.action, result)
    except autoscaling.ActionGone as exc:
        raise ActionFinished(view.action.instance_id, view.action.hook_name) from exc
    cause = f"{result.value} by {operator}: {reason}"[:32_768]
    stopped, not_stopped = [], []
    for arn in running:
        try:
            sfn.stop_execution(executionArn=arn, error=STOP_ERROR, cause=cause)
            stopped.append(arn)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            not_stopped.append(f"{arn}: {error.get('Code')}: {error.get('Message')}")
    return Completed(stopped, not_stopped)


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
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        answer = payload[:200]
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


def event_of(message: Any) -> tuple[str, Any]:
    """What a stored message holds: ``("lifecycle", event)`` (EventBridge's dead-letter message
    is the event itself; Lambda's on-failure destination a record with it as
    ``requestPayload``), ``("schedule", event)`` for a reconcile run, ``("unknown", message)``."""
    if isinstance(message, dict) and isinstance(message.get("requestPayload"), dict):
        message = message["requestPayload"]
    if isinstance(message, dict) and message.get("detail-type") == "Scheduled Event":
        return "schedule", message
    if isinstance(message, dict) and message.get("source") == "aws.autoscaling":
        return "lifecycle", message
    return "unknown", message


def _parsed(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def _describe(kind: str, event: Any) -> str:
    if kind == "lifecycle":
        detail = event.get("detail", {})
        instance, hook = detail.get("EC2InstanceId"), detail.get("LifecycleHookName")
        return f"{event.get('detail-type')}: {instance} ({hook})"
    if kind == "schedule":
        return f"reconcile run of {event.get('time')}"
    return "unrecognised message"


def resend_dead_letters(
    sqs: Any,
    stack: Stack,
    start: Callable[[Any], dict[str, Any]],
    handled_by: Callable[[Any], str | None],
    *,
    limit: int,
    dry_run: bool,
) -> list[Resent]:
    """Re-send the lifecycle events held in the stack's dead-letter queue to StartFunction.

    A message is deleted only once its action is taken care of: StartFunction started its
    workflow, found it, or ignored the event as not served; or, without sending it, a workflow
    for the action is already running (the reconciler may have started one; re-sending would
    start a second) or Auto Scaling no longer holds the action (handled, or over: re-sending
    would start a workflow for nothing). ``handled_by`` says which (the reason), or None. A
    rejected event, an error and an unrecognised message stay in the queue for a
    person to read. A reconcile run's message is discarded: every run looks at the whole fleet,
    so a missed one has nothing to replay.

    Every message received stays invisible until the end of the run (so that none is handled
    twice and the loop sees each once), then those not deleted are made visible again.
    """
    if not stack.dead_letter_queue_url:
        raise OperatorError(f"stack {stack.name!r} has no DeadLetterQueueUrl output")
    done: list[Resent] = []
    held: list[Any] = []
    try:
        while len(done) < limit:
            messages = sqs.receive_message(
                QueueUrl=stack.dead_letter_queue_url,
                MaxNumberOfMessages=min(10, limit - len(done)),
                VisibilityTimeout=_hold_seconds(limit),
                WaitTimeSeconds=1,  # long polling: a short poll may miss messages
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                resent = _handle(sqs, stack, (start, handled_by), message, dry_run)
                done.append(resent)
                if resent.disposition not in ("resent", "discarded"):
                    held.append(message)
    finally:
        for message in held:  # back in the queue: nothing was done with them
            sqs.change_message_visibility(
                QueueUrl=stack.dead_letter_queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )
    return done


def _hold_seconds(limit: int) -> int:
    """How long a received message stays invisible: the whole run, ``limit`` synchronous
    StartFunction invokes of up to its 30 s timeout, within SQS's 12-hour maximum."""
    return min(43_200, 60 + 30 * limit)


def _handle(
    sqs: Any,
    stack: Stack,
    calls: tuple[Callable[[Any], dict[str, Any]], Callable[[Any], str | None]],
    message: Any,
    dry_run: bool,
) -> Resent:
    start, handled_by = calls
    kind, event = event_of(_parsed(message["Body"]))
    what = _describe(kind, event)
    mid = message["MessageId"]
    if kind == "unknown":
        kept: Disposition = "would keep" if dry_run else "kept"
        return Resent(mid, what, kept, "not a lifecycle event: read it yourself")
    if kind == "schedule":
        if dry_run:
            return Resent(mid, what, "would discard", "the next reconcile run covers it")
        _delete(sqs, stack, message)
        return Resent(mid, what, "discarded", "the next reconcile run covers it")
    try:
        why_not = handled_by(event)
        if why_not is not None:
            if dry_run:
                return Resent(mid, what, "would discard", why_not)
            _delete(sqs, stack, message)
            return Resent(mid, what, "discarded", why_not)
        if dry_run:
            return Resent(mid, what, "would resend", "")
        answer = start(event)
    except (OperatorError, ClientError) as exc:
        return Resent(
            mid, what, "kept", exc.message if isinstance(exc, OperatorError) else str(exc)
        )
    status = str(answer.get("status"))
    text = f"{status}: {answer.get('reason') or without_token(str(answer.get('executionArn', '')))}"
    if status not in ("started", "duplicate", "ignored"):
        return Resent(mid, what, "kept", text)
    _delete(sqs, stack, message)
    return Resent(mid, what, "resent", text)


def not_held(asg: Any, event: Any) -> str | None:
    """Why Auto Scaling does not hold the event's action any more, or None if it may: the
    instance is not in the event's group in a wait state of its transition (DescribeAutoScaling
    Instances; the hook read of a workflow checks the same, but a workflow started for it would
    still be a workflow, counted and alarmed as ``ActionsNotWaiting``). None for an event that is
    not a valid lifecycle action (StartFunction says what is wrong with it)."""
    try:
        action = parse_event(event)
    except InvalidEvent:
        return None
    if isinstance(action, Ignored):
        return None
    return not_waiting(action, autoscaling.describe_instance(asg, action.instance_id))


def running_workflow_of(running_names: list[str], event: Any) -> str | None:
    """The running workflow (name, token cut) of the event's action, if any: the event's own or
    one a reconcile run started. None for an event that is not a valid lifecycle action."""
    try:
        action = parse_event(event)
    except InvalidEvent:
        return None
    if isinstance(action, Ignored):
        return None
    prefix = execution_prefix(action.transition, action.instance_id, action.hook_name) + "-"
    found = next((n for n in running_names if n.startswith(prefix)), None)
    return without_token(found) if found else None


def _delete(sqs: Any, stack: Stack, message: Any) -> None:
    sqs.delete_message(QueueUrl=stack.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
