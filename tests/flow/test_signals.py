"""Signals (issue 20) through the real definition on the emulator: a signal ends a waiting
round's wait, so the checks run at once; it changes nothing else.

The instance's own "Run checks now" (its user data), and the AWS events the stack's rules route to
SignalFunction (EC2 tag, Parameter Store, Run Command and ECS container instance changes), each as
the emulator's AWS sends it (lifecycle_emulator/service_events.py names the AWS pages).
Launch hooks: HeartbeatTimeout 300 s, a round every 30 s (checks_flow's ``launch``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from asg_lifecycle.policy import poll_jitter_span
from asg_lifecycle.signals import instance as instance_signal
from lifecycle_emulator.local_aws import ACCOUNT, REGION, LocalAws
from lifecycle_emulator.play import ActionReport, play
from lifecycle_emulator.runtime import Invocation
from tests.flow.stack import (
    assert_completed_once_by_the_workflow,
    assert_hook_never_lapsed,
    at,
    emulated,
)
from tests.flow.test_checks_flow import (
    PARAM_CHECK,
    TAG_CHECK,
    first,
    instance,
    later,
    launch,
    parameter,
    register_container_instance,
    tag,
)

READY = 120  # when the instance is ready (its status checks pass)
POLL_SLACK = 30 + poll_jitter_span(30)


def _signal(instance_id: Callable[[LocalAws], str]) -> Callable[[LocalAws], None]:
    """An operator's or the instance's ``Run checks now`` for ``instance_id(aws)``."""

    def send(aws: LocalAws) -> None:
        entry = instance_signal.event_entry(instance_id(aws))
        aws.service_events.put_events(entry, ACCOUNT, REGION)

    return send


def _rounds(aws: LocalAws, instance_id: str) -> list[float]:
    """When the instance's rounds of checks ran (virtual seconds into the play)."""
    return [i.at.timestamp() - at(0) for i in _of(aws, instance_id, "CheckFunction")]


def _of(aws: LocalAws, instance_id: str, function: str) -> list[Invocation]:
    return [
        i
        for i in aws.runtime.invocations
        if i.function == function and instance_id in str(i.payload)
    ]


def _ready_launch(*, signals: bool) -> dict[str, Any]:
    document = launch(["instance-status"])
    document["instances"] = [{"readyAfter": READY, "signalsReady": signals}]
    return document


TIMELINES: list[list[tuple[float, str, str]]] = []


def _played(document: dict[str, Any], *changes: Any) -> tuple[ActionReport, LocalAws, str]:
    with emulated(document) as (aws, scenario):
        for seconds, change in changes:
            later(aws, seconds, change)
        report = play(scenario, aws)
        TIMELINES.append(report.timeline)
        return first(report), aws, instance(aws)


def test_an_instance_that_signals_ready_is_completed_in_the_same_second() -> None:
    """Its user data sends "Run checks now" once it is ready (120 s): the round runs then and
    CompleteLifecycleAction follows in the same second, where without the signal it waits for
    the next poll."""
    signalled, aws, instance_id = _played(_ready_launch(signals=True))
    assert signalled.result == "CONTINUE"
    assert signalled.ended_at == READY
    assert_completed_once_by_the_workflow(signalled)
    assert aws.fleet.ready_signals == [(at(READY), instance_id)]
    (answer,) = [i.result for i in aws.runtime.invocations if i.function == "SignalFunction"]
    assert answer["status"] == "signalled"
    told = [text for moment, who, text in TIMELINES[-1] if moment == READY and who == instance_id]
    assert told[0].startswith("signal    asg-lifecycle-orchestrator: the wait of hook"), told
    quiet, _, _ = _played(_ready_launch(signals=False))
    assert quiet.ended_at is not None
    assert READY < quiet.ended_at <= READY + POLL_SLACK


def test_a_signal_whose_checks_still_fail_changes_nothing_but_the_rounds_time() -> None:
    """An operator signals at 45 s, before the instance is ready: a round runs at 45 s, finds it
    not ready and waits as before; the action completes as it would have (the next rounds keep
    their poll), once, with no heartbeat more."""
    early, aws, instance_id = _played(_ready_launch(signals=False), (45, _signal(instance)))
    rounds = _rounds(aws, instance_id)
    assert 45 in rounds
    plain, plain_aws, plain_id = _played(_ready_launch(signals=False))
    assert 45 not in _rounds(plain_aws, plain_id)
    assert early.result == plain.result == "CONTINUE"
    assert early.ended_at is not None
    assert READY < early.ended_at <= READY + POLL_SLACK
    assert len(early.heartbeats) == len(plain.heartbeats)
    assert_completed_once_by_the_workflow(early)


