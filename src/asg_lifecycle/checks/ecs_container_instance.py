"""Launch check: the instance joined the ECS cluster (status ``ACTIVE``, agent connected).

An instance that is ``InService`` in its group but not in its cluster takes no tasks: this check
holds it until the ECS agent has registered it, so capacity counts only once ECS can use it.

The container instance is found by EC2 instance id (a cluster query ``ec2InstanceId == i-...``,
then matched again client-side: an implementation that ignores the filter must not make another
instance pass). What each status means for an instance that is launching:

* ``ACTIVE`` and agent connected: PASS. ``ACTIVE`` with the agent not (yet) connected: WAIT.
* not registered yet, ``REGISTERING`` (ENI trunking attaches the trunk first): WAIT, the agent is
  still starting.
* ``REGISTRATION_FAILED``: FAIL. ECS gave up on this registration (with ENI trunking, the trunk
  interface could not be attached): a definitive answer, not a delay.
* ``DRAINING``: WAIT. Someone or something (a drain tool, an operator) decided it should take no
  tasks; that is reversible in one call (set it ``ACTIVE`` again) and it is not this check's call
  to undo or to overrule, so the instance waits and the reason says why.
* ``DEREGISTERING`` / ``INACTIVE``: FAIL. The container instance was deregistered while launching;
  the agent does not register again with a deregistered identity unless someone clears its state
  on the host, so waiting would only hold the capacity until the deadline. A newer registration
  of the same EC2 instance, if there is one, wins over it.

A cluster that does not exist (``ClusterNotFoundException``) is FAIL with the cluster's name: it is
a configuration mistake (a typo, the wrong region) that no amount of waiting repairs, and every
launch of the group would otherwise sit until its deadline with the mistake buried in a reason.

ListContainerInstances lists only ``ACTIVE`` and ``DRAINING`` instances unless told a status; when
the instance is not among them, one more call asks for ``REGISTRATION_FAILED`` ones (the only
definitive answer the default listing hides).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from asg_lifecycle.checks.base import Answer, Check, CheckContext, failed, passed, waiting
from asg_lifecycle.config import StackLimits
from asg_lifecycle.model import Transition
from asg_lifecycle.params import InvalidParams, Kind, Param

CLUSTER = Param(
    "cluster",
    Kind.STRING,
    "the ECS cluster, one of the stack's EcsClusterNames: its name, or its ARN in this account"
    " and Region",
    required=True,
    max_length=320,
)

# Where IAM scopes the ECS calls (template.yaml, CheckFunction's EcsListContainerInstances and
# EcsContainerInstancesAndTasks statements): the stack's EcsClusterNames, and their container
# instances and tasks.
CLUSTERS = (
    '!Split [",", !Join ["", ["arn:*:ecs:*:*:cluster/",'
    ' !Join [",arn:*:ecs:*:*:cluster/", !Ref EcsClusterNames]]]]'
)
CLUSTER_CONTENTS = (
    '!Split [",", !Join ["", ["arn:*:ecs:*:*:container-instance/",'
    ' !Join ["/*,arn:*:ecs:*:*:container-instance/", !Ref EcsClusterNames],'
    ' "/*,arn:*:ecs:*:*:task/", !Join ["/*,arn:*:ecs:*:*:task/", !Ref EcsClusterNames], "/*"]]]'
)


def check_cluster(params: Mapping[str, Any], limits: StackLimits | None) -> None:
    """Raise :class:`InvalidParams` unless the stack allows ``params["cluster"]`` (one of its
    EcsClusterNames, by name or by its ARN in this account and Region); ``limits`` None: no
    stack at hand, nothing to check against."""
    if limits is None:
        return
    cluster: str = params["cluster"]
    name = cluster
    if cluster.startswith("arn:"):
        problem = limits.arn_problem(cluster, "ecs")
        if problem:
            raise InvalidParams(f"cluster {cluster[:128]!r} {problem}")
        resource = cluster.split(":", 5)[5]
        name = resource.removeprefix("cluster/")
        if name == resource or "/" in name:
            raise InvalidParams(f"cluster {cluster[:128]!r} is not an ECS cluster ARN")
    if name not in limits.ecs_clusters:
        allowed = ", ".join(sorted(limits.ecs_clusters)[:10]) or "none: it is empty"
        raise InvalidParams(
            f"cluster {name[:128]!r} is not one of the stack's EcsClusterNames ({allowed});"
            " add it to the stack parameter to use it"
        )


_DESCRIBE_BATCH = 100  # DescribeContainerInstances takes at most 100 ARNs
# Which record wins when one EC2 instance has several (an agent that re-registered): the most
# useful status first, then the most recent registration.
_RANK = {
    "ACTIVE": 6,
    "DRAINING": 5,
    "REGISTERING": 4,
    "DEREGISTERING": 3,
    "REGISTRATION_FAILED": 2,
    "INACTIVE": 1,
}
_GONE = frozenset({"DEREGISTERING", "INACTIVE"})


def cluster_missing(error: ClientError) -> bool:
    """Whether an ECS error says the cluster does not exist."""
    return error.response.get("Error", {}).get("Code") == "ClusterNotFoundException"


def container_instances(
    ecs: Any, cluster: str, instance_id: str, status: str | None = None
) -> list[dict[str, Any]]:
    """The container instances of ``cluster`` backed by EC2 instance ``instance_id``, best first.

    ``status`` None lists what ECS lists by default (``ACTIVE`` and ``DRAINING``). Raises
    ``ClientError`` (ClusterNotFoundException for a cluster that does not exist).
    """
    query: dict[str, Any] = {"cluster": cluster, "filter": f"ec2InstanceId == {instance_id}"}
    if status is not None:
        query["status"] = status
    arns = [
        arn
        for page in ecs.get_paginator("list_container_instances").paginate(**query)
        for arn in page.get("containerInstanceArns", [])
    ]
    found = [
        record
        for batch in _batches(arns, _DESCRIBE_BATCH)
        for record in ecs.describe_container_instances(
            cluster=cluster, containerInstances=batch
        ).get("containerInstances", [])
        if record.get("ec2InstanceId") == instance_id
    ]
    found.sort(
        key=lambda r: (_RANK.get(r.get("status", ""), 0), str(r.get("registeredAt", ""))),
        reverse=True,
    )
    return found


def short_arn(arn: str) -> str:
    """The id at the end of a container-instance or task ARN, for reasons."""
    return arn.rsplit("/", 1)[-1]


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class EcsContainerInstanceCheck(Check):
    name: ClassVar[str] = "ecs-container-instance"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.LAUNCHING})
    summary: ClassVar[str] = (
        "Registered in the ECS cluster as a container instance, `ACTIVE` with its agent connected"
        " (`REGISTRATION_FAILED` or deregistered fails, a missing cluster fails)."
    )
    params: ClassVar[tuple[Param, ...]] = (CLUSTER,)
    example: ClassVar[dict[str, Any]] = {
        "name": "ecs-container-instance",
        "params": {"cluster": "web"},
    }
    permissions: ClassVar[tuple[str, ...]] = (
        "ecs:ListContainerInstances",
        "ecs:DescribeContainerInstances",
    )
    resources: ClassVar[Mapping[str, str]] = {
        "ecs:ListContainerInstances": CLUSTERS,
        "ecs:DescribeContainerInstances": CLUSTER_CONTENTS,
    }

    @classmethod
    def validate_params(
        cls, raw: Mapping[str, Any], *, limits: StackLimits | None = None
    ) -> dict[str, Any]:
        resolved = super().validate_params(raw)
        check_cluster(resolved, limits)
        return resolved

    def evaluate(self, ctx: CheckContext) -> Answer:
        cluster: str = ctx.params["cluster"]
        instance_id = ctx.action.instance_id
        ecs = ctx.client("ecs")
        try:
            found = container_instances(ecs, cluster, instance_id)
            if not found:
                found = container_instances(ecs, cluster, instance_id, "REGISTRATION_FAILED")
        except ClientError as exc:
            if cluster_missing(exc):
                return failed(f"cluster {cluster!r} not found (check the cluster parameter)")
            raise
        if not found:
            return waiting(f"not registered in cluster {cluster} yet")
        record = found[0]
        arn: str = record.get("containerInstanceArn", "")
        status: str = record.get("status", "UNKNOWN")
        details = {"cluster": cluster, "containerInstanceArn": arn}
        where = f"container instance {short_arn(arn)}"
        if status == "REGISTRATION_FAILED":
            why = record.get("statusReason") or "no reason given"
            return failed(f"{where} registration failed: {str(why)[:200]}", **details)
        if status in _GONE:
            return failed(f"{where} is {status} (deregistered while launching)", **details)
        if status == "DRAINING":
            return waiting(f"{where} is DRAINING (set it ACTIVE to take tasks)", **details)
        if status != "ACTIVE":
            return waiting(f"{where} is {status}", **details)
        if not record.get("agentConnected", False):
            return waiting(f"{where} is ACTIVE but its agent is not connected", **details)
        return passed(f"{where} ACTIVE in {cluster}, agent connected", **details)
