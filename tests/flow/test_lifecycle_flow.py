"""Lifecycle actions end to end: event -> rule -> start handler -> the real state machine ->
checks, heartbeats -> CompleteLifecycleAction, on the local emulation with virtual time.

Waits are short because the clock is virtual (a 30-minute deadline takes well under a second),
not because any production value was changed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from moto.autoscaling.exceptions import AutoscalingClientError

from asg_lifecycle.policy import poll_jitter_span, safety_margin
from lifecycle_emulator.play import play
from tests.conftest import load_event
from tests.flow.stack import (
    assert_at_round,
    assert_completed_once_by_the_workflow,
    assert_heartbeats_only_when_needed,
    assert_hook_never_lapsed,
    at,
    doc,
    emulated,
    lambda_invoke,
    launch_hook,
    only,
    put_event,
    terminate_hook,
)


def instance_state(aws: object, instance_id: str) -> str:
    ec2 = aws.client("ec2")  # type: ignore[attr-defined]
    found = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    state: str = found["State"]["Name"]
    return state


# --- outcomes ------------------------------------------------------------------------------------
def test_launch_whose_checks_pass_is_continued_at_the_first_passing_round() -> None:
    with emulated(doc([launch_hook(pollSeconds=30)], instances=[{"readyAfter": 75}])) as (
        aws,
        scenario,
    ):
        report = play(scenario, aws)
        group = aws.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]

    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert_at_round(action.ended_at, 90, waits=3)  # 0, 30, 60 see 'initializing'; 90 passes
    assert_completed_once_by_the_workflow(action)
    assert action.heartbeats == []
    assert action.outcome is not None
    assert action.outcome["reason"] == "all checks passed: instance-status"
    assert [(i["InstanceId"], i["LifecycleState"]) for i in group["Instances"]] == [
        (action.instance_id, "InService")
    ]


def test_launch_that_never_passes_is_abandoned_at_its_deadline_and_replaced() -> None:
    document = doc(
        [launch_hook(heartbeat=300, pollSeconds=30, maxWaitSeconds=600)],
        instances=[{"readyAfter": None}],
    )
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)
        broken = report.actions[0].instance_id
        broken_state = instance_state(aws, broken)

    first, replacement = report.actions
    assert first.result == "ABANDON"
    assert first.ended_at == 600, "gives up at maxWaitSeconds, not at the hook's timeout"
    assert_completed_once_by_the_workflow(first)
    assert first.outcome is not None
    assert first.outcome["reason"].startswith("checks not passed after 600s")
    assert_hook_never_lapsed(first, 300)
    assert len(first.heartbeats) == 2, "600 s of waiting under a 300 s timeout: two heartbeats"
    assert broken_state == "terminated"
    assert replacement.instance_id != broken
    assert replacement.result == "CONTINUE"


def test_terminate_is_continued_once_drained_from_the_target_group() -> None:
    document = doc(
        [terminate_hook(pollSeconds=15)],
        instances=[{"readyAfter": 0, "drainSeconds": 100}],
        steps=[{"at": 0, "desired": 1}, {"at": 600, "desired": 0}],
    )
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)
        state = instance_state(aws, report.actions[0].instance_id)

    action = only(report, "terminate")
    assert action.result == "CONTINUE"
    # AWS ("How lifecycle hooks work"): deregistered at 600 s, the instance drains for its 100 s
    # in Terminating; Terminating:Wait (and the event) come after, so the first round passes.
    assert action.started_at == 600 + 100
    assert action.duration is not None
    assert action.duration <= poll_jitter_span(15)
    assert_completed_once_by_the_workflow(action)
    assert action.outcome is not None
    assert action.outcome["reason"] == "all checks passed: target-group-drain"
    assert state == "terminated"


@pytest.mark.parametrize(
    ("poll", "ready"),
    [
        pytest.param(20, 400, id="poll-shorter-than-timeout"),
        # The schedule comes from the hook's real HeartbeatTimeout, whatever the poll interval.
        pytest.param(600, 900, id="poll-longer-than-timeout"),
    ],
)
def test_check_outlasting_heartbeat_timeout_keeps_the_hook_alive_then_completes(
    poll: int, ready: int
) -> None:
    document = doc([launch_hook(heartbeat=60, pollSeconds=poll)], instances=[{"readyAfter": ready}])
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)

    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert action.ended_at is not None
    # A round comes a poll after the last, or right after the heartbeat when the next round
    # would not end a margin before the heartbeat is due: up to poll + margin apart.
    assert ready <= action.ended_at <= ready + min(poll, 60) + safety_margin(60) + 2
    assert_completed_once_by_the_workflow(action)
    assert_hook_never_lapsed(action, 60)
    assert_heartbeats_only_when_needed(action, 60)
    assert len(action.heartbeats) >= ready // 60, "one per timeout at least, or the hook lapses"
    assert action.outcome is not None
    assert action.outcome["heartbeats"] == len(action.heartbeats)


def test_workflow_completes_before_the_global_timeout() -> None:
    """min(100 x HeartbeatTimeout, 48 h) = 3000 s here: no heartbeat tries to go past it."""
    document = doc(
        [launch_hook(heartbeat=30, pollSeconds=60, maxWaitSeconds=172800)],
        instances=[{"readyAfter": None}],
        steps=[{"at": 0, "desired": 1}],
        horizon=4000,
    )
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)

    first = report.actions[0]
    assert first.result == "ABANDON"
    assert first.ended_at is not None
    assert first.ended_at < 3000
    assert_completed_once_by_the_workflow(first)
    assert_hook_never_lapsed(first, 30)
    assert first.calls_after_end == 0


# --- events ---------------------------------------------------------------------------------------
def test_duplicate_delivery_starts_no_second_workflow() -> None:
    document = doc([launch_hook(pollSeconds=30)], instances=[{"readyAfter": 120}])
    answers: list[dict[str, object]] = []
    with emulated(document) as (aws, scenario):

        def redeliver() -> None:
            (record,) = aws.autoscaling.records
            assert record.event is not None
            put_event(aws, copy.deepcopy(record.event))  # EventBridge delivers it again
            answers.append(lambda_invoke(aws, "StartFunction", record.event))  # and a retry

        aws.clock.call_at(at(45), redeliver)
        report = play(scenario, aws)
        executions = aws.executions()
        starts = [i for i in aws.runtime.invocations if i.function == "StartFunction"]

    assert len(executions) == 1
    assert len(starts) == 3, "the original, the EventBridge duplicate and the direct retry"
    assert all(s.error is None for s in starts), "a duplicate is not an error"
    # Step Functions answers a same-name, same-input StartExecution of a running execution with
    # that execution: every delivery points at the one workflow.
    assert {s.result["executionArn"] for s in starts if s.result} == {executions[0]["arn"]}
    assert answers, "the redelivery ran"
    action = only(report, "launch")
    assert_completed_once_by_the_workflow(action)


def test_duplicate_after_the_workflow_finished_is_still_a_no_op() -> None:
    with emulated(doc([launch_hook()])) as (aws, scenario):
        report = play(scenario, aws)
        event = aws.autoscaling.records[0].event
        answer = lambda_invoke(aws, "StartFunction", event)
        executions = aws.executions()

    assert answer["status"] == "duplicate"
    assert len(executions) == 1
    assert only(report, "launch").completions == 1


def deliver_sample_twice(name: str) -> tuple[dict[str, Any], list[Any], list[Any], list[Any]]:
    """``events/<name>`` through the rule, then by a direct invoke of the start function.

    Returns the direct answer, the start function's invocations, the executions and the
    dead letters."""
    with emulated(doc([launch_hook()], steps=[{"at": 0, "desired": 0}])) as (aws, scenario):
        play(scenario, aws)
        put_event(aws, load_event(name))
        aws.run()
        direct = lambda_invoke(aws, "StartFunction", load_event(name))
        starts = [i for i in aws.runtime.invocations if i.function == "StartFunction"]
        return direct, starts, aws.executions(), list(aws.runtime.dead_letters)


def test_test_notification_starts_no_workflow() -> None:
    direct, starts, executions, _ = deliver_sample_twice("test-notification.json")

    assert executions == []
    assert len(starts) == 2, "the rule routes it to the start handler, which ignores it"
    assert all(s.error is None for s in starts)
    assert direct == {"status": "ignored", "reason": "Auto Scaling test notification"}


def test_malformed_event_is_rejected_clearly_and_starts_nothing() -> None:
    direct, starts, executions, dead_letters = deliver_sample_twice("malformed.json")

    assert executions == []
    assert direct["status"] == "rejected"
    assert direct["reason"] == "EC2InstanceId is missing or not a string"
    assert len(starts) == 2, "rejected once per delivery: retrying can't fix it"
    assert all(s.error is None for s in starts)
    assert dead_letters == []


# --- actions that end elsewhere ------------------------------------------------------------------
def test_action_completed_elsewhere_ends_the_workflow_cleanly() -> None:
    document = doc([launch_hook(heartbeat=120, pollSeconds=30)], instances=[{"readyAfter": None}])
    with emulated(document) as (aws, scenario):

        def operator_completes() -> None:
            (record,) = aws.autoscaling.actions(active=True)
            aws.client("autoscaling").complete_lifecycle_action(
                AutoScalingGroupName=record.group_name,
                LifecycleHookName=record.hook_name,
                InstanceId=record.instance_id,
                LifecycleActionResult="CONTINUE",
            )

        aws.clock.call_at(at(50), operator_completes)
        report = play(scenario, aws)

    action = report.actions[0]
    assert action.result == "CONTINUE", "the operator's answer stands"
    assert action.completions == 1
    assert action.execution_status == "SUCCEEDED", "not a failure alarm"
    assert action.outcome is not None
    assert action.outcome["status"] == "already-finished"
    assert action.outcome["result"] is None
    rejected = [c for c in aws.autoscaling.calls if c.outcome != "accepted"]
    assert [c.operation for c in rejected] == ["RecordLifecycleActionHeartbeat"]


def test_hook_deleted_before_the_workflow_reads_it() -> None:
    with emulated(doc([launch_hook()])) as (aws, scenario):
        aws.autoscaling.delivery_delay = 5  # the event is still on its way ...

        def delete_hook() -> None:  # ... when the hook is deleted (Auto Scaling ABANDONs)
            aws.client("autoscaling").delete_lifecycle_hook(
                AutoScalingGroupName="web", LifecycleHookName="web-launch"
            )

        aws.clock.call_at(at(2), delete_hook)
        report = play(scenario, aws)

    action = report.actions[0]
    assert action.end_reason == "hook-deleted"
    assert action.result == "ABANDON"
    assert action.execution_status == "SUCCEEDED"
    assert action.outcome is not None
    assert action.outcome["status"] == "hook-deleted"
    assert action.completions == 0
    assert [a.end_reason for a in report.actions[1:]] == [None] * (len(report.actions) - 1)


# --- configuration -------------------------------------------------------------------------------
def test_invalid_hook_configuration_gets_the_safe_result_without_churn() -> None:
    """No checks are guessed; ABANDON is sent just before the hook's first timeout, so a
    typo on a launch hook costs one instance per HeartbeatTimeout, not a launch storm."""
    document = doc([launch_hook(heartbeat=120, pollSeconds=1)], horizon=150)
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)
        rounds = [i for i in aws.runtime.invocations if i.function == "CheckFunction"]

    first, replacement = report.actions
    assert first.result == "ABANDON", "the safe result for a launch"
    assert first.ended_at == 95, "HeartbeatTimeout 120 s less the 25 s safety margin (its floor)"
    assert_completed_once_by_the_workflow(first)
    assert first.outcome is not None
    assert "pollSeconds" in first.outcome["configError"]
    assert first.outcome["reason"].startswith("invalid configuration")
    assert rounds == [], "no checks run on a configuration that cannot be read"
    assert replacement.started_at == 95
    assert replacement.ended_at is None, "the replacement waits its own 95 s (past the horizon)"


def test_invalid_hook_configuration_on_terminate_lets_the_instance_go() -> None:
    document = doc(
        [terminate_hook(heartbeat=300, default="CONTINUE", onTimeout="MAYBE")],
        steps=[{"at": 0, "desired": 1}, {"at": 600, "desired": 0}],
    )
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)

    action = only(report, "terminate")
    assert action.result == "CONTINUE"
    assert action.duration == 270
    assert_completed_once_by_the_workflow(action)
    assert action.outcome is not None
    assert "onTimeout" in action.outcome["configError"]


def test_plain_text_metadata_is_not_configuration() -> None:
    hook = launch_hook()
    hook["metadata"] = "owner=team-web"
    with emulated(doc([hook], instances=[{"readyAfter": 30}])) as (aws, scenario):
        report = play(scenario, aws)

    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert_at_round(action.ended_at, 30, waits=1)  # the stack's default poll interval applies
    assert action.outcome is not None
    assert "configError" not in action.outcome


# --- errors --------------------------------------------------------------------------------------
class AccessDenied(AutoscalingClientError):
    code = "AccessDenied"
    message = "User is not authorized to perform: autoscaling:RecordLifecycleActionHeartbeat"


class Throttling(AutoscalingClientError):
    code = "Throttling"
    message = "Rate exceeded"


def test_heartbeat_that_keeps_failing_is_retried_until_the_hook_expires_then_recorded() -> None:
    """Step Functions retries the heartbeat alone (never the checks), with backoff: a burst of
    throttling must not ABANDON a healthy launch. A heartbeat that never succeeds (here: denied)
    lets the hook expire; the next try then sends nothing and records the action as timed out
    with the hook's DefaultResult, which Auto Scaling applied."""
    document = doc(
        [launch_hook(heartbeat=300, pollSeconds=60)],
        instances=[{"readyAfter": None}],
        horizon=420,  # every replacement meets the same denial: stop after the first
    )
    with emulated(document, "denied") as (aws, scenario):

        def deny(operation: str, params: dict[str, object]) -> None:
            if operation == "RecordLifecycleActionHeartbeat":
                raise AccessDenied

        aws.autoscaling.before_call = deny
        report = play(scenario, aws)
        heartbeat_invocations = [
            i
            for i in aws.runtime.invocations
            if any(c.endswith(".RecordLifecycleActionHeartbeat") for c in i.api_calls)
        ]

    first = report.actions[0]
    assert first.end_reason == "heartbeat-timeout"
    assert first.result == "ABANDON", "the hook's DefaultResult"
    assert first.completions == 0
    assert first.calls_after_end == 0, "nothing is sent once the hook has expired"
    assert first.outcome is not None
    assert first.outcome["status"] == "timed-out"
    assert first.outcome["result"] == "ABANDON"
    attempts = [
        i
        for i in aws.runtime.invocations
        if i.function == "HeartbeatFunction"
        and i.payload["action"]["EC2InstanceId"] == first.instance_id
    ]
    sent = [a for a in attempts if a.error is not None]
    assert len(sent) >= 3, "tried again, with backoff"
    assert all(a.at.timestamp() < at(300) for a in sent)
    assert sent == heartbeat_invocations[: len(sent)]
    (last,) = [a for a in attempts if a.error is None]
    assert last.at.timestamp() >= at(300), "the try after the expiry sent nothing"
    assert last.api_calls == []
    rounds = [
        i
        for i in aws.runtime.invocations
        if i.function == "CheckFunction"
        and i.payload["action"]["EC2InstanceId"] == first.instance_id
    ]
    assert all(r.at <= sent[0].at for r in rounds), "no round of checks while it is retried"


def test_throttled_completion_is_retried_and_completes_once() -> None:
    with emulated(doc([launch_hook()])) as (aws, scenario):
        throttled: list[str] = []

        def throttle_once(operation: str, params: dict[str, object]) -> None:
            if operation == "CompleteLifecycleAction" and not throttled:
                throttled.append(operation)
                raise Throttling

        aws.autoscaling.before_call = throttle_once
        report = play(scenario, aws)

    action = only(report, "launch")
    assert throttled == ["CompleteLifecycleAction"]
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
