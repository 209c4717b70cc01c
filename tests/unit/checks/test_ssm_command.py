"""ssm-command on moto: the first round sends, later rounds read, a passed command is not re-sent.

moto 5.2.5 accepts SendCommand for any instance id and any document name (never InvalidInstanceId
or InvalidDocument), adds every EC2 instance it knows to a command sent without Targets, and
reports every invocation ``Success`` with exit code 0 and empty output at once. It does answer
GetCommandInvocation with InvocationDoesNotExist (an instance with no invocation) and
InvalidCommandId (an unknown command). Every other state (Pending, InProgress,
Failed, TimedOut, Undeliverable...) and SendCommand's errors are produced by patching the client,
as each such test's docstring says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from asg_lifecycle.checks.ssm_command import NOT_RECORDED, SsmCommandCheck
from asg_lifecycle.config import StackLimits
from asg_lifecycle.model import Transition, format_time
from asg_lifecycle.params import InvalidParams
from asg_lifecycle.policy import Verdict
from tests.unit.checks.conftest import Account, Ask

NOW = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)  # what ``ask`` passes as ``now``
SHELL = {"commands": ["systemctl is-active myapp"]}
LIMIT = 300 + 600 + 60  # delivery timeout + default timeoutSeconds + slack
ACCOUNT = "123456789012"
LIMITS = StackLimits(
    region="us-east-1", account=ACCOUNT, ssm_documents=frozenset({"AWS-RunShellScript", "Ready"})
)


@pytest.fixture
def records_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack parameter RecordCommandOutput=Enabled, as the template passes it."""
    monkeypatch.setenv("RECORD_COMMAND_OUTPUT", "Enabled")


def _memo(command_id: str = "11111111-2222-3333-4444-555555555555") -> dict[str, str]:
    return {"commandId": command_id, "sentAt": format_time(NOW)}


def _invocation(status: str, details: str | None = None, **fields: Any) -> dict[str, Any]:
    """A GetCommandInvocation answer as AWS gives it (a state moto never reports)."""
    return {
        "CommandId": _memo()["commandId"],
        "Status": status,
        "StatusDetails": details or status,
        "ResponseCode": -1,
        "ExecutionStartDateTime": "",
        "StandardOutputContent": "",
        "StandardErrorContent": "",
        **fields,
    }


def _client_error(ssm: Any, code: str, operation: str) -> Exception:
    error: Exception = getattr(ssm.exceptions, code)(
        {"Error": {"Code": code, "Message": f"{code} from SSM"}}, operation
    )
    return error


# --- sending ---------------------------------------------------------------------------------


def test_first_round_sends_the_shell_commands_and_waits(aws: Account, ask: Ask) -> None:
    answer = ask(SsmCommandCheck, SHELL)

    assert answer.status is Verdict.WAIT
    [command] = aws.client("ssm").list_commands()["Commands"]
    assert answer.memo == {"commandId": command["CommandId"], "sentAt": format_time(NOW)}
    assert answer.reason == f"command {command['CommandId']} sent"
    assert command["InstanceIds"] == [aws.instance_id]
    assert command["DocumentName"] == "AWS-RunShellScript"
    assert command["Parameters"] == {
        "commands": ["systemctl is-active myapp"],
        "executionTimeout": ["600"],
    }
    assert command["TimeoutSeconds"] == 300  # delivery timeout
    assert command["Comment"] == "asg-lifecycle launch hook web-hook"


def test_timeout_seconds_becomes_the_execution_timeout(aws: Account, ask: Ask) -> None:
    ask(SsmCommandCheck, {**SHELL, "timeoutSeconds": 45})
    [command] = aws.client("ssm").list_commands()["Commands"]
    assert command["Parameters"]["executionTimeout"] == ["45"]


def test_powershell_document_takes_commands_too(aws: Account, ask: Ask) -> None:
    ask(SsmCommandCheck, {"document": "AWS-RunPowerShellScript", "commands": ["Get-Service"]})
    [command] = aws.client("ssm").list_commands()["Commands"]
    assert command["DocumentName"] == "AWS-RunPowerShellScript"
    assert command["Parameters"] == {"commands": ["Get-Service"], "executionTimeout": ["600"]}


