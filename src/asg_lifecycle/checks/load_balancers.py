"""What the load-balancer checks share: which load balancers the Auto Scaling group has.

``target-group-health``, ``target-group-drain``, ``elb-health`` and ``elb-drain`` all start from
the group's own list, read once per round from DescribeAutoScalingGroups. Reading it in one place
means a new way of attaching load balancers (traffic sources) is taught to all four at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from asg_lifecycle.checks.base import CheckContext


@dataclass(frozen=True, slots=True)
class GroupLoadBalancers:
    target_groups: list[str]  # ARNs
    classic: list[str]  # Classic Load Balancer names


def of_group(ctx: CheckContext) -> GroupLoadBalancers | None:
    """The action's group's load balancers; None when Auto Scaling does not report the group."""
    groups = ctx.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[ctx.action.group_name]
    )["AutoScalingGroups"]
    if not groups:
        return None
    group = groups[0]
    return GroupLoadBalancers(
        list(group.get("TargetGroupARNs", [])), list(group.get("LoadBalancerNames", []))
    )


def target_group_name(arn: str) -> str:
    """``arn:...:targetgroup/web/0123abcd`` -> ``web``."""
    return arn.rsplit("/", 2)[-2]


def non_empty(**lists: list[str]) -> dict[str, list[str]]:
    """Details with the empty lists left out."""
    return {key: value for key, value in lists.items() if value}
