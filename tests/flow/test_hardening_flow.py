"""Hardening on the whole stack: lost events, groups not served, retries inside and outside the
functions, checks that cannot run."""

from __future__ import annotations

from typing import Any

import pytest
from moto.autoscaling.exceptions import ResourceContentionError

from asg_lifecycle.reconcile import SETTLE_SECONDS
from lifecycle_emulator.play import T0, play
from tests.conftest import load_event
from tests.flow.stack import (
    assert_completed_once_by_the_workflow,
    assert_hook_never_lapsed,
    doc,
    emulated,
    lambda_invoke,
    launch_hook,
    only,
)

RECONCILE_PERIOD = 300  # ReconcileMinutes' default


def test_a_lost_event_is_picked_up_by_the_reconciler_within_one_period() -> None:
    document = doc([launch_hook(heartbeat=600, pollSeconds=30)], instances=[{"readyAfter": 60}])
    with emulated(document) as (aws, scenario):
        aws.autoscaling.drop_event = lambda event: True  # every event is lost
        report = play(scenario, aws)
        reconciles = [i for i in aws.runtime.invocations if i.function == "ReconcileFunction"]

    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    (workflow,) = action.workflows
    assert workflow.endswith("-r202601010005"), "started by the first run (5 min 37 s)"
    assert action.ended_at is not None
    first_run = RECONCILE_PERIOD + 37  # the emulator's schedule offset
    # The run, the settle (plus up to half of it in jitter), the first round passes at once.
    assert action.ended_at <= first_run + SETTLE_SECONDS * 3 // 2
    assert reconciles[0].result["started"], "the first run found the orphan"
    assert_hook_never_lapsed(action, 600)


@pytest.mark.parametrize(
    ("parameters", "group"),
    [
        ({}, "untagged"),  # tag mode: a group without asg-lifecycle-orchestrator=enabled
        ({"AutoScalingGroupNames": "web"}, "api"),  # named groups: another group
    ],
)
def test_events_of_groups_not_served_start_nothing(parameters: dict[str, str], group: str) -> None:
    event = load_event("launch.json")
    event["detail"]["AutoScalingGroupName"] = group
    with emulated({**doc([launch_hook()], steps=[]), "parameters": parameters}) as (aws, _):
        answer = lambda_invoke(aws, "StartFunction", event)
        executions = aws.executions()
    assert answer["status"] == "ignored"
    assert group in answer["reason"]
    assert executions == []


def test_resource_contention_is_retried_inside_the_function() -> None:
    """botocore's standard mode retries ResourceContention (HTTP 500) before the task fails."""
    with emulated(doc([launch_hook()], instances=[{"readyAfter": 30}])) as (aws, scenario):
        contended: list[str] = []

        def contend_twice(operation: str, params: dict[str, object]) -> None:
            if operation == "CompleteLifecycleAction" and len(contended) < 2:
                contended.append(operation)
                raise ResourceContentionError

        aws.autoscaling.before_call = contend_twice
        report = play(scenario, aws)
        completes = [
            i
            for i in aws.runtime.invocations
            if any(c.endswith(".CompleteLifecycleAction") for c in i.api_calls)
        ]

    action = only(report, "launch")
    assert contended == ["CompleteLifecycleAction"] * 2
    assert len(completes) == 1, "retried by botocore, not by Step Functions"
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)


def test_a_completion_that_fails_past_botocores_retries_is_sent_by_the_next_task() -> None:
    """Auto Scaling answers ResourceContention to the decided CONTINUE six times (more than
    botocore's five attempts): the task returns the round instead of failing, and the next task,
    seconds later, sends the same CONTINUE without running the checks again."""
    with emulated(doc([launch_hook()], instances=[{"readyAfter": 30}])) as (aws, scenario):
        contended: list[float] = []

        def contend(operation: str, params: dict[str, object]) -> None:
            if operation == "CompleteLifecycleAction" and len(contended) < 6:
                contended.append(aws.clock.now().timestamp())
                raise ResourceContentionError

        aws.autoscaling.before_call = contend
        report = play(scenario, aws)
        tasks = [i for i in aws.runtime.invocations if i.function == "AdvanceFunction"]

    action = only(report, "launch")
    assert len(contended) == 6
    assert action.result == "CONTINUE", "the decided result, not the safe one"
    assert_completed_once_by_the_workflow(action)
    (failed,) = [t for t in tasks if "failed" in t.result["decision"]]
    retried = tasks[tasks.index(failed) + 1]
    assert failed.result["ran"] == ["checks"]
    assert "ResourceContention" in failed.result["decision"]["failed"]
    assert retried.result["ran"] == ["complete"], "no second round of checks"
    assert 1 <= (retried.at - failed.at).total_seconds() <= 5
    assert all(t.error is None for t in tasks), "no task failed: nothing for the Errors alarm"


def test_checks_that_cannot_run_are_followed_by_a_heartbeat_and_run_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A round of checks fails (here: raises) past Step Functions' retries: the workflow keeps
    the hook alive with a heartbeat and runs the checks again a poll later, instead of
    ABANDONing a healthy instance. (Checks that fail in the first task, right after the hook was
    read, are retried with the hook's read: nothing to keep alive yet.)"""
    import handlers.steps  # noqa: PLC0415

    real = handlers.steps.run_round
    calls: list[int] = []

    def broken_at_first(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if 2 <= len(calls) <= 5:  # the second round: its attempt and the task's three retries
            raise RuntimeError("checks cannot run")
        return real(*args, **kwargs)

    monkeypatch.setattr(handlers.steps, "run_round", broken_at_first)
    document = doc([launch_hook(heartbeat=300, pollSeconds=30)], instances=[{"readyAfter": 20}])
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)

    assert len(calls) == 6, "round 1 (not ready), round 2 failing 4 times, round 3 (ready)"
    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    assert len(action.heartbeats) == 1, "one heartbeat after the checks failed to run"
    assert action.outcome is not None
    assert "error" not in action.outcome, "recovered: the error is not the action's ending"


def test_an_auto_scaling_outage_at_heartbeat_time_is_ridden_out() -> None:
    """Auto Scaling answers ResourceContention (HTTP 500) to every heartbeat for 40 s from the
    first one: botocore's retries, the task's and the workflow's later attempts (at least 40 s of
    them) carry the heartbeat past the outage, within the 120 s safety margin of a 1200 s hook;
    the launch is not ABANDONed."""
    document = doc([launch_hook(heartbeat=1200, pollSeconds=30)], instances=[{"readyAfter": 1300}])
    failed: list[float] = []
    with emulated(document) as (aws, scenario):

        def outage(operation: str, params: dict[str, object]) -> None:
            if operation == "RecordLifecycleActionHeartbeat":
                now = aws.clock.time()
                if not failed or now < failed[0] + 40:
                    failed.append(now)
                    raise ResourceContentionError

        aws.autoscaling.before_call = outage
        report = play(scenario, aws)

    action = only(report, "launch")
    assert len(failed) > 5, "botocore, the task and the workflow all tried again"
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    assert_hook_never_lapsed(action, 1200)
    (heartbeat,) = action.heartbeats
    assert failed[0] + 40 <= heartbeat + T0.timestamp() < failed[0] + 120
