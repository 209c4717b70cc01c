"""Benchmark (not a test): what one lifecycle action costs, and how soon it completes.

    python -m bench.actions

One launch on the local emulation (the real definition and handlers), for checks that take
1 min, 30 min and 6 h, under HeartbeatTimeouts of 60, 300 and 3600 s (poll 30 s, the default):

* the Step Functions state transitions of its execution (by state), the Lambda invocations by
  function, and its AWS calls by operation (Auto Scaling's among them);
* heartbeats sent beside the minimum ``ceil((W - H) / (H - m))`` for a hook of HeartbeatTimeout
  ``H`` held ``W`` seconds (:func:`asg_lifecycle.policy.minimum_heartbeats`; target: within one);
* the cost at list prices: transitions, Lambda requests, and Lambda duration, each function's
  invocations billed at its median run here (:mod:`bench.cost`);
* the latency from the moment the checks would pass to CompleteLifecycleAction.

Also a launch whose checks pass at the first round (the shortest action), and one at
``pollSeconds: 5`` whose checks take 2 min (the way to make completion near-immediate). The
functions' boto3 clients are created before each run (warm containers: ``bench.imports`` measures
cold starts). Writes ``bench/results/actions.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from asg_lifecycle.adapters.clients import client
from asg_lifecycle.policy import GLOBAL_TIMEOUT_CAP, global_timeout, minimum_heartbeats
from bench import cost
from bench.definition import digest
from bench.results import load_average, save
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.play import T0, play
from lifecycle_emulator.scenarios import parse

CHECK_SECONDS = (60, 1800, 21_600)
HEARTBEAT_TIMEOUTS = (60, 300, 3600)
POLL = 30
# What the functions' first calls create (a warm container has them already).
CLIENTS = ("autoscaling", "ec2", "stepfunctions")
AUTOSCALING = "auto-scaling."  # botocore's event prefix for Auto Scaling operations


def _instance_of(payload: Any) -> str | None:
    """The instance a function's input is about: a state document's ``action`` or an event's
    ``detail``."""
    if not isinstance(payload, dict):
        return None
    action = payload.get("action") or payload.get("detail") or {}
    return action.get("EC2InstanceId") if isinstance(action, dict) else None


def within_one(sent: int, minimum: int) -> bool:
    """The heartbeat target: at most one more (or fewer) than the minimum."""
    return abs(sent - minimum) <= 1


def scenario(check_seconds: int, heartbeat_timeout: int, poll: int) -> dict[str, Any]:
    """One launch whose checks pass ``check_seconds`` after it starts, given an hour more."""
    return {
        "group": {"name": "bench", "maxSize": 1},
        "hooks": [
            {
                "name": "bench-launch",
                "transition": "launch",
                "heartbeatTimeout": heartbeat_timeout,
                "defaultResult": "ABANDON",
                "metadata": {
                    "pollSeconds": poll,
                    "maxWaitSeconds": min(check_seconds + 3600, GLOBAL_TIMEOUT_CAP),
                },
            }
        ],
        "instances": [{"readyAfter": check_seconds}],
        "steps": [{"at": 0, "desired": 1}],
        "horizon": check_seconds + 600,
    }


def measure(
    check_seconds: int, heartbeat_timeout: int, poll: int = POLL
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """One launch: its counts, and each function's run times in ms (priced in :func:`price`)."""
    document = scenario(check_seconds, heartbeat_timeout, poll)
    spec = parse(document, f"action-{check_seconds}-{heartbeat_timeout}-{poll}")
    with LocalAws(spec.parameters, start=T0, behaviours=spec.behaviour()) as aws:
        for service in CLIENTS:
            client(service)
        with cost.timed(aws.runtime) as durations:
            report = play(spec, aws)
        action = report.actions[0]  # an ABANDONed launch's replacement comes after it
        (execution,) = [e for e in aws.executions() if e["name"].endswith(action.token)]
        events = aws.history(execution["arn"])
        mine = [
            i
            for i in aws.runtime.invocations
            if _instance_of(i.payload) == action.instance_id and i.function != "ReconcileFunction"
        ]
        samples = cost.samples(mine, durations)
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in events
        if str(e["type"]).endswith("StateEntered")
    ]
    calls = Counter(c for i in mine for c in i.api_calls)
    outcome = (execution["output"] or {}).get("outcome") or {}
    held = (action.ended_at or 0) - action.started_at
    minimum = minimum_heartbeats(heartbeat_timeout, held)
    heartbeats = len(action.heartbeats)
    possible = check_seconds < global_timeout(heartbeat_timeout)
    cell = {
        "check_seconds": check_seconds,
        "heartbeat_timeout": heartbeat_timeout,
        "poll_seconds": poll,
        "max_wait_seconds": document["hooks"][0]["metadata"]["maxWaitSeconds"],
        "result": action.result,
        "status": outcome.get("status"),
        "possible": possible,  # checks outlasting the global timeout cannot pass
        "held_seconds": held,
        "rounds": int(outcome.get("rounds", 0)),
        "heartbeats": heartbeats,
        "heartbeats_minimum": minimum,
        "heartbeats_within_one": within_one(heartbeats, minimum),
        "heartbeat_at_seconds": action.heartbeats,
        "state_transitions": len(entered),
        "transitions_by_state": dict(Counter(entered)),
        "lambda_invocations": dict(sorted(Counter(i.function for i in mine).items())),
        "lambda_errors": sum(1 for i in mine if i.error is not None),
        "aws_calls": dict(sorted(calls.items())),
        "autoscaling_calls": sum(n for c, n in calls.items() if c.startswith(AUTOSCALING)),
        "latency_seconds": (action.ended_at - check_seconds)
        if possible and action.ended_at is not None
        else None,
    }
    return cell, samples


