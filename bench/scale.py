"""Benchmark (not a test): N instances scale out and back in on the local emulation.

    python -m bench.scale                 # 1,000 instances (make bench)
    python -m bench.scale --instances 200

Reports wall time, peak memory, whether every action was completed exactly once, heartbeats
against the minimum, and per lifecycle action: the AWS API calls the functions made (by
operation), Lambda invocations by function and Step Functions state transitions (from each
execution's history), with their cost at list prices (transitions, Lambda requests, Lambda
duration at each function's median run here, and the signal table's DynamoDB writes, one per
callback wait: :mod:`bench.cost`). Writes ``bench/results/scale-<N>.json``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from typing import Any

from asg_lifecycle.policy import minimum_heartbeats
from bench import cost
from bench.actions import CALLBACK_RESOURCE, QUERY
from bench.definition import digest
from bench.results import load_average, save
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.play import T0, play
from lifecycle_emulator.scenarios import parse

HEARTBEAT_TIMEOUT = 300


def scenario(instances: int) -> dict[str, Any]:
    return {
        "description": f"{instances} instances scale out, then back in",
        "group": {
            "name": "fleet",
            "maxSize": instances,
            "targetGroup": {"deregistrationDelay": 60},
        },
        "hooks": [
            {
                "name": "fleet-launch",
                "transition": "launch",
                "heartbeatTimeout": HEARTBEAT_TIMEOUT,
                "defaultResult": "ABANDON",
                "metadata": {"pollSeconds": 30},
            },
            {
                "name": "fleet-terminate",
                "transition": "terminate",
                "heartbeatTimeout": HEARTBEAT_TIMEOUT,
                "defaultResult": "CONTINUE",
                "metadata": {"pollSeconds": 30},
            },
        ],
        "defaultInstance": {"readyAfter": 75},
        "steps": [{"at": 0, "desired": instances}, {"at": 1800, "desired": 0}],
        "expect": {"launch": {"CONTINUE": instances}, "terminate": {"CONTINUE": instances}},
    }


def transitions_by_state(histories: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    """Billed transitions, one per state entered, by state: read from every execution's history."""
    return Counter(
        e["stateEnteredEventDetails"]["name"]
        for events in histories.values()
        for e in events
        if str(e["type"]).endswith("StateEntered")
    )


def put_items(histories: dict[str, list[dict[str, Any]]]) -> int:
    """The signal table's writes: one per callback wait scheduled (``putItem.waitForTaskToken``)."""
    return sum(
        1
        for events in histories.values()
        for e in events
        if str(e["type"]).endswith("TaskScheduled")
        and (e.get("taskScheduledEventDetails") or {}).get("resource") == CALLBACK_RESOURCE
    )


def autoscaling_calls_per_second(aws: LocalAws) -> dict[str, float]:
    """The functions' calls on the account's one Auto Scaling throttling bucket, per virtual
    second: the busiest second, and the mean over the seconds with any call."""
    per_second: Counter[int] = Counter()
    for invocation in aws.runtime.invocations:
        calls = sum(1 for c in invocation.api_calls if c.startswith("auto-scaling."))
        if calls:
            per_second[int(invocation.at.timestamp())] += calls
    if not per_second:
        return {"peak": 0, "mean_busy": 0.0, "busy_seconds": 0}
    return {
        "peak": max(per_second.values()),
        "mean_busy": round(sum(per_second.values()) / len(per_second), 2),
        "busy_seconds": len(per_second),
    }


def run(instances: int) -> dict[str, Any]:
    load_at_start, definition = load_average(), digest()  # as the run starts
    spec = parse(scenario(instances), f"scale-{instances}")
    with LocalAws(spec.parameters, start=T0, behaviours=spec.behaviour()) as aws:
        started = time.monotonic()
        with cost.timed(aws.runtime) as durations:
            report = play(spec, aws)
        wall = time.monotonic() - started
        histories = aws.histories()
        by_state = transitions_by_state(histories)
        writes = put_items(histories)
        del histories
        api_calls = Counter(c for i in aws.runtime.invocations for c in i.api_calls)
        bucket = autoscaling_calls_per_second(aws)
        median_ms = {
            f: cost.median(ms)
            for f, ms in sorted(cost.samples(aws.runtime.invocations, durations).items())
        }
    actions = len(report.actions)
    transitions = sum(by_state.values())
    invocations = dict(sorted(report.lambda_invocations.items()))
    # The reconciler runs every ReconcileMinutes whatever the fleet does: a cost of the stack,
    # not of its actions (reported beside them).
    per_action = {f: n for f, n in invocations.items() if f != "ReconcileFunction"}
    minimum = [minimum_heartbeats(HEARTBEAT_TIMEOUT, a.duration or 0) for a in report.actions]
    sent = [len(a.heartbeats) for a in report.actions]
    queries = api_calls.get(QUERY, 0)
    usd = cost.usd(transitions, per_action, median_ms, put_items=writes, queries=queries)
    ok = report.results() == spec.expect and not report.problems
    return {
        "instances": instances,
        "ok": ok,
        "results": report.results(),
        "problems": report.problems[:10],
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,  # KiB on Linux
        "actions": actions,
        "wall_ms_per_action": round(1000 * wall / actions, 1),
        "aws_calls_per_action": round(sum(api_calls.values()) / actions, 2),
        "aws_calls_per_action_by_operation": {
            k: round(v / actions, 3) for k, v in sorted(api_calls.items())
        },
        "completed_exactly_once": all(a.completions == 1 for a in report.actions),
        "completions": sum(a.completions for a in report.actions),
        "heartbeats": sum(sent),
        "heartbeats_minimum": sum(minimum),
        "heartbeats_within_one": sum(
            1 for s, m in zip(sent, minimum, strict=True) if abs(s - m) <= 1
        ),
        "autoscaling_calls_per_second": bucket,
        "lambda_invocations_per_action": round(sum(per_action.values()) / actions, 2),
        "lambda_invocations_per_action_by_function": {
            f: round(n / actions, 3) for f, n in per_action.items()
        },
        "lambda_invocations": invocations,
        "lambda_median_ms": median_ms,
        "state_transitions_per_action": round(transitions / actions, 2),
        "dynamodb_put_items_per_action": round(writes / actions, 2),
        "dynamodb_queries_per_action": round(queries / actions, 3),
        "transitions_per_action_by_state": {
            k: round(v / actions, 3) for k, v in sorted(by_state.items())
        },
        "usd_per_1000_actions": {k: round(1000 * v / actions, 6) for k, v in usd.items()},
        "reconciler": {
            "invocations": invocations.get("ReconcileFunction", 0),
            "median_ms": median_ms.get("ReconcileFunction"),
        },
        "definition": definition,
        "load_at_start": load_at_start,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--instances", type=int, default=1000)
    args = parser.parse_args(argv)
    result = run(args.instances)
    save(f"scale-{args.instances}.json", result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
