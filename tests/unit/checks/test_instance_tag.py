"""instance-tag on moto: the instance's own tag says ready (PASS), failed (FAIL) or not yet (WAIT).

moto's DescribeTags filters by resource-id and key as AWS does, so everything here runs on moto.
"""

from __future__ import annotations

from typing import Any

import pytest

from asg_lifecycle.checks.instance_tag import InstanceTagCheck
from asg_lifecycle.model import Transition
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import Account, Ask

KEY = {"key": "lifecycle"}


def _tag(aws: Account, value: str, key: str = "lifecycle", instance_id: str = "") -> None:
    aws.client("ec2").create_tags(
        Resources=[instance_id or aws.instance_id], Tags=[{"Key": key, "Value": value}]
    )


def test_no_tag_waits(aws: Account, ask: Ask) -> None:
    answer = ask(InstanceTagCheck, KEY)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "tag 'lifecycle' is not set"


def test_ready_tag_passes(aws: Account, ask: Ask) -> None:
    _tag(aws, "ready")
    answer = ask(InstanceTagCheck, KEY)
    assert answer.status is Verdict.PASS
    assert answer.reason == "tag 'lifecycle' is 'ready'"


def test_other_value_waits_showing_it(aws: Account, ask: Ask) -> None:
    _tag(aws, "booting")
    answer = ask(InstanceTagCheck, {**KEY, "failValue": "failed"})
    assert answer.status is Verdict.WAIT
    assert answer.reason == "tag 'lifecycle' is 'booting', waiting for 'ready'"


def test_fail_value_fails(aws: Account, ask: Ask) -> None:
    _tag(aws, "failed")
    answer = ask(InstanceTagCheck, {**KEY, "failValue": "failed"})
    assert answer.status is Verdict.FAIL
    assert answer.reason == "tag 'lifecycle' is 'failed'"


def test_fail_value_not_configured_only_waits(aws: Account, ask: Ask) -> None:
    _tag(aws, "failed")
    assert ask(InstanceTagCheck, KEY).status is Verdict.WAIT


def test_custom_value_and_terminate_transition(aws: Account, ask: Ask) -> None:
    _tag(aws, "drained", key="app/state")
    params = {"key": "app/state", "value": "drained"}
    assert ask(InstanceTagCheck, params, transition=Transition.TERMINATING).status is Verdict.PASS
    assert ask(InstanceTagCheck, {"key": "app/state"}).status is Verdict.WAIT


def test_only_this_instance_and_this_exact_key_count(aws: Account, ask: Ask) -> None:
    _tag(aws, "ready", instance_id=aws.other_instance())
    _tag(aws, "ready", key="lifecycle-old")
    _tag(aws, "ready", key="Lifecycle")
    answer = ask(InstanceTagCheck, KEY)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "tag 'lifecycle' is not set"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "key is required"),
        ({"key": 5}, "key must be a non-empty string"),
        ({"key": ""}, "key must be a non-empty string"),
        ({"key": "k" * 129}, "key is longer than 128 characters"),
        ({**KEY, "value": "v" * 257}, "value is longer than 256 characters"),
        ({**KEY, "failValue": "ready"}, "failValue must differ from value"),
        ({**KEY, "value": "ok", "failValue": "ok"}, "failValue must differ from value"),
        ({**KEY, "fail": "failed"}, "unknown parameter(s) ['fail']"),
    ],
)
def test_bad_params_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        InstanceTagCheck.validate_params(raw)
    assert str(caught.value).startswith(message)


def test_valid_params_get_their_defaults() -> None:
    assert InstanceTagCheck.validate_params(KEY) == {**KEY, "value": "ready"}
    assert InstanceTagCheck.validate_params(InstanceTagCheck.example["params"]) == {
        "key": "lifecycle",
        "value": "ready",
        "failValue": "failed",
    }
