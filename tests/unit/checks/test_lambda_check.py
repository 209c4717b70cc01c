"""lambda on moto: the user's function is a real (emulated) Lambda function, invoked for real.

What moto 5.2.5 can and cannot do here, and what is faked:

* Running the function's code needs Docker. ``simple_lambda`` switches moto to its Docker-free
  Lambda for one test (the ``use_docker`` setting, restored afterwards: ``mock_aws(config=...)``
  would leave it changed for every later test). That Lambda does not run the code: it answers
  with the next queued answer (``answers``), or else echoes the request payload.
* moto's default Lambda refuses an unknown function (ResourceNotFoundException) before any Docker
  is needed, so that path is real. The Docker-free Lambda answers for any name.
* Neither reports a function that raised (``FunctionError``): those answers are made by replacing
  the client's ``invoke`` (``unittest.mock``), with the payload shape Lambda uses.

Every invocation made through the real client is recorded (``sent``) so the event the function
receives can be checked, the LifecycleActionToken above all.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from moto.awslambda_simple.models import lambda_simple_backends
from moto.core.config import default_user_config
from moto.core.models import DEFAULT_ACCOUNT_ID

from asg_lifecycle.checks.lambda_check import LambdaCheck
from asg_lifecycle.config import StackLimits
from asg_lifecycle.model import Transition
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import REGION, TOKEN, Account, Ask

PARAMS = {"function": "ready"}


def answers(*bodies: str) -> None:
    """Queue what the Docker-free Lambda answers next, in order."""
    lambda_simple_backends[DEFAULT_ACCOUNT_ID][REGION].lambda_simple_results_queue.extend(bodies)


@pytest.fixture
def simple_lambda(aws: Account, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's Docker-free Lambda, with the function ``ready`` created: its ARN."""
    monkeypatch.setitem(default_user_config["lambda"], "use_docker", False)
    role = aws.client("iam").create_role(RoleName="ready", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr(
            "ready.py", "def handler(event, context):\n    return {'status': 'pass'}\n"
        )
    function = aws.client("lambda").create_function(
        FunctionName="ready",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="ready.handler",
        Code={"ZipFile": code.getvalue()},
    )
    yield function["FunctionArn"]
    lambda_simple_backends[DEFAULT_ACCOUNT_ID][REGION].lambda_simple_results_queue.clear()


@pytest.fixture
def sent(aws: Account) -> list[dict[str, Any]]:
    """The decoded event of every later invocation through the fixture's lambda client."""
    events: list[dict[str, Any]] = []

    def keep(params: dict[str, Any], **_: Any) -> None:
        raw = params["Payload"]
        assert TOKEN.encode() not in raw
        events.append(json.loads(raw))

    aws.client("lambda").meta.events.register("provide-client-params.lambda.Invoke", keep)
    return events


def invoke_answers(aws: Account, body: bytes, function_error: str | None = None) -> Any:
    """Replace the client's invoke by one answering ``body`` (as Lambda does, with
    ``FunctionError`` when the function raised)."""
    response: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(body)}
    if function_error:
        response["FunctionError"] = function_error
    return mock.patch.object(aws.client("lambda"), "invoke", return_value=response)


def test_pass(aws: Account, ask: Ask, simple_lambda: str) -> None:
    answers('{"status": "pass", "reason": "cache warm"}')
    answer = ask(LambdaCheck, PARAMS)
    assert answer.status is Verdict.PASS, answer.reason
    assert answer.reason == "ready: cache warm"


def test_status_is_case_insensitive_and_reason_optional(
    aws: Account, ask: Ask, simple_lambda: str
) -> None:
    answers('{"status": "PASS"}')
    answer = ask(LambdaCheck, {"function": simple_lambda})
    assert answer.status is Verdict.PASS
    assert answer.reason == "ready answered pass"


def test_retry_waits_and_attempts_are_counted(
    aws: Account, ask: Ask, simple_lambda: str, sent: list[dict[str, Any]]
) -> None:
    answers('{"status": "retry", "reason": "3 of 5 nodes"}', '{"status": "Retry"}')
    first = ask(LambdaCheck, PARAMS)
    second = ask(LambdaCheck, PARAMS, memo=first.memo)
    assert (first.status, second.status) == (Verdict.WAIT, Verdict.WAIT)
    assert first.reason == "ready: 3 of 5 nodes"
    assert [e["attempt"] for e in sent] == [1, 2]
    assert second.memo == 2


