"""Step Functions callback tasks (``.waitForTaskToken``) on the virtual clock, the task-token API
as AWS answers it, and the template's DynamoDB tables; each through tiny definitions run by
moto's interpreter with the emulator's patches."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lifecycle_emulator.clock import Sleeper, VirtualClock
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.play import T0

TABLE = "waits"
CAUGHT = {"Type": "Pass", "End": True}


# --- the stack: a small template of this test's own ---------------------------------------------
# One table (key instanceId/hook, TTL on expiresAt), one state machine whose definition names the
# table through DefinitionSubstitutions, and one function that a rule on tag changes invokes; it
# wakes the waits stored for the instance (signal_handler below).
TEMPLATE = """\
    AWSTemplateFormatVersion: "2010-09-09"
    Transform: AWS::Serverless-2016-10-31
    Resources:
      WaitTable:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions:
            - { AttributeName: instanceId, AttributeType: S }
            - { AttributeName: hook, AttributeType: S }
          KeySchema:
            - { AttributeName: instanceId, KeyType: HASH }
            - { AttributeName: hook, KeyType: RANGE }
          TimeToLiveSpecification: { AttributeName: expiresAt, Enabled: true }
      WakeFunction:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: .
          Runtime: python3.13
          Handler: tests.emulator.test_callbacks.signal_handler
          Environment:
            Variables:
              WAIT_TABLE: !Ref WaitTable
              WAIT_TABLE_ARN: !GetAtt WaitTable.Arn
          Events:
            TagChange:
              Type: EventBridgeRule
              Properties:
                Pattern: { source: [aws.tag], detail-type: [Tag Change on Resource] }
      Machine:
        Type: AWS::Serverless::StateMachine
        Properties:
          DefinitionUri: machine.asl.json
          DefinitionSubstitutions:
            WaitTableName: !Ref WaitTable
          Policies: []
    """
MACHINE = {
    "StartAt": "Wait for a signal",
    "States": {
        "Wait for a signal": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            "Parameters": {
                "TableName": "${WaitTableName}",
                "Item": {
                    "instanceId": {"S.$": "$.instanceId"},
                    "hook": {"S": "launch"},
                    "taskToken": {"S.$": "$$.Task.Token"},
                },
            },
            "TimeoutSecondsPath": "$.waitSeconds",
            "ResultPath": None,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "Late"}],
            "Next": "Woken",
        },
        "Woken": {"Type": "Pass", "Result": "woken", "ResultPath": "$.how", "End": True},
        "Late": {"Type": "Pass", "Result": "timed out", "ResultPath": "$.how", "End": True},
    },
}


def signal_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The test stack's WakeFunction: ends the waits stored for the instance an event names."""
    import os  # noqa: PLC0415

    instance_id = event["resources"][0].rsplit("/", 1)[-1]
    items = boto3.client("dynamodb").query(
        TableName=os.environ["WAIT_TABLE"],
        KeyConditionExpression="instanceId = :i",
        ExpressionAttributeValues={":i": {"S": instance_id}},
    )["Items"]
    for item in items:
        boto3.client("stepfunctions").send_task_success(
            taskToken=item["taskToken"]["S"], output="{}"
        )
    return {"woken": len(items)}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalAws]:
    (tmp_path / "template.yaml").write_text(textwrap.dedent(TEMPLATE))
    (tmp_path / "machine.asl.json").write_text(json.dumps(MACHINE))
    with LocalAws(start=T0, template=tmp_path / "template.yaml") as aws:
        yield aws


# --- helpers ----------------------------------------------------------------------------------
def _machine(aws: LocalAws, states: dict[str, Any], name: str = "tiny", start: str = "T") -> str:
    role = aws.client("iam").get_role(RoleName=f"{aws.stack.name}-emulated")["Role"]["Arn"]
    arn: str = aws.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps({"StartAt": start, "States": states}), roleArn=role
    )["stateMachineArn"]
    return arn