def price(cell: dict[str, Any], median_ms: dict[str, float]) -> dict[str, Any]:
    """The cell with its list price (``usd``), and the total if Lambda ran ten times as long."""
    invocations = cell["lambda_invocations"]
    return {
        **cell,
        "usd": cost.usd(cell["state_transitions"], invocations, median_ms),
        "usd_total_duration_x10": cost.usd(
            cell["state_transitions"], invocations, median_ms, duration_factor=10
        )["total"],
    }


def run() -> dict[str, Any]:
    load_at_start, definition = load_average(), digest()  # as the run starts
    runs = {
        "matrix": [(c, h, POLL) for c in CHECK_SECONDS for h in HEARTBEAT_TIMEOUTS],
        "ready_at_first_round": [(0, 300, POLL)],
        "readiness_signal_poll_5": [(120, 300, 5)],
    }
    measured: dict[str, list[dict[str, Any]]] = {}
    pooled: dict[str, list[float]] = {}
    for name, cells in runs.items():
        measured[name] = []
        for check_seconds, heartbeat_timeout, poll in cells:
            cell, samples = measure(check_seconds, heartbeat_timeout, poll)
            measured[name].append(cell)
            for function, ms in samples.items():
                pooled.setdefault(function, []).extend(ms)
    median_ms = {f: cost.median(ms) for f, ms in sorted(pooled.items())}
    priced = {name: [price(c, median_ms) for c in cells] for name, cells in measured.items()}
    return {
        "matrix": priced["matrix"],
        "ready_at_first_round": priced["ready_at_first_round"][0],
        "readiness_signal_poll_5": priced["readiness_signal_poll_5"][0],
        "lambda_median_ms": median_ms,
        "lambda_samples": {f: len(ms) for f, ms in sorted(pooled.items())},
        "function_sizes": {
            f: {"memory_mb": s.memory_mb, "architecture": s.architecture}
            for f, s in cost.function_sizes().items()
        },
        "definition": definition,
        "load_at_start": load_at_start,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.actions", description=__doc__)
    parser.parse_args(argv)
    save("actions.json", run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
