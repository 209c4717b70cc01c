"""elb-health on moto: registers the launching instance with the group's Classic Load Balancers and
waits until it is InService in every one.

What moto reports (5.2.5): DescribeInstanceHealth without an instance list lists the registered
instances, ``InService`` when running and ``OutOfService`` when not, always with ReasonCode and
Description ``N/A``; it has no health checker, so AWS's real reasons ("Instance registration is
still in progress.") and ``Unknown`` are patched in where a test needs them (each such test says
so). A deleted load balancer answers ``LoadBalancerNotFound``, as on AWS.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from asg_lifecycle.checks.elb_health import ElbHealthCheck
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import Account, Ask


def _register(aws: Account, name: str) -> None:
    aws.client("elb").register_instances_with_load_balancer(
        LoadBalancerName=name, Instances=[{"InstanceId": aws.instance_id}]
    )


def _registered(aws: Account, name: str) -> list[str]:
    described = aws.client("elb").describe_load_balancers(LoadBalancerNames=[name])
    return [i["InstanceId"] for i in described["LoadBalancerDescriptions"][0]["Instances"]]


def _error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "patched"}}, operation)


def test_group_without_classic_load_balancers_passes(aws: Account, ask: Ask) -> None:
    aws.group()
    answer = ask(ElbHealthCheck)
    assert answer.status is Verdict.PASS
    assert answer.reason == "the group has no classic load balancers"


def test_unregistered_instance_is_registered_then_passes_once_in_service(
    aws: Account, ask: Ask
) -> None:
    """Pending:Wait: Auto Scaling has not registered the instance, so the check does, waits one
    round, and passes when the load balancer reports it InService."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])

    first = ask(ElbHealthCheck)
    assert first.status is Verdict.WAIT
    assert first.reason == "web-clb: registered the instance, waiting for health checks"
    assert first.details == {"registered": ["web-clb"]}
    assert _registered(aws, clb) == [aws.instance_id]

    second = ask(ElbHealthCheck)
    assert second.status is Verdict.PASS, second.reason
    assert second.reason == "InService in 1 classic load balancer(s)"
    assert second.details == {"inService": ["web-clb"]}
    assert _registered(aws, clb) == [aws.instance_id]  # not registered twice


def test_register_false_waits_and_registers_nothing(aws: Account, ask: Ask) -> None:
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    answer = ask(ElbHealthCheck, {"register": False})
    assert answer.status is Verdict.WAIT
    assert answer.reason == "web-clb: instance not registered (register is false)"
    assert _registered(aws, clb) == []


def test_register_false_passes_once_something_else_registered_it(aws: Account, ask: Ask) -> None:
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    _register(aws, clb)
    answer = ask(ElbHealthCheck, {"register": False})
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.details == {"inService": ["web-clb"]}


def test_every_load_balancer_must_report_in_service(aws: Account, ask: Ask) -> None:
    web, api = aws.load_balancer("web-clb"), aws.load_balancer("api-clb")
    aws.group(load_balancers=[web, api])
    _register(aws, web)
    answer = ask(ElbHealthCheck, {"register": False})
    assert answer.status is Verdict.WAIT
    assert answer.reason == "api-clb: instance not registered (register is false)"
    assert answer.details == {"inService": ["web-clb"]}

    _register(aws, api)
    answer = ask(ElbHealthCheck, {"register": False})
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.reason == "InService in 2 classic load balancer(s)"


