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

* The function raised (``FunctionError``, a timeout included): WAIT, with the error type (not its
  message: it may quote anything). A bug or a transient dependency, retried until the deadline.
* An answer that is not such an object: WAIT, "unexpected answer", with a short excerpt.
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
from asg_lifecycle.model import Transition, format_time
from asg_lifecycle.params import InvalidParams, Kind, Param

REASON_MAX = 300
# Invoke's FunctionName: a name, a partial ARN (123456789012:function:name) or a full ARN, each
# with an optional version or alias.
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
            "the function to invoke: name, ARN or partial ARN, optionally with :alias",
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

    @classmethod
    def validate_params(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        params = super().validate_params(raw)
        if not _FUNCTION.fullmatch(params["function"]):
            raise InvalidParams(
                f"function {params['function'][:64]!r} is not a function name, ARN or partial ARN"
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


def _error_type(body: bytes, default: str) -> str:
    try:
        error = json.loads(body)
    except ValueError:
        return default[:100]
    kind = error.get("errorType") if isinstance(error, dict) else None
    return (kind if isinstance(kind, str) and kind else default)[:100]


def _verdict(label: str, body: bytes, attempt: int) -> Answer:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    status = answer.get("status") if isinstance(answer, dict) else None
    reason = answer.get("reason") if isinstance(answer, dict) else None
    verdict = status.lower() if isinstance(status, str) else ""
    if verdict not in {"pass", "retry", "fail"} or not isinstance(reason, str | None):
        excerpt = body[:80].decode("utf-8", "replace")
        return waiting(f"unexpected answer from {label}: {excerpt!r}", attempt)
    said = f"{label}: {reason[:REASON_MAX]}" if reason else f"{label} answered {verdict}"
    if verdict == "pass":
        return passed(said, attempt)
    if verdict == "retry":
        return waiting(said, attempt)
    return failed(said)
