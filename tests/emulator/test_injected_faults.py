"""The faults the emulator injects behave as the AWS behaviour they stand for."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lifecycle_emulator.faults import Faults, Outage
from lifecycle_emulator.local_aws import REGION
from lifecycle_emulator.play import begin
from tests.flow.stack import at, doc, emulated, launch_hook


def _complete(aws: Any, **target: str) -> str:
    once = Config(retries={"total_max_attempts": 1})  # botocore would not retry it anyway
    client = boto3.client("autoscaling", region_name=REGION, config=once)
    try:
        client.complete_lifecycle_action(
            AutoScalingGroupName="web",
            LifecycleHookName="web-launch",
            LifecycleActionResult="CONTINUE",
            **target,
        )
    except ClientError as exc:
        return f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"
    return "accepted"


def test_a_stale_no_active_action_answer_leaves_the_action_active() -> None:
    """Auto Scaling is eventually consistent: "No active Lifecycle Action found" has been
    answered for an action still active, right after its event, and a later try succeeded
    (PrairieLearn/PrairieLearn PR #15586). The error is the API's own ValidationError, worded as
    for a finished action (API Reference, CompleteLifecycleAction), by token or by instance id."""
    document = doc([launch_hook()], instances=[{"readyAfter": None}], steps=[])
    faults = Faults(stale_not_found={"CompleteLifecycleAction": 2})
    with emulated(document, faults=faults) as (aws, scenario):
        begin(scenario, aws)
        aws.client("autoscaling").set_desired_capacity(
            AutoScalingGroupName="web", DesiredCapacity=1
        )
        (record,) = aws.autoscaling.actions()
        by_token = _complete(aws, LifecycleActionToken=record.token)
        by_instance = _complete(aws, InstanceId=record.instance_id)
        assert record.active, "the stale answers changed nothing"
        assert _complete(aws, LifecycleActionToken=record.token) == "accepted"

    assert by_token == (
        f"ValidationError: No active Lifecycle Action found with token {record.token}"
    )
    assert by_instance == (
        f"ValidationError: No active Lifecycle Action found with instance ID {record.instance_id}"
    )
    assert faults.stale_answers == ["CompleteLifecycleAction"] * 2
    assert not record.active
    assert record.result == "CONTINUE"


@pytest.mark.parametrize("service", ["autoscaling", "ec2"])
def test_an_outage_fails_only_the_functions_calls_and_only_while_it_lasts(service: str) -> None:
    """HTTP 503 "Unavailable" to the stack's functions' calls to one service between two
    moments; the test's (an operator's) own calls are served."""
    document = doc([launch_hook()], instances=[{"readyAfter": 30}], horizon=900)
    faults = Faults(outage=Outage(service, at(0), at(100)))
    with emulated(document, faults=faults) as (aws, scenario):
        begin(scenario, aws)
        aws.run(until=at(99))
        during = faults.outage_errors
        direct = {
            "autoscaling": lambda: aws.client("autoscaling").describe_auto_scaling_groups(),
            "ec2": lambda: aws.client("ec2").describe_instances(),
        }[service]()
        assert direct["ResponseMetadata"]["HTTPStatusCode"] == 200, "not the functions'"
        aws.run()
    assert during > 0
    assert faults.outage_errors == during, "nothing failed after the outage"
