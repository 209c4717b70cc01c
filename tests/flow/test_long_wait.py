"""A 48-hour wait at a 5-second poll stays inside one execution's 25,000-event history."""

from __future__ import annotations

import pytest

from asg_lifecycle.policy import GLOBAL_TIMEOUT_CAP, MAX_ROUNDS, safety_margin
from lifecycle_emulator.play import play
from tests.flow.stack import assert_hook_never_lapsed, doc, emulated, launch_hook

HISTORY_LIMIT = 25_000


@pytest.mark.slow
def test_a_48_hour_wait_at_a_5_second_poll_fits_one_execution() -> None:
    # HeartbeatTimeout 1800 s: the global timeout is the 48-hour cap (100 x 1800 > 172,800).
    document = doc(
        [launch_hook(heartbeat=1800, pollSeconds=5, maxWaitSeconds=GLOBAL_TIMEOUT_CAP)],
        instances=[{"readyAfter": None}],
        defaultInstance={"readyAfter": 60},
        horizon=GLOBAL_TIMEOUT_CAP + 600,
    )
    with emulated(document, "48h") as (aws, scenario):
        report = play(scenario, aws)
        first = next(a for a in report.actions if a.transition == "launch")
        (execution,) = [e for e in aws.executions() if e["name"].endswith(first.token)]
        events = aws.history(execution["arn"])

    assert first.result == "ABANDON", "never ready: the launch's onTimeout"
    assert first.end_reason == "completed", "given up by the workflow, not by Auto Scaling"
    assert first.ended_at is not None
    assert first.ended_at <= GLOBAL_TIMEOUT_CAP - safety_margin(1800)
    assert_hook_never_lapsed(first, 1800)
    assert execution["status"] == "SUCCEEDED"
    outcome = execution["output"]["outcome"]
    assert outcome["rounds"] <= MAX_ROUNDS, "rounds stretched from 5 s to fit the history"
    assert len(events) < HISTORY_LIMIT, len(events)
