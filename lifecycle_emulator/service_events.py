"""The EventBridge events other AWS services send about an instance, in AWS's exact shape.

Kept in one short place, like ``lifecycle_events.py``: each builder cites the AWS page its shape
comes from. ``service_sources.py`` decides when the emulated services send them. Every event has
the envelope AWS service events share ("Amazon EventBridge events" / "AWS service event
metadata": ``version`` "0", ``id``, ``detail-type``, ``source``, ``account``, ``time`` in whole
seconds as the examples show, ``region``, ``resources``, ``detail``).

Besides the services' events there is one custom event: what an instance's user data sends with
``PutEvents`` once the instance is ready (:func:`ready_signal_entry`), for instances whose
behaviour says so (``fleet.InstanceBehaviour.signals_ready``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from lifecycle_emulator.lifecycle_events import iso_time

TAG_CHANGE = "Tag Change on Resource"
PARAMETER_CHANGE = "Parameter Store Change"
COMMAND_INVOCATION = "EC2 Command Invocation Status-change Notification"
ECS_TASK = "ECS Task State Change"
ECS_CONTAINER_INSTANCE = "ECS Container Instance State Change"

# The instance's own signal (a PutEvents entry, not an AWS service event)
READY_SOURCE = "asg-lifecycle-orchestrator"
READY_DETAIL_TYPE = "Run checks now"


def event_time(epoch_seconds: float) -> str:
    """``time`` as AWS service events write it: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds)."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    *,
    source: str,
    detail_type: str,
    account_id: str,
    region: str,
    at: float,
    resources: list[str],
    detail: dict[str, Any],
) -> dict[str, Any]:
    """The whole event as a rule's target receives it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": event_time(at),
        "region": region,
        "resources": resources,
        "detail": detail,
    }


def instance_arn(region: str, account_id: str, instance_id: str) -> str:
    return f"arn:aws:ec2:{region}:{account_id}:instance/{instance_id}"


def tag_change_event(
    *,
    account_id: str,
    region: str,
    at: float,
    instance_id: str,
    changed_keys: list[str],
    tags: dict[str, str],
    version: int,
) -> dict[str, Any]:
    """An EC2 instance's tags changed (CreateTags / DeleteTags).

    Tagging AWS Resources User Guide, "Tag Change on Resource" events (and the EventBridge
    events reference, "Tags events"): source ``aws.tag``; ``resources`` the resource's ARN;
    ``detail``: ``changed-tag-keys`` (added, changed and deleted keys), ``service`` "ec2",
    ``resource-type`` "instance", ``version`` (the resource's tag version, one more at each
    change) and ``tags``: every tag the resource has now.
    """
    return envelope(
        source="aws.tag",
        detail_type=TAG_CHANGE,
        account_id=account_id,
        region=region,
        at=at,
        resources=[instance_arn(region, account_id, instance_id)],
        detail={
            "changed-tag-keys": list(changed_keys),
            "service": "ec2",
            "resource-type": "instance",
            "version": version,
            "tags": dict(tags),
        },
    )


def parameter_arn(region: str, account_id: str, name: str) -> str:
    """``arn:aws:ssm:<region>:<account>:parameter/<name>`` (a leading ``/`` is not doubled)."""
    return f"arn:aws:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


def parameter_change_event(
    *,
    account_id: str,
    region: str,
    at: float,
    operation: str,
    name: str,
    parameter_type: str,
    description: str | None,
) -> dict[str, Any]:
    """A Parameter Store parameter was created, updated or deleted.

    Systems Manager User Guide, "Amazon EventBridge event examples for Systems Manager" /
    "Parameter Store events" (Create, Update and Delete examples): source ``aws.ssm``;
    ``resources`` the parameter's ARN; ``detail``: ``operation`` ("Create" | "Update" |
    "Delete"), ``name``, ``type`` and ``description``. The examples all have a description;
    a parameter without one has none here.
    """
    detail: dict[str, Any] = {"operation": operation, "name": name, "type": parameter_type}
    if description:
        detail["description"] = description
    return envelope(
        source="aws.ssm",
        detail_type=PARAMETER_CHANGE,
        account_id=account_id,
        region=region,
        at=at,
        resources=[parameter_arn(region, account_id, name)],
        detail=detail,
    )


def command_invocation_event(
    *,
    account_id: str,
    region: str,
    at: float,
    command_id: str,
    document_name: str,
    instance_id: str,
    requested_at: float,
    status: str,
) -> dict[str, Any]:
    """A Run Command invocation (one command on one instance) changed status.

    Systems Manager User Guide, "Amazon EventBridge event examples for Systems Manager" /
    "Run Command Invocation Status-change Notification": source ``aws.ssm``; ``resources`` the
    instance's ARN; ``detail``: ``command-id``, ``document-name``, ``instance-id``,
    ``requested-date-time`` (milliseconds) and ``status`` (the invocation's, as
    GetCommandInvocation reports it). AWS's example has no ``status-details``; neither has this.
    """
    return envelope(
        source="aws.ssm",
        detail_type=COMMAND_INVOCATION,
        account_id=account_id,
        region=region,
        at=at,
        resources=[instance_arn(region, account_id, instance_id)],
        detail={
            "command-id": command_id,
            "document-name": document_name,
            "instance-id": instance_id,
            "requested-date-time": iso_time(requested_at),  # with milliseconds
            "status": status,
        },
    )


def ecs_task_event(
    *, account_id: str, region: str, at: float, task: dict[str, Any]
) -> dict[str, Any]:
    """An ECS task changed state (started, stopped).

    Amazon ECS Developer Guide, "Amazon ECS task state change events": "the detail section
    resembles the Task object that is returned from a DescribeTasks API operation" (the fields
    here: ``clusterArn``, ``containerInstanceArn``, ``taskArn``, ``taskDefinitionArn``,
    ``lastStatus``, ``desiredStatus``, ``group``, ``launchType``, ``startedBy``,
    ``stoppedReason`` once stopping, ``createdAt``, ``updatedAt``, ``version``); source
    ``aws.ecs``; ``resources`` the task's ARN.
    """
    return envelope(
        source="aws.ecs",
        detail_type=ECS_TASK,
        account_id=account_id,
        region=region,
        at=at,
        resources=[task["taskArn"]],
        detail=dict(task),
    )


def ecs_container_instance_event(
    *, account_id: str, region: str, at: float, container_instance: dict[str, Any]
) -> dict[str, Any]:
    """An ECS container instance changed state (registered, a task placed on it or stopped,
    status ACTIVE/DRAINING, deregistered).

    Amazon ECS Developer Guide, "Amazon ECS container instance state change events": "the
    detail section resembles the ContainerInstance object that is returned from a
    DescribeContainerInstances API operation" (here ``clusterArn``, ``containerInstanceArn``,
    ``ec2InstanceId``, ``status``, ``agentConnected``, ``runningTasksCount``,
    ``pendingTasksCount``, ``registeredResources``, ``remainingResources``, ``versionInfo``,
    ``updatedAt``, ``version``); source ``aws.ecs``; ``resources`` the container instance's ARN.
    """
    return envelope(
        source="aws.ecs",
        detail_type=ECS_CONTAINER_INSTANCE,
        account_id=account_id,
        region=region,
        at=at,
        resources=[container_instance["containerInstanceArn"]],
        detail=dict(container_instance),
    )


def put_events_event(
    entry: dict[str, str], *, account_id: str, region: str, at: float
) -> dict[str, Any]:
    """The event EventBridge makes of a ``PutEvents`` entry ("Sending events with PutEvents":
    it adds ``version``, ``id``, ``account``, ``time`` (the call's, when the entry has none),
    ``region``; ``resources`` are the entry's, or none)."""
    return envelope(
        source=entry["Source"],
        detail_type=entry["DetailType"],
        account_id=account_id,
        region=region,
        at=at,
        resources=list(cast("list[str]", entry.get("Resources", []))),
        detail=json.loads(entry["Detail"]),
    )


def ready_signal_entry(instance_id: str) -> dict[str, str]:
    """The ``PutEvents`` entry an instance's user data sends on the default bus once it is
    ready (a custom event: the source and detail-type are the sender's choice; EventBridge adds
    the envelope, "Sending events with PutEvents")."""
    return {
        "Source": READY_SOURCE,
        "DetailType": READY_DETAIL_TYPE,
        "Detail": json.dumps({"instance-id": instance_id}),
        "EventBusName": "default",
    }
