"""What the reconciler reads from Auto Scaling: the served groups' instances in a wait state, and
the groups' hooks. Kept apart from :mod:`asg_lifecycle.adapters.autoscaling` so that the workflow's
functions do not import the reconciler's modules on their cold start."""

from __future__ import annotations

from typing import Any

from asg_lifecycle.model import Transition
from asg_lifecycle.reconcile import WAIT_STATES, Hook, WaitingInstance
from asg_lifecycle.served import SERVING_TAG, ServedGroups


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
    # botocore 1.34.0 has this paginator and 1.31.0 has none (their wheels' paginators-1.json);
    # the python3.13 runtime came out after both and ships a later botocore.
    pages = client.get_paginator("describe_warm_pool").paginate(AutoScalingGroupName=group_name)
    return [instance for page in pages for instance in page.get("Instances", [])]


def lifecycle_hooks(client: Any, group_name: str) -> list[Hook]:
    """The group's launch and terminate hooks."""
    hooks = client.describe_lifecycle_hooks(AutoScalingGroupName=group_name)["LifecycleHooks"]
    known = {t.value: t for t in Transition}
    return [
        Hook(h["LifecycleHookName"], known[h["LifecycleTransition"]])
        for h in hooks
        if h.get("LifecycleTransition") in known
    ]
