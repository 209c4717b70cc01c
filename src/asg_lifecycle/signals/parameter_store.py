"""A parameter under the stack's ReadinessParameterPath changed (``ssm-parameter`` may pass now).

    {"source": "aws.ssm", "detail-type": "Parameter Store Change",
     "detail": {"operation": "Update", "name": "/asg-lifecycle/i-0123456789abcdef0/ready",
                "type": "String", "description": ""}}

AWS Systems Manager User Guide, "Monitoring Systems Manager events with Amazon EventBridge"
(Parameter Store events). The instance is the id in the parameter's name (the check's name
template, ``{instanceId}``): a parameter that names none wakes nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asg_lifecycle.signals.base import InvalidSignal, SignalKind, detail_of, instance_ids_in


class ParameterChange(SignalKind):
    name = "parameter-store"
    source = "aws.ssm"
    detail_type = "Parameter Store Change"
    checks = ("ssm-parameter",)

    def instance_ids(self, event: Mapping[str, Any]) -> tuple[str, ...]:
        name = detail_of(event).get("name")
        if not isinstance(name, str):
            raise InvalidSignal("parameter-store: detail.name is not a string")
        return instance_ids_in(name[:2048])


KIND = ParameterChange()
