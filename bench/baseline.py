"""The fixed-interval baseline the benchmarks compare with (no imports beyond the standard
library: the definition tests use it too).

A workflow with one task per step that routes after every task and heartbeats on every poll:
what a Lambda-per-step design with a fixed heartbeat timer spends on an action. It checks at a
fixed interval, every ``pollSeconds`` from the action's start (:func:`fixed_interval_rounds`),
with no jitter and no extra round before a heartbeat: its rounds are its own, not the measured
workflow's. :func:`baseline` at the measured workflow's rounds instead compares the two
definitions' shapes, round for round.
"""

from __future__ import annotations

import math

BASELINE_STATES = (
    "ReadHook, Route; per round Wait (none before the first), RunChecks, Route, and after every "
    "round but the last RecordHeartbeat, Route; then CompleteAction, Route, Done"
)
BASELINE_TRANSITIONS_PER_ROUND = 5  # Wait, RunChecks, Route, RecordHeartbeat, Route
# ReadHook, Route, CompleteAction, Route, Done; less the first round's Wait and the last's heartbeat
BASELINE_TRANSITIONS_FIXED = 5 - 1 - 2


def fixed_interval_rounds(decided_after: float, poll_seconds: int) -> int:
    """The rounds of checks the baseline runs for an action whose checks would decide
    ``decided_after`` seconds after it started (they would pass, or it gives up): one at the
    start and one every ``poll_seconds`` up to the first at or after that moment."""
    if poll_seconds < 1:
        raise ValueError(f"poll interval {poll_seconds} s: must be at least 1 s")
    return 1 + max(0, math.ceil(decided_after / poll_seconds))


def baseline(rounds: int, starts: int, other_autoscaling_calls: int) -> dict[str, int]:
    """What the baseline spends on an action of ``rounds`` rounds (at least one): a heartbeat
    after every round but the last (whose checks decide), a Lambda invocation per step
    (StartFunction's ``starts``, ReadHook, a RunChecks per round, a RecordHeartbeat per
    heartbeat, CompleteAction), and the same Auto Scaling calls besides heartbeats (hook read,
    completion) as the measured run."""
    heartbeats = max(0, rounds - 1)
    return {
        "autoscaling_calls": other_autoscaling_calls + heartbeats,
        "lambda_invocations": starts + 2 + rounds + heartbeats,
        "state_transitions": BASELINE_TRANSITIONS_FIXED + BASELINE_TRANSITIONS_PER_ROUND * rounds,
        "heartbeats": heartbeats,
    }
