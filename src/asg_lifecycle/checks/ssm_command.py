"""Run an SSM Run Command document on the instance and require it to succeed.

The command is the instance's own word on its readiness (a health script at launch, a drain script
at termination), so it runs once per action: the first round sends it and keeps its id as memo,
later rounds only read its invocation, and a command that passed keeps passing without being sent
again while other checks still wait.

What SSM reports maps onto WAIT / PASS / FAIL like this:

* not finished (``Pending``, ``InProgress``, ``Delayed``) or not visible yet right after sending
  (``InvocationDoesNotExist``): WAIT;
* never delivered (``Undeliverable``, ``Delivery Timed Out`` before it started; common at launch
  while the SSM agent comes up): WAIT, and the memo is dropped so the next round sends it again;
* ``SendCommand`` refused with ``InvalidInstanceId`` (the agent has not registered the instance
  yet): WAIT; but for a terminate action FAIL when EC2 says the instance is shutting down or
  terminated (a terminate hook also holds an instance terminated through EC2 or replaced after
  failing its health checks: the command can never run on it, and waiting would hold the hook
  until maxWaitSeconds);
* ``Success``: PASS; ``Failed`` (the command exited non-zero), ``TimedOut``, ``Cancelled``: FAIL,
  and so is a document or parameters SSM rejects (a configuration error that retrying won't fix).

The document must be one the stack allows (``SsmCommandDocuments``): by name, or by the ARN of
this account and Region (an AWS-owned document's ARN has no account). A document shared from
another account never runs: whoever can put a lifecycle hook could otherwise run any command on
the instances with a same-named document of their own. Anything else is an invalid
configuration, refused when the hook is read.

The command's output is not recorded by default: a check's details reach the check function's
log and the execution history (anyone with ``states:GetExecutionHistory`` reads them), and a
script may print a secret. The stack parameter ``RecordCommandOutput`` (``Enabled``) records the
last 500 characters of the output (``outputTail``) and of the error output (``errorTail``).

Our own limit backs SSM's: a command still unfinished ``_DELIVERY_TIMEOUT + timeoutSeconds + 60``
seconds after it was sent is FAIL. SSM gives up on its own after the delivery timeout plus the
execution timeout; the 60 seconds are slack for its bookkeeping.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from asg_lifecycle import clock
from asg_lifecycle.checks.base import Answer, Check, CheckContext, failed, passed, waiting
from asg_lifecycle.config import StackLimits, records_command_output
from asg_lifecycle.model import InvalidAction, Transition, format_time, parse_time
from asg_lifecycle.params import InvalidParams, Kind, Param

DEFAULT_DOCUMENT = "AWS-RunShellScript"
# The AWS documents that take ``commands`` and ``executionTimeout``.
_SHELL_DOCUMENTS = frozenset({DEFAULT_DOCUMENT, "AWS-RunPowerShellScript"})
_SHELL_OWNED = frozenset({"commands", "executionTimeout"})  # set from our own params
# SendCommand's DocumentName: a name or an ARN (which the stack's limits pin to its own account).
_DOCUMENT_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{3,128}$")
_DELIVERY_TIMEOUT = 300  # SendCommand TimeoutSeconds: not started by then, SSM won't run it
_SLACK = 60
_TAIL = 500
NOT_RECORDED = (
    "not recorded (it may hold secrets: the stack parameter RecordCommandOutput=Enabled records"
    f" its last {_TAIL} characters)"
)
_COMMENT_MAX = 100  # SendCommand Comment
_NOT_DELIVERED = frozenset({"Undeliverable", "Delivery Timed Out"})


class SsmCommandCheck(Check):
    name: ClassVar[str] = "ssm-command"
    transitions: ClassVar[frozenset[Transition]] = frozenset(
        {Transition.LAUNCHING, Transition.TERMINATING}
    )
    summary: ClassVar[str] = (
        "An SSM Run Command document (shell commands by default) runs on the instance once and"
        " succeeds; a non-zero exit is a failure."
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "commands",
            Kind.STRINGS,
            f"shell commands for {DEFAULT_DOCUMENT} (or AWS-RunPowerShellScript); required there",
        ),
        Param(
            "document",
            Kind.STRING,
            "the SSM document to run, one of the stack's SsmCommandDocuments: its name, or its"
            " ARN in this account and Region (an AWS-owned document's ARN has no account)",
            default=DEFAULT_DOCUMENT,
            max_length=128,
        ),
        Param(
            "parameters",
            Kind.OBJECT,
            "the document's parameters, each a string (sent as a one-element list)",
            max_items=20,
        ),
        Param(
            "timeoutSeconds",
            Kind.INTEGER,
            "the command's execution timeout (executionTimeout of the shell documents); still"
            f" unfinished {_DELIVERY_TIMEOUT} s (delivery) + this + {_SLACK} s after it was sent,"
            " the check fails",
            default=600,
            bounds=(30, 172_800),
        ),
    )
    example: ClassVar[dict[str, Any]] = {
        "name": "ssm-command",
        "params": {"commands": ["/opt/app/bin/healthcheck"], "timeoutSeconds": 300},
    }
    permissions: ClassVar[tuple[str, ...]] = (
        "ssm:SendCommand",
        "ssm:GetCommandInvocation",
        "ec2:DescribeInstanceStatus",
    )
    resources: ClassVar[Mapping[str, str]] = {  # the stack's documents, on its instances
        "ssm:SendCommand": '[!Split [",", !Join ["", ["arn:*:ssm:*:*:document/",'
        ' !Join [",arn:*:ssm:*:*:document/", !Ref SsmCommandDocuments]]]],'
        ' !Sub "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*"]'
    }

    @classmethod
    def validate_params(
        cls, raw: Mapping[str, Any], *, limits: StackLimits | None = None
    ) -> dict[str, Any]:
        resolved = super().validate_params(raw)
        problem = _params_problem(resolved)
        if not problem and limits is not None:
            problem = _document_problem(resolved["document"], limits)
        if problem:
            raise InvalidParams(problem)
        return resolved

    def evaluate(self, ctx: CheckContext) -> Answer:
        now = ctx.now or clock.now()
        sent = _read_memo(ctx.memo)
        if sent is None:
            return _send(ctx, now)
        command_id, sent_at = sent
        return _read(ctx, command_id, sent_at, now)


def _params_problem(params: Mapping[str, Any]) -> str:
    """Why these (individually valid) params cannot work together, or "" when they can."""
    document = params.get("document", DEFAULT_DOCUMENT)
    if not _DOCUMENT_NAME.fullmatch(document):
        return f"document {document[:64]!r} is not an SSM document name or ARN"
    shell = _shell(document)
    if shell and not params.get("commands"):
        return f"no commands given for {document}"
    if not shell and "commands" in params:
        return (
            f"commands only applies to {', '.join(sorted(_SHELL_DOCUMENTS))};"
            f" pass {document[:64]}'s own parameters in parameters"
        )
    clash = sorted(_SHELL_OWNED & set(params.get("parameters", {}))) if shell else []
    if clash:
        return f"parameters.{clash[0]} is set from commands / timeoutSeconds, not parameters"
    return ""


def _shell(document: str) -> bool:
    """Whether ``document`` (a name, or an ARN: an AWS-owned document's has no account) is one
    of the shell documents, which take ``commands``."""
    return document.rsplit(":document/", 1)[-1] in _SHELL_DOCUMENTS


def _document_problem(document: str, limits: StackLimits) -> str:
    """Why the stack does not allow ``document``, or "" when it does: one of its
    SsmCommandDocuments, by name or by its ARN in this account and Region (an AWS-owned
    document's, with no account); never a document of another account."""
    name = document
    if document.startswith("arn:"):
        problem = limits.arn_problem(document, "ssm", aws_owned=True)
        if problem:
            return (
                f"document {document[:128]!r} {problem}: a document shared from another"
                " account is never run"
            )
        resource = document.split(":", 5)[5]
        name = resource.removeprefix("document/")
        if name == resource or "/" in name:
            return f"document {document[:128]!r} is not an SSM document ARN"
    if name not in limits.ssm_documents:
        allowed = ", ".join(sorted(limits.ssm_documents)[:10]) or "none: it is empty"
        return (
            f"document {name[:128]!r} is not one of the stack's SsmCommandDocuments ({allowed});"
            " add it to the stack parameter to run it"
        )
    return ""


_ENDED = frozenset({"shutting-down", "terminated"})


def _ended_in_ec2(ctx: CheckContext) -> str | None:
    """The instance's EC2 state when EC2 says it is shutting down or terminated; None otherwise,
    also when EC2 does not list it (its API is eventually consistent: a new instance can be
    missing for a moment) or cannot answer now: the round then waits, as for an agent not
    registered yet. Asked for terminate actions only: a launching instance is never ended."""
    ec2 = ctx.client("ec2")
    try:
        statuses = ec2.describe_instance_status(
            InstanceIds=[ctx.action.instance_id], IncludeAllInstances=True
        )["InstanceStatuses"]
    except ec2.exceptions.ClientError:
        return None
    state = str(statuses[0].get("InstanceState", {}).get("Name")) if statuses else ""
    return state if state in _ENDED else None


def _send(ctx: CheckContext, now: datetime) -> Answer:
    ssm = ctx.client("ssm")
    action = ctx.action
    document: str = ctx.params["document"]
    parameters = {key: [value] for key, value in ctx.params.get("parameters", {}).items()}
    if _shell(document):
        parameters["commands"] = list(ctx.params["commands"])
        parameters["executionTimeout"] = [str(ctx.params["timeoutSeconds"])]
    comment = f"asg-lifecycle {action.transition.short} hook {action.hook_name}"
    try:
        response = ssm.send_command(
            InstanceIds=[action.instance_id],
            DocumentName=document,
            Parameters=parameters,
            TimeoutSeconds=_DELIVERY_TIMEOUT,
            Comment=comment[:_COMMENT_MAX],
        )
    except ssm.exceptions.InvalidInstanceId:
        gone = _ended_in_ec2(ctx) if action.transition is Transition.TERMINATING else None
        if gone:
            return failed(f"the instance is {gone} in EC2: the command can never run on it")
        return waiting("SSM does not manage the instance yet (agent not registered)")
    except (  # configuration SSM will refuse however often it is asked
        ssm.exceptions.InvalidDocument,
        ssm.exceptions.InvalidDocumentVersion,
        ssm.exceptions.InvalidParameters,
        ssm.exceptions.MaxDocumentSizeExceeded,
        ssm.exceptions.UnsupportedPlatformType,
    ) as exc:
        code = exc.response.get("Error", {}).get("Code", type(exc).__name__)
        message = str(exc.response.get("Error", {}).get("Message", ""))[:200]
        return failed(f"SSM refused document {document[:64]}: {code} {message}".rstrip())
    command_id: str = response["Command"]["CommandId"]
    return waiting(
        f"command {command_id} sent",
        memo={"commandId": command_id, "sentAt": format_time(now)},
    )


def _read(ctx: CheckContext, command_id: str, sent_at: datetime, now: datetime) -> Answer:
    ssm = ctx.client("ssm")
    memo = ctx.memo
    elapsed = int((now - sent_at).total_seconds())
    limit = _DELIVERY_TIMEOUT + int(ctx.params["timeoutSeconds"]) + _SLACK
    try:
        invocation = ssm.get_command_invocation(
            CommandId=command_id, InstanceId=ctx.action.instance_id
        )
    except (ssm.exceptions.InvocationDoesNotExist, ssm.exceptions.InvalidCommandId):
        # Eventual consistency right after SendCommand; bounded by our own limit.
        if elapsed > limit:
            return failed(f"command {command_id} still not found after {elapsed}s")
        return waiting(f"command {command_id} not visible yet", memo=memo)

    status: str = invocation.get("Status", "")
    details: str = invocation.get("StatusDetails", "")
    code = invocation.get("ResponseCode")
    if details in _NOT_DELIVERED and not invocation.get("ExecutionStartDateTime"):
        return waiting(f"command {command_id} not delivered ({details}), will send again")
    if status == "Success":
        return passed(
            f"command {command_id} succeeded",
            memo=memo,
            commandId=command_id,
            responseCode=code,
            **_output(invocation, "StandardOutputContent", "outputTail"),
        )
    if status == "Failed":
        return failed(
            f"command {command_id} failed (exit code {code})",
            commandId=command_id,
            responseCode=code,
            statusDetails=details,
            **_output(invocation, "StandardErrorContent", "errorTail"),
        )
    if status == "TimedOut":
        return failed(f"command {command_id} timed out ({details or status})", commandId=command_id)
    if status in {"Cancelled", "Cancelling"}:
        return failed(f"command {command_id} was cancelled", commandId=command_id)
    if elapsed > limit:
        return failed(
            f"command {command_id} still {status or 'unknown'} after {elapsed}s (limit {limit}s)",
            commandId=command_id,
        )
    return waiting(f"command {command_id} {status or 'in an unknown status'}", memo=memo)


def _output(invocation: Mapping[str, Any], field: str, key: str) -> dict[str, str]:
    """The command's output for the check's details: its last characters under ``key`` when the
    stack records output (``RecordCommandOutput``), otherwise only that it is not recorded."""
    if not records_command_output(os.environ):
        return {"output": NOT_RECORDED}
    return {key: str(invocation.get(field, ""))[-_TAIL:]}


def _read_memo(memo: Any) -> tuple[str, datetime] | None:
    """The command id and send time from last round's memo; None when there is nothing usable
    (first round, or a memo from an older version): the command is then sent."""
    if not isinstance(memo, dict):
        return None
    command_id = memo.get("commandId")
    sent_at = memo.get("sentAt")
    if not isinstance(command_id, str) or not command_id:
        return None
    try:
        return command_id, parse_time(sent_at, "sentAt")
    except InvalidAction:
        return None
