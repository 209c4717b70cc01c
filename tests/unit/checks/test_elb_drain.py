"""elb-drain on moto: a terminating instance is drained once no Classic Load Balancer of its group
lists it any more.

What moto reports (5.2.5): DeregisterInstancesFromLoadBalancer removes the instance at once (no
connection draining), and DescribeInstanceHealth without an instance list then no longer lists it.
The draining window, where AWS keeps the instance listed as ``InService`` with "Instance
deregistration currently in progress.", is patched in by the test that needs it.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from asg_lifecycle.checks.elb_drain import ElbDrainCheck
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import Account, Ask


def _register(aws: Account, name: str, instance_id: str | None = None) -> None:
    aws.client("elb").register_instances_with_load_balancer(
        LoadBalancerName=name, Instances=[{"InstanceId": instance_id or aws.instance_id}]
    )


def _deregister(aws: Account, name: str) -> None:
    aws.client("elb").deregister_instances_from_load_balancer(
        LoadBalancerName=name, Instances=[{"InstanceId": aws.instance_id}]
    )


def test_group_without_classic_load_balancers_passes(aws: Account, ask: Ask) -> None:
    aws.group()
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.PASS
    assert answer.reason == "the group has no classic load balancers"


def test_still_registered_waits_then_passes_once_deregistered(aws: Account, ask: Ask) -> None:
    web, api = aws.load_balancer("web-clb"), aws.load_balancer("api-clb")
    aws.group(load_balancers=[web, api])
    _register(aws, web)
    _register(aws, api)

    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == (
        "still registered with web-clb: InService; still registered with api-clb: InService"
    )

    _deregister(aws, web)
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "still registered with api-clb: InService"

    _deregister(aws, api)
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.reason == "out of 2 classic load balancer(s)"


def test_never_registered_instance_is_drained(aws: Account, ask: Ask) -> None:
    """Only this instance counts: another instance registered with the load balancer does not
    hold the termination."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    other = aws.other_instance()
    _register(aws, clb, other)
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.reason == "out of 1 classic load balancer(s)"


def test_connection_draining_waits_with_the_load_balancers_description(
    aws: Account, ask: Ask
) -> None:
    """moto deregisters at once (no connection draining): DescribeInstanceHealth is patched
    (this test only) to answer what AWS does while the draining timeout runs."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    draining = {
        "InstanceStates": [
            {
                "InstanceId": aws.instance_id,
                "State": "InService",
                "ReasonCode": "N/A",
                "Description": "Instance deregistration currently in progress.",
            }
        ]
    }
    with mock.patch.object(aws.client("elb"), "describe_instance_health", return_value=draining):
        answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == (
        "still registered with web-clb: InService (Instance deregistration currently in progress.)"
    )


def test_deleted_load_balancer_has_nothing_to_drain(aws: Account, ask: Ask) -> None:
    web, old = aws.load_balancer("web-clb"), aws.load_balancer("old-clb")
    aws.group(load_balancers=[web, old])
    _register(aws, old)
    aws.client("elb").delete_load_balancer(LoadBalancerName=old)
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.PASS, answer.reason
    assert (
        answer.reason
        == "out of 1 classic load balancer(s); skipped deleted load balancer(s) old-clb"
    )
    assert answer.details == {"missing": ["old-clb"]}


def test_deleted_load_balancer_does_not_hide_one_still_draining(aws: Account, ask: Ask) -> None:
    web, old = aws.load_balancer("web-clb"), aws.load_balancer("old-clb")
    aws.group(load_balancers=[web, old])
    _register(aws, web)
    aws.client("elb").delete_load_balancer(LoadBalancerName=old)
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "still registered with web-clb: InService"
    assert answer.details == {"missing": ["old-clb"]}


def test_access_point_not_found_spelling_counts_as_deleted(aws: Account, ask: Ask) -> None:
    """Patched: moto answers LoadBalancerNotFound; AccessPointNotFound, the API reference's name
    for the error, is accepted too."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    gone = ClientError(
        {"Error": {"Code": "AccessPointNotFound", "Message": "patched"}}, "DescribeInstanceHealth"
    )
    with mock.patch.object(aws.client("elb"), "describe_instance_health", side_effect=gone):
        answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.PASS
    assert answer.details == {"missing": ["web-clb"]}


def test_unknown_group_passes(aws: Account, ask: Ask) -> None:
    """A deleted group (force-delete terminates its instances) has no load balancer left to drain
    from, as in target-group-drain."""
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.PASS
    assert answer.reason.startswith("Auto Scaling does not report the group")


def test_transient_error_propagates_so_the_round_waits(aws: Account, ask: Ask) -> None:
    """Patched: moto does not throttle. Any error but a missing load balancer is raised, and
    run_round turns it into WAIT: an unknown answer never counts as drained."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    throttled = ClientError(
        {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "DescribeInstanceHealth"
    )
    with (
        mock.patch.object(aws.client("elb"), "describe_instance_health", side_effect=throttled),
        pytest.raises(ClientError, match="Throttling"),
    ):
        ask(ElbDrainCheck)


def test_params_are_rejected_it_takes_none(ask: Ask) -> None:
    with pytest.raises(
        InvalidParams, match=r"unknown parameter\(s\) \['register'\]; allowed: none"
    ):
        ask(ElbDrainCheck, {"register": True})


def test_example_is_valid_metadata() -> None:
    example = ElbDrainCheck.example
    assert example == {"name": "elb-drain"}
    assert ElbDrainCheck.validate_params(example.get("params", {})) == {}
    assert len(json.dumps({"checks": [example]})) < 200
