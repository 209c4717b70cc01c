"""Launch check: the instance is ``healthy`` in every target group of its Auto Scaling group.

The point of a launch hook is often "no traffic until the instance is ready", and the load
balancer's own health check is the best judge of ready. But Auto Scaling registers a launching
instance with the group's target groups only *after* the launch lifecycle action completes, so in
``Pending:Wait`` the instance is in none of them and would never become healthy there. So by
default (``register: true``) the check registers the instance itself (``RegisterTargets`` with the
instance id, on the target group's port: what Auto Scaling would do) and waits for the load
balancer to call it ``healthy``. Registering is idempotent: Auto Scaling registering it again after
the launch changes nothing.

What an operator should know:

- Once healthy, the instance receives traffic while still in ``Pending:Wait``. Checks that must
  finish before any traffic (a warm-up command) belong *before* this one in the ``checks`` list.
- ``register: false`` only observes. Use it when something else registers the instance (user data,
  a deployment tool); otherwise the instance is never registered and the check waits until the
  action's deadline.
- ``initial``, ``unhealthy``, ``unused``, ``draining`` and ``unavailable`` are all WAIT, with the
  load balancer's reason: health checks may still succeed (slow start, a dependency coming up), and
  a target group attached to no load balancer (``unused``, ``Target.NotInUse``) may get a listener.
  None of them is a definitive answer, so the check never FAILs; the deadline decides.
- A target group that no longer exists serves nothing and cannot become healthy: it is skipped
  (named in ``details.missing``), so a stale ARN left in the group does not block every launch.
- Every registration of the instance counts (a target group read whole, filtered by instance id):
  all of them must be healthy.
- An instance going into the warm pool is never registered (``for_warm_pool`` is False): it is
  stopped in the pool, and a healthy target there would take traffic until it stops. Named in
  the hook's ``warmPool`` block, the check is an invalid configuration (a definitive, early
  answer to a configuration that asks for the impossible). Inherited from the top-level checks
  (a group that gained a warm pool after its hook was configured, or a ``warmPool`` block without
  ``checks``), it is not run and passes, saying why: rejecting it would make every launch into
  the pool an invalid configuration, ABANDONed (the pool never fills, and the group churns
  through instances), while what the check asks (healthy behind the load balancer) is asked
  again, and is the question that matters, when a launch takes the instance out of the pool into
  the group. Auto Scaling's own view decides where the instance goes: an instance waiting in
  ``Warmed:Pending:Wait`` goes into the pool, whatever its event said (the hook read fills in,
  or corrects, the action's destination).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from asg_lifecycle.checks.base import (
    NOT_FOR_WARM_POOL,
    Answer,
    Check,
    CheckContext,
    passed,
    waiting,
)
from asg_lifecycle.checks.load_balancers import non_empty, of_group, target_group_name
from asg_lifecycle.model import Transition
from asg_lifecycle.params import Kind, Param

_DESCRIPTION_MAX = 120  # AWS's description of a health state, cut short for the reason


class TargetGroupHealthCheck(Check):
    name: ClassVar[str] = "target-group-health"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.LAUNCHING})
    summary: ClassVar[str] = (
        "`healthy` in every target group of the Auto Scaling group (registers the instance first:"
        " Auto Scaling only does so after the launch completes)."
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "register",
            Kind.BOOLEAN,
            "register the instance (on the target group's port) where it is not registered yet;"
            " false only observes, so something else must register it",
            default=True,
        ),
    )
    example: ClassVar[dict[str, Any]] = {
        "name": "target-group-health",
        "params": {"register": True},
    }
    permissions: ClassVar[tuple[str, ...]] = (
        "autoscaling:DescribeAutoScalingGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:RegisterTargets",
    )
    resources: ClassVar[Mapping[str, str]] = {
        "elasticloadbalancing:RegisterTargets": '!Sub "arn:${AWS::Partition}:elasticloadbalancing'
        ':${AWS::Region}:${AWS::AccountId}:targetgroup/*/*"'
    }
    for_warm_pool: ClassVar[bool] = False

    def evaluate(self, ctx: CheckContext) -> Answer:
        if ctx.action.into_warm_pool:  # a round does not run it (for_warm_pool); nor does this
            return passed(NOT_FOR_WARM_POOL, skipped="warm pool")
        group = of_group(ctx)
        if group is None:
            return waiting("Auto Scaling does not report the group")
        arns = group.target_groups
        if not arns:
            return passed("the group has no target groups")
        elbv2 = ctx.client("elbv2")
        instance_id = ctx.action.instance_id
        healthy: list[str] = []
        registered: list[str] = []
        missing: list[str] = []
        notes: list[str] = []
        for arn in arns:
            name = target_group_name(arn)
            try:
                descriptions = elbv2.describe_target_health(TargetGroupArn=arn)[
                    "TargetHealthDescriptions"
                ]
                mine = [d["TargetHealth"] for d in descriptions if d["Target"]["Id"] == instance_id]
                if not mine and ctx.params["register"]:
                    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": instance_id}])
                    registered.append(name)
                    notes.append(f"{name}: registered the instance, waiting for health checks")
                    continue
            except elbv2.exceptions.TargetGroupNotFoundException:
                missing.append(name)  # deleted: it serves nothing, there is nothing to wait for
                continue
            if not mine:
                notes.append(f"{name}: instance not registered (register is false)")
            elif all(health["State"] == "healthy" for health in mine):
                healthy.append(name)
            else:
                states = [_state(h) for h in mine if h["State"] != "healthy"]
                notes.append(f"{name}: {', '.join(states)}")
        details = non_empty(healthy=healthy, registered=registered, missing=missing)
        if notes:
            return waiting("; ".join(notes), **details)
        if not healthy:
            return passed("none of the group's target groups exists any more", **details)
        gone = f"; skipped deleted target group(s) {', '.join(missing)}" if missing else ""
        return passed(f"healthy in {len(healthy)} target group(s){gone}", **details)


def _state(health: dict[str, Any]) -> str:
    """``unhealthy (Target.Timeout: Request timed out)``; the description is AWS's and short."""
    state = str(health["State"])
    reason = health.get("Reason")
    if not reason:
        return state
    description = str(health.get("Description", ""))[:_DESCRIPTION_MAX]
    return f"{state} ({reason}: {description})" if description else f"{state} ({reason})"
