"""What the benchmarks charge an action: list prices, each function's memory and architecture (from
``template.yaml``), and how long each Lambda invocation ran on the emulator.

Prices are us-east-1 list prices (aws.amazon.com/step-functions/pricing,
aws.amazon.com/lambda/pricing): Step Functions Standard state transitions, Lambda requests, and
Lambda duration (the first tier, by architecture), without free tiers.

Lambda duration is measured, not modelled: each handler's run on the emulator, in-process, on this
machine, with moto answering its AWS calls (no network). Lambda's CPU at 256 MB is a fraction of a
core and a real AWS call takes tens of milliseconds, so Lambda would bill more: the report says how
much the total would move if every invocation took ten times as long.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lifecycle_emulator.runtime import Invocation, LambdaRuntime

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"

USD_PER_STATE_TRANSITION = 0.025 / 1000  # Standard workflows
USD_PER_LAMBDA_REQUEST = 0.20 / 1_000_000
USD_PER_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}  # first tier


@dataclass(frozen=True)
class FunctionSize:
    """What Lambda bills a function's duration by."""

    memory_mb: int
    architecture: str

    @property
    def usd_per_ms(self) -> float:
        return self.memory_mb / 1024 / 1000 * USD_PER_GB_SECOND[self.architecture]


@cache
def function_sizes() -> dict[str, FunctionSize]:
    """Each function's memory and architecture, by logical id: its own, else the Globals'."""
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    template = yaml_parse(TEMPLATE.read_text())
    defaults = template.get("Globals", {}).get("Function", {})
    sizes = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = {**defaults, **resource.get("Properties", {})}
        sizes[logical_id] = FunctionSize(
            memory_mb=int(properties.get("MemorySize", 128)),
            architecture=str((properties.get("Architectures") or ["x86_64"])[0]),
        )
    return sizes


@contextmanager
def timed(runtime: LambdaRuntime) -> Iterator[dict[int, float]]:
    """Time every handler run of ``runtime`` while the block runs: milliseconds by
    ``id(invocation)`` (the :class:`Invocation` records stay in ``runtime.invocations``). The
    handler's own run only: not the emulator's bookkeeping around it, nor a first import."""
    durations: dict[int, float] = {}
    original = runtime.handler_of

    def handler_of(fn: Any) -> Any:
        handler = original(fn)

        def run(event: Any, context: Any) -> Any:
            record = runtime.current_invocation()
            started = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                if record is not None:
                    durations[id(record)] = (time.perf_counter() - started) * 1000

        return run

    runtime.handler_of = handler_of  # type: ignore[method-assign]
    try:
        yield durations
    finally:
        del runtime.handler_of  # the class's method again


def samples(
    invocations: Iterable[Invocation], durations: Mapping[int, float]
) -> dict[str, list[float]]:
    """The timed runs of ``invocations``, in milliseconds, by function."""
    found: dict[str, list[float]] = {}
    for invocation in invocations:
        if id(invocation) in durations:
            found.setdefault(invocation.function, []).append(durations[id(invocation)])
    return found


def median(ms: list[float]) -> float:
    """A function's typical run: the median, so that a first run (which creates boto3 clients)
    or a moment of load on the machine does not set the price."""
    return round(statistics.median(ms), 2)


def billed_ms(ms: float) -> int:
    """Lambda bills duration rounded up to the millisecond."""
    return max(1, math.ceil(ms))


def usd(
    transitions: float,
    invocations: Mapping[str, float],
    median: Mapping[str, float],
    duration_factor: float = 1.0,
) -> dict[str, float]:
    """The list price of ``transitions`` and of ``invocations`` (by function), each billed its
    function's median duration (times ``duration_factor``), in USD, by part and in all."""
    sizes = function_sizes()
    parts = {
        "transitions": transitions * USD_PER_STATE_TRANSITION,
        "requests": sum(invocations.values()) * USD_PER_LAMBDA_REQUEST,
        "duration": sum(
            count * billed_ms(median[f] * duration_factor) * sizes[f].usd_per_ms
            for f, count in invocations.items()
            if count
        ),
    }
    return {**{k: round(v, 9) for k, v in parts.items()}, "total": round(sum(parts.values()), 9)}
