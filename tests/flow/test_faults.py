"""Fault injection on the whole stack: no lifecycle action lost, stuck, doubled or leaked.

One fleet plays out under every fault at once: 30 % of the functions' Auto Scaling calls
throttled, 10 % of lifecycle events delivered twice, 5 % never delivered, two instances terminated
(with EC2 TerminateInstances) underneath their workflow (which still completes their actions), and
EC2 (the instance-status check's dependency) down for 10 minutes while most launches wait on it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lifecycle_emulator.faults import Faults, Outage
from lifecycle_emulator.play import Report, play
from tests.flow.stack import at, doc, emulated, launch_hook, terminate_hook

FLEET = 30
OUTAGE = (50, 650)  # EC2 unavailable to the functions for 10 minutes, from before any is ready


def faulty_fleet() -> tuple[Report, Faults, list[str], dict[str, Any]]:
    document = doc(
        [
            # HeartbeatTimeout 600 s: longer than a reconcile period (300 s) plus the settle time
            # (60 s), so a lost event is picked up before the hook would time out.
            launch_hook(heartbeat=600, pollSeconds=30, maxWaitSeconds=1800),
            terminate_hook(heartbeat=600, pollSeconds=30),
        ],
        steps=[{"at": 0, "desired": FLEET}, {"at": 2400, "desired": 5}],
        defaultInstance={"readyAfter": 60},
        horizon=3600,
    )
    document["group"]["maxSize"] = FLEET
    faults = Faults(
        throttle_autoscaling=0.3,
        duplicate_events=0.1,
        drop_events=0.05,
        outage=Outage("ec2", at(OUTAGE[0]), at(OUTAGE[1])),
        seed=11,
    )
    with emulated(document, "faults", faults=faults) as (aws, scenario):
        underneath: list[str] = []

        def terminate_two() -> None:
            underneath.extend(list(aws.fleet.behaviour)[:2])
            aws.client("ec2").terminate_instances(InstanceIds=underneath)

        aws.clock.call_at(at(20), terminate_two)
        report = play(scenario, aws)
        extra = {"executions": aws.executions()}
    return report, faults, underneath, extra


@pytest.fixture(scope="module")
def run() -> tuple[Report, Faults, list[str], dict[str, Any]]:
    return faulty_fleet()


def test_the_faults_really_happened(run: tuple[Report, Faults, list[str], dict[str, Any]]) -> None:
    report, faults, underneath, _ = run
    assert faults.throttled >= 50
    assert faults.backoff_seconds > 0, "botocore backed off before retrying"
    assert faults.duplicated, "some events were delivered twice"
    assert faults.dropped, "some events were never delivered"
    assert faults.outage_errors >= 20, "checks met the EC2 outage"
    assert len(underneath) == 2
    assert len(report.actions) >= FLEET + 25  # launches, replacements and terminations


def test_no_action_is_lost_or_left_waiting(
    run: tuple[Report, Faults, list[str], dict[str, Any]],
) -> None:
    report, _, underneath, _ = run
    assert report.problems == []
    for action in report.actions:
        assert action.ended_at is not None, action
        # completed by a workflow: never left to the hook's timeout. An instance terminated
        # through EC2 in Pending:Wait keeps its action ("when a Spot Instance terminates, you
        # must still complete the lifecycle action", lifecycle hooks Considerations): its
        # workflow completes it too, and it is never put into service.
        assert action.end_reason == "completed", action
        if action.instance_id in underneath:
            assert (action.transition, action.result) == ("launch", "ABANDON"), action


def test_every_action_is_completed_exactly_once(
    run: tuple[Report, Faults, list[str], dict[str, Any]],
) -> None:
    report, faults, _, _ = run
    for action in report.actions:
        if action.end_reason == "completed":
            assert action.completions == 1, action
            completed = [o for o in action.outcomes if o["status"] == "completed"]
            assert len(completed) == 1, action.outcomes
            others = {o["status"] for o in action.outcomes} - {"completed"}
            assert others <= {"already-finished", "duplicate"}, action.outcomes
    duplicated = [a for a in report.actions if a.token in faults.duplicated]
    assert duplicated
    for action in duplicated:  # a second delivery started nothing
        assert sum(1 for w in action.workflows if w.endswith(action.token)) == 1, action
    reconciled = [a for a in report.actions if a.token in faults.dropped]
    assert reconciled
    for action in reconciled:
        assert any(w.rsplit("-", 1)[-1].startswith("r") for w in action.workflows), action
        assert action.end_reason == "completed"


def test_no_heartbeat_after_completion_and_no_stray_calls(
    run: tuple[Report, Faults, list[str], dict[str, Any]],
) -> None:
    report, _, _, _ = run
    for action in report.actions:
        if action.end_reason == "completed":
            assert action.calls_after_end == 0, action


def test_no_healthy_instance_is_abandoned_because_of_the_outage(
    run: tuple[Report, Faults, list[str], dict[str, Any]],
) -> None:
    report, _, underneath, _ = run
    launches = [
        a for a in report.actions if a.transition == "launch" and a.instance_id not in underneath
    ]
    assert Counter(a.result for a in launches) == {"CONTINUE": len(launches)}
    waited = [a for a in launches if a.ended_at is not None and a.ended_at >= OUTAGE[1]]
    assert len(waited) >= FLEET - 2, "the launches waited out the outage (with heartbeats)"
    assert all(a.heartbeats for a in waited)


def test_every_workflow_ends_with_one_recorded_outcome(
    run: tuple[Report, Faults, list[str], dict[str, Any]],
) -> None:
    _, _, _, extra = run
    for execution in extra["executions"]:
        assert execution["status"] == "SUCCEEDED", execution
        assert execution["output"]["outcome"]["status"] in {
            "completed",
            "already-finished",
            "duplicate",
            "timed-out",
        }