def _start(aws: LocalAws, arn: str, name: str, given: dict[str, Any]) -> str:
    # moto names an execution started without a name "None" (AWS: a UUID): name each one
    execution: str = aws.client("stepfunctions").start_execution(
        stateMachineArn=arn, name=name, input=json.dumps(given)
    )["executionArn"]
    return execution


def _described(aws: LocalAws, execution: str) -> dict[str, Any]:
    described: dict[str, Any] = aws.client("stepfunctions").describe_execution(
        executionArn=execution
    )
    return described


def _seconds(aws: LocalAws, event: dict[str, Any]) -> float:
    return float((event["timestamp"] - T0).total_seconds())


def _events(aws: LocalAws, execution: str, kind: str) -> list[dict[str, Any]]:
    history = aws.client("stepfunctions").get_execution_history(
        executionArn=execution, maxResults=1000
    )
    return [e for e in history["events"] if e["type"] == kind]


def _table(aws: LocalAws, name: str = TABLE) -> Any:
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def _callback(table: str = TABLE, *, next_state: str = "Woken", **task: Any) -> dict[str, Any]:
    """A task that stores its token under ``$.id`` and waits for it."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
        "Parameters": {
            "TableName": table,
            "Item": {"id": {"S.$": "$.id"}, "token": {"S.$": "$$.Task.Token"}},
        },
        "ResultPath": None,
        "Next": next_state,
        **task,
    }


WOKEN = {"Type": "Pass", "Result": "woken", "ResultPath": "$.how", "End": True}
LATE = {"Type": "Pass", "Result": "timed out", "ResultPath": "$.how", "End": True}
ON_TIMEOUT = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Late"}]


def _token(aws: LocalAws, key: str, table: str = TABLE) -> str:
    item = aws.client("dynamodb").get_item(TableName=table, Key={"id": {"S": key}})["Item"]
    return str(item["token"]["S"])


def _later(aws: LocalAws, seconds: float, action: Callable[[], Any]) -> None:
    aws.clock.call_later(seconds, action)


def _error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


# --- the clock's early wake ---------------------------------------------------------------------
def test_an_early_wake_counts_the_sleeper_busy_before_it_returns() -> None:
    """The emulator's own rule (no AWS page): a thread woken early by another is counted busy
    again before the waker's call returns, so the driver never sees a false idle; a second
    wake does nothing, and the cancelled wake-up moves no time."""
    clock = VirtualClock(T0)
    sleeper = Sleeper()
    result: list[bool] = []
    clock.enter()
    end = T0.timestamp() + 3600
    worker = threading.Thread(target=lambda: result.append(clock.sleep_until(end, sleeper)))
    worker.start()
    clock.wait_idle(real_timeout=5)  # the sleeper is counted idle
    assert clock.busy == 0
    assert clock.wake_early(sleeper) is True
    assert clock.busy == 1, "counted busy before wake_early returned"
    worker.join(timeout=5)
    assert result == [False], "ended early"
    assert clock.wake_early(sleeper) is False
    clock.leave()
    clock.run(real_timeout=5)
    assert clock.time() == T0.timestamp()


def test_a_wake_before_the_sleep_means_no_sleep() -> None:
    """The emulator's own rule: a wake that comes between a waiter's check and its sleep is
    not lost (the sleep returns at once, still counted busy)."""
    clock = VirtualClock(T0)
    sleeper = Sleeper()
    clock.enter()
    assert clock.wake_early(sleeper) is True
    assert clock.busy == 1
    assert clock.sleep_until(T0.timestamp() + 60, sleeper) is False
    assert clock.busy == 1
    assert clock.next_due() is None


# --- callback tasks ----------------------------------------------------------------------------
def test_send_task_success_resumes_the_task_at_the_virtual_instant_it_is_sent(
    stack: LocalAws,
) -> None:
    """Step Functions Developer Guide, "Wait for a Callback with Task Token": the task pauses
    until ``SendTaskSuccess`` returns the token; ``ResultPath: null`` keeps the input. The
    wait is a virtual sleep: the token sent at 100 s resumes it at 100 s, not at the timeout."""
    aws = stack
    _table(aws)
    arn = _machine(
        aws, {"T": _callback(TimeoutSeconds=3600, Catch=ON_TIMEOUT), "Woken": WOKEN, "Late": LATE}
    )
    execution = _start(aws, arn, "one", {"id": "a"})
    sfn = aws.client("stepfunctions")
    _later(aws, 100, lambda: sfn.send_task_success(taskToken=_token(aws, "a"), output='{"x": 1}'))
    began = time.monotonic()
    aws.run()

    described = _described(aws, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"id": "a", "how": "woken"}
    (succeeded,) = _events(aws, execution, "TaskSucceeded")
    assert _seconds(aws, succeeded) == 100
    assert time.monotonic() - began < 30, "an hour's timeout is not waited in real time"


def test_a_callback_task_times_out_at_its_virtual_deadline(stack: LocalAws) -> None:
    """Developer Guide, "Wait for a Callback with Task Token" ("Configure a Heartbeat Timeout
    for a Waiting Task"; Task state ``TimeoutSeconds``/``TimeoutSecondsPath``): a task that
    is not called back in time fails with ``States.Timeout`` ("Error names"). Here at exactly
    the 600-s virtual deadline, taken from the input."""
    aws = stack
    _table(aws)
    task = _callback(TimeoutSecondsPath="$.waitSeconds", Catch=ON_TIMEOUT)
    arn = _machine(aws, {"T": task, "Woken": WOKEN, "Late": LATE})
    execution = _start(aws, arn, "one", {"id": "a", "waitSeconds": 600})
    aws.run()

    output = json.loads(_described(aws, execution)["output"])
    assert output["how"] == "timed out"
    assert output["error"]["Error"] == "States.Timeout"
    (timed_out,) = _events(aws, execution, "TaskTimedOut")
    assert _seconds(aws, timed_out) == 600


def test_a_slow_run_in_real_time_does_not_time_out_a_short_virtual_wait(stack: LocalAws) -> None:
    """A task's ``TimeoutSeconds`` is task time, and the emulator's task time is virtual: the
    token sent at 0.5 s (virtual) resumes a task whose timeout is 1 s, though the sender took
    1.5 real seconds first (moto's interpreter timed it out in real time)."""
    aws = stack
    _table(aws)
    arn = _machine(
        aws, {"T": _callback(TimeoutSeconds=1, Catch=ON_TIMEOUT), "Woken": WOKEN, "Late": LATE}
    )
    execution = _start(aws, arn, "one", {"id": "a"})
    sfn = aws.client("stepfunctions")

    def slow_sender() -> None:
        time.sleep(1.5)
        sfn.send_task_success(taskToken=_token(aws, "a"), output="{}")

    _later(aws, 0.5, slow_sender)
    aws.run()
    assert json.loads(_described(aws, execution)["output"])["how"] == "woken"


def test_a_function_run_by_another_execution_wakes_the_task(stack: LocalAws) -> None:
    """A wake from a Lambda function the emulator runs, inside another execution's Task state
    (its turn held): the waiting task resumes at that instant and both executions finish."""
    aws = stack
    _table(aws)
    sfn_client = aws.client("stepfunctions")

    def waker(event: Any) -> Any:
        sfn_client.send_task_success(taskToken=_token(aws, event["id"]), output="{}")
        return {"sent": True}

    function = aws.add_function("waker", waker)
    waiting = _machine(
        aws, {"T": _callback(TimeoutSeconds=3600, Catch=ON_TIMEOUT), "Woken": WOKEN, "Late": LATE}
    )
    wake = {"Type": "Wait", "Seconds": 250, "Next": "Send"}
    send = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
        "End": True,
    }
    waking = _machine(aws, {"Wait": wake, "Send": send}, name="waking", start="Wait")
    first = _start(aws, waiting, "waits", {"id": "a"})
    second = _start(aws, waking, "wakes", {"id": "a"})
    aws.run()

    assert _described(aws, first)["status"] == "SUCCEEDED"
    assert _described(aws, second)["status"] == "SUCCEEDED"
    assert json.loads(_described(aws, first)["output"])["how"] == "woken"
    (succeeded,) = _events(aws, first, "TaskSucceeded")
    assert _seconds(aws, succeeded) == 250


def test_send_task_failure_fails_the_task_with_its_error_and_cause(stack: LocalAws) -> None:
    """Step Functions API Reference, SendTaskFailure: the task fails with the given ``error``
    and ``cause`` (a Catch on that error name takes it). moto's response dropped the cause."""
    aws = stack
    _table(aws)
    catch = [{"ErrorEquals": ["Nope"], "ResultPath": "$.error", "Next": "C"}]
    arn = _machine(
        aws, {"T": _callback(TimeoutSeconds=3600, Catch=catch, next_state="C"), "C": CAUGHT}
    )
    execution = _start(aws, arn, "one", {"id": "a"})
    sfn = aws.client("stepfunctions")
    _later(
        aws,
        30,
        lambda: sfn.send_task_failure(taskToken=_token(aws, "a"), error="Nope", cause="because"),
    )
    aws.run()

    error = json.loads(_described(aws, execution)["output"])["error"]
    assert error == {"Error": "Nope", "Cause": "because"}
    (failed,) = _events(aws, execution, "TaskFailed")
    assert _seconds(aws, failed) == 30


def test_a_token_whose_task_has_ended_answers_task_timed_out(stack: LocalAws) -> None:
    """Step Functions API Reference, SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat,
    errors: ``TaskTimedOut`` "The task token has either expired or the task associated with
    the token has already been closed"; ``InvalidToken`` "The provided token is not valid".
    The execution here is still running (a second wait), as a looping workflow's is: moto
    accepted the stale token silently (and answered ``InvalidToken`` once the execution had
    ended); a timed-out token answers ``TaskTimedOut`` too."""
    aws = stack
    _table(aws)
    states = {
        "T": _callback(TimeoutSeconds=3600, next_state="Again"),
        "Again": {
            **_callback(TimeoutSeconds=600, Catch=ON_TIMEOUT),
            "Parameters": {
                "TableName": TABLE,
                "Item": {"id": {"S": "again"}, "token": {"S.$": "$$.Task.Token"}},
            },
        },
        "Woken": WOKEN,
        "Late": LATE,
    }
    arn = _machine(aws, states)
    execution = _start(aws, arn, "one", {"id": "a"})
    sfn = aws.client("stepfunctions")
    answers: dict[str, str] = {}

    def first_then_again() -> None:
        token = _token(aws, "a")
        sfn.send_task_success(taskToken=token, output="{}")
        answers["resent"] = _error_code(lambda: sfn.send_task_success(taskToken=token, output="{}"))
        answers["failed"] = _error_code(
            lambda: sfn.send_task_failure(taskToken=token, error="E", cause="c")
        )
        answers["beat"] = _error_code(lambda: sfn.send_task_heartbeat(taskToken=token))

    _later(aws, 10, first_then_again)
    aws.run()
    assert _described(aws, execution)["status"] == "SUCCEEDED"
    assert json.loads(_described(aws, execution)["output"])["how"] == "timed out"
    timed_out = _token(aws, "again")
    answers["timed-out"] = _error_code(
        lambda: sfn.send_task_success(taskToken=timed_out, output="{}")
    )
    answers["unknown"] = _error_code(
        lambda: sfn.send_task_success(taskToken="not-a-token", output="{}")
    )
    assert answers == {
        "resent": "TaskTimedOut",
        "failed": "TaskTimedOut",
        "beat": "TaskTimedOut",
        "timed-out": "TaskTimedOut",
        "unknown": "InvalidToken",
    }


def test_output_that_is_not_json_answers_invalid_output(stack: LocalAws) -> None:
    """Step Functions API Reference, SendTaskSuccess, errors: ``InvalidOutput`` "The provided
    JSON output data is not valid". The task keeps waiting (moto failed the execution)."""
    aws = stack
    _table(aws)
    arn = _machine(
        aws, {"T": _callback(TimeoutSeconds=300, Catch=ON_TIMEOUT), "Woken": WOKEN, "Late": LATE}
    )
    execution = _start(aws, arn, "one", {"id": "a"})
    sfn = aws.client("stepfunctions")
    codes: list[str] = []
    _later(
        aws,
        5,
        lambda: codes.append(
            _error_code(lambda: sfn.send_task_success(taskToken=_token(aws, "a"), output="{no"))
        ),
    )
    aws.run()
    assert codes == ["InvalidOutput"]
    assert json.loads(_described(aws, execution)["output"])["how"] == "timed out"


def test_heartbeats_keep_a_task_waiting_until_one_is_late(stack: LocalAws) -> None:
    """Developer Guide, "Wait for a Callback with Task Token" (heartbeat timeout) and API
    Reference, SendTaskHeartbeat: each heartbeat restarts ``HeartbeatSeconds``; when none
    comes in time the task fails with ``States.HeartbeatTimeout`` ("Error names"; moto's
    interpreter called it ``States.Timeout``). Heartbeats at 50 and 100 s, 60-s limit: the task
    fails at 160 s."""
    aws = stack
    _table(aws)
    catch = [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.error", "Next": "C"}]
    task = _callback(TimeoutSeconds=3600, HeartbeatSeconds=60, Catch=catch, next_state="C")
    arn = _machine(aws, {"T": task, "C": CAUGHT})
    execution = _start(aws, arn, "one", {"id": "a"})
    sfn = aws.client("stepfunctions")
    for at in (50, 100):
        _later(aws, at, lambda: sfn.send_task_heartbeat(taskToken=_token(aws, "a")))
    aws.run()

    assert json.loads(_described(aws, execution)["output"])["error"]["Error"] == (
        "States.HeartbeatTimeout"
    )
    (timed_out,) = _events(aws, execution, "TaskTimedOut")
    assert _seconds(aws, timed_out) == 160


def test_stopping_an_execution_closes_its_waiting_token(stack: LocalAws) -> None:
    """API Reference, StopExecution / SendTaskSuccess: once the execution is stopped its task
    is closed (``TaskTimedOut``), and nothing waits out the hour's timeout."""
    aws = stack
    _table(aws)
    arn = _machine(aws, {"T": _callback(TimeoutSeconds=3600), "Woken": WOKEN})
    execution = _start(aws, arn, "one", {"id": "a"})
    sfn = aws.client("stepfunctions")
    _later(aws, 20, lambda: sfn.stop_execution(executionArn=execution))
    aws.run()

    assert _described(aws, execution)["status"] == "ABORTED"
    assert aws.clock.time() - T0.timestamp() < 3600
    code = _error_code(lambda: sfn.send_task_success(taskToken=_token(aws, "a"), output="{}"))
    assert code == "TaskTimedOut"


def test_a_lambda_task_that_outlasts_its_timeout_seconds_times_out_then(stack: LocalAws) -> None:
    """A Task state's ``TimeoutSeconds`` on the virtual clock for a Lambda task too: a function
    that runs its whole 3-s Timeout (Lambda's) in a task allowed 2 s fails with
    ``States.Timeout`` at 2 s ("Error names": ``States.Timeout``, "a Task state either ran
    longer than the TimeoutSeconds value, or failed to send a heartbeat ...")."""
    from lifecycle_emulator.runtime import Interruption  # noqa: PLC0415

    aws = stack
    aws.runtime.interrupt = lambda fn: Interruption("timeout")
    function = aws.stack.functions["WakeFunction"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function.arn, "Payload.$": "$"},
        "TimeoutSeconds": 2,
        "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "C"}],
        "End": True,
    }
    arn = _machine(aws, {"T": task, "C": CAUGHT})
    execution = _start(aws, arn, "one", {})
    aws.run()

    aws.runtime.interrupt = None
    assert function.timeout == 3
    assert json.loads(_described(aws, execution)["output"])["error"]["Error"] == "States.Timeout"
    (timed_out,) = _events(aws, execution, "TaskTimedOut")
    assert _seconds(aws, timed_out) == 2


# --- the template's DynamoDB tables -----------------------------------------------------------
def test_the_templates_table_is_created_and_named_in_environment_and_definition(
    stack: LocalAws,
) -> None:
    """AWS CloudFormation User Guide, AWS::DynamoDB::Table, return values: ``Ref`` is the table
    name, ``Fn::GetAtt Arn`` its ARN; ``TimeToLiveSpecification`` enables TTL on the attribute.
    Step Functions' ``DefinitionSubstitutions`` replace ``${WaitTableName}`` with it."""
    aws = stack
    table = aws.stack.tables["WaitTable"]
    assert table.name == "asg-lifecycle-WaitTable"
    assert table.arn == f"arn:aws:dynamodb:us-east-1:123456789012:table/{table.name}"
    environment = aws.stack.functions["WakeFunction"].environment
    assert environment == {"WAIT_TABLE": table.name, "WAIT_TABLE_ARN": table.arn}
    assert f'"TableName": "{table.name}"' in aws.stack.definition
    dynamodb = aws.client("dynamodb")
    described = dynamodb.describe_table(TableName=table.name)["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in described["KeySchema"]] == ["instanceId", "hook"]
    ttl = dynamodb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_an_expired_item_is_still_returned_by_query(stack: LocalAws) -> None:
    """DynamoDB Developer Guide, "Working with Time to Live (TTL)": expired items are deleted
    "typically within a few days of their expiration", and "Expired items that haven't been
    deleted will still appear in reads, queries, and scans" — a reader filters on the TTL
    attribute itself. Two days past its expiry the item is still there."""
    aws = stack
    table = aws.stack.tables["WaitTable"].name
    dynamodb = aws.client("dynamodb")
    expired = int(aws.clock.time()) - 60
    dynamodb.put_item(
        TableName=table,
        Item={"instanceId": {"S": "i-1"}, "hook": {"S": "h"}, "expiresAt": {"N": str(expired)}},
    )
    aws.clock.call_later(2 * 86400, lambda: None)
    aws.run()
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="instanceId = :i",
        ExpressionAttributeValues={":i": {"S": "i-1"}},
    )["Items"]
    assert [item["expiresAt"]["N"] for item in items] == [str(expired)]


def test_a_tag_change_event_wakes_the_stored_wait_through_the_templates_rule(
    stack: LocalAws,
) -> None:
    """The whole push path on the test stack: the definition stores its token in the
    template's table; CreateTags on the instance sends ``Tag Change on Resource`` (Tagging
    user guide); the template's rule invokes WakeFunction, which reads the table and calls
    SendTaskSuccess: the wait ends at the tag change's instant, not at its 1-hour timeout."""
    aws = stack
    ec2 = aws.client("ec2")
    (instance,) = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"]
    instance_id = instance["InstanceId"]
    execution = _start(
        aws, aws.state_machine_arn, "one", {"instanceId": instance_id, "waitSeconds": 3600}
    )
    _later(
        aws,
        42,
        lambda: ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "ready", "Value": "yes"}]),
    )
    aws.run()

    assert json.loads(_described(aws, execution)["output"])["how"] == "woken"
    (succeeded,) = _events(aws, execution, "TaskSucceeded")
    assert _seconds(aws, succeeded) == 42
    (invocation,) = [i for i in aws.runtime.invocations if i.function == "WakeFunction"]
    assert invocation.result == {"woken": 1}
    assert invocation.payload["detail"]["changed-tag-keys"] == ["ready"]