def test_fail_fails(aws: Account, ask: Ask, simple_lambda: str) -> None:
    answers('{"status": "fail", "reason": "disk too small"}')
    answer = ask(LambdaCheck, PARAMS)
    assert answer.status is Verdict.FAIL
    assert answer.reason == "ready: disk too small"


def test_long_reason_is_cut_to_300(aws: Account, ask: Ask, simple_lambda: str) -> None:
    answers(json.dumps({"status": "retry", "reason": "x" * 1000}))
    answer = ask(LambdaCheck, PARAMS)
    assert answer.reason == "ready: " + "x" * 300


def test_event_carries_the_action_and_payload_never_the_token(
    aws: Account, ask: Ask, simple_lambda: str, sent: list[dict[str, Any]]
) -> None:
    """Nothing queued: moto echoes the event back, which is no answer (WAIT) but shows what was
    sent; ``sent`` also asserts the token is nowhere in the raw bytes."""
    answer = ask(
        LambdaCheck,
        {"function": "ready", "payload": {"port": "8080"}},
        transition=Transition.TERMINATING,
    )
    assert sent == [
        {
            "instanceId": aws.instance_id,
            "groupName": "web",
            "hookName": "web-hook",
            "transition": "autoscaling:EC2_INSTANCE_TERMINATING",
            "origin": "AutoScalingGroup",
            "destination": "EC2",
            "action": None,
            "startedAt": "2026-01-01T00:00:00Z",
            "attempt": 1,
            "params": {"port": "8080"},
        }
    ]
    assert answer.status is Verdict.WAIT
    assert answer.reason.startswith(
        "unexpected answer from ready: an object with keys 'instanceId'"
    )
    assert TOKEN not in answer.reason


@pytest.mark.parametrize(
    ("body", "shape"),
    [
        ('"pass"', "a string"),
        ("not json", "8 bytes that are not JSON"),
        ("null", "null"),
        ("[1, 2]", "a list"),
        ('{"status": "maybe"}', "an object with keys 'status'"),
        ('{"status": true}', "an object with keys 'status'"),
        ('{"result": "pass"}', "an object with keys 'result'"),
        ('{"status": "pass", "reason": 5}', "an object with keys 'status', 'reason'"),
        ('{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}', "keys 'a', 'b', 'c', 'd', 'e' ..."),
    ],
)
def test_unexpected_answers_wait_described_by_their_shape(
    aws: Account, ask: Ask, simple_lambda: str, body: str, shape: str
) -> None:
    answers(body)
    answer = ask(LambdaCheck, PARAMS)
    assert answer.status is Verdict.WAIT
    assert answer.reason.startswith("unexpected answer from ready: ")
    assert shape in answer.reason
    assert answer.reason.endswith('not {"status": "pass" | "retry" | "fail", "reason": ...}')


def test_an_unexpected_answer_is_not_quoted(aws: Account, ask: Ask, simple_lambda: str) -> None:
    """A function returning whatever it holds (here a secret) gets its shape recorded, not its
    text: the reason reaches the log and the execution history."""
    answers('{"DB_PASSWORD": "hunter2", "status": "unknown"}')
    answer = ask(LambdaCheck, PARAMS)
    assert "hunter2" not in str(answer)


def test_function_that_raised_waits_with_its_error_type_only(aws: Account, ask: Ask) -> None:
    body = b'{"errorType": "KeyError", "errorMessage": "password=hunter2", "stackTrace": []}'
    with invoke_answers(aws, body, "Unhandled") as invoke:
        answer = ask(LambdaCheck, PARAMS)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "ready raised KeyError"
    assert answer.memo == 1
    assert invoke.call_args.kwargs["InvocationType"] == "RequestResponse"


def test_function_timeout_without_error_type_waits(aws: Account, ask: Ask) -> None:
    with invoke_answers(aws, b'{"errorMessage": "Task timed out after 3.00 seconds"}', "Unhandled"):
        answer = ask(LambdaCheck, PARAMS)
    assert answer.status is Verdict.WAIT
    assert answer.reason == "ready raised Unhandled"


