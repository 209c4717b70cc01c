"""Launch check: EC2 reports the instance running with instance and system status checks ``ok``.

``initializing`` / ``insufficient-data`` / ``impaired`` are WAIT (EC2 may still settle them); an
instance that is stopping, stopped or terminated can never become ready, so that is FAIL.
"""

from __future__ import annotations

from typing import Any, ClassVar

from asg_lifecycle.checks.base import Answer, Check, CheckContext, failed, passed, waiting
from asg_lifecycle.model import Transition

_GONE = frozenset({"shutting-down", "terminated", "stopping", "stopped"})


class InstanceStatusCheck(Check):
    name: ClassVar[str] = "instance-status"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.LAUNCHING})
    summary: ClassVar[str] = "EC2 instance status and system status are both `ok`."
    example: ClassVar[dict[str, Any]] = {"name": "instance-status"}
    permissions: ClassVar[tuple[str, ...]] = ("ec2:DescribeInstanceStatus",)

    def evaluate(self, ctx: CheckContext) -> Answer:
        response = ctx.client("ec2").describe_instance_status(
            InstanceIds=[ctx.action.instance_id], IncludeAllInstances=True
        )
        statuses = response.get("InstanceStatuses", [])
        if not statuses:
            return waiting("EC2 reports no status for the instance yet")
        status = statuses[0]
        state = status["InstanceState"]["Name"]
        if state in _GONE:
            return failed(f"instance is {state}")
        instance = status.get("InstanceStatus", {}).get("Status", "unknown")
        system = status.get("SystemStatus", {}).get("Status", "unknown")
        if state == "running" and instance == "ok" and system == "ok":
            return passed("instance and system status ok")
        return waiting(f"state {state}, instance status {instance}, system status {system}")
