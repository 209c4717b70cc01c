"""Replays of handled actions (issue 19, item 3): ``asg-lifecycle resend`` and any other replay of
a stored event start nothing and send nothing.

A replay that can start a workflow at all is one whose token names no execution yet: its event
was lost (EventBridge's dead-letter queue, or StartFunction's after Lambda's retries) and the
reconciler handled the action by instance id. (A replay of an event whose own workflow ran is
refused by Step Functions: ExecutionAlreadyExists, ``duplicate``.) So each test loses the
events, lets the reconciler complete the action, then replays the lost event.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from asg_lifecycle_cli.main import cli
from lifecycle_emulator import play
from lifecycle_emulator.autoscaling import LifecycleActionRecord
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.runtime import Invocation
from tests.flow.stack import doc, emulated, lambda_invoke, launch_hook


def _of_token(invocations: list[Invocation], token: str) -> list[Invocation]:
    """The task invocations of the workflow whose action has ``token``."""
    return [
        i
        for i in invocations
        if isinstance(i.payload, dict)
        and isinstance(i.payload.get("action"), dict)
        and i.payload["action"].get("LifecycleActionToken") == token
    ]


def _calls_with(aws: LocalAws, token: str) -> list[Any]:
    """Every RecordLifecycleActionHeartbeat / CompleteLifecycleAction made with ``token``, refused
    ones too."""
    return [c for c in aws.autoscaling.calls if c.token == token]


def _execution_of(aws: LocalAws, arn: str) -> dict[str, Any]:
    (execution,) = [e for e in aws.executions() if e["arn"] == arn]
    return execution


def _logs(invocations: list[Invocation]) -> str:
    return "\n".join(line for i in invocations for line in i.logs)


@pytest.mark.parametrize(
    ("replayed_at", "why"),
    [
        (500, "is InService, not in a launch wait state"),  # within the hook's 600 s
        (1300, "older than the hook's 600 s timeout"),  # after it: no false ActionsTimedOut
    ],
)
def test_a_replay_of_an_action_already_completed_starts_nothing_and_sends_nothing(
    replayed_at: int, why: str
) -> None:
    """The launch's event is lost; the reconciler's workflow completes the action (CONTINUE, the
    instance in service). The operator's ``resend --from-dlq`` of the stored event sends
    nothing: Auto Scaling no longer holds the action, the message is discarded and no workflow
    starts. The same event sent straight to StartFunction (another replay) starts a workflow
    whose hook read ends it ``not-waiting``, saying why: no check, no heartbeat or completion,
    no ActionsTimedOut."""
    document = doc(
        [launch_hook(heartbeat=600, pollSeconds=30)],
        instances=[{"readyAfter": 30}],
        parameters={"AutoScalingGroupNames": "web"},
    )
    with emulated(document) as (aws, scenario):
        aws.autoscaling.drop_event = lambda event: True
        t0 = play.begin(scenario, aws)
        aws.run(until=t0 + replayed_at)
        (record,) = aws.autoscaling.records
        assert (record.active, record.result) == (False, "CONTINUE")
        assert record.event is not None
        assert record.event_dropped
        calls_before = len(record.calls)
        executions_before = {e["name"] for e in aws.executions()}
        before = len(aws.runtime.invocations)

        sqs = aws.client("sqs")
        url = aws.stack.outputs["DeadLetterQueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record.event))
        resent = CliRunner().invoke(cli, ["--stack", aws.stack.name, "resend", "--from-dlq"])
        aws.run(until=aws.clock.time() + 60)
        executions_after_resend = {e["name"] for e in aws.executions()}
        queued = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", [])

        answer = lambda_invoke(aws, "StartFunction", record.event)
        aws.run(until=aws.clock.time() + 300)
        replayed = _execution_of(aws, answer["executionArn"])
        after = [i for i in aws.runtime.invocations[before:] if i.function != "ReconcileFunction"]
        calls_after = len(record.calls)

    # the operator's resend: nothing sent, nothing started, the message taken care of
    assert resent.exit_code == 0, resent.output
    (row,) = [line for line in resent.output.splitlines() if record.instance_id in line]
    assert "discarded" in row
    assert "no longer holds" in row
    assert executions_after_resend == executions_before
    assert queued == []
    # another replay: a workflow that ends at its first task, saying why
    assert answer["status"] == "started"
    assert replayed["status"] == "SUCCEEDED"
    assert replayed["output"]["outcome"]["status"] == "not-waiting"
    assert why in replayed["output"]["outcome"]["reason"]
    assert {i.function for i in after} == {"StartFunction", "ReadHookFunction"}, "no check"
    assert calls_after == calls_before, "no heartbeat or completion"
    assert '"ActionsTimedOut"' not in _logs(after)
    assert '"ActionsNotWaiting"' in _logs(after)


def _warm_pool_fleet() -> dict[str, Any]:
    """One instance launched into a stopped warm pool at 0 (its event lost: the reconciler
    completes that action), taken into the group by a scale-out at 900: a new action of the same
    launch hook, with a new token, whose event is delivered."""
    document = doc(
        [launch_hook(heartbeat=3600, pollSeconds=30)],
        parameters={"AutoScalingGroupNames": "web"},
        steps=[{"at": 0, "desired": 0}, {"at": 900, "desired": 1}],
        horizon=1800,
    )
    document["group"]["maxSize"] = 1  # the pool: one instance (maxSize less desired)
    document["group"]["warmPool"] = {"MinSize": 1, "PoolState": "Stopped"}
    return document


def _into_pool(event: dict[str, Any]) -> bool:
    return bool(event["detail"].get("Destination") == "WarmPool")


def _two_actions(aws: LocalAws) -> tuple[LifecycleActionRecord, LifecycleActionRecord]:
    first = aws.autoscaling.records[0]
    (second,) = [r for r in aws.autoscaling.records[1:] if r.instance_id == first.instance_id]
    assert (first.active, first.result, first.destination) == (False, "CONTINUE", "WarmPool")
    assert second.active, "the scale-out's action waits (the instance's status checks)"
    assert (second.instance_id, second.hook_name) == (first.instance_id, first.hook_name)
    assert second.token != first.token
    return first, second


def _everything(event: dict[str, Any]) -> bool:
    return True


@pytest.mark.parametrize(
    ("dropped", "new_handled_by"),
    [
        (_into_pool, "its own event's workflow"),
        (_everything, "the reconciler's workflow"),  # no workflow holds the new wait at 920 s
    ],
)
def test_a_replay_while_the_instance_waits_again_on_the_same_hook_runs_nothing(
    dropped: Any, new_handled_by: str
) -> None:
    """The lost event of the launch into the pool (token A, handled by the reconciler) is
    replayed at 920 s, while the same instance waits on the same hook for its launch into the
    group (token B): B's event delivered (its workflow runs), or lost too (no workflow holds B
    yet). Auto Scaling's API lists no tokens, so the hook read cannot tell A from B: the replay
    is 920 s old, so its workflow confirms A with a heartbeat before any check. Auto Scaling
    refuses it ("No active Lifecycle Action found with token", API Reference,
    RecordLifecycleActionHeartbeat), and the workflow ends ``already-finished`` at "Action ended
    elsewhere": no check ran, nothing with A was accepted. B is completed once, by its own
    workflow."""
    with emulated(_warm_pool_fleet()) as (aws, scenario):
        aws.autoscaling.drop_event = dropped
        t0 = play.begin(scenario, aws)
        aws.run(until=t0 + 920)
        old, new = _two_actions(aws)
        assert old.event is not None
        before = len(aws.runtime.invocations)
        answer = lambda_invoke(aws, "StartFunction", old.event)
        report = play.finish(scenario, aws, t0)
        replayed = _execution_of(aws, answer["executionArn"])
        of_old = _of_token(aws.runtime.invocations[before:], old.token)
        with_old = [c for c in _calls_with(aws, old.token) if c.at >= t0 + 920]

    assert answer["status"] == "started"
    assert replayed["output"]["outcome"]["status"] == "already-finished"
    assert {i.function for i in of_old} == {"ReadHookFunction", "HeartbeatFunction"}, "no check"
    assert with_old, "the token was put to Auto Scaling"
    assert {c.operation for c in with_old} == {"RecordLifecycleActionHeartbeat"}
    assert {c.outcome for c in with_old} == {"rejected"}, "nothing accepted with the old token"
    assert all("No active Lifecycle Action found" in str(c.error) for c in with_old)
    assert '"ActionsTimedOut"' not in _logs(of_old)
    (launch_into_group,) = [a for a in report.actions if a.token == new.token]
    assert launch_into_group.result == "CONTINUE"
    assert launch_into_group.completions == 1
    by_reconciler = any("-r2026" in w for w in launch_into_group.workflows)
    assert by_reconciler == (new_handled_by == "the reconciler's workflow")
