"""Step Functions and Lambda errors on the emulator as AWS raises and matches them, each through a
tiny definition run by moto's interpreter (with the emulator's patches)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lifecycle_emulator.faults import Cut, Faults
from lifecycle_emulator.runtime import _states_error_matches
from tests.flow.stack import doc, emulated, launch_hook

NO_ERROR_TYPE = (
    "The cause could not be determined because Lambda did not return an error type. "
    "Returned payload: "
)


def _machine(aws: Any, states: dict[str, Any], start: str = "T") -> str:
    role = aws.client("iam").get_role(RoleName=f"{aws.stack.name}-emulated")["Role"]["Arn"]
    definition = json.dumps({"StartAt": start, "States": states})
    arn: str = aws.client("stepfunctions").create_state_machine(
        name="tiny", definition=definition, roleArn=role
    )["stateMachineArn"]
    return arn


def _run(aws: Any, arn: str, given: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sfn = aws.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(given or {}))
    aws.run()
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    events = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)
    return described, events["events"]


def _invoke(function_arn: str, **task: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        "End": True,
        **task,
    }


CAUGHT = {"Type": "Pass", "End": True}


def _failed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "TaskFailed"]


# --- Lambda's own ends of an invocation -------------------------------------------------------


@pytest.mark.parametrize("after_calls", [False, True])
def test_a_function_that_times_out_fails_its_task_with_lambda_unknown_after_its_timeout(
    after_calls: bool,
) -> None:
    """Step Functions Developer Guide, "Handling errors in Step Functions workflows" (also "Handle
    transient Lambda service exceptions"): "Unhandled errors in Lambda are reported as
    Lambda.Unknown in the error output. These include out-of-memory errors and function
    timeouts." Lambda answers a timed-out invoke as an Unhandled function error whose payload
    carries only ``errorMessage`` "<time> <request id> Task timed out after N.00 seconds"
    (Lambda Developer Guide, "Configure Lambda function timeout"); Step Functions' cause quotes
    it: "The cause could not be determined because Lambda did not return an error type.
    Returned payload: ...". The task fails once the function's Timeout (30 s) has run out."""
    faults = Faults(lambda_timeouts={"ReadHookFunction": Cut(1, after_calls=after_calls)})
    with emulated(doc([launch_hook()], steps=[]), faults=faults) as (aws, _):
        function = aws.stack.functions["ReadHookFunction"]
        catch = [{"ErrorEquals": ["Lambda.Unknown"], "ResultPath": "$.error", "Next": "C"}]
        arn = _machine(aws, {"T": _invoke(function.arn, Catch=catch), "C": CAUGHT})
        described, events = _run(aws, arn)
        (invocation,) = [i for i in aws.runtime.invocations if i.function == "ReadHookFunction"]

    assert function.timeout == 30
    assert described["status"] == "SUCCEEDED"
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "Lambda.Unknown"
    assert error["Cause"].startswith(NO_ERROR_TYPE + '{"errorMessage":"2026-01-01T00:00:30.000Z ')
    assert error["Cause"].endswith(' Task timed out after 30.00 seconds"}')
    (failed,) = _failed(events)
    started = next(e for e in events if e["type"] == "TaskScheduled")
    assert (failed["timestamp"] - started["timestamp"]).total_seconds() == 30
    assert faults.interrupted == [("ReadHookFunction", "timeout", after_calls)]
    # the handler ran only when asked (given an empty document it raised InvalidDocument: that
    # answer is lost to the timeout like any other)
    if after_calls:
        assert invocation.lost["errorType"] == "InvalidDocument"
    else:
        assert invocation.lost is None


def test_a_function_that_runs_out_of_memory_fails_its_task_with_the_runtime_exit_error() -> None:
    """Lambda stops a function out of memory by killing its runtime: the Invoke answer is an
    Unhandled function error ``{"errorType": "Runtime.ExitError", "errorMessage": "RequestId:
    <id> Error: Runtime exited with error: signal: killed"}`` (AWS Knowledge Center, "Lambda
    runtime exit error"); Step Functions names a function error by its ``errorType`` ("Handling
    errors": a Lambda function's error names), so the task fails with ``Runtime.ExitError``, at
    once. (The Developer Guide's note counts out-of-memory among ``Lambda.Unknown``: the older
    answer without ``errorType``; either way ``States.ALL`` and ``States.TaskFailed`` take it.)"""
    faults = Faults(lambda_out_of_memory={"ReadHookFunction": Cut(1)})
    with emulated(doc([launch_hook()], steps=[]), faults=faults) as (aws, _):
        function = aws.stack.functions["ReadHookFunction"]
        catch = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "C"}]
        arn = _machine(aws, {"T": _invoke(function.arn, Catch=catch), "C": CAUGHT})
        described, events = _run(aws, arn)

    error = json.loads(described["output"])["error"]
    assert error["Error"] == "Runtime.ExitError"
    cause = json.loads(error["Cause"])
    assert cause["errorType"] == "Runtime.ExitError"
    assert cause["errorMessage"].endswith(" Error: Runtime exited with error: signal: killed")
    (failed,) = _failed(events)
    assert failed["timestamp"] == events[0]["timestamp"], "no time passes"


