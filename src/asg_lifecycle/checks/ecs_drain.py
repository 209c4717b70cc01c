"""Terminate check: the instance's ECS tasks are gone before it is (the container instance drained).

Terminating an instance kills its containers mid-request. Set to ``DRAINING``, ECS stops placing
tasks on it, replaces its service tasks elsewhere (respecting the services' minimum healthy percent
and their load balancers' deregistration delay) and stops them; this check does that (once, if the
container instance is ``ACTIVE``) and then waits until no task is left on it.

A task counts until its ``lastStatus`` is ``STOPPED`` (or ``DELETED``): a task being stopped
(``DEACTIVATING``, ``STOPPING``, ``DEPROVISIONING``) still has containers finishing their work, so
tasks are listed with both desired statuses (``RUNNING`` and ``STOPPED``) and described. An unknown
new status counts as running: waiting too long is safer than killing a task.

Standalone tasks (RunTask, no service) are not stopped by draining: they keep the instance until
they end or the action's deadline passes, which is what their owner asked for by running them there.
A disconnected agent cannot stop anything; the reason says so and the deadline decides.

An instance that is not registered in the cluster (never joined, or already deregistered) has
nothing running there: PASS. A cluster that does not exist is FAIL with the cluster's name: nothing
can be drained, and a typo in the parameter must show as a failure rather than as a drain that
passed (the instance is terminated either way).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from asg_lifecycle.checks.base import Answer, Check, CheckContext, failed, passed, waiting
from asg_lifecycle.checks.ecs_container_instance import (
    CLUSTER,
    CLUSTER_CONTENTS,
    CLUSTERS,
    check_cluster,
    cluster_missing,
    container_instances,
    short_arn,
)
from asg_lifecycle.config import StackLimits
from asg_lifecycle.model import Transition
from asg_lifecycle.params import Param

_DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks
_ENDED = frozenset({"STOPPED", "DELETED"})


class EcsDrainCheck(Check):
    name: ClassVar[str] = "ecs-drain"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.TERMINATING})
    summary: ClassVar[str] = (
        "Sets the ECS container instance to `DRAINING` and waits until none of its tasks is"
        " left running (an instance not registered in the cluster passes)."
    )
    params: ClassVar[tuple[Param, ...]] = (CLUSTER,)
    example: ClassVar[dict[str, Any]] = {"name": "ecs-drain", "params": {"cluster": "web"}}
    permissions: ClassVar[tuple[str, ...]] = (
        "ecs:ListContainerInstances",
        "ecs:DescribeContainerInstances",
        "ecs:UpdateContainerInstancesState",
        "ecs:ListTasks",
        "ecs:DescribeTasks",
    )
    resources: ClassVar[Mapping[str, str]] = {
        "ecs:ListContainerInstances": CLUSTERS,
        **dict.fromkeys(permissions[1:], CLUSTER_CONTENTS),
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
        ecs = ctx.client("ecs")
        try:
            return _drain(ecs, cluster, ctx.action.instance_id)
        except ClientError as exc:
            if cluster_missing(exc):
                return failed(f"cluster {cluster!r} not found (check the cluster parameter)")
            raise


def _drain(ecs: Any, cluster: str, instance_id: str) -> Answer:
    found = container_instances(ecs, cluster, instance_id)
    if not found:
        return passed(f"not registered in cluster {cluster}: no tasks", cluster=cluster)
    arns: list[str] = [record["containerInstanceArn"] for record in found]
    details: dict[str, Any] = {"cluster": cluster, "containerInstanceArn": arns[0]}
    if len(arns) > 1:
        details["otherContainerInstanceArns"] = arns[1:]
    active = [record["containerInstanceArn"] for record in found if record["status"] == "ACTIVE"]
    if active:
        response = ecs.update_container_instances_state(
            cluster=cluster, containerInstances=active, status="DRAINING"
        )
        failures = response.get("failures", [])
        if failures:
            why = ", ".join(sorted({str(f.get("reason", "unknown")) for f in failures}))
            return waiting(f"could not set DRAINING: {why[:200]}", **details)
    states = Counter(
        status for arn in arns for status in _task_states(ecs, cluster, arn) if status not in _ENDED
    )
    left = sum(states.values())
    if not left:
        return passed(f"container instance {short_arn(arns[0])} drained: no tasks left", **details)
    breakdown = ", ".join(f"{count} {status}" for status, count in sorted(states.items()))
    reason = f"{left} task(s) left on container instance {short_arn(arns[0])} ({breakdown})"
    if not all(record.get("agentConnected", True) for record in found):
        reason += "; agent disconnected, ECS cannot stop them"
    return waiting(reason, tasks=left, **details)


def _task_states(ecs: Any, cluster: str, container_instance: str) -> list[str]:
    """The ``lastStatus`` of every task ECS still lists on the container instance."""
    paginator = ecs.get_paginator("list_tasks")
    arns = sorted(
        {
            arn
            for desired in ("RUNNING", "STOPPED")
            for page in paginator.paginate(
                cluster=cluster, containerInstance=container_instance, desiredStatus=desired
            )
            for arn in page.get("taskArns", [])
        }
    )
    states: list[str] = []
    for start in range(0, len(arns), _DESCRIBE_BATCH):
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + _DESCRIBE_BATCH])
        # a task DescribeTasks no longer knows (failures: MISSING) runs nowhere
        states.extend(str(task.get("lastStatus", "UNKNOWN")) for task in tasks.get("tasks", []))
    return states
