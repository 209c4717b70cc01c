"""Auto Scaling calls: read a hook, heartbeat an action, complete an action.

The one error the workflow must understand is Auto Scaling's answer for an action that is
already over (completed elsewhere, timed out, instance gone): ``ValidationError`` "No active
Lifecycle Action found with ...". It is a normal ending, reported as :class:`ActionGone`, not a
failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition
from asg_lifecycle.reconcile import WAIT_STATES, Hook, WaitingInstance
from asg_lifecycle.served import SERVING_TAG, ServedGroups

NO_ACTIVE_ACTION = "No active Lifecycle Action found"


class ActionGone(Exception):
    """Auto Scaling no longer has this lifecycle action."""


@dataclass(frozen=True, slots=True)
class HookInfo:
    heartbeat_timeout: int
    default_result: LifecycleResult
    metadata: str | None


def is_action_gone(error: ClientError) -> bool:
    err = error.response.get("Error", {})
    return err.get("Code") == "ValidationError" and NO_ACTIVE_ACTION in str(err.get("Message", ""))


def describe_hook(client: Any, group_name: str, hook_name: str) -> HookInfo | None:
    """The hook's settings, read once per action; ``None`` when the hook no longer exists."""
    hooks = client.describe_lifecycle_hooks(
        AutoScalingGroupName=group_name, LifecycleHookNames=[hook_name]
    )["LifecycleHooks"]
    if not hooks:
        return None
    hook = hooks[0]
    return HookInfo(
        heartbeat_timeout=int(hook.get("HeartbeatTimeout", 3600)),
        default_result=LifecycleResult(hook.get("DefaultResult", "ABANDON")),
        metadata=hook.get("NotificationMetadata"),
    )


def _addressed(action: LifecycleAction) -> dict[str, str]:
    """The action by its token, or by its instance when the reconciler started it (no token)."""
    who = (
        {"InstanceId": action.instance_id}
        if action.token is None
        else {"LifecycleActionToken": action.token}
    )
    return {
        "AutoScalingGroupName": action.group_name,
        "LifecycleHookName": action.hook_name,
        **who,
    }


def group_tag(client: Any, group_name: str, key: str) -> str | None:
    """The value of one tag of a group (``None`` when the group does not have it)."""
    tags = client.describe_tags(
        Filters=[
            {"Name": "auto-scaling-group", "Values": [group_name]},
            {"Name": "key", "Values": [key]},
        ]
    )["Tags"]
    return next((str(t["Value"]) for t in tags if t.get("Key") == key), None)


def waiting_instances(client: Any, served: ServedGroups) -> list[WaitingInstance]:
    """Instances of the served groups (and their warm pools) held in a lifecycle wait state."""
    if served.by_tag:
        query: dict[str, Any] = {
            "Filters": [{"Name": f"tag:{SERVING_TAG}", "Values": [served.tag_value]}]
        }
    else:
        query = {"AutoScalingGroupNames": sorted(served.names)}
    found: list[WaitingInstance] = []
    for page in client.get_paginator("describe_auto_scaling_groups").paginate(**query):
        for group in page["AutoScalingGroups"]:
            name = group["AutoScalingGroupName"]
            instances = list(group.get("Instances", []))
            if group.get("WarmPoolConfiguration"):
                instances += _warm_pool_instances(client, name)
            found += [
                WaitingInstance(name, i["InstanceId"], i["LifecycleState"])
                for i in instances
                if i.get("LifecycleState") in WAIT_STATES
            ]
    return found


def _warm_pool_instances(client: Any, group_name: str) -> list[dict[str, Any]]:
    instances: list[dict[str, Any]] = []
    query: dict[str, Any] = {"AutoScalingGroupName": group_name}
    while True:  # DescribeWarmPool has no paginator in botocore
        page = client.describe_warm_pool(**query)
        instances += page.get("Instances", [])
        if not page.get("NextToken"):
            return instances
        query["NextToken"] = page["NextToken"]


def instance_lifecycle_state(client: Any, instance_id: str) -> str | None:
    """The instance's LifecycleState in its group (``None``: not in any group any more)."""
    instances = client.describe_auto_scaling_instances(InstanceIds=[instance_id])
    found = instances["AutoScalingInstances"]
    return str(found[0]["LifecycleState"]) if found else None


def lifecycle_hooks(client: Any, group_name: str) -> list[Hook]:
    """The group's launch and terminate hooks."""
    hooks = client.describe_lifecycle_hooks(AutoScalingGroupName=group_name)["LifecycleHooks"]
    known = {t.value: t for t in Transition}
    return [
        Hook(h["LifecycleHookName"], known[h["LifecycleTransition"]])
        for h in hooks
        if h.get("LifecycleTransition") in known
    ]


def record_heartbeat(client: Any, action: LifecycleAction) -> None:
    with _action_gone_as_such():
        client.record_lifecycle_action_heartbeat(**_addressed(action))


def complete(client: Any, action: LifecycleAction, result: LifecycleResult) -> None:
    with _action_gone_as_such():
        client.complete_lifecycle_action(**_addressed(action), LifecycleActionResult=result.value)


@contextmanager
def _action_gone_as_such() -> Iterator[None]:
    """Auto Scaling's "no active lifecycle action" becomes :class:`ActionGone`; others propagate."""
    try:
        yield
    except ClientError as exc:
        if is_action_gone(exc):
            raise ActionGone(str(exc)) from exc
        raise
