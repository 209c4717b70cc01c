"""target-group-health on moto: registers the launching instance, waits until it is healthy.

What moto reports (5.2.5): DescribeTargetHealth lists a registered running instance as
``healthy`` at once and a registered stopped one as ``unused`` (``Target.InvalidState``); it has no
health checker, so ``initial``, ``unhealthy``, ``draining`` and ``unavailable`` for a registered
instance are patched in where a test needs them (each such test says so).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from asg_lifecycle.checks.base import CheckContext, run_round
from asg_lifecycle.checks.target_group_health import TargetGroupHealthCheck
from asg_lifecycle.config import CheckSpec
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import Account, Ask


def _target_group(aws: Account, name: str, port: int = 8080) -> str:
    vpc = aws.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    created = aws.client("elbv2").create_target_group(
        Name=name, Protocol="HTTP", Port=port, VpcId=vpc, TargetType="instance"
    )
    arn: str = created["TargetGroups"][0]["TargetGroupArn"]
    return arn


def _register(aws: Account, arn: str) -> None:
    aws.client("elbv2").register_targets(TargetGroupArn=arn, Targets=[{"Id": aws.instance_id}])


def _targets(aws: Account, arn: str) -> list[dict[str, Any]]:
    health = aws.client("elbv2").describe_target_health(TargetGroupArn=arn)
    return [d["Target"] for d in health["TargetHealthDescriptions"]]


def test_group_without_target_groups_passes(aws: Account, ask: Ask) -> None:
    aws.group()
    answer = ask(TargetGroupHealthCheck)
    assert answer.status is Verdict.PASS
    assert answer.reason == "the group has no target groups"


def test_unregistered_instance_is_registered_on_the_target_group_port_then_passes(
    aws: Account, ask: Ask
) -> None:
    """Pending:Wait: Auto Scaling has not registered the instance, so the check does (port
    omitted, so the target group's port), waits one round, and passes once it is healthy."""
    arn = _target_group(aws, "web", port=8080)
    aws.group(target_groups=[arn])

    first = ask(TargetGroupHealthCheck)
    assert first.status is Verdict.WAIT
    assert first.reason == "web: registered the instance, waiting for health checks"
    assert first.details == {"registered": ["web"]}
    assert _targets(aws, arn) == [{"Id": aws.instance_id, "Port": 8080}]

    second = ask(TargetGroupHealthCheck)
    assert second.status is Verdict.PASS, second.reason
    assert second.reason == "healthy in 1 target group(s)"
    assert second.details == {"healthy": ["web"]}
    assert len(_targets(aws, arn)) == 1  # not registered twice


def test_register_false_waits_and_registers_nothing(aws: Account, ask: Ask) -> None:
    arn = _target_group(aws, "web")
    aws.group(target_groups=[arn])
    answer = ask(TargetGroupHealthCheck, {"register": False})
    assert answer.status is Verdict.WAIT
    assert answer.reason == "web: instance not registered (register is false)"
    assert _targets(aws, arn) == []


def test_register_false_passes_once_something_else_registered_it(aws: Account, ask: Ask) -> None:
    arn = _target_group(aws, "web")
    aws.group(target_groups=[arn])
    _register(aws, arn)
    answer = ask(TargetGroupHealthCheck, {"register": False})
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.details == {"healthy": ["web"]}


def test_every_target_group_must_be_healthy(aws: Account, ask: Ask) -> None:
    web, api = _target_group(aws, "web"), _target_group(aws, "api", port=9090)
    aws.group(target_groups=[web, api])
    _register(aws, web)
    answer = ask(TargetGroupHealthCheck, {"register": False})
    assert answer.status is Verdict.WAIT
    assert answer.reason == "api: instance not registered (register is false)"
    assert answer.details == {"healthy": ["web"]}

    _register(aws, api)
    answer = ask(TargetGroupHealthCheck, {"register": False})
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.reason == "healthy in 2 target group(s)"


def test_stopped_instance_is_unused_and_waits(aws: Account, ask: Ask) -> None:
    """moto itself reports a registered stopped instance as unused (Target.InvalidState)."""
    arn = _target_group(aws, "web")
    aws.group(target_groups=[arn])
    _register(aws, arn)
    aws.client("ec2").stop_instances(InstanceIds=[aws.instance_id])
    answer = ask(TargetGroupHealthCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "web: unused (Target.InvalidState: Target is in the stopped state)"
    assert len(_targets(aws, arn)) == 1  # registered already: not registered again


@pytest.mark.parametrize(
    ("state", "reason", "description"),
    [
        ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress"),
        (
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [502]",
        ),
        ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"),
        ("unavailable", "Target.HealthCheckDisabled", "Health checks are disabled"),
    ],
)
def test_registered_but_not_healthy_waits_with_the_load_balancers_reason(
    aws: Account, ask: Ask, state: str, reason: str, description: str
) -> None:
    """moto has no health checker: DescribeTargetHealth is patched (this test only) to report
    the state a real load balancer would. A registered instance is never registered again."""
    arn = _target_group(aws, "web")
    aws.group(target_groups=[arn])
    elbv2 = aws.client("elbv2")
    reported = {
        "TargetHealthDescriptions": [
            {
                "Target": {"Id": aws.instance_id, "Port": 8080},
                "TargetHealth": {"State": state, "Reason": reason, "Description": description},
            }
        ]
    }
    with (
        mock.patch.object(elbv2, "describe_target_health", return_value=reported),
        mock.patch.object(elbv2, "register_targets") as register,
    ):
        answer = ask(TargetGroupHealthCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == f"web: {state} ({reason}: {description})"
    register.assert_not_called()


def test_every_registration_of_the_instance_must_be_healthy(aws: Account, ask: Ask) -> None:
    """Patched (moto has no health checker): the instance on two ports, one unhealthy; another
    instance's health is not the check's business."""
    arn = _target_group(aws, "web")
    aws.group(target_groups=[arn])

    def entry(instance: str, port: int, state: str) -> dict[str, Any]:
        health = (
            {"State": state} if state == "healthy" else {"State": state, "Reason": "Target.Timeout"}
        )
        return {"Target": {"Id": instance, "Port": port}, "TargetHealth": health}

    reported = {
        "TargetHealthDescriptions": [
            entry(aws.instance_id, 80, "healthy"),
            entry(aws.instance_id, 8080, "unhealthy"),
            entry("i-0123456789abcdef0", 80, "unhealthy"),
        ]
    }
    with mock.patch.object(aws.client("elbv2"), "describe_target_health", return_value=reported):
        answer = ask(TargetGroupHealthCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "web: unhealthy (Target.Timeout)"

    reported["TargetHealthDescriptions"] = [
        entry(aws.instance_id, 80, "healthy"),
        entry("i-0123456789abcdef0", 80, "unhealthy"),
    ]
    with mock.patch.object(aws.client("elbv2"), "describe_target_health", return_value=reported):
        assert ask(TargetGroupHealthCheck).status is Verdict.PASS


def test_deleted_target_group_is_skipped(aws: Account, ask: Ask) -> None:
    """A target group deleted but still listed by the group serves nothing: it cannot hold the
    launch, and it is named in details."""
    web, old = _target_group(aws, "web"), _target_group(aws, "old")
    aws.group(target_groups=[web, old])
    aws.client("elbv2").delete_target_group(TargetGroupArn=old)
    _register(aws, web)
    answer = ask(TargetGroupHealthCheck)
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.reason == "healthy in 1 target group(s); skipped deleted target group(s) old"
    assert answer.details == {"healthy": ["web"], "missing": ["old"]}


def test_deleted_target_group_is_not_a_reason_to_wait_while_another_is(
    aws: Account, ask: Ask
) -> None:
    web, old = _target_group(aws, "web"), _target_group(aws, "old")
    aws.group(target_groups=[web, old])
    aws.client("elbv2").delete_target_group(TargetGroupArn=old)
    answer = ask(TargetGroupHealthCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "web: registered the instance, waiting for health checks"
    assert answer.details == {"registered": ["web"], "missing": ["old"]}


def test_every_target_group_deleted_passes(aws: Account, ask: Ask) -> None:
    old = _target_group(aws, "old")
    aws.group(target_groups=[old])
    aws.client("elbv2").delete_target_group(TargetGroupArn=old)
    answer = ask(TargetGroupHealthCheck)
    assert answer.status is Verdict.PASS
    assert answer.reason == "none of the group's target groups exists any more"
    assert answer.details == {"missing": ["old"]}


def test_unknown_group_waits(aws: Account, ask: Ask) -> None:
    """No group, no list of target groups: nothing to vouch for, so not a PASS."""
    answer = ask(TargetGroupHealthCheck)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "Auto Scaling does not report the group"


def test_transient_error_propagates_so_the_round_waits(aws: Account, ask: Ask) -> None:
    """Patched: moto does not throttle. Any error but TargetGroupNotFound is raised, and
    run_round turns it into WAIT."""
    arn = _target_group(aws, "web")
    aws.group(target_groups=[arn])
    throttled = ClientError(
        {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "DescribeTargetHealth"
    )
    with (
        mock.patch.object(aws.client("elbv2"), "describe_target_health", side_effect=throttled),
        pytest.raises(ClientError, match="Throttling"),
    ):
        ask(TargetGroupHealthCheck)


def test_bad_params_are_rejected_before_the_check_runs(ask: Ask) -> None:
    """One fixture for all cases: the moto account is slow to set up."""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"register": "yes"}, "register must be true or false"),
        ({"register": 1}, "register must be true or false"),
        ({"regster": True}, r"unknown parameter\(s\) \['regster'\]; allowed: \['register'\]"),
    ]
    for params, message in cases:
        with pytest.raises(InvalidParams, match=message):
            ask(TargetGroupHealthCheck, params)


def test_register_defaults_to_true_and_the_example_is_valid_metadata() -> None:
    assert TargetGroupHealthCheck.validate_params({}) == {"register": True}
    example = TargetGroupHealthCheck.example
    assert example["name"] == TargetGroupHealthCheck.name
    assert TargetGroupHealthCheck.validate_params(example["params"]) == {"register": True}
    assert len(json.dumps({"checks": [example]})) < 200


def test_an_instance_going_into_the_warm_pool_is_never_registered(aws: Account) -> None:
    """Stopped in the pool, a registered instance would take traffic until it stops: neither a
    round (for_warm_pool) nor the check itself registers it, and the pass says why."""

    arn = _target_group(aws, "web")
    aws.group(target_groups=[arn])
    into_pool = replace(aws.action(), origin="EC2", destination="WarmPool")
    params = TargetGroupHealthCheck.validate_params({})
    answer = TargetGroupHealthCheck().evaluate(CheckContext(into_pool, params, aws.client))
    assert answer.status is Verdict.PASS
    assert "warm pool" in answer.reason
    assert answer.details == {"skipped": "warm pool"}
    (result,) = run_round(
        [CheckSpec("target-group-health", params)],
        {"target-group-health": TargetGroupHealthCheck},
        into_pool,
        aws.client,
    )
    assert result.status is Verdict.PASS
    assert "not run: the instance goes into the warm pool" in result.reason
    assert _targets(aws, arn) == []
    out_of_pool = replace(aws.action(), origin="WarmPool", destination="AutoScalingGroup")
    assert (
        TargetGroupHealthCheck().evaluate(CheckContext(out_of_pool, params, aws.client)).status
        is Verdict.WAIT
    )
    assert [t["Id"] for t in _targets(aws, arn)] == [aws.instance_id]


def test_an_unknown_destination_is_a_launch_into_the_group(aws: Account) -> None:
    """None (the event did not say, and the instance does not wait in Warmed:Pending:Wait, which
    the hook read turns into WarmPool) is checked as a launch into service."""

    arn = _target_group(aws, "web")
    aws.group(target_groups=[arn])
    unknown = replace(aws.action(), origin=None, destination=None)
    params = TargetGroupHealthCheck.validate_params({})
    answer = TargetGroupHealthCheck().evaluate(CheckContext(unknown, params, aws.client))
    assert answer.status is Verdict.WAIT
    assert answer.details == {"registered": ["web"]}
