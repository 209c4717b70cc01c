"""A readiness signal the instance gives itself: a tag on the instance with an agreed value.

The instance's own boot (or drain) script knows best when it is done; tagging itself
(``aws ec2 create-tags --resources <self> --tags Key=lifecycle,Value=ready``, which needs
``ec2:CreateTags`` on itself) is the simplest way to say so with no extra infrastructure. A script
that knows it cannot succeed says so with ``failValue``, ending the action early instead of at the
deadline. Any other value, or no tag yet, is WAIT; tag values are not secret, so the reason shows
the current one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from asg_lifecycle.checks.base import Answer, Check, CheckContext, failed, passed, waiting
from asg_lifecycle.config import StackLimits
from asg_lifecycle.model import Transition
from asg_lifecycle.params import InvalidParams, Kind, Param


class InstanceTagCheck(Check):
    name: ClassVar[str] = "instance-tag"
    transitions: ClassVar[frozenset[Transition]] = frozenset(
        {Transition.LAUNCHING, Transition.TERMINATING}
    )
    summary: ClassVar[str] = (
        "The instance tagged itself with an agreed value (e.g. `lifecycle=ready`); an optional"
        " fail value ends the action early."
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param("key", Kind.STRING, "the tag key the instance sets", required=True, max_length=128),
        Param(
            "value",
            Kind.STRING,
            "the tag value that means ready (the check passes)",
            default="ready",
            max_length=256,
        ),
        Param(
            "failValue",
            Kind.STRING,
            "a tag value that means the instance failed (the check fails)",
            max_length=256,
        ),
    )
    example: ClassVar[dict[str, Any]] = {
        "name": "instance-tag",
        "params": {"key": "lifecycle", "failValue": "failed"},
    }
    permissions: ClassVar[tuple[str, ...]] = ("ec2:DescribeTags",)

    @classmethod
    def validate_params(
        cls, raw: Mapping[str, Any], *, limits: StackLimits | None = None
    ) -> dict[str, Any]:
        resolved = super().validate_params(raw)
        if resolved.get("failValue") == resolved["value"]:
            raise InvalidParams("failValue must differ from value")
        return resolved

    def evaluate(self, ctx: CheckContext) -> Answer:
        key: str = ctx.params["key"]
        response = ctx.client("ec2").describe_tags(
            Filters=[
                {"Name": "resource-id", "Values": [ctx.action.instance_id]},
                {"Name": "key", "Values": [key]},
            ]
        )
        values = [tag.get("Value", "") for tag in response.get("Tags", []) if tag["Key"] == key]
        if not values:
            return waiting(f"tag {key!r} is not set")
        value = values[0]
        if value == ctx.params["value"]:
            return passed(f"tag {key!r} is {value!r}")
        if value == ctx.params.get("failValue"):
            return failed(f"tag {key!r} is {value!r}")
        # Another value is the instance's free text: shown short (tags hold no secrets, as AWS
        # advises, but a reason is no place for a long one).
        return waiting(f"tag {key!r} is {value[:64]!r}, waiting for {ctx.params['value']!r}")
