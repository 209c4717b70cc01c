"""The error rules of issue 17, each through the real definition on the emulator:

a. transient errors never end an action with the safe result while the hook has time;
b. "No active Lifecycle Action found" ends an action only once Auto Scaling confirms the instance
   no longer waits, or the answer repeats over 30 s;
c. an action is verified against Auto Scaling's own view before any check or call;
d. a lost event's workflow sends nothing before it has confirmed the action is its own;
and heartbeats within one of the minimum over a long wait.
"""

from __future__ import annotations

import copy
import math
import uuid
from typing import Any

import pytest

from asg_lifecycle.policy import minimum_heartbeats
from lifecycle_emulator.faults import Faults, Outage
from lifecycle_emulator.play import play
from tests.flow.stack import (
    assert_completed_once_by_the_workflow,
    assert_hook_never_lapsed,
    at,
    doc,
    emulated,
    lambda_invoke,
    launch_hook,
    only,
)

LIFECYCLE_CALLS = ("RecordLifecycleActionHeartbeat", "CompleteLifecycleAction")


def _calls(aws: Any, name: str) -> list[str]:
    """Every AWS call the stack's functions made whose operation is ``name``."""
    return [c for i in aws.runtime.invocations for c in i.api_calls if c.endswith("." + name)]


# --- a. transient errors ------------------------------------------------------------------------


@pytest.mark.parametrize("until", [130, 300, 480])
@pytest.mark.parametrize("mode", ["named", "tag"])
def test_an_auto_scaling_outage_at_launch_waits_and_continues_once_ready(
    until: int, mode: str
) -> None:
    """Every Auto Scaling call the functions make fails (HTTP 503) from 0 s to ``until``: the
    start function (tag mode: it cannot read the serving tag), the hook read, everything. The
    workflow keeps trying (Step Functions' Retry), reads the hook once Auto Scaling answers, and
    CONTINUEs the instance, ready since 60 s, well within its 600 s HeartbeatTimeout: no ABANDON."""
    parameters = {"AutoScalingGroupNames": "web"} if mode == "named" else {}
    document = doc(
        [launch_hook(heartbeat=600, pollSeconds=30, maxWaitSeconds=1800)],
        instances=[{"readyAfter": 60}],
        parameters=parameters,
        horizon=1200,
    )
    faults = Faults(outage=Outage("autoscaling", at(0), at(until)))
    with emulated(document, faults=faults) as (aws, scenario):
        report = play(scenario, aws)

    assert faults.outage_errors > 0, "the outage really met the functions"
    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    assert action.ended_at is not None
    assert until <= action.ended_at < 600, "after the outage, before the hook's timeout"
    assert [a.result for a in report.actions] == ["CONTINUE"], "nothing ABANDONed or replaced"


def test_an_outage_longer_than_the_hook_ends_timed_out_counted_with_nothing_sent() -> None:
    """Auto Scaling fails every call for 700 s, longer than the 600 s hook: Auto Scaling applies
    the hook's DefaultResult (ABANDON) at 600 s. The workflow, reading the hook at last, records
    the action as timed-out (ActionsTimedOut, alarmed) and sends nothing; the replacement
    instance, launched at 600 s, waits out the rest of the outage and is CONTINUEd."""
    document = doc(
        [launch_hook(heartbeat=600, pollSeconds=30, maxWaitSeconds=1800)],
        instances=[{"readyAfter": 60}],
        parameters={"AutoScalingGroupNames": "web"},
        horizon=1500,
    )
    faults = Faults(outage=Outage("autoscaling", at(0), at(700)))
    with emulated(document, faults=faults) as (aws, scenario):
        report = play(scenario, aws)
        logs = [line for i in aws.runtime.invocations for line in i.logs]

    first, replacement = report.actions
    assert (first.end_reason, first.result) == ("heartbeat-timeout", "ABANDON")
    assert first.completions == 0
    assert first.calls_after_end == 0, "nothing sent after the hook expired"
    assert first.outcome is not None
    assert first.outcome["status"] == "timed-out"
    assert any('"ActionsTimedOut"' in line for line in logs), "counted for the alarm"
    assert replacement.result == "CONTINUE"
    assert_completed_once_by_the_workflow(replacement)


