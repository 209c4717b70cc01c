"""Terminate check: the instance is out of every Classic Load Balancer of its Auto Scaling group.

Auto Scaling deregisters a terminating instance from the group's Classic Load Balancers. With
connection draining the load balancer keeps it registered (``InService``, described as ``Instance
deregistration currently in progress.``) until its connections close or the draining timeout
ends, and only then drops it. The instance is drained when no load balancer of the group lists it
any more, in any state: an instance still listed may still be serving a request, and terminating
it would cut that request off.

AWS's lifecycle documentation has Auto Scaling deregister (and drain) before ``Terminating:Wait``,
so on a plain group this usually passes at once; the check makes it a fact instead of an
assumption (an instance registered by hand or by a tool, a draining timeout still running).
Nothing here can turn definitive: a load balancer may always drop the instance later, so the check
never FAILs. A load balancer that no longer exists holds nothing to drain (``details.missing``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError

from asg_lifecycle.checks.base import Answer, Check, CheckContext, passed, waiting
from asg_lifecycle.checks.elb_health import NOT_FOUND, instance_state
from asg_lifecycle.checks.load_balancers import of_group
from asg_lifecycle.model import Transition


class ElbDrainCheck(Check):
    name: ClassVar[str] = "elb-drain"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.TERMINATING})
    summary: ClassVar[str] = (
        "Deregistered from every Classic Load Balancer of the Auto Scaling group (connection"
        " draining is honoured: an instance still draining waits)."
    )
    example: ClassVar[dict[str, Any]] = {"name": "elb-drain"}
    permissions: ClassVar[tuple[str, ...]] = (
        "autoscaling:DescribeAutoScalingGroups",
        "elasticloadbalancing:DescribeInstanceHealth",
    )
    emulation: ClassVar[str] = (
        "Classic Load Balancers are moto's own (no draining state shown, though Auto Scaling waits"
        " out their connection-draining timeout), so this check is tested on moto, not through"
        " whole-flow scenarios."
    )

    def evaluate(self, ctx: CheckContext) -> Answer:
        group = of_group(ctx)
        if group is None:  # deleted (force-delete terminates its instances): nothing to drain from
            return passed("Auto Scaling does not report the group: no load balancer to drain from")
        names = group.classic
        if not names:
            return passed("the group has no classic load balancers")
        elb = ctx.client("elb")
        instance_id = ctx.action.instance_id
        missing: list[str] = []
        notes: list[str] = []
        for name in names:
            try:
                # The whole list: naming an instance that is no longer registered is an
                # InvalidInstance error on AWS, and "no longer registered" is the answer we want.
                states = elb.describe_instance_health(LoadBalancerName=name)["InstanceStates"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in NOT_FOUND:
                    raise  # throttling, an outage: WAIT, asked again next round
                missing.append(name)
                continue
            mine = next((s for s in states if s["InstanceId"] == instance_id), None)
            if mine is not None:
                notes.append(f"still registered with {name}: {instance_state(mine)}")
        details = {"missing": missing} if missing else {}
        if notes:
            return waiting("; ".join(notes), **details)
        drained = len(names) - len(missing)
        gone = f"; skipped deleted load balancer(s) {', '.join(missing)}" if missing else ""
        return passed(f"out of {drained} classic load balancer(s){gone}", **details)
