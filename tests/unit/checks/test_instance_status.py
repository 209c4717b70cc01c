"""instance-status on moto: pass when both status checks are ok, fail when the instance is gone."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from asg_lifecycle.checks.instance_status import InstanceStatusCheck
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import Account, Ask


def test_running_instance_with_ok_status_passes(aws: Account, ask: Ask) -> None:
    answer = ask(InstanceStatusCheck)
    assert answer.status is Verdict.PASS, answer.reason


def test_terminated_instance_fails(aws: Account, ask: Ask) -> None:
    aws.client("ec2").terminate_instances(InstanceIds=[aws.instance_id])
    answer = ask(InstanceStatusCheck)
    assert answer.status is Verdict.FAIL
    assert "terminated" in answer.reason or "shutting-down" in answer.reason


def test_unknown_instance_raises_so_the_round_waits(aws: Account, ask: Ask) -> None:
    """EC2 does not know a just-launched id for a moment (InvalidInstanceID.NotFound): the check
    raises, and run_round turns any exception into WAIT (tested in test_workflow)."""
    aws.instance_id = "i-0123456789abcdef0"
    with pytest.raises(ClientError, match=r"InvalidInstanceID\.NotFound"):
        ask(InstanceStatusCheck)