def test_only_the_first_invocations_asked_for_are_ended_then_the_retry_succeeds() -> None:
    """The fault ends the function's first invocation only; Retry on ``Lambda.Unknown`` runs it
    again after its interval, and that one answers (here: the handler's own InvalidDocument)."""
    faults = Faults(lambda_timeouts={"ReadHookFunction": Cut(1)})
    with emulated(doc([launch_hook()], steps=[]), faults=faults) as (aws, _):
        function = aws.stack.functions["ReadHookFunction"]
        retry = [{"ErrorEquals": ["Lambda.Unknown"], "IntervalSeconds": 5, "MaxAttempts": 1}]
        catch = [{"ErrorEquals": ["InvalidDocument"], "ResultPath": "$.error", "Next": "C"}]
        arn = _machine(aws, {"T": _invoke(function.arn, Retry=retry, Catch=catch), "C": CAUGHT})
        described, events = _run(aws, arn)

    assert [e["taskFailedEventDetails"]["error"] for e in _failed(events)] == [
        "Lambda.Unknown",
        "InvalidDocument",
    ]
    first, second = _failed(events)
    assert (second["timestamp"] - first["timestamp"]).total_seconds() == 5
    assert json.loads(described["output"])["error"]["Error"] == "InvalidDocument"


# --- matching error names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_equals", "error", "matches"),
    [
        (["States.ALL"], "Lambda.Unknown", True),
        (["States.ALL"], "States.Timeout", True),
        (["States.ALL"], "States.HeartbeatTimeout", True),
        (["States.ALL"], "States.Runtime", False),
        (["States.ALL"], "States.DataLimitExceeded", False),
        (["States.TaskFailed"], "Lambda.Unknown", True),
        (["States.TaskFailed"], "InvalidDocument", True),
        (["States.TaskFailed"], "States.Permissions", True),
        (["States.TaskFailed"], "States.HeartbeatTimeout", True),
        (["States.TaskFailed"], "States.ResultPathMatchFailure", True),
        (["States.TaskFailed"], "States.Timeout", False),
        (["States.TaskFailed"], "States.Runtime", False),
        (["States.Timeout"], "States.Timeout", True),
        (["States.Runtime"], "States.Runtime", False),
        (["LifecycleActionNotFound"], "Lambda.Unknown", False),
        (["Lambda.Unknown", "Lambda.ServiceException"], "Lambda.Unknown", True),
    ],
)
def test_error_equals_matches_as_step_functions_does(
    error_equals: list[str | None], error: str, matches: bool
) -> None:
    """Step Functions Developer Guide, "Error names": ``States.ALL`` "A wildcard that matches
    any known error name", which cannot catch the terminal ``States.DataLimitExceeded`` or
    ``States.Runtime`` ("not retriable, and will always cause the execution to fail. A retry or
    catch on States.ALL will not catch States.Runtime errors"); ``States.TaskFailed`` "When used
    in a retry or catch, acts as a wildcard that matches any known error name except for
    States.Timeout". moto's interpreter matched ``States.TaskFailed`` only to names outside
    ``States.`` and let ``States.ALL`` catch everything."""
    assert _states_error_matches(error_equals, error) is matches


