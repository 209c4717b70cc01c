"""The fixed-interval baseline the benchmarks compare with (no imports beyond the standard
library: the definition tests use it too).

A workflow with one task per step that routes after every task and heartbeats on every poll:
what a Lambda-per-step design with a fixed heartbeat timer spends on an action.
"""

from __future__ import annotations

BASELINE_STATES = (
    "ReadHook, Route; per round Wait (none before the first), RunChecks, Route, and after every "
    "round but the last RecordHeartbeat, Route; then CompleteAction, Route, Done"
)
BASELINE_TRANSITIONS_PER_ROUND = 5  # Wait, RunChecks, Route, RecordHeartbeat, Route
# ReadHook, Route, CompleteAction, Route, Done; less the first round's Wait and the last's heartbeat
BASELINE_TRANSITIONS_FIXED = 5 - 1 - 2


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