def test_stopped_instance_is_out_of_service_and_waits(aws: Account, ask: Ask) -> None:
    """moto itself reports a registered stopped instance OutOfService (reason codes N/A)."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    _register(aws, clb)
    aws.client("ec2").stop_instances(InstanceIds=[aws.instance_id])
    answer = ask(ElbHealthCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "web-clb: OutOfService"


@pytest.mark.parametrize(
    ("state", "code", "description"),
    [
        ("OutOfService", "ELB", "Instance registration is still in progress."),
        (
            "OutOfService",
            "Instance",
            "Instance has failed at least the UnhealthyThreshold number of health checks"
            " consecutively.",
        ),
        ("Unknown", "ELB", "A transient error occurred. Please try again later."),
    ],
)
def test_not_in_service_waits_with_the_load_balancers_reason(
    aws: Account, ask: Ask, state: str, code: str, description: str
) -> None:
    """moto has no health checker and reports N/A reasons: DescribeInstanceHealth is patched
    (this test only) to answer what AWS does. A listed instance is never registered again."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    elb = aws.client("elb")
    reported = {
        "InstanceStates": [
            {
                "InstanceId": aws.instance_id,
                "State": state,
                "ReasonCode": code,
                "Description": description,
            }
        ]
    }
    with (
        mock.patch.object(elb, "describe_instance_health", return_value=reported),
        mock.patch.object(elb, "register_instances_with_load_balancer") as register,
    ):
        answer = ask(ElbHealthCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == f"web-clb: {state} ({code}: {description})"
    register.assert_not_called()


def test_deleted_load_balancer_is_skipped(aws: Account, ask: Ask) -> None:
    """A load balancer deleted but still listed by the group serves nothing: it cannot hold the
    launch, and it is named in details."""
    web, old = aws.load_balancer("web-clb"), aws.load_balancer("old-clb")
    aws.group(load_balancers=[web, old])
    aws.client("elb").delete_load_balancer(LoadBalancerName=old)

    first = ask(ElbHealthCheck)
    assert first.status is Verdict.WAIT
    assert first.details == {"registered": ["web-clb"], "missing": ["old-clb"]}

    second = ask(ElbHealthCheck)
    assert second.status is Verdict.PASS, second.reason
    assert second.reason == (
        "InService in 1 classic load balancer(s); skipped deleted load balancer(s) old-clb"
    )
    assert second.details == {"inService": ["web-clb"], "missing": ["old-clb"]}


def test_every_load_balancer_deleted_passes(aws: Account, ask: Ask) -> None:
    old = aws.load_balancer("old-clb")
    aws.group(load_balancers=[old])
    aws.client("elb").delete_load_balancer(LoadBalancerName=old)
    answer = ask(ElbHealthCheck)
    assert answer.status is Verdict.PASS
    assert answer.reason == "none of the group's classic load balancers exists any more"
    assert answer.details == {"missing": ["old-clb"]}


@pytest.mark.parametrize("code", ["LoadBalancerNotFound", "AccessPointNotFound"])
def test_load_balancer_deleted_between_reading_and_registering_is_skipped(
    aws: Account, ask: Ask, code: str
) -> None:
    """Patched: the race cannot be staged on moto (whose RegisterInstancesWithLoadBalancer on a
    missing load balancer fails with an internal error, not LoadBalancerNotFound). Both spellings
    of the error code count."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    gone = _error(code, "RegisterInstancesWithLoadBalancer")
    with mock.patch.object(
        aws.client("elb"), "register_instances_with_load_balancer", side_effect=gone
    ):
        answer = ask(ElbHealthCheck)
    assert answer.status is Verdict.PASS
    assert answer.details == {"missing": ["web-clb"]}


def test_unknown_group_waits(aws: Account, ask: Ask) -> None:
    """No group, no list of load balancers: nothing to vouch for, so not a PASS."""
    answer = ask(ElbHealthCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "Auto Scaling does not report the group"


def test_transient_error_propagates_so_the_round_waits(aws: Account, ask: Ask) -> None:
    """Patched: moto does not throttle. Any error but a missing load balancer is raised, and
    run_round turns it into WAIT."""
    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    throttled = _error("Throttling", "DescribeInstanceHealth")
    with (
        mock.patch.object(aws.client("elb"), "describe_instance_health", side_effect=throttled),
        pytest.raises(ClientError, match="Throttling"),
    ):
        ask(ElbHealthCheck)


def test_bad_params_are_rejected_before_the_check_runs(ask: Ask) -> None:
    """One fixture for all cases: the moto account is slow to set up."""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"register": "yes"}, "register must be true or false"),
        ({"register": None}, "register must be true or false"),
        ({"Register": True}, r"unknown parameter\(s\) \['Register'\]; allowed: \['register'\]"),
    ]
    for params, message in cases:
        with pytest.raises(InvalidParams, match=message):
            ask(ElbHealthCheck, params)


def test_register_defaults_to_true_and_the_example_is_valid_metadata() -> None:
    assert ElbHealthCheck.validate_params({}) == {"register": True}
    example = ElbHealthCheck.example
    assert example["name"] == ElbHealthCheck.name
    assert ElbHealthCheck.validate_params(example["params"]) == {"register": True}
    assert len(json.dumps({"checks": [example]})) < 200


def test_an_instance_going_into_the_warm_pool_is_never_registered(aws: Account) -> None:
    """As target-group-health: stopped in the pool, a registered instance would take traffic
    until it stops; the check is checked on the way out of the pool instead."""
    from dataclasses import replace  # noqa: PLC0415

    from asg_lifecycle.checks.base import CheckContext  # noqa: PLC0415

    clb = aws.load_balancer("web-clb")
    aws.group(load_balancers=[clb])
    into_pool = replace(aws.action(), origin="EC2", destination="WarmPool")
    params = ElbHealthCheck.validate_params({})
    answer = ElbHealthCheck().evaluate(CheckContext(into_pool, params, aws.client))
    assert answer.status is Verdict.PASS
    assert answer.details == {"skipped": "warm pool"}
    assert _registered(aws, clb) == []
    assert ElbHealthCheck.for_warm_pool is False