# --- b. "No active Lifecycle Action found" ---------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "ready"),
    [
        ("CompleteLifecycleAction", 60),
        ("RecordLifecycleActionHeartbeat", 400),  # ready after the first heartbeat (at ~270 s)
    ],
)
def test_a_stale_no_active_action_answer_is_tried_again_and_the_decided_result_sent(
    operation: str, ready: int
) -> None:
    """Auto Scaling answers the first call with "No active Lifecycle Action found" while the
    action is active (PrairieLearn/PrairieLearn PR #15586): the instance still waits in
    Pending:Wait, so the same call is made again 10 s later, and the action is completed with
    the decided result, once."""
    document = doc([launch_hook(heartbeat=300, pollSeconds=30)], instances=[{"readyAfter": ready}])
    faults = Faults(stale_not_found={operation: 1})
    with emulated(document, faults=faults) as (aws, scenario):
        report = play(scenario, aws)
        tries = [c for c in aws.autoscaling.calls if c.operation == operation]

    assert faults.stale_answers == [operation]
    action = only(report, "launch")
    assert action.result == "CONTINUE", "the decided result, not the hook's DefaultResult"
    assert_completed_once_by_the_workflow(action)
    assert_hook_never_lapsed(action, 300)
    stale, retried = tries[0], tries[1]
    assert stale.outcome == "rejected"
    assert stale.error is not None
    assert "No active Lifecycle Action found" in stale.error
    assert retried.outcome == "accepted"
    assert 10 <= retried.at - stale.at <= 12, "the same call again, 10 s later"


def test_no_active_action_that_repeats_for_30_s_ends_the_workflow_as_already_finished() -> None:
    """Two launch hooks hold the instance; an operator completes this workflow's action by
    token: the instance still waits (for the other hook), so the answer is not confirmed by
    DescribeAutoScalingInstances; it repeats for 30 s and the workflow then ends, sending
    nothing more."""
    other = {**launch_hook(heartbeat=900), "name": "web-other"}
    document = doc(
        [launch_hook(heartbeat=300, pollSeconds=30), other],
        instances=[{"readyAfter": None}],
        horizon=900,
    )
    with emulated(document) as (aws, scenario):

        def operator_completes() -> None:
            (record,) = aws.autoscaling.actions(hook_name="web-launch", active=True)
            aws.client("autoscaling").complete_lifecycle_action(
                AutoScalingGroupName="web",
                LifecycleHookName="web-launch",
                LifecycleActionToken=record.token,
                LifecycleActionResult="CONTINUE",
            )

        aws.clock.call_at(at(100), operator_completes)
        report = play(scenario, aws)
        executions = {e["name"]: e for e in aws.executions()}

    ours = next(a for a in report.actions if a.hook == "web-launch")
    assert ours.completions == 1, "the operator's only"
    (execution,) = [e for n, e in executions.items() if n.endswith(ours.token)]
    assert execution["status"] == "SUCCEEDED"
    outcome = execution["output"]["outcome"]
    assert outcome["status"] == "already-finished"
    assert "30 s" in outcome["reason"]
    rejected = [
        c for c in aws.autoscaling.calls if c.token == ours.token and c.outcome != "accepted"
    ]
    assert len(rejected) == 4, "the heartbeat and its three tries again, 10 s apart"
    assert rejected[-1].at - rejected[0].at >= 30


# --- c. an action Auto Scaling does not hold ----------------------------------------------------

CHECKS = [
    {"name": "ssm-command", "params": {"commands": ["true"]}},
    {"name": "target-group-health"},
]


def _forged(aws: Any, instance_id: str) -> dict[str, Any]:
    """The group's launch event, re-addressed to ``instance_id`` with a fresh token and the
    current time (a direct invocation; a replayed old event is refused for its age alone)."""
    record = aws.autoscaling.records[0]
    event = copy.deepcopy(record.event)
    event["detail"]["EC2InstanceId"] = instance_id
    event["detail"]["LifecycleActionToken"] = str(uuid.UUID(int=7))
    event["time"] = aws.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return dict(event)


