"""A Run Command invocation on an instance changed status (``ssm-command`` may have its answer).

    {"source": "aws.ssm", "detail-type": "EC2 Command Invocation Status-change Notification",
     "detail": {"command-id": "...", "document-name": "AWS-RunShellScript",
                "instance-id": "i-0123456789abcdef0", "requested-date-time": "...",
                "status": "Success", "status-details": "Success"}}

AWS Systems Manager User Guide, "Monitoring Systems Manager events with Amazon EventBridge"
(Run Command events). The template's rule passes only final statuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asg_lifecycle.signals.base import SignalKind, detail_of, instance_id


class CommandStatus(SignalKind):
    name = "run-command"
    source = "aws.ssm"
    detail_type = "EC2 Command Invocation Status-change Notification"
    checks = ("ssm-command",)

    def instance_ids(self, event: Mapping[str, Any]) -> tuple[str, ...]:
        return (instance_id(detail_of(event).get("instance-id"), "detail.instance-id"),)


KIND = CommandStatus()
