"""The EventBridge event EC2 Auto Scaling sends when an instance enters a lifecycle wait state.

Kept apart from the emulator so that the exact shape (the contract the project's Lambda parses) is
in one short place. Source: AWS "Amazon EC2 Auto Scaling event reference" (lifecycle action events)
and "Warm pool example events" (``Origin`` / ``Destination`` values ``EC2`` | ``AutoScalingGroup``
| ``WarmPool``); "Instance refresh example events" (``Action``: ``ReplaceRootVolume``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

SOURCE = "aws.autoscaling"
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
DETAIL_TYPES = {
    LAUNCHING: "EC2 Instance-launch Lifecycle Action",
    TERMINATING: "EC2 Instance-terminate Lifecycle Action",
}


def iso_time(epoch_seconds: float) -> str:
    """Event ``time`` as AWS writes it: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, milliseconds).

    AWS's example lifecycle events carry milliseconds (``"time": "2021-01-13T00:12:37.214Z"``,
    "Amazon EC2 Auto Scaling event reference" / "Warm pool example events").
    """
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def lifecycle_action_event(
    *,
    account_id: str,
    region: str,
    at: float,
    group_arn: str,
    detail: dict[str, str],
) -> dict[str, Any]:
    """The whole event as a target receives it; ``detail`` comes from :func:`lifecycle_detail`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPES[detail["LifecycleTransition"]],
        "source": SOURCE,
        "account": account_id,
        "time": iso_time(at),
        "region": region,
        "resources": [group_arn],
        "detail": detail,
    }


def lifecycle_detail(
    *,
    token: str,
    group_name: str,
    hook_name: str,
    instance_id: str,
    transition: str,
    origin: str | None,
    destination: str | None,
    notification_metadata: str | None,
    action: str | None = None,
) -> dict[str, str]:
    """``detail`` of the event; ``NotificationMetadata`` appears only when the hook has some.

    ``Action`` appears only for the actions that carry one: ``ReplaceRootVolume`` while an
    instance refresh replaces the instance's root volume ("Instance refresh example events").
    """
    detail = {
        "LifecycleActionToken": token,
        "AutoScalingGroupName": group_name,
        "LifecycleHookName": hook_name,
        "EC2InstanceId": instance_id,
        "LifecycleTransition": transition,
    }
    if notification_metadata is not None:
        detail["NotificationMetadata"] = notification_metadata
    # Origin and Destination are in the event only "if that information is available" (event
    # reference); None leaves them out.
    if origin is not None:
        detail["Origin"] = origin
    if destination is not None:
        detail["Destination"] = destination
    if action is not None:
        detail["Action"] = action
    return detail


def for_moto_rules(
    event: dict[str, Any], at: float, *, with_ingestion_time: bool
) -> dict[str, Any]:
    """The same event in moto's internal form, for ``Rule.send_to_targets``.

    moto keeps ``time`` as epoch seconds and formats it itself when it delivers to SQS or Logs
    (``float(event["time"])`` would fail on the ISO string); its input transformer also needs an
    ``ingestion-time`` key. Targets without an input transformer therefore receive exactly the
    AWS shape built by :func:`lifecycle_action_event`.
    """
    internal = dict(event, time=at, detail=dict(event["detail"]))
    internal["resources"] = list(event["resources"])
    if with_ingestion_time:
        internal["ingestion-time"] = at
    return internal