def test_other_document_gets_its_parameters_as_one_element_lists(aws: Account, ask: Ask) -> None:
    ask(SsmCommandCheck, {"document": "MyApp-Ready", "parameters": {"port": "8080", "mode": "a"}})
    [command] = aws.client("ssm").list_commands()["Commands"]
    assert command["DocumentName"] == "MyApp-Ready"
    assert command["Parameters"] == {"port": ["8080"], "mode": ["a"]}


def test_comment_is_cut_to_what_send_command_accepts(aws: Account, ask: Ask) -> None:
    aws.group_name = "g" * 120
    ask(SsmCommandCheck, SHELL, transition=Transition.TERMINATING)
    [command] = aws.client("ssm").list_commands()["Commands"]
    assert command["Comment"].startswith("asg-lifecycle terminate hook ggg")
    assert len(command["Comment"]) == 100


def test_unregistered_instance_waits_without_memo(aws: Account, ask: Ask) -> None:
    """Patched: moto never raises InvalidInstanceId (the agent has not registered the instance)."""
    ssm = aws.client("ssm")
    error = _client_error(ssm, "InvalidInstanceId", "SendCommand")
    with mock.patch.object(ssm, "send_command", side_effect=error):
        answer = ask(SsmCommandCheck, SHELL)
    assert answer.status is Verdict.WAIT
    assert answer.memo is None
    assert "not manage the instance yet" in answer.reason


def test_an_instance_terminated_in_ec2_fails_instead_of_waiting(aws: Account, ask: Ask) -> None:
    """Patched InvalidInstanceId as above; the instance is terminated in moto's EC2. A terminate
    hook also holds an instance terminated through EC2 or replaced after failing its health checks
    (User Guide, "Health checks for instances in an Auto Scaling group"): SSM can never run the
    command on it, so the check fails at once rather than hold the hook until maxWaitSeconds."""
    ssm = aws.client("ssm")
    aws.client("ec2").terminate_instances(InstanceIds=[aws.instance_id])
    error = _client_error(ssm, "InvalidInstanceId", "SendCommand")
    with mock.patch.object(ssm, "send_command", side_effect=error):
        answer = ask(SsmCommandCheck, SHELL, transition=Transition.TERMINATING)
        launching = ask(SsmCommandCheck, SHELL)
    assert answer.status is Verdict.FAIL
    assert answer.reason == "the instance is terminated in EC2: the command can never run on it"
    assert launching.status is Verdict.WAIT, "a launching instance is never taken for ended"


def test_an_instance_ec2_does_not_list_yet_waits(aws: Account, ask: Ask) -> None:
    """EC2's API is eventually consistent: an instance missing from DescribeInstanceStatus (or
    InvalidInstanceID.NotFound) is not taken for terminated; the round waits."""
    ssm, ec2 = aws.client("ssm"), aws.client("ec2")
    error = _client_error(ssm, "InvalidInstanceId", "SendCommand")
    not_found = ClientError(
        {"Error": {"Code": "InvalidInstanceID.NotFound", "Message": "not found"}},
        "DescribeInstanceStatus",
    )
    with (
        mock.patch.object(ssm, "send_command", side_effect=error),
        mock.patch.object(ec2, "describe_instance_status", side_effect=not_found),
    ):
        answer = ask(SsmCommandCheck, SHELL, transition=Transition.TERMINATING)
    assert answer.status is Verdict.WAIT
    with (
        mock.patch.object(ssm, "send_command", side_effect=error),
        mock.patch.object(ec2, "describe_instance_status", return_value={"InstanceStatuses": []}),
    ):
        answer = ask(SsmCommandCheck, SHELL, transition=Transition.TERMINATING)
    assert answer.status is Verdict.WAIT


