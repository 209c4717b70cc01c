"""ecs-drain on moto: a real cluster, container instances and tasks started on them (StartTask).

What moto 5.2.5 does, and what is faked here:

* UpdateContainerInstancesState really sets ``DRAINING`` (and reports unknown ARNs as failures),
  but it neither stops nor moves tasks: tasks are stopped by the test (StopTask), as ECS would.
* A task advances one step along RUNNING > DEACTIVATING > STOPPING > DEPROVISIONING > STOPPED each
  time DescribeTasks describes it (its ``desiredStatus`` stays RUNNING): the drain emulated over
  rounds. ``frozen_tasks`` stops that progression where a test needs a task to stay put.
* ListTasks honours ``containerInstance`` (a substring match) and ``desiredStatus``; StopTask sets
  both statuses to STOPPED at once, so a task on its way down (desired STOPPED, last STOPPING) is
  set on moto's task object.
* Deregistration deletes the container instance (ECS keeps it INACTIVE for a while; either way
  the default listing no longer shows it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ContainerInstanceFailure
from moto.moto_api import state_manager

from asg_lifecycle.checks.ecs_drain import EcsDrainCheck
from asg_lifecycle.config import StackLimits
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import REGION, Account, Ask
from tests.unit.checks.test_ecs_container_instance import (
    CLUSTER,
    backend,
    calls,
    ecs_listing,
    fail_calls,
    join,
    record,
)

__all__ = ["ecs_listing"]  # a fixture, used by name

PARAMS = {"cluster": CLUSTER}


@pytest.fixture
def cluster(aws: Account) -> str:
    """The cluster ``web`` with a task definition, and another instance running one task there
    (it must never count as ours)."""
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 64}]
    )
    start(aws, join(aws, aws.other_instance()))
    return CLUSTER


@pytest.fixture
def frozen_tasks() -> Iterator[None]:
    """Tasks keep their status however often they are described."""
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
    yield
    state_manager.unset_transition("ecs::task")


def start(aws: Account, container_instance: str) -> str:
    task = aws.client("ecs").start_task(
        cluster=CLUSTER, taskDefinition="app", containerInstances=[container_instance]
    )["tasks"][0]
    arn: str = task["taskArn"]
    return arn


def status_of(aws: Account, arn: str) -> str:
    described = aws.client("ecs").describe_container_instances(
        cluster=CLUSTER, containerInstances=[arn]
    )
    status: str = described["containerInstances"][0]["status"]
    return status


def test_idle_instance_is_set_draining_and_passes(aws: Account, ask: Ask, cluster: str) -> None:
    arn = join(aws)
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.details == {"cluster": "web", "containerInstanceArn": arn}
    assert status_of(aws, arn) == "DRAINING"


def test_running_task_waits_until_stopped(
    aws: Account, ask: Ask, cluster: str, frozen_tasks: None
) -> None:
    arn = join(aws)
    task = start(aws, arn)
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.WAIT
    assert answer.reason == f"1 task(s) left on container instance {arn[-36:]} (1 RUNNING)"
    assert answer.details["tasks"] == 1
    assert status_of(aws, arn) == "DRAINING"

    aws.client("ecs").stop_task(cluster=CLUSTER, task=task, reason="drained")
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.PASS, answer.reason


def test_draining_is_asked_once_only(
    aws: Account, ask: Ask, cluster: str, frozen_tasks: None
) -> None:
    """Once DRAINING, later rounds only count (no UpdateContainerInstancesState call)."""
    start(aws, join(aws))
    updates = calls(aws, "UpdateContainerInstancesState")
    ask(EcsDrainCheck, PARAMS)
    ask(EcsDrainCheck, PARAMS)
    assert len(updates) == 1
    assert updates[0]["status"] == "DRAINING"


def test_tasks_on_their_way_down_still_count(aws: Account, ask: Ask, cluster: str) -> None:
    """moto moves the task one step per DescribeTasks: one round per step, PASS at STOPPED."""
    start(aws, join(aws))
    seen = [ask(EcsDrainCheck, PARAMS) for _ in range(4)]
    assert [a.status for a in seen] == [Verdict.WAIT] * 3 + [Verdict.PASS]
    assert [a.reason.rsplit("(", 1)[-1] for a in seen[:3]] == [
        "1 DEACTIVATING)",
        "1 STOPPING)",
        "1 DEPROVISIONING)",
    ]


def test_a_task_being_stopped_is_listed_by_its_desired_status(
    aws: Account, ask: Ask, cluster: str, frozen_tasks: None
) -> None:
    """ListTasks without desiredStatus lists RUNNING only: a task ECS is stopping (desired STOPPED,
    containers still STOPPING) must be found by listing STOPPED too."""
    arn = join(aws)
    task = backend().tasks[CLUSTER][start(aws, arn)]
    task.desired_status = "STOPPED"
    task.last_status = "STOPPING"
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.WAIT
    assert answer.reason.endswith("(1 STOPPING)")


def test_disconnected_agent_is_named_in_the_reason(
    aws: Account, ask: Ask, cluster: str, frozen_tasks: None
) -> None:
    arn = join(aws)
    start(aws, arn)
    record(arn).agent_connected = False
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.WAIT
    assert answer.reason.endswith("agent disconnected, ECS cannot stop them")


def test_tasks_are_described_100_at_a_time(
    aws: Account, ask: Ask, cluster: str, frozen_tasks: None
) -> None:
    arn = join(aws)
    for _ in range(101):
        start(aws, arn)
    described = calls(aws, "DescribeTasks")
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.WAIT
    assert answer.reason.startswith("101 task(s) left")
    assert sorted(len(c["tasks"]) for c in described) == [1, 100]


def test_instance_never_registered_passes(aws: Account, ask: Ask, cluster: str) -> None:
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.PASS
    assert answer.reason == "not registered in cluster web: no tasks"


def test_instance_already_deregistered_passes(aws: Account, ask: Ask, cluster: str) -> None:
    arn = join(aws)
    aws.client("ecs").deregister_container_instance(
        cluster=CLUSTER, containerInstance=arn, force=True
    )
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.PASS
    assert "not registered" in answer.reason


def test_missing_cluster_fails(aws: Account, ask: Ask, ecs_listing: None) -> None:
    answer = ask(EcsDrainCheck, {"cluster": "wbe"})
    assert answer.status is Verdict.FAIL
    assert answer.reason == "cluster 'wbe' not found (check the cluster parameter)"


def test_refused_drain_waits(
    aws: Account, ask: Ask, cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """UpdateContainerInstancesState answers per instance (``failures``); a failure is not a drain.
    moto fails only for unknown ARNs, so its answer is replaced for this test."""
    arn = join(aws)

    def refuse(cluster_str: str, ids: list[str], status: str) -> tuple[list[Any], list[Any]]:
        return [], [ContainerInstanceFailure("MISSING", ids[0], DEFAULT_ACCOUNT_ID, REGION)]

    monkeypatch.setattr(backend(), "update_container_instances_state", refuse)
    answer = ask(EcsDrainCheck, PARAMS)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "could not set DRAINING: MISSING"
    assert status_of(aws, arn) == "ACTIVE"


def test_throttling_is_raised_so_the_round_waits(aws: Account, ask: Ask, cluster: str) -> None:
    join(aws)
    fail_calls(aws, "ListTasks", "ThrottlingException")
    with pytest.raises(ClientError, match="ThrottlingException"):
        ask(EcsDrainCheck, PARAMS)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "cluster is required"),
        ({"cluster": 3}, "cluster must be a non-empty string"),
        ({"cluster": "x" * 321}, "cluster is longer than 320 characters"),
    ],
)
def test_bad_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParams) as raised:
        EcsDrainCheck.validate_params(params)
    assert message in str(raised.value)


def test_a_cluster_the_stack_does_not_grant_is_refused() -> None:
    limits = StackLimits(region=REGION, account="123456789012", ecs_clusters=frozenset({"web"}))
    assert EcsDrainCheck.validate_params({"cluster": "web"}, limits=limits) == {"cluster": "web"}
    with pytest.raises(InvalidParams, match=r"cluster 'api' is not one of the stack's Ecs"):
        EcsDrainCheck.validate_params({"cluster": "api"}, limits=limits)
    with pytest.raises(InvalidParams, match="none: it is empty"):
        EcsDrainCheck.validate_params({"cluster": "web"}, limits=StackLimits())


def test_example_is_valid() -> None:
    assert EcsDrainCheck.example["name"] == EcsDrainCheck.name
    assert EcsDrainCheck.validate_params(EcsDrainCheck.example["params"]) == {"cluster": "web"}
