"""Auto Scaling calls: read a hook, an instance and a group's instance lifecycle policy, heartbeat
an action, complete an action.

The one error the workflow must understand is Auto Scaling's answer for an action it does not
find: ``ValidationError`` "No active Lifecycle Action found with ...", reported as
:class:`ActionGone`. It usually means the action is over (completed elsewhere, timed out, the
instance gone), but Auto Scaling is eventually consistent and has given it for an action still
active, right after its event: the handlers confirm with :func:`describe_instance` before they
believe it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from asg_lifecycle.config import OnAbandon
from asg_lifecycle.lifecycle_states import Instance
from asg_lifecycle.model import LifecycleAction, LifecycleResult

NO_ACTIVE_ACTION = "No active Lifecycle Action found"


class ActionGone(Exception):
    """Auto Scaling no longer has this lifecycle action."""


@dataclass(frozen=True, slots=True)
class HookInfo:
    heartbeat_timeout: int
    default_result: LifecycleResult
    metadata: str | None
    transition: str | None = None  # the hook's LifecycleTransition


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
        transition=hook.get("LifecycleTransition"),
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


def describe_instance(client: Any, instance_id: str) -> Instance | None:
    """The instance's group and LifecycleState (``None``: in no group, or no such instance).
    Warm-pool instances are listed too."""
    found = client.describe_auto_scaling_instances(InstanceIds=[instance_id])
    instances = found["AutoScalingInstances"]
    if not instances:
        return None
    return Instance(str(instances[0]["AutoScalingGroupName"]), str(instances[0]["LifecycleState"]))


def on_abandon(client: Any, group_name: str) -> OnAbandon:
    """The group's instance lifecycle policy (``InstanceLifecyclePolicy.RetentionTriggers.
    TerminateHookAbandon``): ``retain`` keeps an ABANDONed terminating instance. A group without
    one, or no longer there, terminates (AWS's default)."""
    groups = client.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])
    found = groups["AutoScalingGroups"]
    policy = found[0].get("InstanceLifecyclePolicy", {}) if found else {}
    value = str(policy.get("RetentionTriggers", {}).get("TerminateHookAbandon", "")).lower()
    return OnAbandon.RETAIN if value == OnAbandon.RETAIN.value else OnAbandon.TERMINATE


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
