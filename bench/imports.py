"""Benchmark (not a test): what each import costs a cold start.

    python -m bench.imports [--runs 7]

Each module is imported in a fresh interpreter (``PYTHONPATH=src``, as in the Lambda package) and
timed; the median of ``--runs`` is reported in milliseconds. The handlers are measured as they
are; the "candidates" are Powertools utilities the handlers deliberately do not import, so that
the reasons given in their docstrings stay checkable. This machine is not Lambda: compare the
numbers with each other, not with Lambda's Init Duration. Writes ``bench/results/imports.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

HANDLERS = [
    "handlers.start",
    "handlers.read_hook",
    "handlers.run_checks",
    "handlers.heartbeat",
    "handlers.complete",
    "handlers.reconcile",
]
CANDIDATES = {
    "boto3 (first client, deferred in the adapters)": "boto3",
    "Powertools Logger + Metrics (used)": "aws_lambda_powertools",
    "Powertools EventBridgeEvent data class (not used)": (
        "aws_lambda_powertools.utilities.data_classes"
    ),
    "Powertools Tracer (not used; needs aws-xray-sdk)": "aws_lambda_powertools.tracing",
    "Powertools idempotency (not used)": "aws_lambda_powertools.utilities.idempotency",
}
_PROBE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({name!r}); "
    "print((time.perf_counter() - t) * 1000)"
)


def import_ms(module: str, runs: int) -> float | str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "AWS_DEFAULT_REGION": "us-east-1"}
    samples: list[float] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE.format(name=module)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            return "import fails: " + done.stderr.strip().splitlines()[-1]
        samples.append(float(done.stdout.strip()))
    return round(statistics.median(samples), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    result = {
        "runs": args.runs,
        "python": sys.version.split()[0],
        "handlers_ms": {m: import_ms(m, args.runs) for m in HANDLERS},
        "candidates_ms": {label: import_ms(m, args.runs) for label, m in CANDIDATES.items()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "imports.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
