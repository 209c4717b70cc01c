"""Benchmark (not a test): what one lifecycle action costs, and how soon it completes.

    python -m bench.actions

One launch on the local emulation (the real definition and handlers), for checks that take
1 min, 30 min and 6 h, under HeartbeatTimeouts of 60, 300 and 3600 s (poll 30 s, the default):
Auto Scaling API calls, Lambda invocations and Step Functions state transitions of that action,
heartbeats beside the minimum (``ceil(wait / usable heartbeat budget)``), the request cost at list
prices, and the latency from the moment the checks would pass to CompleteLifecycleAction.

Beside each, a fixed-interval baseline: a workflow of one task per step that routes after every
task, checks every poll interval from the action's start and heartbeats on every poll (after
every round whose checks do not decide; :mod:`bench.baseline`), for the rounds it would run
itself (:func:`bench.baseline.fixed_interval_rounds`); and the same baseline at the measured
run's rounds, which compares the two definitions' shapes round for round. Also a launch whose
checks pass at the first round (the shortest action, a row of its own).

Then the latency of a readiness signal at ``pollSeconds: 5`` (the shortest poll): the way to
make completion near-immediate. Writes ``bench/results/actions.json``.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from asg_lifecycle.policy import (
    GLOBAL_TIMEOUT_CAP,
    global_timeout,
    safety_margin,
    usable_heartbeat_budget,
)
from bench.baseline import baseline, fixed_interval_rounds
from bench.definition import digest
from bench.results import save
from bench.scale import USD_PER_LAMBDA_REQUEST, USD_PER_STATE_TRANSITION
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.play import T0, play
from lifecycle_emulator.scenarios import parse

CHECK_SECONDS = (60, 1800, 21_600)
HEARTBEAT_TIMEOUTS = (60, 300, 3600)
POLL = 30


def _instance_of(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    action = payload.get("action") or payload.get("detail") or {}
    return action.get("EC2InstanceId") if isinstance(action, dict) else None


def measure(check_seconds: int, heartbeat_timeout: int, poll: int = POLL) -> dict[str, Any]:
    max_wait = min(check_seconds + 3600, GLOBAL_TIMEOUT_CAP)
    document = {
        "group": {"name": "bench", "maxSize": 1},
        "hooks": [
            {
                "name": "bench-launch",
                "transition": "launch",
                "heartbeatTimeout": heartbeat_timeout,
                "defaultResult": "ABANDON",
                "metadata": {"pollSeconds": poll, "maxWaitSeconds": max_wait},
            }
        ],
        "instances": [{"readyAfter": check_seconds}],
        "steps": [{"at": 0, "desired": 1}],
        "horizon": check_seconds + 600,
    }
    spec = parse(document, f"action-{check_seconds}-{heartbeat_timeout}")
    with LocalAws(spec.parameters, start=T0, behaviours=spec.behaviour()) as aws:
        report = play(spec, aws)
        action = report.actions[0]
        (execution,) = [e for e in aws.executions() if e["name"].endswith(action.token)]
        events = aws.history(execution["arn"])
        mine = [
            i
            for i in aws.runtime.invocations
            if _instance_of(i.payload) == action.instance_id and i.function != "ReconcileFunction"
        ]
    transitions = sum(1 for e in events if str(e["type"]).endswith("StateEntered"))
    autoscaling = sum(1 for i in mine for c in i.api_calls if c.startswith("auto-scaling."))
    heartbeats = len(action.heartbeats)
    rounds = int(execution["output"]["outcome"]["rounds"]) if execution["output"] else 0
    waited = (action.ended_at or 0) - action.started_at
    possible = check_seconds < global_timeout(heartbeat_timeout)
    minimum = math.ceil(waited / usable_heartbeat_budget(heartbeat_timeout)) - 1
    ours = {
        "autoscaling_calls": autoscaling,
        "lambda_invocations": len(mine),
        "state_transitions": transitions,
        "heartbeats": heartbeats,
    }
    starts = sum(1 for i in mine if i.function == "StartFunction")
    # The baseline checks every poll from the same start and decides when the checks would pass,
    # or gives up at the same moment as the workflow (max wait, or the global timeout's margin).
    give_up = min(max_wait, global_timeout(heartbeat_timeout) - safety_margin(heartbeat_timeout))
    decided_after = min(check_seconds - action.started_at, give_up)
    base_rounds = fixed_interval_rounds(decided_after, poll)
    base = baseline(base_rounds, starts, autoscaling - heartbeats)
    same_rounds = baseline(rounds, starts, autoscaling - heartbeats)
    return {
        "check_seconds": check_seconds,
        "heartbeat_timeout": heartbeat_timeout,
        "poll_seconds": poll,
        "result": action.result,
        "possible": possible,  # checks outlasting the global timeout cannot pass
        "waited_seconds": waited,
        "rounds": rounds,
        "heartbeats_minimum": max(0, minimum),
        "latency_seconds": (action.ended_at - check_seconds)
        if possible and action.ended_at is not None
        else None,
        "ours": {**ours, "usd": _usd(ours)},
        "baseline_rounds": base_rounds,
        "baseline": {**base, "usd": _usd(base)},
        "transitions_vs_baseline": round(transitions / base["state_transitions"], 2),
        "same_rounds_transitions": same_rounds["state_transitions"],
        "transitions_vs_same_rounds": round(transitions / same_rounds["state_transitions"], 2),
    }


def _usd(counts: dict[str, int]) -> float:
    return round(
        counts["state_transitions"] * USD_PER_STATE_TRANSITION
        + counts["lambda_invocations"] * USD_PER_LAMBDA_REQUEST,
        6,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.actions", description=__doc__)
    parser.parse_args(argv)
    matrix = [measure(c, h) for c in CHECK_SECONDS for h in HEARTBEAT_TIMEOUTS]
    signal = measure(120, 300, poll=5)
    first_round = measure(0, 300)
    result = {
        "matrix": matrix,
        "readiness_signal_poll_5": signal,
        "ready_at_first_round": first_round,
        "definition": digest(),
    }
    save("actions.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