@pytest.mark.parametrize("code", ["InvalidDocument", "InvalidParameters"])
def test_document_or_parameters_refused_by_ssm_fail(aws: Account, ask: Ask, code: str) -> None:
    """Patched: moto accepts any document name and any parameters."""
    ssm = aws.client("ssm")
    with mock.patch.object(
        ssm, "send_command", side_effect=_client_error(ssm, code, "SendCommand")
    ):
        answer = ask(SsmCommandCheck, {"document": "MyApp-Ready"})
    assert answer.status is Verdict.FAIL
    assert answer.reason == f"SSM refused document MyApp-Ready: {code} {code} from SSM"


def test_throttled_send_raises_so_the_round_waits(aws: Account, ask: Ask) -> None:
    """Patched: an error without a definite meaning is not caught (run_round makes it WAIT)."""
    ssm = aws.client("ssm")
    error = ClientError({"Error": {"Code": "ThrottlingException"}}, "SendCommand")
    with (
        mock.patch.object(ssm, "send_command", side_effect=error),
        pytest.raises(ClientError, match="ThrottlingException"),
    ):
        ask(SsmCommandCheck, SHELL)


# --- reading ---------------------------------------------------------------------------------


def test_second_round_reads_success_and_passes(aws: Account, ask: Ask) -> None:
    first = ask(SsmCommandCheck, SHELL)
    second = ask(SsmCommandCheck, SHELL, memo=first.memo, now=NOW + timedelta(seconds=30))

    assert second.status is Verdict.PASS, second.reason
    command_id = first.memo["commandId"]
    assert second.reason == f"command {command_id} succeeded"
    assert second.details == {"commandId": command_id, "responseCode": 0, "output": NOT_RECORDED}
    assert second.memo == first.memo


def test_passed_command_keeps_passing_and_is_not_sent_again(aws: Account, ask: Ask) -> None:
    ssm = aws.client("ssm")
    with mock.patch.object(ssm, "send_command", wraps=ssm.send_command) as send:
        memo = ask(SsmCommandCheck, SHELL).memo
        answers = [
            ask(SsmCommandCheck, SHELL, memo=memo, now=NOW + timedelta(minutes=n))
            for n in (1, 2, 3)
        ]
    send.assert_called_once()
    assert [a.status for a in answers] == [Verdict.PASS] * 3
    assert all(a.memo == memo for a in answers)
    assert len(ssm.list_commands()["Commands"]) == 1


SECRET = "DB_PASSWORD=hunter2"


