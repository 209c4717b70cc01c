"""What the reconciler reads from Auto Scaling: the served groups' instances in a wait state (and
those retained after an abandoned termination), and the groups' hooks. Kept apart from
:mod:`asg_lifecycle.adapters.autoscaling` so that the workflow's functions do not import the
reconciler's modules on their cold start."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from asg_lifecycle.model import Transition
from asg_lifecycle.reconcile import RETAINED_STATES, WAIT_STATES, Hook, WaitingInstance
from asg_lifecycle.served import SERVING_TAG, ServedGroups

NAMES_PER_CALL: Final = 50
"""DescribeAutoScalingGroups takes at most 50 AutoScalingGroupNames per call (API Reference)."""


@dataclass(frozen=True, slots=True)
class Fleet:
    """The served groups' instances a hook holds, and those retained (``Terminating:Retained``
    and the warm pool's ``Warmed:*:Retained``) until an operator terminates them."""

    waiting: list[WaitingInstance] = field(default_factory=list)
    retained: list[WaitingInstance] = field(default_factory=list)


def read_fleet(client: Any, served: ServedGroups) -> Fleet:
    """One read of the served groups (and their warm pools): DescribeAutoScalingGroups by tag
    filter, or by name 50 names a call; DescribeWarmPool for each group with a warm pool."""
    found = Fleet()
    for group in _served_groups(client, served):
        name = group["AutoScalingGroupName"]
        instances = list(group.get("Instances", []))
        pool = group.get("WarmPoolConfiguration") or {}
        reuse = bool((pool.get("InstanceReusePolicy") or {}).get("ReuseOnScaleIn"))
        if pool:
            instances += _warm_pool_instances(client, name)
        for i in instances:
            state = i.get("LifecycleState")
            if state in WAIT_STATES:
                found.waiting.append(WaitingInstance(name, i["InstanceId"], state, reuse))
            elif state in RETAINED_STATES:
                found.retained.append(WaitingInstance(name, i["InstanceId"], state))
    return found


def waiting_instances(client: Any, served: ServedGroups) -> list[WaitingInstance]:
    """Instances of the served groups (and their warm pools) held in a lifecycle wait state."""
    return read_fleet(client, served).waiting


def _served_groups(client: Any, served: ServedGroups) -> Iterator[dict[str, Any]]:
    paginator = client.get_paginator("describe_auto_scaling_groups")
    for query in _group_queries(served):
        for page in paginator.paginate(**query):
            yield from page["AutoScalingGroups"]


def _group_queries(served: ServedGroups) -> list[dict[str, Any]]:
    if served.by_tag:
        return [{"Filters": [{"Name": f"tag:{SERVING_TAG}", "Values": [served.tag_value]}]}]
    return [{"AutoScalingGroupNames": names} for names in chunks(sorted(served.names))]


def chunks(names: Sequence[str], size: int = NAMES_PER_CALL) -> list[list[str]]:
    """``names`` in lists of at most ``size``, in order."""
    return [list(names[i : i + size]) for i in range(0, len(names), size)]


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
