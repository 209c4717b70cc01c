"""A readiness signal in Parameter Store: a parameter with an agreed value.

For when the signal comes from elsewhere than the instance (a deployment pipeline, a service that
registered the instance), or the instance may write to Parameter Store but not tag itself. The name
may hold ``{instanceId}``, ``{groupName}`` and ``{hookName}``, so one hook configuration serves
every instance: ``/asg-lifecycle/{instanceId}/ready``.

The value is read without decryption, so the check needs no KMS permission and never sees a secret;
for the same reason it is never shown in a reason (the parameter may hold something sensitive), and
a ``SecureString`` can never match (it comes back encrypted): that is reported as such. A missing
parameter is WAIT (not written yet), as is any other value; ``failValue`` is FAIL.

The name must be a valid Parameter Store name once the placeholders are filled in: letters, digits,
``_ . -`` and ``/``, and a name with ``/`` must start with ``/`` (a hierarchy is fully qualified).
That is checked when the configuration is read (with the placeholders standing for plain words) and
again when the check runs, since a group name may hold any character. The name must also start
with the stack's ``ReadinessParameterPath`` (what the check may read): another name is an invalid
configuration, refused when the hook is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from asg_lifecycle.checks.base import Answer, Check, CheckContext, failed, passed, waiting
from asg_lifecycle.config import StackLimits
from asg_lifecycle.model import LifecycleAction, Transition
from asg_lifecycle.params import InvalidParams, Kind, Param

PLACEHOLDERS = ("{instanceId}", "{groupName}", "{hookName}")
_NAME = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_BRACED = re.compile(r"\{[^{}]*\}")
_SECRETS_MANAGER = "/aws/reference/secretsmanager/"


class SsmParameterCheck(Check):
    name: ClassVar[str] = "ssm-parameter"
    transitions: ClassVar[frozenset[Transition]] = frozenset(
        {Transition.LAUNCHING, Transition.TERMINATING}
    )
    summary: ClassVar[str] = (
        "A Parameter Store parameter (name may contain `{instanceId}`, `{groupName}`,"
        " `{hookName}`) has an agreed value; an optional fail value ends the action early."
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "name",
            Kind.STRING,
            "the parameter's name, under the stack's ReadinessParameterPath; {instanceId},"
            " {groupName} and {hookName} are filled in",
            required=True,
            max_length=1011,
        ),
        Param(
            "value",
            Kind.STRING,
            "the value that means ready (the check passes)",
            default="ready",
            max_length=256,
        ),
        Param(
            "failValue",
            Kind.STRING,
            "a value that means the instance failed (the check fails)",
            max_length=256,
        ),
    )
    example: ClassVar[dict[str, Any]] = {
        "name": "ssm-parameter",
        "params": {"name": "/asg-lifecycle/{instanceId}/ready"},
    }
    permissions: ClassVar[tuple[str, ...]] = ("ssm:GetParameter",)
    resources: ClassVar[Mapping[str, str]] = {
        "ssm:GetParameter": '!Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}'
        ':parameter${ReadinessParameterPath}*"'
    }

    @classmethod
    def validate_params(
        cls, raw: Mapping[str, Any], *, limits: StackLimits | None = None
    ) -> dict[str, Any]:
        resolved = super().validate_params(raw)
        template: str = resolved["name"]
        unknown = sorted(set(_BRACED.findall(template)) - set(PLACEHOLDERS))
        if unknown:
            raise InvalidParams(
                f"name has unknown placeholder {unknown[0][:40]}; known: {', '.join(PLACEHOLDERS)}"
            )
        sample = template
        for placeholder in PLACEHOLDERS:
            sample = sample.replace(placeholder, "x")
        problem = _name_problem(sample)
        if problem:
            raise InvalidParams(f"name {problem}")
        if resolved.get("failValue") == resolved["value"]:
            raise InvalidParams("failValue must differ from value")
        if limits is not None:
            _check_path(template, limits.parameter_path)
        return resolved

    def evaluate(self, ctx: CheckContext) -> Answer:
        name = fill(ctx.params["name"], ctx.action)
        problem = _name_problem(name)
        if problem:
            return failed(f"parameter name {name[:100]!r} {problem}")
        ssm = ctx.client("ssm")
        try:
            parameter = ssm.get_parameter(Name=name, WithDecryption=False)["Parameter"]
        except ssm.exceptions.ParameterNotFound:
            return waiting(f"parameter {name} does not exist yet")
        if parameter.get("Type") == "SecureString":
            return waiting(
                f"parameter {name} is a SecureString, read without decryption it never matches:"
                " use a String"
            )
        value = parameter.get("Value")
        if value == ctx.params["value"]:
            return passed(f"parameter {name} is {ctx.params['value']!r}")
        if value == ctx.params.get("failValue"):
            return failed(f"parameter {name} is {ctx.params['failValue']!r}")
        return waiting(f"parameter {name} has another value than {ctx.params['value']!r}")


def fill(template: str, action: LifecycleAction) -> str:
    """The name with its placeholders filled in (plain replacement: the template is user input and
    must never reach ``str.format``). The group name goes last: it may hold any character, even a
    placeholder, which must stay as it is."""
    return (
        template.replace("{instanceId}", action.instance_id)
        .replace("{hookName}", action.hook_name)
        .replace("{groupName}", action.group_name)
    )


def _check_path(template: str, path: str | None) -> None:
    """The name starts with the stack's ReadinessParameterPath (its literal start: the path
    holds no placeholder, so a filled-in name starts with it too), as IAM grants
    ``parameter{path}*``."""
    if path is None:
        raise InvalidParams("the stack allows no readiness parameter (no ReadinessParameterPath)")
    if not template.startswith(path):
        raise InvalidParams(
            f"name {template[:128]!r} is not under the stack's ReadinessParameterPath {path!r}"
        )


def _name_problem(name: str) -> str:
    """Why ``name`` cannot be a Parameter Store name, or "" when it can."""
    if not _NAME.fullmatch(name):
        return "may only contain letters, digits, '_', '.', '-' and '/'"
    if "/" in name and not name.startswith("/"):
        return "must start with '/' when it contains '/'"
    if name.startswith(_SECRETS_MANAGER):
        return "must not reference Secrets Manager"
    return ""
