"""Benchmark (not a test): N instances scale out and back in on the local emulation.

    python -m bench.scale                 # 1,000 instances (make bench)
    python -m bench.scale --instances 200

Reports wall time, peak memory, and per lifecycle action: the AWS API calls the functions made,
Lambda invocations and Step Functions state transitions (from each execution's history), with the
Step Functions and Lambda request cost at list prices. Writes ``bench/results/scale-<N>.json``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from typing import Any

from bench.definition import digest
from bench.results import save
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.play import T0, play
from lifecycle_emulator.scenarios import parse

# List prices, us-east-1 (aws.amazon.com/step-functions/pricing, aws.amazon.com/lambda/pricing):
USD_PER_STATE_TRANSITION = 0.025 / 1000  # Standard workflows
USD_PER_LAMBDA_REQUEST = 0.20 / 1_000_000  # requests only; duration is on top


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
                "heartbeatTimeout": 300,
                "defaultResult": "ABANDON",
                "metadata": {"pollSeconds": 30},
            },
            {
                "name": "fleet-terminate",
                "transition": "terminate",
                "heartbeatTimeout": 300,
                "defaultResult": "CONTINUE",
                "metadata": {"pollSeconds": 30},
            },
        ],
        "defaultInstance": {"readyAfter": 75},
        "steps": [{"at": 0, "desired": instances}, {"at": 1800, "desired": 0}],
        "expect": {"launch": {"CONTINUE": instances}, "terminate": {"CONTINUE": instances}},
    }


def state_transitions(aws: LocalAws) -> int:
    """Billed transitions: one per state entered, read from every execution's history."""
    return sum(
        1
        for events in aws.histories().values()
        for e in events
        if str(e["type"]).endswith("StateEntered")
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
    spec = parse(scenario(instances), f"scale-{instances}")
    with LocalAws(spec.parameters, start=T0, behaviours=spec.behaviour()) as aws:
        started = time.monotonic()
        report = play(spec, aws)
        wall = time.monotonic() - started
        transitions = state_transitions(aws)
        api_calls = Counter(c for i in aws.runtime.invocations for c in i.api_calls)
        bucket = autoscaling_calls_per_second(aws)
    actions = len(report.actions)
    lambdas = sum(report.lambda_invocations.values())
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
        "autoscaling_calls_per_second": bucket,
        "lambda_invocations_per_action": round(lambdas / actions, 2),
        "lambda_invocations": dict(report.lambda_invocations),
        "state_transitions_per_action": round(transitions / actions, 2),
        "usd_per_1000_actions": round(
            1000
            * (transitions * USD_PER_STATE_TRANSITION + lambdas * USD_PER_LAMBDA_REQUEST)
            / actions,
            4,
        ),
        "definition": digest(),
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
