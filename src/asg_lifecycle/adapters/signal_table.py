"""The signal table (DynamoDB): the rounds that wait for an instance, as the workflow wrote them."""

from __future__ import annotations

from typing import Any

from asg_lifecycle.signals.table import WaitingRound, to_signal


def waiting_rounds(client: Any, table: str, instance_id: str, now: float) -> list[WaitingRound]:
    """The instance's waiting rounds a signal may end now. A strongly consistent read: a wait
    that began a moment ago is seen."""
    response = client.query(
        TableName=table,
        KeyConditionExpression="instanceId = :instance",
        ExpressionAttributeValues={":instance": {"S": instance_id}},
        ConsistentRead=True,
    )
    return to_signal(response.get("Items", []), now)
