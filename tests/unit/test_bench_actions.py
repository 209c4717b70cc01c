"""What bench.actions measures of one lifecycle action: a launch or a terminate drain on the
emulator, with its signal or without, counted from its execution's history and the invocations
about its instance."""

from __future__ import annotations

import pytest

from asg_lifecycle.policy import minimum_heartbeats
from bench import actions, cost
from bench.actions import Case


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
    assert actions._instance_of({"detail": {"instance-id": "i-3"}}) == "i-3"  # a signal
    assert actions._instance_of({"time": "2026-01-01T00:00:00Z"}) is None  # the reconciler
    assert actions._instance_of("not a document") is None


def test_each_cell_runs_without_its_signal_and_with_it() -> None:
    for transition in ("launch", "terminate"):
        cases = actions.RUNS[transition]
        assert {(c.check_seconds, c.heartbeat_timeout) for c in cases} == {
            (c, h) for c in actions.CHECK_SECONDS for h in actions.HEARTBEAT_TIMEOUTS
        }
        assert sorted(c.signal for c in cases) == [False] * 9 + [True] * 9
        assert len({c.name for c in cases}) == len(cases)
    (without, signalled) = actions.RUNS["signalled_launch"]
    assert (signalled.check_seconds, signalled.signal, without.signal) == (120, True, False)


def test_a_terminate_drain_takes_the_stacks_terminate_defaults() -> None:
    document = actions.scenario(Case("terminate", 21_600, 300, True))
    (hook,) = document["hooks"]
    assert hook["transition"] == "terminate"
    assert "pollSeconds" not in hook["metadata"]
    assert "maxPollSeconds" not in hook["metadata"]
    (check,) = hook["metadata"]["checks"]
    assert check["name"] == "ssm-command"
    assert document["instances"][0]["command"]["seconds"] == 21_600
    assert document["parameters"]["SsmCommandDocuments"] == actions.DRAIN_DOCUMENT


def test_one_launch_is_counted_from_its_history_and_its_own_invocations() -> None:
    """A launch whose checks pass after 60 s under a 60-s HeartbeatTimeout: it must heartbeat."""
    cell, samples = actions.measure(Case("launch", 60, 60, False))
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
    assert "SignalFunction" not in cell["lambda_invocations"]
    assert cell["lambda_errors"] == 0
    # Every wait before a round or a heartbeat is a callback task: one PutItem each.
    waits = sum(
        n for state, n in cell["transitions_by_state"].items() if state.endswith("or a signal")
    )
    assert cell["dynamodb_put_items"] == waits >= 1
    assert (cell["dynamodb_queries"], cell["send_task_success"], cell["custom_events"]) == (0, 0, 0)
    assert cell["ready_at_seconds"] == 60
    assert cell["latency_seconds"] == cell["held_seconds"] - 60 >= 0  # launched at 0
    assert cell["latency_from_signal_seconds"] is None
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
    assert usd["dynamodb"] == pytest.approx(waits * cost.USD_PER_WRITE_REQUEST_UNIT)
    assert 0 < usd["duration"] < usd["total"] < priced["usd_total_duration_x10"]
    # The physical minimum holds the instance the 60 s its checks take: within the first
    # HeartbeatTimeout, no heartbeat (the action, which rounds to a poll, needed some).
    floor = priced["minimum"]
    assert floor["held_seconds"] == 60
    assert floor["lambda_invocations"]["HeartbeatFunction"] == minimum_heartbeats(60, 60) == 0
    assert floor["state_transitions"] == 3 < cell["state_transitions"]
    assert 0 < floor["usd"] < usd["total"]


def test_a_signalled_launch_completes_on_its_signal_and_counts_what_the_signal_costs() -> None:
    cell, _ = actions.measure(Case("launch", 120, 300, True))
    assert cell["result"] == "CONTINUE"
    assert cell["signal_at_seconds"] == cell["ready_at_seconds"] == 120
    assert cell["latency_from_signal_seconds"] == 0
    assert cell["lambda_invocations"]["SignalFunction"] == 1
    assert (cell["dynamodb_queries"], cell["send_task_success"]) == (1, 1)
    assert (cell["waits_signalled"], cell["custom_events"]) == (1, 1)


@pytest.mark.parametrize("signal", [False, True])
def test_a_drain_ends_on_its_run_command_event_or_at_its_next_round(signal: bool) -> None:
    cell, _ = actions.measure(Case("terminate", 600, 300, signal))
    assert (cell["transition"], cell["result"]) == ("terminate", "CONTINUE")
    assert (cell["poll_seconds"], cell["max_poll_seconds"]) == (30, 300)  # the stack's defaults
    assert cell["started_at_seconds"] == actions.SCALE_IN_AT
    assert cell["ready_at_seconds"] == actions.SCALE_IN_AT + 600
    assert cell["custom_events"] == 0  # Run Command's event is an AWS service event
    if signal:
        assert cell["latency_from_signal_seconds"] == 0
        assert cell["lambda_invocations"]["SignalFunction"] == cell["waits_signalled"] == 1
    else:
        assert cell["signal_at_seconds"] is None
        assert cell["waits_signalled"] == 0
        assert "SignalFunction" not in cell["lambda_invocations"]
        assert 0 < cell["latency_seconds"] <= 300 + 30  # a backed-off round and its jitter
