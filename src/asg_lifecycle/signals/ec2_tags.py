"""An EC2 instance's tags changed (the ``instance-tag`` check may pass now).

    {"source": "aws.tag", "detail-type": "Tag Change on Resource",
     "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"],
     "detail": {"changed-tag-keys": ["ready"], "service": "ec2", "resource-type": "instance",
                "version": 3, "tags": {"ready": "true"}}}

Amazon EventBridge events reference, "Tags events" (best-effort delivery).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asg_lifecycle.signals.base import InvalidSignal, SignalKind, detail_of, instance_id


class TagChange(SignalKind):
    name = "ec2-tags"
    source = "aws.tag"
    detail_type = "Tag Change on Resource"
    checks = ("instance-tag",)

    def instance_ids(self, event: Mapping[str, Any]) -> tuple[str, ...]:
        detail = detail_of(event)
        if (detail.get("service"), detail.get("resource-type")) != ("ec2", "instance"):
            raise InvalidSignal("ec2-tags: not an EC2 instance's tags")
        resources = event.get("resources")
        if not isinstance(resources, list):
            raise InvalidSignal("ec2-tags: the event has no resources list")
        ids = []
        for arn in resources:
            if isinstance(arn, str) and ":instance/" in arn:
                ids.append(instance_id(arn.rsplit("/", 1)[-1], "resources[]"))
        return tuple(dict.fromkeys(ids))


KIND = TagChange()
