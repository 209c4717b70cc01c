"""Terminate check: the instance is out of every target group of its Auto Scaling group.

Auto Scaling deregisters a terminating instance from the group's target groups, and the load
balancer keeps it ``draining`` for the target group's deregistration delay. The instance is drained
when no target group reports it in any state other than ``unused`` (or not at all). All ports of the
instance count: the target group is read whole and filtered by instance id.
"""

from __future__ import annotations

from typing import Any, ClassVar

from asg_lifecycle.checks.base import Answer, Check, CheckContext, passed, waiting
from asg_lifecycle.checks.load_balancers import of_group, target_group_name
from asg_lifecycle.model import Transition


class TargetGroupDrainCheck(Check):
    name: ClassVar[str] = "target-group-drain"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.TERMINATING})
    summary: ClassVar[str] = (
        "Deregistered and drained from every target group of the Auto Scaling group (the"
        " target group's deregistration delay is honoured: `draining` waits)."
    )
    example: ClassVar[dict[str, Any]] = {"name": "target-group-drain"}
    permissions: ClassVar[tuple[str, ...]] = (
        "autoscaling:DescribeAutoScalingGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    )

    def evaluate(self, ctx: CheckContext) -> Answer:
        group = of_group(ctx)
        arns = group.target_groups if group is not None else []
        if not arns:
            return passed("the group has no target groups")
        elbv2 = ctx.client("elbv2")
        still = [
            note for arn in arns if (note := _still_registered(elbv2, arn, ctx.action.instance_id))
        ]
        if still:
            return waiting("; ".join(still))
        return passed(f"drained from {len(arns)} target group(s)")


def _still_registered(elbv2: Any, arn: str, instance_id: str) -> str:
    try:
        descriptions = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    except elbv2.exceptions.TargetGroupNotFoundException:
        return ""  # a deleted target group holds nothing
    states = sorted(
        {
            d["TargetHealth"]["State"]
            for d in descriptions
            if d["Target"]["Id"] == instance_id and d["TargetHealth"]["State"] != "unused"
        }
    )
    return f"{target_group_name(arn)}: {','.join(states)}" if states else ""
