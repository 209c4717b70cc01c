"""Hardening on the whole stack: lost events, groups not served, retries inside and outside the
functions, checks that cannot run."""

from __future__ import annotations

import math
from typing import Any

import pytest
from moto.autoscaling.exceptions import ResourceContentionError

from asg_lifecycle.policy import RETRY_SPAN_SECONDS, safety_margin
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


def test_a_completion_that_fails_past_botocores_retries_is_retried_alone() -> None:
    """Auto Scaling answers ResourceContention to the decided CONTINUE six times (more than
    botocore's five attempts): the completion's task fails and Step Functions tries that task
    again, seconds later, with the same CONTINUE; the checks do not run again."""
    with emulated(doc([launch_hook()], instances=[{"readyAfter": 30}])) as (aws, scenario):
        contended: list[float] = []

        def contend(operation: str, params: dict[str, object]) -> None:
            if operation == "CompleteLifecycleAction" and len(contended) < 6:
                contended.append(aws.clock.now().timestamp())
                raise ResourceContentionError

        aws.autoscaling.before_call = contend
        report = play(scenario, aws)
        completes = [i for i in aws.runtime.invocations if i.function == "CompleteFunction"]
        rounds = [i for i in aws.runtime.invocations if i.function == "CheckFunction"]

    action = only(report, "launch")
    assert len(contended) == 6
    assert action.result == "CONTINUE", "the decided result, not the safe one"
    assert_completed_once_by_the_workflow(action)
    failed, sent = completes
    assert failed.error == "ResourceContentionFault"  # botocore names the modelled error
    assert sent.error is None
    assert sent.payload == failed.payload, "the same call again"
    assert 0 < (sent.at - failed.at).total_seconds() <= 5
    assert rounds[-1].at <= failed.at, "no round of checks after the decision"


def test_checks_that_cannot_run_keep_the_hook_alive_until_they_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The checks' function fails (here: raises) on every try from 30 s to 700 s, longer than
    the 300 s hook: Step Functions keeps trying the round; a late try that leaves the hook too
    little time for another heartbeats first instead of running the checks; once they run again,
    the ready instance is CONTINUEd. A transient failure never ends the action with the safe
    result."""
    import handlers.run_checks  # noqa: PLC0415

    real = handlers.run_checks.run_round
    failures: list[float] = []
    document = doc([launch_hook(heartbeat=300, pollSeconds=30)], instances=[{"readyAfter": 20}])
    with emulated(document) as (aws, scenario):

        def broken_for_a_while(*args: Any, **kwargs: Any) -> Any:
            now = aws.clock.time() - T0.timestamp()
            if 30 <= now < 700:
                failures.append(now)
                raise RuntimeError("checks cannot run")
            return real(*args, **kwargs)

        monkeypatch.setattr(handlers.run_checks, "run_round", broken_for_a_while)
        report = play(scenario, aws)

    action = only(report, "launch")
    assert len(failures) > 10, "tried again and again"
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    assert_hook_never_lapsed(action, 300)
    assert action.ended_at is not None
    assert 700 <= action.ended_at <= 760
    # while the checks fail, a heartbeat whenever the hook has under RETRY_SPAN + margin left
    usable_while_failing = 300 - RETRY_SPAN_SECONDS - safety_margin(300)
    assert 2 <= len(action.heartbeats) <= math.ceil(700 / usable_while_failing) + 1


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
