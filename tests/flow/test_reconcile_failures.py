"""A failed reconcile run is not silent (issue 19): it is an error of ReconcileFunction (the
metric ReconcileFailuresAlarm watches, at the first one), Lambda tries it once more, and a run
that failed its retry too lands in the dead-letter queue as Lambda's failure record. The lost
event's action is still handled by the next run that succeeds."""

from __future__ import annotations

import json

from lifecycle_emulator.faults import Faults, Outage
from lifecycle_emulator.play import play
from tests.flow.stack import at, doc, emulated, launch_hook, only

FIRST_RUN = 300 + 37  # the emulator's rate schedule: its period, then 37 s


def test_a_failed_reconcile_run_is_an_error_retried_once_then_dead_lettered() -> None:
    """Every event is lost; Auto Scaling fails every call from 300 s to 500 s: the first run
    (337 s) and its retry (a minute later) fail, the second run (637 s) starts the workflow,
    which CONTINUEs the instance well within its 1800 s hook."""
    document = doc(
        [launch_hook(heartbeat=1800, pollSeconds=30)],
        instances=[{"readyAfter": 60}],
        parameters={"AutoScalingGroupNames": "web"},
        horizon=1500,
    )
    faults = Faults(drop_events=1.0, outage=Outage("autoscaling", at(300), at(500)))
    with emulated(document, faults=faults) as (aws, scenario):
        report = play(scenario, aws)
        runs = [i for i in aws.runtime.invocations if i.function == "ReconcileFunction"]
        dead_letters = list(aws.runtime.dead_letters)
        sqs = aws.client("sqs")
        (queue,) = sqs.list_queues()["QueueUrls"]
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        function_arn = aws.stack.functions["ReconcileFunction"].arn

    failed = [r for r in runs if r.error is not None]
    assert len(failed) == 2, "the run and its one retry"
    first, retry = failed
    assert first.payload == retry.payload, "the same scheduled event, tried again"
    assert (first.at.timestamp(), runs[0].at.timestamp()) == (at(FIRST_RUN), at(FIRST_RUN))
    assert 60 <= (retry.at - first.at).total_seconds() < 120
    assert runs[2].error is None, "the next run succeeds"

    assert [d["function"] for d in dead_letters] == ["ReconcileFunction"]
    (message,) = [json.loads(m["Body"]) for m in messages]
    assert message["requestContext"]["functionArn"] == function_arn
    assert message["requestPayload"]["detail-type"] == "Scheduled Event"
    assert message["requestPayload"]["time"] == first.payload["time"]

    action = only(report, "launch")
    assert action.result == "CONTINUE"
    assert action.completions == 1
