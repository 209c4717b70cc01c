"""ecs-container-instance on moto: a real cluster, container instances registered the way the ECS
agent does (an instance identity document naming the EC2 instance).

What moto 5.2.5 does differently from ECS, and how these tests cope:

* it ignores ListContainerInstances' ``filter`` (every instance of the cluster is listed), so a
  second instance is registered first in most tests: only the client-side match keeps it out;
* it ignores ``maxResults`` (one page, never a ``nextToken``);
* without ``status`` it lists every status, where ECS lists only ``ACTIVE`` and ``DRAINING``, and
  it lists an unknown cluster as empty, where ECS raises ClusterNotFoundException: the fixture
  ``ecs_listing`` makes moto list the way ECS does where a test depends on it;
* its container instances are always ``ACTIVE`` with the agent connected, and deregistration
  deletes them: other statuses are set on moto's record directly (``record``).

The helpers here are shared with test_ecs_drain.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ecs_backends

from asg_lifecycle.checks.ecs_container_instance import EcsContainerInstanceCheck
from asg_lifecycle.config import StackLimits
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import REGION, Account, Ask

CLUSTER = "web"


def join(aws: Account, instance_id: str | None = None, cluster: str = CLUSTER) -> str:
    """Register an EC2 instance (by default the fixture's) as a container instance: its ARN."""
    document = json.dumps({"instanceId": instance_id or aws.instance_id})
    response = aws.client("ecs").register_container_instance(
        cluster=cluster, instanceIdentityDocument=document
    )
    arn: str = response["containerInstance"]["containerInstanceArn"]
    return arn


def backend() -> Any:
    return ecs_backends[DEFAULT_ACCOUNT_ID][REGION]


def record(arn: str, cluster: str = CLUSTER) -> Any:
    """moto's own container instance object, to set what the API cannot (status, agent)."""
    return backend().container_instances[cluster][arn.rsplit("/", 1)[-1]]


def calls(aws: Account, operation: str) -> list[dict[str, Any]]:
    """The parameters of every later call of ``operation`` on the ecs client, as sent."""
    seen: list[dict[str, Any]] = []

    def keep(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    aws.client("ecs").meta.events.register(f"provide-client-params.ecs.{operation}", keep)
    return seen


@pytest.fixture
def ecs_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's ListContainerInstances behave as ECS's: an unknown cluster raises
    ClusterNotFoundException, and no ``status`` means ACTIVE and DRAINING only."""
    ecs = backend()
    original = ecs.list_container_instances

    def like_ecs(cluster_str: str, status: str | None = None) -> list[str]:
        ecs._get_cluster(cluster_str)  # raises ClusterNotFoundException
        if status is not None:
            return list(original(cluster_str, status=status))
        return sorted(original(cluster_str, status="ACTIVE") + original(cluster_str, "DRAINING"))

    monkeypatch.setattr(ecs, "list_container_instances", like_ecs)


@pytest.fixture
def cluster(aws: Account) -> str:
    """The cluster ``web``, with another instance already registered (listed first by moto)."""
    aws.client("ecs").create_cluster(clusterName=CLUSTER)
    join(aws, aws.other_instance())
    return CLUSTER


def test_active_instance_with_connected_agent_passes(aws: Account, ask: Ask, cluster: str) -> None:
    arn = join(aws)
    listed = calls(aws, "ListContainerInstances")
    answer = ask(EcsContainerInstanceCheck, {"cluster": cluster})
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.details == {"cluster": "web", "containerInstanceArn": arn}
    assert listed == [{"cluster": "web", "filter": f"ec2InstanceId == {aws.instance_id}"}]


def test_cluster_given_by_arn_passes(aws: Account, ask: Ask) -> None:
    arn = aws.client("ecs").create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    join(aws)
    answer = ask(EcsContainerInstanceCheck, {"cluster": arn})
    assert answer.status is Verdict.PASS, answer.reason


def test_not_registered_yet_waits(aws: Account, ask: Ask, cluster: str) -> None:
    """Only the other instance is registered, and moto lists it despite the filter: the
    client-side match must not take it for ours."""
    answer = ask(EcsContainerInstanceCheck, {"cluster": cluster})
    assert answer.status is Verdict.WAIT
    assert answer.reason == "not registered in cluster web yet"


def test_agent_not_connected_waits(aws: Account, ask: Ask, cluster: str) -> None:
    record(join(aws)).agent_connected = False
    answer = ask(EcsContainerInstanceCheck, {"cluster": cluster})
    assert answer.status is Verdict.WAIT
    assert "agent is not connected" in answer.reason


def test_registering_waits(aws: Account, ask: Ask, cluster: str) -> None:
    record(join(aws)).status = "REGISTERING"
    answer = ask(EcsContainerInstanceCheck, {"cluster": cluster})
    assert answer.status is Verdict.WAIT
    assert answer.reason.endswith("is REGISTERING")


def test_draining_waits_with_the_reason(aws: Account, ask: Ask, cluster: str) -> None:
    arn = join(aws)
    aws.client("ecs").update_container_instances_state(
        cluster=cluster, containerInstances=[arn], status="DRAINING"
    )
    answer = ask(EcsContainerInstanceCheck, {"cluster": cluster})
    assert answer.status is Verdict.WAIT
    assert "is DRAINING" in answer.reason


def test_registration_failed_fails(aws: Account, ask: Ask, cluster: str, ecs_listing: None) -> None:
    """ECS does not list a REGISTRATION_FAILED instance by default (``ecs_listing``): the check
    must ask for that status itself."""
    broken = record(join(aws))
    broken.status = "REGISTRATION_FAILED"
    listed = calls(aws, "ListContainerInstances")
    answer = ask(EcsContainerInstanceCheck, {"cluster": cluster})
    assert answer.status is Verdict.FAIL
    assert "registration failed" in answer.reason
    assert [c.get("status") for c in listed] == [None, "REGISTRATION_FAILED"]


@pytest.mark.parametrize("status", ["DEREGISTERING", "INACTIVE"])
def test_deregistered_while_launching_fails(
    aws: Account, ask: Ask, cluster: str, status: str
) -> None:
    record(join(aws)).status = status
    answer = ask(EcsContainerInstanceCheck, {"cluster": cluster})
    assert answer.status is Verdict.FAIL
    assert f"is {status}" in answer.reason


def test_a_newer_registration_wins_over_an_inactive_one(
    aws: Account, ask: Ask, cluster: str
) -> None:
    record(join(aws)).status = "INACTIVE"
    arn = join(aws)
    answer = ask(EcsContainerInstanceCheck, {"cluster": cluster})
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.details["containerInstanceArn"] == arn


def test_missing_cluster_fails(aws: Account, ask: Ask, ecs_listing: None) -> None:
    answer = ask(EcsContainerInstanceCheck, {"cluster": "wbe"})
    assert answer.status is Verdict.FAIL
    assert answer.reason == "cluster 'wbe' not found (check the cluster parameter)"


def fail_calls(aws: Account, operation: str, code: str) -> None:
    """Make every later call of ``operation`` on the ecs client fail with ``code``."""

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    aws.client("ecs").meta.events.register(f"before-call.ecs.{operation}", refuse)


def test_other_errors_are_raised_so_the_round_waits(aws: Account, ask: Ask, cluster: str) -> None:
    """A throttled call has no definite meaning: the check raises, run_round makes it WAIT."""
    join(aws)
    fail_calls(aws, "DescribeContainerInstances", "ThrottlingException")
    with pytest.raises(ClientError, match="ThrottlingException"):
        ask(EcsContainerInstanceCheck, {"cluster": cluster})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "cluster is required"),
        ({"cluster": 3}, "cluster must be a non-empty string"),
        ({"cluster": ""}, "cluster must be a non-empty string"),
        ({"cluster": "web", "clusters": "x"}, "unknown parameter(s) ['clusters']"),
    ],
)
def test_bad_params_are_refused(params: dict[str, Any], message: str) -> None:
    """What the hook's configuration reader runs before the first round (no AWS needed)."""
    with pytest.raises(InvalidParams) as raised:
        EcsContainerInstanceCheck.validate_params(params)
    assert message in str(raised.value)


LIMITS = StackLimits(region=REGION, account="123456789012", ecs_clusters=frozenset({"web"}))


@pytest.mark.parametrize("cluster", ["web", f"arn:aws:ecs:{REGION}:123456789012:cluster/web"])
def test_a_cluster_the_stack_grants_is_accepted_by_name_or_arn(cluster: str) -> None:
    assert EcsContainerInstanceCheck.validate_params({"cluster": cluster}, limits=LIMITS) == {
        "cluster": cluster
    }


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ("payments", "cluster 'payments' is not one of the stack's EcsClusterNames (web); add it"),
        (
            f"arn:aws:ecs:{REGION}:999999999999:cluster/web",
            f"cluster 'arn:aws:ecs:{REGION}:999999999999:cluster/web' names account 999999999999",
        ),
        ("arn:aws:ecs:eu-west-1:123456789012:cluster/web", "names account 123456789012, Region eu"),
        (f"arn:aws:ecs:{REGION}:123456789012:service/web", "is not an ECS cluster ARN"),
        (f"arn:aws:ecs:{REGION}:123456789012:cluster/payments", "cluster 'payments' is not one"),
    ],
)
def test_a_cluster_the_stack_does_not_grant_is_refused(cluster: str, message: str) -> None:
    with pytest.raises(InvalidParams) as raised:
        EcsContainerInstanceCheck.validate_params({"cluster": cluster}, limits=LIMITS)
    assert message in str(raised.value)


def test_example_is_valid_and_fits_the_metadata() -> None:
    example = EcsContainerInstanceCheck.example
    assert example["name"] == EcsContainerInstanceCheck.name
    assert EcsContainerInstanceCheck.validate_params(example["params"]) == {"cluster": "web"}
    assert len(json.dumps(example)) < 200


def test_moto_really_ignores_the_filter(aws: Account, cluster: str) -> None:
    """Pins the moto behaviour the client-side match exists for: if moto starts honouring the
    filter, the docstring above (and the second instance in ``cluster``) can be simplified."""
    join(aws)
    ecs = boto3.client("ecs", region_name=REGION)
    listed = ecs.list_container_instances(
        cluster=cluster, filter=f"ec2InstanceId == {aws.instance_id}"
    )["containerInstanceArns"]
    assert len(listed) == 2
