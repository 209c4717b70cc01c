"""Per-action notifications (issue 21): the workflow tells EventBridge when an action starts,
when it has waited long (once), and how it ended; an SNS topic gets each as a readable message.
Nothing carries a token or command output.

Captured as an operator would: a rule of their own on the default bus to an SQS queue (and the
topic subscribed by a queue), in moto's EventBridge, SNS and SQS.
"""

from __future__ import annotations

import json
from typing import Any

from lifecycle_emulator.local_aws import ACCOUNT, REGION, LocalAws
from lifecycle_emulator.play import play
from tests.flow.stack import at, doc, emulated, launch_hook

SOURCE = "asg-lifecycle-orchestrator"
NOTIFIED = ["Lifecycle Action Started", "Lifecycle Action Waiting Long", "Lifecycle Action Ended"]


def _queue(aws: LocalAws, name: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def _listen(aws: LocalAws) -> str:
    """An operator's rule: every notification of the stack to a queue."""
    url, arn = _queue(aws, "notifications")
    events = aws.client("events")
    pattern = {"source": [SOURCE], "detail-type": NOTIFIED}
    events.put_rule(Name="listen", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="listen", Targets=[{"Id": "q", "Arn": arn}])
    return url


def _drain(aws: LocalAws, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        batch = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        messages = batch.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _played(document: dict[str, Any]) -> tuple[list[dict[str, Any]], Any, str]:
    with emulated(document) as (aws, scenario):
        url = _listen(aws)
        report = play(scenario, aws)
        return _drain(aws, url), report, report.actions[0].token


def test_an_action_tells_that_it_started_and_how_it_ended_once_each() -> None:
    document = doc([launch_hook(pollSeconds=30)], instances=[{"readyAfter": 100}], horizon=600)
    events, report, token = _played(document)
    action = report.actions[0]
    kinds = [e["detail-type"] for e in events]
    assert kinds == ["Lifecycle Action Started", "Lifecycle Action Ended"]
    started, ended = (e["detail"] for e in events)
    assert started["instanceId"] == ended["instanceId"] == action.instance_id
    assert (started["group"], started["hook"]) == ("web", "web-launch")
    assert started["transition"] == "autoscaling:EC2_INSTANCE_LAUNCHING"
    assert (ended["group"], ended["hook"]) == ("web", "web-launch")
    assert ended["status"] == "completed"
    assert ended["result"] == "CONTINUE"
    assert "instance-status" in ended["reason"]
    assert set(ended) >= {"heartbeats", "rounds", "at"}
    assert token not in json.dumps(events), "no token"
    assert token[:8] not in json.dumps(events), "not even its prefix"


def test_an_action_that_waits_long_is_told_so_once() -> None:
    """WaitingNoticeSeconds 120: the first round at or after 120 s tells it, with the last
    round's checks in words; later rounds do not tell it again."""
    document = doc(
        [launch_hook(pollSeconds=30)],
        instances=[{"readyAfter": 400}],
        parameters={"WaitingNoticeSeconds": "120"},
        horizon=900,
    )
    events, report, _ = _played(document)
    kinds = [e["detail-type"] for e in events]
    assert kinds == NOTIFIED
    waiting = events[1]["detail"]
    assert waiting["checks"].startswith("instance-status: wait (")
    assert waiting["rounds"] >= 5
    assert report.actions[0].result == "CONTINUE"


def test_an_ending_without_a_completion_is_told_too() -> None:
    """A launch whose checks never pass: ended ABANDON at maxWaitSeconds, told; and what a
    command printed never reaches a notification (no check details are sent)."""
    document = doc(
        [launch_hook(pollSeconds=30, maxWaitSeconds=120)],
        instances=[{"readyAfter": None}],
        horizon=200,
    )
    events, _, _ = _played(document)
    ended = [e["detail"] for e in events if e["detail-type"] == "Lifecycle Action Ended"]
    assert ended[0]["result"] == "ABANDON"
    assert "details" not in json.dumps(events)


def test_the_topic_gets_a_readable_message_for_each_event() -> None:
    """NotificationTopicArn: the stack's rule sends each event to the topic as one line."""
    document = doc(
        [launch_hook(pollSeconds=30)],
        instances=[{"readyAfter": 100}],
        parameters={"NotificationTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:lifecycle"},
        horizon=600,
    )
    with emulated(document) as (aws, scenario):
        aws.client("sns").create_topic(Name="lifecycle")
        url, arn = _queue(aws, "topic-copy")
        aws.client("sns").subscribe(
            TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:lifecycle",
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        play(scenario, aws)
        messages = _drain_text(aws, url)
    assert len(messages) == 2
    assert messages[0].startswith("Lifecycle Action Started: instance i-")
    assert "of group web (hook web-launch)" in messages[0]
    assert "Lifecycle Action Ended" in messages[1]
    assert "completed CONTINUE" in messages[1]


def _drain_text(aws: LocalAws, url: str) -> list[str]:
    batch = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [_text(m["Body"]) for m in batch.get("Messages", [])]


def _text(body: str) -> str:
    """The message as SNS delivered it raw: the input template's string."""
    try:
        return str(json.loads(body))
    except ValueError:
        return body


def test_each_ending_is_told_exactly_once_as_it_ended() -> None:
    """Three launches end three ways: A's checks pass (completed CONTINUE); B's never do
    (completed ABANDON at maxWaitSeconds; its replacement passes); C's action is completed by an
    operator at 40 s, which its workflow learns when its own completion is refused
    (already-finished, through "Action ended elsewhere"). Every execution's outcome is told by
    exactly one "Lifecycle Action Ended" event naming its instance, status and result."""
    document = doc(
        [launch_hook(pollSeconds=30, maxWaitSeconds=200)],
        instances=[{"readyAfter": 60}, {"readyAfter": None}, {"readyAfter": None}],
        steps=[{"at": 0, "desired": 3}],
        horizon=600,
    )

    def operator_completes_c(aws: LocalAws) -> None:
        third = list(aws.fleet.behaviour)[2]
        aws.client("autoscaling").complete_lifecycle_action(
            AutoScalingGroupName="web",
            LifecycleHookName="web-launch",
            InstanceId=third,
            LifecycleActionResult="CONTINUE",
        )

    with emulated(document) as (aws, scenario):
        url = _listen(aws)
        aws.clock.call_at(at(40), lambda: operator_completes_c(aws))
        play(scenario, aws)
        events = _drain(aws, url)
        outcomes = [e["output"]["outcome"] for e in aws.executions() if e.get("output")]
    ended = [e["detail"] for e in events if e["detail-type"] == "Lifecycle Action Ended"]
    told = sorted((d["instanceId"], d["status"], str(d["result"])) for d in ended)
    expected = sorted((o["instanceId"], o["status"], str(o["result"])) for o in outcomes)
    assert told == expected
    assert {status for _, status, _ in told} >= {"completed", "already-finished"}
    assert {result for _, status, result in told if status == "completed"} == {
        "CONTINUE",
        "ABANDON",
    }
