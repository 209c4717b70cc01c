"""Launch check: the instance is ``InService`` in every Classic Load Balancer of its group.

The Classic Load Balancer twin of ``target-group-health``, with the same reason to exist and the
same catch: Auto Scaling registers a launching instance with the group's load balancers only
*after* the launch lifecycle action completes, so in ``Pending:Wait`` it is registered nowhere. By
default (``register: true``) the check registers it (``RegisterInstancesWithLoadBalancer``, which
is idempotent: Auto Scaling registering it again later changes nothing) and waits for the load
balancer's health check to put it ``InService``.

What an operator should know:

- Once ``InService`` the instance takes traffic while still in ``Pending:Wait``: checks that must
  finish before any traffic belong *before* this one in the ``checks`` list.
- ``register: false`` only observes; unless something else registers the instance, the check waits
  until the action's deadline.
- ``OutOfService`` and ``Unknown`` are WAIT with the load balancer's reason code and description
  (``Instance registration is still in progress.``, failed health checks, a transient ELB error):
  health checks may still pass, so the check never FAILs; the deadline decides.
- A load balancer that no longer exists serves nothing: it is skipped (``details.missing``), so a
  stale name left in the group does not block every launch.

The instance's state is read from the load balancer's whole list (``DescribeInstanceHealth``
without an instance list): naming an unregistered instance is an ``InvalidInstance`` error on AWS,
while the whole list simply does not contain it.
- An instance going into the warm pool is never registered (``for_warm_pool`` is False), for the
  reasons target-group-health gives: it is checked on its way out of the pool into the group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from asg_lifecycle.checks.base import (
    NOT_FOR_WARM_POOL,
    Answer,
    Check,
    CheckContext,
    passed,
    waiting,
)
from asg_lifecycle.checks.load_balancers import non_empty, of_group
from asg_lifecycle.model import Transition
from asg_lifecycle.params import Kind, Param

# The modelled code is LoadBalancerNotFound (AccessPointNotFoundException); the API reference
# names the error AccessPointNotFound, so both are accepted.
NOT_FOUND = frozenset({"LoadBalancerNotFound", "AccessPointNotFound"})
_DESCRIPTION_MAX = 120


class ElbHealthCheck(Check):
    name: ClassVar[str] = "elb-health"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.LAUNCHING})
    summary: ClassVar[str] = (
        "`InService` in every Classic Load Balancer of the Auto Scaling group (registers the"
        " instance first: Auto Scaling only does so after the launch completes)."
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "register",
            Kind.BOOLEAN,
            "register the instance with a load balancer where it is not registered yet;"
            " false only observes, so something else must register it",
            default=True,
        ),
    )
    example: ClassVar[dict[str, Any]] = {"name": "elb-health", "params": {"register": True}}
    permissions: ClassVar[tuple[str, ...]] = (
        "autoscaling:DescribeAutoScalingGroups",
        "elasticloadbalancing:DescribeInstanceHealth",
        "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
    )
    resources: ClassVar[Mapping[str, str]] = {
        "elasticloadbalancing:RegisterInstancesWithLoadBalancer": '!Sub "arn:${AWS::Partition}'
        ':elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:loadbalancer/*"'
    }
    emulation: ClassVar[str] = (
        "Classic Load Balancers are moto's own (their instance health does not follow the"
        " scenario's instance behaviours), so this check is tested on moto, not through"
        " whole-flow scenarios."
    )
    for_warm_pool: ClassVar[bool] = False

    def evaluate(self, ctx: CheckContext) -> Answer:
        if ctx.action.into_warm_pool:  # a round does not run it (for_warm_pool); nor does this
            return passed(NOT_FOR_WARM_POOL, skipped="warm pool")
        group = of_group(ctx)
        if group is None:
            return waiting("Auto Scaling does not report the group")
        names = group.classic
        if not names:
            return passed("the group has no classic load balancers")
        elb = ctx.client("elb")
        instance_id = ctx.action.instance_id
        in_service: list[str] = []
        registered: list[str] = []
        missing: list[str] = []
        notes: list[str] = []
        for name in names:
            try:
                states = elb.describe_instance_health(LoadBalancerName=name)["InstanceStates"]
                mine = next((s for s in states if s["InstanceId"] == instance_id), None)
                if mine is None and ctx.params["register"]:
                    elb.register_instances_with_load_balancer(
                        LoadBalancerName=name, Instances=[{"InstanceId": instance_id}]
                    )
                    registered.append(name)
                    notes.append(f"{name}: registered the instance, waiting for health checks")
                    continue
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in NOT_FOUND:
                    raise  # throttling, an outage: WAIT, asked again next round
                missing.append(name)  # deleted: it serves nothing, there is nothing to wait for
                continue
            if mine is None:
                notes.append(f"{name}: instance not registered (register is false)")
            elif mine["State"] == "InService":
                in_service.append(name)
            else:
                notes.append(f"{name}: {instance_state(mine)}")
        details = non_empty(inService=in_service, registered=registered, missing=missing)
        if notes:
            return waiting("; ".join(notes), **details)
        if not in_service:
            return passed("none of the group's classic load balancers exists any more", **details)
        gone = f"; skipped deleted load balancer(s) {', '.join(missing)}" if missing else ""
        return passed(f"InService in {len(in_service)} classic load balancer(s){gone}", **details)


def instance_state(health: dict[str, Any]) -> str:
    """``OutOfService (Instance: Instance has failed at least the UnhealthyThreshold ...)``.

    Shared with elb-drain, which shows the same DescribeInstanceHealth entries.
    """
    state = str(health.get("State", "Unknown"))
    parts = [
        str(part)[:_DESCRIPTION_MAX]
        for part in (health.get("ReasonCode"), health.get("Description"))
        if part and part != "N/A"
    ]
    return f"{state} ({': '.join(parts)})" if parts else state