@pytest.mark.parametrize(
    ("status", "field"), [("Success", "StandardOutputContent"), ("Failed", "StandardErrorContent")]
)
def test_by_default_no_output_is_recorded(
    aws: Account, ask: Ask, status: str, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: a script printing a secret; its output would reach the log line and the
    execution history through the details. Patched: moto's output is always empty."""
    monkeypatch.delenv("RECORD_COMMAND_OUTPUT", raising=False)
    invocation = _invocation(
        status, ResponseCode=0 if status == "Success" else 1, **{field: SECRET}
    )
    with mock.patch.object(aws.client("ssm"), "get_command_invocation", return_value=invocation):
        answer = ask(SsmCommandCheck, SHELL, memo=_memo())
    assert SECRET not in str(answer)
    assert answer.details["output"] == NOT_RECORDED
    assert "RecordCommandOutput=Enabled" in NOT_RECORDED
    assert not {"outputTail", "errorTail"} & set(answer.details)


def test_only_enabled_records_output(
    aws: Account, ask: Ask, monkeypatch: pytest.MonkeyPatch
) -> None:
    invocation = _invocation("Success", ResponseCode=0, StandardOutputContent=SECRET)
    for value in ("Disabled", "enabled", "true", ""):
        monkeypatch.setenv("RECORD_COMMAND_OUTPUT", value)
        with mock.patch.object(
            aws.client("ssm"), "get_command_invocation", return_value=invocation
        ):
            assert SECRET not in str(ask(SsmCommandCheck, SHELL, memo=_memo()))


def test_success_details_keep_the_last_500_characters_of_output(
    aws: Account, ask: Ask, records_output: None
) -> None:
    """Opted in (RecordCommandOutput=Enabled). Patched: moto's output is always empty."""
    ssm = aws.client("ssm")
    output = "a" * 300 + "b" * 500
    invocation = _invocation("Success", ResponseCode=0, StandardOutputContent=output)
    with mock.patch.object(ssm, "get_command_invocation", return_value=invocation) as read:
        answer = ask(SsmCommandCheck, SHELL, memo=_memo())
    read.assert_called_once_with(CommandId=_memo()["commandId"], InstanceId=aws.instance_id)
    assert answer.status is Verdict.PASS
    assert answer.details["outputTail"] == "b" * 500


@pytest.mark.parametrize("status", ["Pending", "InProgress", "Delayed"])
def test_unfinished_command_waits_and_keeps_memo(aws: Account, ask: Ask, status: str) -> None:
    """Patched: moto reports Success at once."""
    ssm = aws.client("ssm")
    with mock.patch.object(ssm, "get_command_invocation", return_value=_invocation(status)):
        answer = ask(SsmCommandCheck, SHELL, memo=_memo())
    assert answer.status is Verdict.WAIT
    assert answer.memo == _memo()
    assert answer.reason == f"command {_memo()['commandId']} {status}"


def test_command_exiting_non_zero_fails_with_its_stderr_tail(
    aws: Account, ask: Ask, records_output: None
) -> None:
    """Opted in (RecordCommandOutput=Enabled). Patched: moto never reports Failed."""
    ssm = aws.client("ssm")
    stderr = "x" * 100 + "myapp is not active\n" * 30
    invocation = _invocation(
        "Failed",
        ResponseCode=3,
        ExecutionStartDateTime="2026-01-01T00:04:00Z",
        StandardErrorContent=stderr,
    )
    with mock.patch.object(ssm, "get_command_invocation", return_value=invocation):
        answer = ask(SsmCommandCheck, SHELL, memo=_memo())
    assert answer.status is Verdict.FAIL
    assert answer.reason == f"command {_memo()['commandId']} failed (exit code 3)"
    assert answer.details["responseCode"] == 3
    assert answer.details["errorTail"] == stderr[-500:]
    assert "x" not in answer.details["errorTail"]


@pytest.mark.parametrize(
    ("status", "details", "reason"),
    [
        ("TimedOut", "Execution Timed Out", "timed out (Execution Timed Out)"),
        ("Cancelled", "Cancelled", "was cancelled"),
        ("Cancelling", "Cancelling", "was cancelled"),
    ],
)
def test_timed_out_or_cancelled_command_fails(
    aws: Account, ask: Ask, status: str, details: str, reason: str
) -> None:
    """Patched: moto never reports these states."""
    ssm = aws.client("ssm")
    invocation = _invocation(status, details, ExecutionStartDateTime="2026-01-01T00:04:00Z")
    with mock.patch.object(ssm, "get_command_invocation", return_value=invocation):
        answer = ask(SsmCommandCheck, SHELL, memo=_memo())
    assert answer.status is Verdict.FAIL
    assert answer.reason == f"command {_memo()['commandId']} {reason}"


@pytest.mark.parametrize(
    ("status", "details"), [("Failed", "Undeliverable"), ("TimedOut", "Delivery Timed Out")]
)
def test_undelivered_command_waits_and_is_sent_again(
    aws: Account, ask: Ask, status: str, details: str
) -> None:
    """Patched: moto always delivers. The memo is dropped, so the next round sends anew."""
    ssm = aws.client("ssm")
    with mock.patch.object(
        ssm, "get_command_invocation", return_value=_invocation(status, details)
    ):
        answer = ask(SsmCommandCheck, SHELL, memo=_memo())
    assert answer.status is Verdict.WAIT
    assert answer.memo is None
    assert details in answer.reason

    again = ask(SsmCommandCheck, SHELL, memo=answer.memo, now=NOW + timedelta(seconds=30))
    assert again.memo["commandId"] != _memo()["commandId"]
    assert len(ssm.list_commands()["Commands"]) == 1


def test_delivery_timeout_after_the_command_started_fails(aws: Account, ask: Ask) -> None:
    """Patched. SSM marks a command still running when it expires Delivery Timed Out; it did
    start, so sending it again could run it twice: that is a timeout, not a retry."""
    ssm = aws.client("ssm")
    invocation = _invocation(
        "TimedOut", "Delivery Timed Out", ExecutionStartDateTime="2026-01-01T00:04:00Z"
    )
    with mock.patch.object(ssm, "get_command_invocation", return_value=invocation):
        answer = ask(SsmCommandCheck, SHELL, memo=_memo())
    assert answer.status is Verdict.FAIL
    assert "timed out (Delivery Timed Out)" in answer.reason


def test_invocation_not_visible_yet_waits_and_keeps_memo(aws: Account, ask: Ask) -> None:
    """moto answers InvocationDoesNotExist for an instance the command has no invocation for
    (here one EC2 does not know: moto adds every instance it knows); AWS does so for a moment
    right after SendCommand."""
    ssm = aws.client("ssm")
    other = ssm.send_command(InstanceIds=[aws.instance_id], DocumentName="AWS-RunShellScript")
    other = other["Command"]["CommandId"]
    aws.instance_id = "i-0123456789abcdef0"
    answer = ask(SsmCommandCheck, SHELL, memo=_memo(other), now=NOW + timedelta(seconds=5))
    assert answer.status is Verdict.WAIT
    assert answer.memo == _memo(other)
    assert answer.reason == f"command {other} not visible yet"


def test_unknown_command_past_the_limit_fails(aws: Account, ask: Ask) -> None:
    """moto answers InvalidCommandId for a command id it never issued."""
    memo = _memo()
    early = ask(SsmCommandCheck, SHELL, memo=memo, now=NOW + timedelta(seconds=LIMIT))
    late = ask(SsmCommandCheck, SHELL, memo=memo, now=NOW + timedelta(seconds=LIMIT + 1))
    assert early.status is Verdict.WAIT
    assert early.memo == memo
    assert late.status is Verdict.FAIL
    assert late.reason == f"command {memo['commandId']} still not found after {LIMIT + 1}s"


def test_command_running_past_our_own_limit_fails(aws: Account, ask: Ask) -> None:
    """Patched: moto never reports InProgress. Limit: 300 s delivery + timeoutSeconds + 60 s."""
    ssm = aws.client("ssm")
    with mock.patch.object(ssm, "get_command_invocation", return_value=_invocation("InProgress")):
        within = ask(SsmCommandCheck, SHELL, memo=_memo(), now=NOW + timedelta(seconds=LIMIT))
        past = ask(SsmCommandCheck, SHELL, memo=_memo(), now=NOW + timedelta(seconds=LIMIT + 1))
        short = ask(
            SsmCommandCheck,
            {**SHELL, "timeoutSeconds": 30},
            memo=_memo(),
            now=NOW + timedelta(seconds=391),
        )
    assert within.status is Verdict.WAIT
    assert past.status is Verdict.FAIL
    assert past.reason == (
        f"command {_memo()['commandId']} still InProgress after {LIMIT + 1}s (limit {LIMIT}s)"
    )
    assert short.status is Verdict.FAIL  # 300 + 30 + 60 = 390


def test_unusable_memo_sends_the_command(aws: Account, ask: Ask) -> None:
    for memo in ({"commandId": "abc"}, {"commandId": "abc", "sentAt": "yesterday"}, "abc"):
        answer = ask(SsmCommandCheck, SHELL, memo=memo)
        assert answer.status is Verdict.WAIT
        assert answer.reason.endswith(" sent")
    assert len(aws.client("ssm").list_commands()["Commands"]) == 3


# --- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "no commands given for AWS-RunShellScript"),
        (
            {"document": "MyApp-Ready", "commands": ["true"]},
            "commands only applies to AWS-RunPowerShellScript, AWS-RunShellScript;"
            " pass MyApp-Ready's own parameters in parameters",
        ),
        (
            {**SHELL, "parameters": {"executionTimeout": "5"}},
            "parameters.executionTimeout is set from commands / timeoutSeconds, not parameters",
        ),
        ({"document": "my doc"}, "document 'my doc' is not an SSM document name or ARN"),
        ({**SHELL, "timeoutSeconds": 10}, "timeoutSeconds must be between 30 and 172800, got 10"),
        ({"commands": "true"}, "commands must be a non-empty list of strings"),
        ({**SHELL, "parameters": {"port": 8080}}, "parameters.'port' must be a non-empty string"),
        ({**SHELL, "timeout": 60}, "unknown parameter(s) ['timeout']"),
    ],
)
def test_bad_params_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        SsmCommandCheck.validate_params(raw)
    assert str(caught.value).startswith(message)


