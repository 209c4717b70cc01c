"""ssm-parameter on moto: a Parameter Store value says ready (PASS), failed (FAIL) or not yet.

moto's GetParameter behaves as AWS does for these paths: ParameterNotFound for a missing name, and
a SecureString read without decryption comes back as something other than its value (moto:
``kms:alias/aws/ssm:<value>``; AWS: the ciphertext). Everything here runs on moto.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest

from asg_lifecycle.checks.ssm_parameter import SsmParameterCheck, fill
from asg_lifecycle.config import StackLimits
from asg_lifecycle.model import LifecycleAction, Transition
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import TOKEN, Account, Ask

NAME = "/myapp/ready"


def _put(aws: Account, value: str, name: str = NAME, kind: str = "String") -> None:
    aws.client("ssm").put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)


def test_missing_parameter_waits(aws: Account, ask: Ask) -> None:
    answer = ask(SsmParameterCheck, {"name": NAME})
    assert answer.status is Verdict.WAIT
    assert answer.reason == "parameter /myapp/ready does not exist yet"


def test_ready_value_passes_reading_without_decryption(aws: Account, ask: Ask) -> None:
    _put(aws, "ready")
    ssm = aws.client("ssm")
    with mock.patch.object(ssm, "get_parameter", wraps=ssm.get_parameter) as read:
        answer = ask(SsmParameterCheck, {"name": NAME})
    read.assert_called_once_with(Name=NAME, WithDecryption=False)
    assert answer.status is Verdict.PASS
    assert answer.reason == "parameter /myapp/ready is 'ready'"


def test_fail_value_fails(aws: Account, ask: Ask) -> None:
    _put(aws, "failed")
    answer = ask(SsmParameterCheck, {"name": NAME, "failValue": "failed"})
    assert answer.status is Verdict.FAIL
    assert answer.reason == "parameter /myapp/ready is 'failed'"


def test_other_value_waits_without_showing_it(aws: Account, ask: Ask) -> None:
    _put(aws, "hunter2")
    answer = ask(SsmParameterCheck, {"name": NAME, "value": "done", "failValue": "failed"})
    assert answer.status is Verdict.WAIT
    assert answer.reason == "parameter /myapp/ready has another value than 'done'"
    assert "hunter2" not in repr(answer)


def test_secure_string_never_matches_and_says_why(aws: Account, ask: Ask) -> None:
    _put(aws, "ready", kind="SecureString")
    answer = ask(SsmParameterCheck, {"name": NAME})
    assert answer.status is Verdict.WAIT
    assert "is a SecureString" in answer.reason
    assert "use a String" in answer.reason


def test_value_changes_are_seen_round_after_round(aws: Account, ask: Ask) -> None:
    params = {"name": NAME, "failValue": "failed"}
    assert ask(SsmParameterCheck, params).status is Verdict.WAIT
    _put(aws, "starting")
    assert ask(SsmParameterCheck, params).status is Verdict.WAIT
    _put(aws, "ready")
    assert ask(SsmParameterCheck, params).status is Verdict.PASS


def test_top_level_name_without_slash_works(aws: Account, ask: Ask) -> None:
    _put(aws, "ready", name="myapp-ready")
    assert ask(SsmParameterCheck, {"name": "myapp-ready"}).status is Verdict.PASS


# --- placeholders ----------------------------------------------------------------------------


def test_placeholders_are_filled_in(aws: Account, ask: Ask) -> None:
    filled = f"/lifecycle/web/web-hook/{aws.instance_id}"
    _put(aws, "ready", name=filled)
    answer = ask(SsmParameterCheck, {"name": "/lifecycle/{groupName}/{hookName}/{instanceId}"})
    assert answer.status is Verdict.PASS
    assert answer.reason == f"parameter {filled} is 'ready'"


def test_another_instance_does_not_see_this_ones_signal(aws: Account, ask: Ask) -> None:
    _put(aws, "ready", name="/ready/i-0123456789abcdef0")
    answer = ask(SsmParameterCheck, {"name": "/ready/{instanceId}"})
    assert answer.status is Verdict.WAIT
    assert answer.reason == f"parameter /ready/{aws.instance_id} does not exist yet"


def test_fill_is_plain_replacement() -> None:
    action = LifecycleAction(
        group_name="g{hookName}{0}",
        hook_name="h",
        instance_id="i-0123456789abcdef0",
        token=TOKEN,
        transition=Transition.LAUNCHING,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert fill("{groupName}/{hookName}/{instanceId}/{instanceId}", action) == (
        "g{hookName}{0}/h/i-0123456789abcdef0/i-0123456789abcdef0"
    )


def test_group_name_that_makes_an_invalid_name_fails(aws: Account, ask: Ask) -> None:
    """Auto Scaling group names may hold spaces; a parameter name may not (a config error)."""
    aws.group_name = "web servers"
    answer = ask(SsmParameterCheck, {"name": "/ready/{groupName}"})
    assert answer.status is Verdict.FAIL
    assert answer.reason == (
        "parameter name '/ready/web servers' may only contain letters, digits, '_', '.', '-'"
        " and '/'"
    )


# --- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "name is required"),
        ({"name": 5}, "name must be a non-empty string"),
        ({"name": "/ready/{instanceID}"}, "name has unknown placeholder {instanceID}"),
        ({"name": "/ready/{0}"}, "name has unknown placeholder {0}"),
        ({"name": "/ready/{instanceId.__class__}"}, "name has unknown placeholder"),
        ({"name": "myapp/ready"}, "name must start with '/' when it contains '/'"),
        ({"name": "{hookName}/ready"}, "name must start with '/' when it contains '/'"),
        ({"name": "/my app/ready"}, "name may only contain letters, digits"),
        ({"name": "/aws/reference/secretsmanager/db"}, "name must not reference Secrets Manager"),
        ({"name": NAME, "failValue": "ready"}, "failValue must differ from value"),
        ({"name": NAME, "value": ""}, "value must be a non-empty string"),
        ({"name": NAME, "Value": "ready"}, "unknown parameter(s) ['Value']"),
    ],
)
def test_bad_params_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        SsmParameterCheck.validate_params(raw)
    assert str(caught.value).startswith(message)


LIMITS = StackLimits(parameter_path="/asg-lifecycle/")


@pytest.mark.parametrize(
    "name",
    [
        "/asg-lifecycle/{instanceId}/ready",
        "/asg-lifecycle/{groupName}",
        "/asg-lifecycle/ready",
    ],
)
def test_a_name_under_the_stacks_path_is_accepted(name: str) -> None:
    assert SsmParameterCheck.validate_params({"name": name}, limits=LIMITS)["name"] == name


@pytest.mark.parametrize(
    "name",
    [
        "/prod/db/password",
        "/asg-lifecycle-other/ready",  # a sibling path
        "/{groupName}/asg-lifecycle/ready",  # the path must be the name's literal start
        "asg-lifecycle",
        "/asg-lifecycle",
    ],
)
def test_a_name_outside_the_stacks_path_is_refused(name: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        SsmParameterCheck.validate_params({"name": name}, limits=LIMITS)
    assert str(caught.value) == (
        f"name {name!r} is not under the stack's ReadinessParameterPath '/asg-lifecycle/'"
    )


def test_a_stack_without_a_path_allows_no_parameter() -> None:
    with pytest.raises(InvalidParams, match="the stack allows no readiness parameter"):
        SsmParameterCheck.validate_params({"name": "/asg-lifecycle/x"}, limits=StackLimits())


def test_valid_params_get_their_defaults() -> None:
    raw = {"name": "/{groupName}/{instanceId}", "failValue": "failed"}
    assert SsmParameterCheck.validate_params(raw) == {**raw, "value": "ready"}
    assert SsmParameterCheck.validate_params(SsmParameterCheck.example["params"])["name"] == (
        "/asg-lifecycle/{instanceId}/ready"  # under the template's default ReadinessParameterPath
    )
