"""Launch or terminate check written by the user: a Lambda function answers pass, retry or fail.

What no built-in check knows (a cache warmed, a node joined a cluster, a job handed over) the
user's own function checks. It is invoked synchronously, once a round, with the action (never the
LifecycleActionToken: the token completes the action, a capability the function must not hold)::

    {"instanceId": "i-...", "groupName": "...", "hookName": "...",
     "transition": "autoscaling:EC2_INSTANCE_LAUNCHING", "origin": "EC2",
     "destination": "AutoScalingGroup", "startedAt": "2026-01-01T00:00:00Z",
     "attempt": 1, "params": {...the check's payload parameter...}}

``attempt`` counts the invocations for this action (1, 2, ...), carried in the check's memo. The
function answers ``{"status": "pass" | "retry" | "fail", "reason": "..."}`` (status in any case,
reason optional and cut to 300 characters): PASS, WAIT and FAIL. A function that needs longer than
the round allows should answer ``retry`` at once and keep its own state.

The function must be one the stack allows (``CustomCheckFunctionArns``, or an alias or version of
one; a name or partial ARN is read in this stack's account and Region): anything else is an
invalid configuration, refused when the hook is read.

What reaches the log and the execution history: the ``reason`` (written by the function's author
for the operators who read it, as a check's reason is: kept, cut to 300 characters), the error's
type, and for an answer that is not such an object only its shape (a JSON type and key names),
never its text: an arbitrary answer is not a message meant for a log and may quote anything.

* The function raised (``FunctionError``, a timeout included): WAIT, with the error type (not its
  message: it may quote anything). A bug or a transient dependency, retried until the deadline.
* An answer that is not such an object: WAIT, "unexpected answer", with its shape.
* The function does not exist (``ResourceNotFoundException``, also a missing alias or version):
  FAIL. Invoke only says so once the name resolves to nothing; a function being updated answers
  ResourceConflict / ResourceNotReady instead (and those are WAIT, as every other error). A typo
  must not hold capacity until the deadline with the mistake hidden in a WAIT reason; a function
  created after the group (no dependency between them) costs one instance, replaced at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from asg_lifecycle.checks.base import Answer, Check, CheckContext, failed, passed, waiting
from asg_lifecycle.config import StackLimits
from asg_lifecycle.model import Transition, format_time
from asg_lifecycle.params import InvalidParams, Kind, Param

REASON_MAX = 300
# Invoke's FunctionName: a name, a partial ARN (123456789012:function:name) or a full ARN, each
# with an optional version or alias.
_PARTIAL = re.compile(r"\d{12}:function:")
_FUNCTION = re.compile(
    r"(arn:aws[a-zA-Z-]*:lambda:(eusc-)?[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:)?"
    r"(\d{12}:)?(function:)?[a-zA-Z0-9_-]{1,140}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?"
)


class LambdaCheck(Check):
    name: ClassVar[str] = "lambda"
    transitions: ClassVar[frozenset[Transition]] = frozenset(Transition)
    summary: ClassVar[str] = (
        'Your Lambda function answers `{"status": "pass" | "retry" | "fail", "reason":'
        " ...}` (it raising is retried; a function that does not exist fails)."
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "function",
            Kind.STRING,
            "the function to invoke, one of the stack's CustomCheckFunctionArns: name, ARN or"
            " partial ARN, optionally with :alias or :version",
            required=True,
            max_length=170,
        ),
        Param(
            "payload",
            Kind.OBJECT,
            "strings passed to the function as its `params`",
            max_length=256,
            max_items=20,
        ),
    )
    example: ClassVar[dict[str, Any]] = {
        "name": "lambda",
        "params": {"function": "warm-cache-ready", "payload": {"port": "8080"}},
    }
    permissions: ClassVar[tuple[str, ...]] = ("lambda:InvokeFunction",)
    resources: ClassVar[Mapping[str, str]] = {  # each function, and its aliases and versions
        "lambda:InvokeFunction": (
            '!Split [",", !Join [",", [!Join [",", !Ref CustomCheckFunctionArns],'
            ' !Join ["", [!Join [":*,", !Ref CustomCheckFunctionArns], ":*"]]]]]'
        )
    }

    @classmethod
    def validate_params(
        cls, raw: Mapping[str, Any], *, limits: StackLimits | None = None
    ) -> dict[str, Any]:
        params = super().validate_params(raw)
        function: str = params["function"]
        if not _FUNCTION.fullmatch(function):
            raise InvalidParams(
                f"function {function[:64]!r} is not a function name, ARN or partial ARN"
            )
        if limits is not None and not allowed_function(function, limits):
            granted = ", ".join(limits.check_functions[:5]) or "none: it is empty"
            raise InvalidParams(
                f"function {function[:140]!r} is not one of the stack's CustomCheckFunctionArns"
                f" ({granted[:600]}) nor an alias or version of one; add it to the stack"
                " parameter to invoke it"
            )
        return params

    def evaluate(self, ctx: CheckContext) -> Answer:
        function: str = ctx.params["function"]
        label = function.rsplit(":function:", 1)[-1]
        attempt = (ctx.memo if isinstance(ctx.memo, int) else 0) + 1
        action = ctx.action
        event = {
            "instanceId": action.instance_id,
            "groupName": action.group_name,
            "hookName": action.hook_name,
            "transition": action.transition.value,
            "origin": action.origin,
            "destination": action.destination,
            "action": action.action_name,
            "startedAt": format_time(action.started_at),
            "attempt": attempt,
            "params": dict(ctx.params.get("payload") or {}),
        }
        client = ctx.client("lambda")
        try:
            response = client.invoke(
                FunctionName=function,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode(),
            )
        except client.exceptions.ResourceNotFoundException:
            return failed(f"function {label} not found (check the function parameter)")
        body: bytes = response["Payload"].read()
        if response.get("FunctionError"):
            return waiting(
                f"{label} raised {_error_type(body, response['FunctionError'])}", attempt
            )
        return _verdict(label, body, attempt)


def allowed_function(function: str, limits: StackLimits) -> bool:
    """Whether ``function`` is one the stack may invoke: as IAM grants CustomCheckFunctionArns,
    each ARN and ``ARN:*`` (its aliases and versions); a name or partial ARN is this stack's
    account and Region, as Invoke reads it."""
    arn = _full_arn(function, limits)
    for granted in limits.check_functions:
        allowed = _full_arn(granted, limits)
        if arn == allowed or arn.startswith(allowed + ":"):
            return True
    return False


def _full_arn(function: str, limits: StackLimits) -> str:
    """``function`` (name, partial or full ARN, with any qualifier) as a full ARN."""
    if function.startswith("arn:"):
        return function
    prefix = f"arn:{limits.partition}:lambda:{limits.region}:"
    if _PARTIAL.match(function):  # 123456789012:function:name
        return prefix + function
    return f"{prefix}{limits.account}:function:{function.removeprefix('function:')}"


def _error_type(body: bytes, default: str) -> str:
    try:
        error = json.loads(body)
    except ValueError:
        return default[:100]
    kind = error.get("errorType") if isinstance(error, dict) else None
    return (kind if isinstance(kind, str) and kind else default)[:100]


def _shape(body: bytes, answer: Any) -> str:
    """What an unexpected answer is, without its text (it may quote anything)."""
    if answer is None and body.strip() not in {b"", b"null"}:
        return f"{len(body)} bytes that are not JSON"
    if isinstance(answer, dict):
        keys = ", ".join(repr(str(key)[:32]) for key in list(answer)[:5])
        return f"an object with keys {keys or 'none'}" + (" ..." if len(answer) > 5 else "")
    return {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
    }.get(type(answer), "a JSON value")


def _verdict(label: str, body: bytes, attempt: int) -> Answer:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    status = answer.get("status") if isinstance(answer, dict) else None
    reason = answer.get("reason") if isinstance(answer, dict) else None
    verdict = status.lower() if isinstance(status, str) else ""
    if verdict not in {"pass", "retry", "fail"} or not isinstance(reason, str | None):
        return waiting(
            f"unexpected answer from {label}: {_shape(body, answer)}, not"
            ' {"status": "pass" | "retry" | "fail", "reason": ...}',
            attempt,
        )
    said = f"{label}: {reason[:REASON_MAX]}" if reason else f"{label} answered {verdict}"
    if verdict == "pass":
        return passed(said, attempt)
    if verdict == "retry":
        return waiting(said, attempt)
    return failed(said)