def test_a_retry_on_states_task_failed_does_not_retry_a_task_timeout() -> None:
    """("Error names": ``States.TaskFailed`` excludes ``States.Timeout``.) A task that runs
    past its ``TimeoutSeconds`` fails with ``States.Timeout`` when that time is up: the retrier
    on ``States.TaskFailed`` is skipped and the catcher on ``States.Timeout`` takes it. The
    function here runs its whole 30-s Timeout (virtual time); the task gives up at 10 s."""
    faults = Faults(lambda_timeouts={"ReadHookFunction": Cut(1)})
    with emulated(doc([launch_hook()], steps=[]), faults=faults) as (aws, _):
        function = aws.stack.functions["ReadHookFunction"]
        retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 3}]
        catch = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "C"}]
        task = _invoke(function.arn, TimeoutSeconds=10, Retry=retry, Catch=catch)
        described, events = _run(aws, _machine(aws, {"T": task, "C": CAUGHT}))
        calls = [i for i in aws.runtime.invocations if i.function == "ReadHookFunction"]

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "States.Timeout"
    assert len(calls) == 1, "not retried"
    (timed_out,) = [e for e in events if e["type"] == "TaskTimedOut"]
    assert (timed_out["timestamp"] - events[0]["timestamp"]).total_seconds() == 10


def test_a_retry_on_states_task_failed_retries_a_functions_own_error() -> None:
    """``States.TaskFailed`` matches an error a Lambda function raises (its ``errorType``), as
    in the example of the Step Functions Developer Guide, "Handling errors in Step Functions
    workflows": "matches any error that a Lambda function outputs"."""
    calls: list[Any] = []

    def failing(event: Any) -> Any:
        calls.append(event)
        raise ValueError("not yet")

    with emulated(doc([launch_hook()], steps=[])) as (aws, _):
        function = aws.add_function("failing", failing)
        retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2}]
        catch = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "C"}]
        task = _invoke(function, Retry=retry, Catch=catch)
        described, _ = _run(aws, _machine(aws, {"T": task, "C": CAUGHT}))

    assert json.loads(described["output"])["error"]["Error"] == "ValueError"
    assert len(calls) == 3, "tried, then retried twice"


def test_states_all_does_not_catch_a_states_runtime_error() -> None:
    """("Error names", ``States.Runtime``: "A retry or catch on States.ALL will not catch
    States.Runtime errors".) A Parameters path that is not in the input is a States.Runtime
    error: the execution fails with it although the task retries and catches States.ALL."""
    with emulated(doc([launch_hook()], steps=[])) as (aws, _):
        function = aws.add_function("echo", lambda event: event)
        task = _invoke(
            function,
            Parameters={"FunctionName": function, "Payload": {"x.$": "$.missing"}},
            Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
            Catch=[{"ErrorEquals": ["States.ALL"], "Next": "C"}],
        )
        described, events = _run(aws, _machine(aws, {"T": task, "C": CAUGHT}))

    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert len([e for e in events if e["type"] == "TaskStateEntered"]) == 1
    assert not [e for e in events if e["type"] == "PassStateEntered"]


@pytest.mark.parametrize(
    "catch",
    [
        [{"ErrorEquals": ["States.ALL", "InvalidDocument"], "Next": "C"}],
        [{"ErrorEquals": ["States.ALL"], "Next": "C"}, {"ErrorEquals": ["X"], "Next": "C"}],
    ],
    ids=["not alone", "not last"],
)
def test_states_all_not_alone_or_not_last_is_an_invalid_definition(
    catch: list[dict[str, Any]],
) -> None:
    """("Handling errors in Step Functions workflows": ``States.ALL`` "must appear alone in the
    ErrorEquals array and must appear in the last retrier in the Retry array", and likewise in
    the last catcher.) CreateStateMachine refuses the definition: ``InvalidDefinition``."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    with emulated(doc([launch_hook()], steps=[])) as (aws, _):
        function = aws.add_function("echo", lambda event: event)
        with pytest.raises(ClientError) as refused:
            _machine(aws, {"T": _invoke(function, Catch=catch), "C": CAUGHT})

    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