def test_a_lost_signal_costs_one_poll() -> None:
    """EventBridge delivers best-effort: the instance's signal lost, its round comes at its
    poll (one poll interval at most after the instance is ready)."""
    with emulated(_ready_launch(signals=True)) as (aws, scenario):
        aws.service_events.drop_event = lambda event: event["source"] == instance_signal.SOURCE
        report = play(scenario, aws)
        signals = _of(aws, instance(aws), "SignalFunction")
    action = first(report)
    assert signals == []
    assert action.result == "CONTINUE"
    assert action.ended_at is not None
    assert READY < action.ended_at <= READY + POLL_SLACK


def test_a_signal_naming_another_instance_runs_no_check_of_this_one() -> None:
    """A forged signal (anyone allowed PutEvents on the default bus) for an instance no
    workflow waits for: SignalFunction finds no waiting round, and this action's rounds keep
    their time."""
    forged = "i-0000000000000000a"
    action, aws, instance_id = _played(
        _ready_launch(signals=False), (45, _signal(lambda aws: forged))
    )
    (answer,) = [i.result for i in aws.runtime.invocations if i.function == "SignalFunction"]
    assert answer == {"status": "nothing-waiting", "waitsEnded": []}
    assert 45 not in _rounds(aws, instance_id)
    assert action.result == "CONTINUE"


def _ecs_registered(aws: LocalAws) -> None:
    register_container_instance(aws)


def _with_cluster(aws: LocalAws) -> None:
    aws.client("ecs").create_cluster(clusterName="web")


@pytest.mark.parametrize(
    ("check", "change", "source"),
    [
        (TAG_CHECK, tag("ready"), "aws.tag"),
        (PARAM_CHECK, parameter("ready"), "aws.ssm"),
        (
            {"name": "ecs-container-instance", "params": {"cluster": "web"}},
            _ecs_registered,
            "aws.ecs",
        ),
    ],
    ids=["instance-tag", "ssm-parameter", "ecs-container-instance"],
)
def test_each_event_source_runs_its_checks_when_it_changes(
    check: dict[str, Any], change: Callable[[LocalAws], None], source: str
) -> None:
    """The change at 95 s is an AWS event (tag change, Parameter Store change, ECS container
    instance registered) that the stack's rule routes to SignalFunction: the round runs at 95 s
    and completes the action then, not at the round after (120 s)."""
    document = launch([check])
    action, aws, instance_id = _played(document, (0, _with_cluster), (95, change))
    assert action.result == "CONTINUE", action.outcome
    assert action.ended_at == 95
    signals = _of(aws, instance_id, "SignalFunction")
    assert [s.payload["source"] for s in signals][-1:] == [source]
    assert signals[-1].result["status"] == "signalled"
    assert_completed_once_by_the_workflow(action)


FAILED_TOKENS: list[str] = []


def _fail_waiting_tokens(aws: LocalAws) -> None:
    """Whoever can read the signal table and call SendTaskFailure fails every waiting token."""
    (table,) = aws.stack.tables.values()
    for item in aws.client("dynamodb").scan(TableName=table.name)["Items"]:
        try:
            aws.client("stepfunctions").send_task_failure(
                taskToken=item["taskToken"]["S"], error="Forged", cause="read from the table"
            )
        except aws.client("stepfunctions").exceptions.TaskTimedOut:
            continue
        FAILED_TOKENS.append(item["hook"]["S"])


def test_a_wait_failed_late_by_whoever_holds_its_token_still_heartbeats_on_time() -> None:
    """HeartbeatTimeout 300, poll 120: the round at 0 waits for its heartbeat (due at about
    245 s). A SendTaskFailure at 240 s (the token read from the table) ends the callback: the
    fallback Wait runs until the wait's own end (dueAt), not a whole wait again, so the
    heartbeat still comes before the hook expires at 300 s and the launch completes."""
    document = launch(["instance-status"])
    document["hooks"][0]["metadata"]["pollSeconds"] = 120
    document["instances"] = [{"readyAfter": 400}]
    document["horizon"] = 900
    document["hooks"][0]["metadata"]["maxWaitSeconds"] = 900
    FAILED_TOKENS.clear()
    action, _, _ = _played(document, (240, _fail_waiting_tokens))
    assert FAILED_TOKENS == ["web-launch"], "the waiting heartbeat wait's callback was failed"
    assert action.heartbeats, "the heartbeat was sent"
    assert action.heartbeats[0] < 300
    assert_hook_never_lapsed(action, 300)
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