def test_missing_function_fails(aws: Account, ask: Ask) -> None:
    """moto's default (Docker) Lambda: an unknown function is refused before Docker is needed."""
    arn = f"arn:aws:lambda:{REGION}:123456789012:function:raedy"
    answer = ask(LambdaCheck, {"function": arn})
    assert answer.status is Verdict.FAIL
    assert answer.reason == "function raedy not found (check the function parameter)"


def test_other_errors_are_raised_so_the_round_waits(aws: Account, ask: Ask) -> None:
    error = ClientError({"Error": {"Code": "TooManyRequestsException"}}, "Invoke")
    with (
        mock.patch.object(aws.client("lambda"), "invoke", side_effect=error),
        pytest.raises(ClientError, match="TooManyRequestsException"),
    ):
        ask(LambdaCheck, PARAMS)


@pytest.mark.parametrize(
    "function",
    [
        "ready",
        "ready:live",
        "ready:$LATEST",
        "123456789012:function:ready",
        "arn:aws:lambda:us-east-1:123456789012:function:ready",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:ready:3",
        "arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:ready",
    ],
)
def test_function_names_accepted(function: str) -> None:
    assert LambdaCheck.validate_params({"function": function}) == {"function": function}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "function is required"),
        ({"function": 3}, "function must be a non-empty string"),
        ({"function": "x" * 171}, "function is longer than 170 characters"),
        ({"function": "my function"}, "is not a function name, ARN or partial ARN"),
        ({"function": "arn:aws:s3:::bucket"}, "is not a function name, ARN or partial ARN"),
        ({"function": "ready", "payload": {"port": 8080}}, "payload.'port' must be a non-empty"),
        ({"function": "ready", "payload": ["a"]}, "payload must be an object of string values"),
    ],
)
def test_bad_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParams) as raised:
        LambdaCheck.validate_params(params)
    assert message in str(raised.value)


LIMITS = StackLimits(
    region="us-east-1",
    account="123456789012",
    check_functions=(
        "arn:aws:lambda:us-east-1:123456789012:function:ready",
        "arn:aws:lambda:us-east-1:123456789012:function:pinned:live",
        "arn:aws:lambda:eu-west-1:210987654321:function:elsewhere",
    ),
)


@pytest.mark.parametrize(
    "function",
    [
        "ready",
        "ready:live",
        "ready:$LATEST",
        "123456789012:function:ready",
        "arn:aws:lambda:us-east-1:123456789012:function:ready",
        "arn:aws:lambda:us-east-1:123456789012:function:ready:3",
        "pinned:live",  # granted with its alias: that alias only
        "arn:aws:lambda:eu-west-1:210987654321:function:elsewhere",  # granted by its full ARN
    ],
)
def test_functions_the_stack_grants_are_accepted(function: str) -> None:
    assert LambdaCheck.validate_params({"function": function}, limits=LIMITS)["function"] == (
        function
    )


@pytest.mark.parametrize(
    "function",
    [
        "other",
        "ready-other",  # a name that starts like a granted one
        "readyx:live",
        "pinned",  # granted only as pinned:live
        "pinned:dev",
        "210987654321:function:ready",  # the granted name, in another account
        "arn:aws:lambda:us-east-1:999999999999:function:ready",
        "arn:aws:lambda:eu-west-1:123456789012:function:ready",  # another Region
        "elsewhere",  # a name is this stack's account and Region, not the granted one's
    ],
)
def test_functions_the_stack_does_not_grant_are_refused(function: str) -> None:
    with pytest.raises(InvalidParams) as raised:
        LambdaCheck.validate_params({"function": function}, limits=LIMITS)
    assert str(raised.value).startswith(
        f"function {function!r} is not one of the stack's CustomCheckFunctionArns"
        " (arn:aws:lambda:us-east-1:123456789012:function:ready, "
    )
    assert str(raised.value).endswith("add it to the stack parameter to invoke it")


def test_example_is_valid() -> None:
    assert LambdaCheck.example["name"] == LambdaCheck.name
    assert LambdaCheck.validate_params(LambdaCheck.example["params"])
    assert LambdaCheck.transitions == frozenset(Transition)
