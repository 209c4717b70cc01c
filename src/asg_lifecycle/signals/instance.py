"""The instance's own signal: "my checks may pass now", sent from its user data once it is ready.

    aws events put-events --entries '[{"Source": "asg-lifecycle-orchestrator",
      "DetailType": "Run checks now", "Detail": "{\"instance-id\": \"i-0123456789abcdef0\"}"}]'

Arrives as::

    {"source": "asg-lifecycle-orchestrator", "detail-type": "Run checks now",
     "detail": {"instance-id": "i-0123456789abcdef0"}, ...}

Anyone allowed events:PutEvents on the default bus can send it for any instance: it only makes
that instance's checks run sooner (docs/SECURITY.md). ``asg-lifecycle signal`` sends the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asg_lifecycle.signals.base import SignalKind, detail_of, instance_id

SOURCE = "asg-lifecycle-orchestrator"
DETAIL_TYPE = "Run checks now"


class InstanceSignal(SignalKind):
    name = "instance"
    source = SOURCE
    detail_type = DETAIL_TYPE
    checks = ("every check",)

    def instance_ids(self, event: Mapping[str, Any]) -> tuple[str, ...]:
        return (instance_id(detail_of(event).get("instance-id"), "detail.instance-id"),)


KIND = InstanceSignal()


def event_entry(instance: str) -> dict[str, str]:
    """The PutEvents entry of the signal for ``instance`` (the CLI sends it)."""
    import json  # noqa: PLC0415

    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps({"instance-id": instance_id(instance, "the instance")}),
    }
