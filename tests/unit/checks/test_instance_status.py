"""instance-status on moto: pass when both status checks are ok, fail when the instance is gone."""

from __future__ import annotations

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


def test_unknown_instance_waits(aws: Account, ask: Ask) -> None:
    """EC2 answers InvalidInstanceID for an id it does not know yet: an error is WAIT, here raised."""
    aws.instance_id = "i-0123456789abcdef0"
    try:
        answer = ask(InstanceStatusCheck)
    except Exception as exc:  # noqa: BLE001 - run_round turns any exception into WAIT
        assert "InvalidInstanceID" in str(exc)
    else:
        assert answer.status is Verdict.WAIT
