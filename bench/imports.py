"""Benchmark (not a test): what each Lambda handler costs a cold start, beside the floor.

    python -m bench.imports [--runs 11]

For each handler, in a fresh interpreter each time (``PYTHONPATH=src``, as in the package):

* ``init_ms``: import the handler module and create the boto3 clients its first call creates
  (what a cold invocation pays before its own work);
* ``floor_ms``: the least any Python function calling those AWS APIs pays: ``import boto3`` and
  create the same clients (with botocore's defaults);
* the ratio (target: at most 1.25), the median of ``--runs`` each; and the handler's own import
  (``import_ms``) with ``-X importtime``'s top-level modules by cumulative cost.

Also the deployment package (``.aws-sam/build``, from ``sam build`` / ``make test``), zipped,
beside the handlers' own code alone, and the Powertools utilities the handlers leave out on
purpose. This machine is not Lambda: compare the numbers with each other, not with Lambda's Init
Duration. Writes ``bench/results/imports.json``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from bench.results import load_average, save

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"

# Handler -> the clients its first call creates (each handler's docstring lists its calls).
HANDLERS: dict[str, list[str]] = {
    "handlers.start": ["stepfunctions", "autoscaling"],  # autoscaling: tag mode only
    # DescribeTags (tag mode), DescribeAutoScalingInstances, DescribeLifecycleHooks; a reconciled
    # action's ListExecutions (stepfunctions) is not a first call's
    "handlers.read_hook": ["autoscaling"],
    # whatever the checks call: instance-status, the default launch check, calls EC2
    "handlers.run_checks": ["ec2"],
    "handlers.heartbeat": ["autoscaling"],  # RecordLifecycleActionHeartbeat
    "handlers.complete": ["autoscaling"],  # CompleteLifecycleAction
    "handlers.reconcile": ["autoscaling", "stepfunctions"],
    # Query of the signal table; SendTaskSuccess for each waiting round it finds
    "handlers.signal": ["dynamodb", "stepfunctions"],
}
# What each library choice costs a cold start (code timed in a fresh interpreter).
CANDIDATES = {
    "Powertools Logger + Metrics (used)": "from aws_lambda_powertools import Logger, Metrics",
    "Powertools EventBridgeEvent data class (not used)": (
        "import aws_lambda_powertools.utilities.data_classes"
    ),
    "Powertools Tracer(disabled=True), after boto3 (not used; imports aws-xray-sdk)": (
        "import boto3; t = time.perf_counter(); "
        "from aws_lambda_powertools import Tracer; Tracer(disabled=True)"
    ),
    "Powertools idempotency (not used)": "import aws_lambda_powertools.utilities.idempotency",
}
_TIMED = "import time; t = time.perf_counter(); {body}; print((time.perf_counter() - t) * 1000)"
_INIT = (
    "import importlib; importlib.import_module({module!r}); "
    "from asg_lifecycle.adapters.clients import client; [client(s) for s in {services!r}]"
)
_FLOOR = "import boto3; [boto3.client(s) for s in {services!r}]"
_IMPORT = "import importlib; importlib.import_module({module!r})"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "bench",
    }


def _once(body: str) -> float | str:
    done = subprocess.run(
        [sys.executable, "-c", _TIMED.format(body=body)],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    if done.returncode != 0:
        return "fails: " + done.stderr.strip().splitlines()[-1]
    return float(done.stdout.strip().splitlines()[-1])


def medians_ms(bodies: list[str], runs: int) -> list[float | str]:
    """The median of ``runs`` of each body, taken in turns (one of each, then again), so that
    the machine's load drifts over all of them alike and their ratio stays meaningful."""
    samples: list[list[float]] = [[] for _ in bodies]
    for _ in range(runs):
        for index, body in enumerate(bodies):
            sample = _once(body)
            if isinstance(sample, str):
                return [sample] * len(bodies)
            samples[index].append(sample)
    return [round(statistics.median(s), 1) for s in samples]


def median_ms(body: str, runs: int) -> float | str:
    return medians_ms([body], runs)[0]


# Imported by the interpreter's startup (before the probe runs): not the handler's cost.
_STARTUP = ("site", "_", "encodings", "sitecustomize")


def importtime_top(module: str, top: int = 6) -> list[dict[str, Any]]:
    """``-X importtime``: the costliest modules imported directly or one level down."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        rows.append((name, int(self_us), int(cumulative_us)))
    # Names are indented two spaces per level below the top (which has one space).
    shallow = [
        (n.strip(), c)
        for n, _, c in rows
        if len(n) - len(n.lstrip()) <= 3 and not n.strip().startswith(_STARTUP)
    ]
    shallow.sort(key=lambda row: -row[1])
    return [{"module": n, "cumulative_ms": round(c / 1000, 1)} for n, c in shallow[:top]]


def zipped_kb(root: Path, only: tuple[str, ...] = ()) -> float | None:
    if not root.is_dir():
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and (not only or relative.parts[0] in only):
                archive.write(path, str(relative))
    return round(len(buffer.getvalue()) / 1024, 1)


def run(runs: int) -> dict[str, Any]:
    load_at_start = load_average()
    handlers: dict[str, Any] = {}
    for module, services in HANDLERS.items():
        init, floor = medians_ms(
            [_INIT.format(module=module, services=services), _FLOOR.format(services=services)],
            runs,
        )
        ratio = (
            round(init / floor, 2) if isinstance(init, float) and isinstance(floor, float) else None
        )
        handlers[module] = {
            "clients": services,
            "init_ms": init,
            "floor_ms": floor,
            "ratio": ratio,
            "import_ms": median_ms(_IMPORT.format(module=module), runs),
            "importtime_top": importtime_top(module),
        }
    package = BUILD / "StartFunction"  # every function has the same CodeUri (src/)
    return {
        "runs": runs,
        "load_at_start": load_at_start,
        "handlers": handlers,
        "package_zip_kb": zipped_kb(package),
        "own_code_zip_kb": zipped_kb(package, only=("handlers", "asg_lifecycle", "orchestrator")),
        "candidates_ms": {label: median_ms(body, runs) for label, body in CANDIDATES.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args(argv)
    result = run(args.runs)
    save("imports.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
