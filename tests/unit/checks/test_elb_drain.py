"""elb-drain on moto: a terminating instance is drained once no Classic Load Balancer of its group
lists it any more.

What moto reports (5.2.5): DeregisterInstancesFromLoadBalancer removes the instance at once (no
connection draining), and DescribeInstanceHealth without an instance list then no longer lists it.
The draining window, where AWS keeps the instance listed as ``InService`` with "Instance
deregistration currently in progress.", is patched in by the test that needs it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from asg_lifecycle.checks.elb_drain import ElbDrainCheck
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import REGION, Account, Ask


def _load_balancer(aws: Account, name: str) -> str:
    aws.client("elb").create_load_balancer(
        LoadBalancerName=name,
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
        AvailabilityZones=[f"{REGION}a"],
    )
    return name


def _group(aws: Account, load_balancers: Sequence[str] = ()) -> None:
    """The instance's Auto Scaling group, empty: the check only reads its load balancer list."""
    described = aws.client("ec2").describe_instances(InstanceIds=[aws.instance_id])
    image = described["Reservations"][0]["Instances"][0]["ImageId"]  # describe_images is slow
    autoscaling = aws.client("autoscaling")
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="web-lc", ImageId=image, InstanceType="t3.micro"
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=aws.group_name,
        LaunchConfigurationName="web-lc",
        MinSize=0,
        MaxSize=1,
        DesiredCapacity=0,
        AvailabilityZones=[f"{REGION}a"],
        LoadBalancerNames=list(load_balancers),
    )


def _register(aws: Account, name: str, instance_id: str | None = None) -> None:
    aws.client("elb").register_instances_with_load_balancer(
        LoadBalancerName=name, Instances=[{"InstanceId": instance_id or aws.instance_id}]
    )


def _deregister(aws: Account, name: str) -> None:
    aws.client("elb").deregister_instances_from_load_balancer(
        LoadBalancerName=name, Instances=[{"InstanceId": aws.instance_id}]
    )


def test_group_without_classic_load_balancers_passes(aws: Account, ask: Ask) -> None:
    _group(aws)
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.PASS
    assert answer.reason == "the group has no classic load balancers"


def test_still_registered_waits_then_passes_once_deregistered(aws: Account, ask: Ask) -> None:
    web, api = _load_balancer(aws, "web-clb"), _load_balancer(aws, "api-clb")
    _group(aws, [web, api])
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
    clb = _load_balancer(aws, "web-clb")
    _group(aws, [clb])
    ec2 = aws.client("ec2")
    described = ec2.describe_instances(InstanceIds=[aws.instance_id])
    image = described["Reservations"][0]["Instances"][0]["ImageId"]
    other = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    _register(aws, clb, other)
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.reason == "out of 1 classic load balancer(s)"


def test_connection_draining_waits_with_the_load_balancers_description(
    aws: Account, ask: Ask
) -> None:
    """moto deregisters at once (no connection draining): DescribeInstanceHealth is patched
    (this test only) to answer what AWS does while the draining timeout runs."""
    clb = _load_balancer(aws, "web-clb")
    _group(aws, [clb])
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
    web, old = _load_balancer(aws, "web-clb"), _load_balancer(aws, "old-clb")
    _group(aws, [web, old])
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
    web, old = _load_balancer(aws, "web-clb"), _load_balancer(aws, "old-clb")
    _group(aws, [web, old])
    _register(aws, web)
    aws.client("elb").delete_load_balancer(LoadBalancerName=old)
    answer = ask(ElbDrainCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "still registered with web-clb: InService"
    assert answer.details == {"missing": ["old-clb"]}


def test_access_point_not_found_spelling_counts_as_deleted(aws: Account, ask: Ask) -> None:
    """Patched: moto answers LoadBalancerNotFound; AccessPointNotFound, the API reference's name
    for the error, is accepted too."""
    clb = _load_balancer(aws, "web-clb")
    _group(aws, [clb])
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
    clb = _load_balancer(aws, "web-clb")
    _group(aws, [clb])
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
