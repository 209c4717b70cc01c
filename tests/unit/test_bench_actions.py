"""What bench.actions measures of one lifecycle action: one launch on the emulator, counted from
its execution's history and the invocations about its instance."""

from __future__ import annotations

import pytest

from asg_lifecycle.policy import minimum_heartbeats
from bench import actions, cost


@pytest.mark.parametrize(
    ("sent", "minimum", "met"),
    [(0, 0, True), (1, 0, True), (2, 0, False), (80, 79, True), (78, 79, True), (81, 79, False)],
)
def test_the_heartbeat_target_is_within_one_of_the_minimum(
    sent: int, minimum: int, met: bool
) -> None:
    assert actions.within_one(sent, minimum) is met


def test_an_invocation_is_about_the_instance_its_document_or_event_names() -> None:
    assert actions._instance_of({"action": {"EC2InstanceId": "i-1"}}) == "i-1"  # a task
    assert actions._instance_of({"detail": {"EC2InstanceId": "i-2"}}) == "i-2"  # StartFunction
    assert actions._instance_of({"time": "2026-01-01T00:00:00Z"}) is None  # the reconciler
    assert actions._instance_of("not a document") is None


def test_one_launch_is_counted_from_its_history_and_its_own_invocations() -> None:
    """A launch whose checks pass after 60 s under a 60-s HeartbeatTimeout: it must heartbeat."""
    cell, samples = actions.measure(60, 60)
    assert (cell["result"], cell["status"]) == ("CONTINUE", "completed")
    assert cell["state_transitions"] == sum(cell["transitions_by_state"].values())
    assert cell["transitions_by_state"]["Run checks"] == cell["rounds"] > 1
    # Auto Scaling's record of heartbeats, the function's invocations and its calls agree.
    assert cell["heartbeats"] == len(cell["heartbeat_at_seconds"]) >= 1
    assert cell["lambda_invocations"]["HeartbeatFunction"] == cell["heartbeats"]
    assert cell["aws_calls"]["auto-scaling.RecordLifecycleActionHeartbeat"] == cell["heartbeats"]
    assert cell["heartbeats_minimum"] == minimum_heartbeats(60, cell["held_seconds"])
    assert cell["autoscaling_calls"] == sum(
        n for call, n in cell["aws_calls"].items() if call.startswith("auto-scaling.")
    )
    assert "ReconcileFunction" not in cell["lambda_invocations"]
    assert cell["lambda_errors"] == 0
    assert cell["latency_seconds"] == cell["held_seconds"] - 60 >= 0  # launched at 0
    # Every invocation counted was timed, and only those.
    assert {f: len(ms) for f, ms in samples.items()} == cell["lambda_invocations"]

    priced = actions.price(cell, {f: cost.median(ms) for f, ms in samples.items()})
    usd = priced["usd"]
    assert usd["transitions"] == pytest.approx(
        cell["state_transitions"] * cost.USD_PER_STATE_TRANSITION
    )
    assert usd["requests"] == pytest.approx(
        sum(cell["lambda_invocations"].values()) * cost.USD_PER_LAMBDA_REQUEST
    )
    assert 0 < usd["duration"] < usd["total"] < priced["usd_total_duration_x10"]