def test_valid_params_get_their_defaults() -> None:
    assert SsmCommandCheck.validate_params(SHELL) == {
        **SHELL,
        "document": "AWS-RunShellScript",
        "timeoutSeconds": 600,
    }
    shared = "arn:aws:ssm:us-east-1:111122223333:document/Shared-Ready"
    assert SsmCommandCheck.validate_params({"document": shared})["document"] == shared  # no stack


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (  # the attack: a same-named document shared from another account
            "arn:aws:ssm:us-east-1:999999999999:document/Ready",
            "document 'arn:aws:ssm:us-east-1:999999999999:document/Ready' names account"
            " 999999999999, Region us-east-1: only this stack's account 123456789012 in us-east-1"
            " is allowed: a document shared from another account is never run",
        ),
        (
            f"arn:aws:ssm:eu-west-1:{ACCOUNT}:document/Ready",
            f"document 'arn:aws:ssm:eu-west-1:{ACCOUNT}:document/Ready' names account {ACCOUNT},"
            " Region eu-west-1",
        ),
        (
            f"arn:aws-cn:ssm:us-east-1:{ACCOUNT}:document/Ready",
            f"document 'arn:aws-cn:ssm:us-east-1:{ACCOUNT}:document/Ready' names account",
        ),
        (  # an account-less ARN is an AWS-owned document: only one the stack grants
            "arn:aws:ssm:us-east-1::document/AWS-RunPowerShellScript",
            "document 'AWS-RunPowerShellScript' is not one of the stack's SsmCommandDocuments"
            " (AWS-RunShellScript, Ready); add it to the stack parameter to run it",
        ),
        (
            "Other",
            "document 'Other' is not one of the stack's SsmCommandDocuments",
        ),
        (
            f"arn:aws:ssm:us-east-1:{ACCOUNT}:automation-definition/Ready",
            f"document 'arn:aws:ssm:us-east-1:{ACCOUNT}:automation-definition/Ready' is not an"
            " SSM document ARN",
        ),
        (
            f"arn:aws:ec2:us-east-1:{ACCOUNT}:document/Ready",
            f"document 'arn:aws:ec2:us-east-1:{ACCOUNT}:document/Ready' is not an ssm ARN",
        ),
    ],
    ids=[
        "other-account",
        "other-region",
        "other-partition",
        "aws-owned-not-granted",
        "not-granted",
        "not-a-document",
        "not-ssm",
    ],
)
def test_a_document_the_stack_does_not_allow_is_refused(document: str, message: str) -> None:
    raw = (
        {"document": document, "commands": ["true"]}
        if "RunPowerShell" in document
        else {"document": document}
    )
    with pytest.raises(InvalidParams) as caught:
        SsmCommandCheck.validate_params(raw, limits=LIMITS)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "document",
    [
        "AWS-RunShellScript",
        "arn:aws:ssm:us-east-1::document/AWS-RunShellScript",  # AWS-owned: no account
        "Ready",
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:document/Ready",
    ],
)
def test_a_granted_document_is_accepted_by_name_or_arn(document: str) -> None:
    raw: dict[str, Any] = {"document": document}
    if document.endswith("AWS-RunShellScript"):
        raw["commands"] = ["true"]
    assert SsmCommandCheck.validate_params(raw, limits=LIMITS)["document"] == document


def test_example_is_valid() -> None:
    SsmCommandCheck.validate_params(SsmCommandCheck.example["params"])
    assert SsmCommandCheck.transitions == {Transition.LAUNCHING, Transition.TERMINATING}