@pytest.mark.parametrize(
    ("whose", "why"),
    [
        ("in no group", "is in no Auto Scaling group"),
        ("in service", "is InService, not in a launch wait state"),
    ],
)
def test_an_event_for_an_instance_auto_scaling_does_not_hold_runs_nothing(
    whose: str, why: str
) -> None:
    """The hook's checks would send a command and register targets: for an event naming an
    instance in no group, or an instance of the group already InService, the workflow ends
    not-waiting before any of it, with no heartbeat or completion. (An instance in no group may
    be one not listed yet, right after its event: it is read again for 30 s first.)"""
    document = doc(
        [launch_hook(checks=CHECKS)],
        instances=[{"readyAfter": 0, "command": {"seconds": 5, "exitCode": 0}}],
        parameters={"AutoScalingGroupNames": "web", "SsmCommandDocuments": "AWS-RunShellScript"},
        horizon=600,
    )
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)  # the group's own instance launches and goes in service
        assert [a.result for a in report.actions] == ["CONTINUE"]
        stranger = aws.client("ec2").run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)[
            "Instances"
        ][0]["InstanceId"]
        target = stranger if whose == "in no group" else report.actions[0].instance_id
        before = len(aws.runtime.invocations)
        answer = lambda_invoke(aws, "StartFunction", _forged(aws, target))
        aws.run()
        after = aws.runtime.invocations[before:]
        (execution,) = [e for e in aws.executions() if e["arn"] == answer["executionArn"]]

    assert answer["status"] == "started"
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"]["outcome"]["status"] == "not-waiting"
    assert why in execution["output"]["outcome"]["reason"]
    made = {c.rsplit(".", 1)[-1] for i in after for c in i.api_calls}
    assert not made & {"SendCommand", "RegisterTargets", *LIFECYCLE_CALLS}, made
    functions = {i.function for i in after}
    assert functions == {"StartFunction", "ReadHookFunction"}, "no check, heartbeat, completion"
    reads = [i for i in after if i.function == "ReadHookFunction"]
    assert len(reads) == (4 if whose == "in no group" else 1), "read again for 30 s, then believed"


# --- d. a lost event's workflow -------------------------------------------------------------


def test_a_lost_events_workflow_whose_first_tasks_fail_sends_nothing() -> None:
    """Every event is lost. The first reconcile run (at 5 min 37 s) starts a workflow; Auto
    Scaling then fails every call for 7 minutes. That workflow tries a few times, then stops
    (ActionNotConfirmed) without a heartbeat or completion: it never confirmed the action was
    its own. A later reconcile run starts another, which completes the action."""
    first_run = 300 + 37
    document = doc([launch_hook(heartbeat=1800, pollSeconds=30)], instances=[{"readyAfter": 60}])
    outage = Outage("autoscaling", at(first_run + 1), at(first_run + 1 + 420))
    faults = Faults(drop_events=1.0, outage=outage)
    with emulated(document, faults=faults) as (aws, scenario):
        report = play(scenario, aws)
        executions = sorted(aws.executions(), key=lambda e: e["name"])
        by_name = {e["name"]: e for e in executions}
        invocations = list(aws.runtime.invocations)

    action = only(report, "launch")
    assert len(executions) == 2
    failed, later = executions
    assert failed["status"] == "FAILED"
    assert failed["error"] == "ActionNotConfirmed"
    sent_by_failed = [
        c
        for i in invocations
        if i.function in ("HeartbeatFunction", "CompleteFunction")
        and i.payload["action"].get("StartedAt") == failed["input"]["action"]["StartedAt"]
        for c in i.api_calls
    ]
    assert sent_by_failed == [], "no heartbeat or completion from the unconfirmed workflow"
    assert later["status"] == "SUCCEEDED"
    assert by_name[later["name"]]["output"]["outcome"]["status"] == "completed"
    assert action.result == "CONTINUE"
    assert action.completions == 1


# --- heartbeats over a long wait ---------------------------------------------------------------


def test_a_six_hour_wait_heartbeats_within_one_of_the_minimum() -> None:
    """HeartbeatTimeout 300 s, ready after 6 hours: ceil((W - H) / (H - m)) heartbeats at least
    keep the hook alive with its 30 s margin; the workflow sends at most one more (the jitter
    shifts the first heartbeat, once)."""
    hours = 6 * 3600
    document = doc(
        [launch_hook(heartbeat=300, pollSeconds=30, maxWaitSeconds=7 * 3600)],
        instances=[{"readyAfter": hours}],
        horizon=8 * 3600,
    )
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)

    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    assert_hook_never_lapsed(action, 300)
    assert action.duration is not None
    minimum = minimum_heartbeats(300, action.duration)
    assert minimum == math.ceil((action.duration - 300) / 270)
    assert minimum <= len(action.heartbeats) <= minimum + 1, (len(action.heartbeats), minimum)
