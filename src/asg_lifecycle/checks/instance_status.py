"""Launch check: EC2 reports the instance running with instance and system status checks ``ok``.

``initializing`` / ``insufficient-data`` / ``impaired`` are WAIT (EC2 may still settle them); an
instance that is stopping, stopped or terminated can never become ready, so that is FAIL.
"""

from __future__ import annotations

from typing import ClassVar

from asg_lifecycle.checks.base import Check, CheckContext
from asg_lifecycle.model import Transition
from asg_lifecycle.policy import Verdict

_GONE = frozenset({"shutting-down", "terminated", "stopping", "stopped"})


class InstanceStatusCheck(Check):
    name: ClassVar[str] = "instance-status"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.LAUNCHING})

    def evaluate(self, ctx: CheckContext) -> tuple[Verdict, str]:
        response = ctx.client("ec2").describe_instance_status(
            InstanceIds=[ctx.action.instance_id], IncludeAllInstances=True
        )
        statuses = response.get("InstanceStatuses", [])
        if not statuses:
            return Verdict.WAIT, "EC2 reports no status for the instance yet"
        status = statuses[0]
        state = status["InstanceState"]["Name"]
        if state in _GONE:
            return Verdict.FAIL, f"instance is {state}"
        instance = status.get("InstanceStatus", {}).get("Status", "unknown")
        system = status.get("SystemStatus", {}).get("Status", "unknown")
        if state == "running" and instance == "ok" and system == "ok":
            return Verdict.PASS, "instance and system status ok"
        return Verdict.WAIT, f"state {state}, instance status {instance}, system status {system}"
