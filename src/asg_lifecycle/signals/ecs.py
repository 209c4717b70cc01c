"""An ECS container instance changed (``ecs-drain``, ``ecs-container-instance`` may pass now).

    {"source": "aws.ecs", "detail-type": "ECS Container Instance State Change",
     "detail": {"clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/web",
                "containerInstanceArn": "...", "ec2InstanceId": "i-0123456789abcdef0",
                "status": "DRAINING", "runningTasksCount": 0, ...}}

Amazon ECS Developer Guide, "Amazon ECS container instance state change events": sent when a
task is placed on or stopped on the instance (its resources change), when it registers or is
deregistered, drained, or its agent connects. So a task that stops on a draining instance comes
as this event too, with the instance's id; ECS's task state change events name no EC2 instance
and are not routed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asg_lifecycle.signals.base import SignalKind, detail_of, instance_id


class ContainerInstanceChange(SignalKind):
    name = "ecs"
    source = "aws.ecs"
    detail_type = "ECS Container Instance State Change"
    checks = ("ecs-drain", "ecs-container-instance")

    def instance_ids(self, event: Mapping[str, Any]) -> tuple[str, ...]:
        return (instance_id(detail_of(event).get("ec2InstanceId"), "detail.ec2InstanceId"),)


KIND = ContainerInstanceChange()
