"""What the benchmarks charge an action: list prices, each function's memory and architecture (from
``template.yaml``), and how long each Lambda invocation ran on the emulator.

Prices are us-east-1 list prices, without free tiers (each constant below names its page):
Step Functions Standard state transitions, Lambda requests, Lambda duration (the first tier, by
architecture) and, for signals (issue 20), DynamoDB on-demand requests to ``SignalTable`` and
EventBridge custom events (the instance's own "Run checks now"). Step Functions bills no API
request (``SendTaskSuccess``, ``StartExecution``) and EventBridge no AWS service event (Run
Command, tag, Parameter Store, ECS events on the default bus), nor delivery to a Lambda target.

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

# aws.amazon.com/step-functions/pricing/: Standard workflows, per state transition.
USD_PER_STATE_TRANSITION = 0.025 / 1000
# aws.amazon.com/lambda/pricing/: per request, and per GB-second (first tier) by architecture.
USD_PER_LAMBDA_REQUEST = 0.20 / 1_000_000
USD_PER_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
# aws.amazon.com/dynamodb/pricing/on-demand/ (US East (N. Virginia), Standard table class): per
# write request unit and per read request unit, as listed since AWS halved on-demand throughput
# prices on 1 November 2024 (AWS What's New, 14 November 2024); written down here in December
# 2026 (not fetched by the benchmark: check the page before quoting a figure as today's).
USD_PER_WRITE_REQUEST_UNIT = 0.625 / 1_000_000
USD_PER_READ_REQUEST_UNIT = 0.125 / 1_000_000
# One wait's PutItem: the instance id, the hook name, the task token and three numbers, taken to
# be under 1 KB ("a standard write request unit can write an item up to 1 KB"): 1 WRU (an
# assumption: the emulator's tokens are not AWS's; a token and hook name over 1 KB together
# would make it 2, doubling this part, still a small one). A signal's Query: a
# strongly consistent read of the instance's items (one a hook, each under 1 KB; "a strongly
# consistent read request of up to 4 KB requires one read request unit"): 1 RRU.
WRITE_UNITS_PER_WAIT = 1
READ_UNITS_PER_QUERY = 1
# aws.amazon.com/eventbridge/pricing/: custom events (PutEvents), per event of up to 64 KB;
# AWS service events on the default bus are free.
USD_PER_CUSTOM_EVENT = 1.00 / 1_000_000


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
    *,
    put_items: float = 0,
    queries: float = 0,
    custom_events: float = 0,
) -> dict[str, float]:
    """The list price of ``transitions``, of ``invocations`` (by function), each billed its
    function's median duration (times ``duration_factor``), of the signal table's ``put_items``
    (one a wait) and ``queries`` (one a signal, per instance it names), and of ``custom_events``
    put on EventBridge, in USD, by part and in all."""
    sizes = function_sizes()
    parts = {
        "transitions": transitions * USD_PER_STATE_TRANSITION,
        "requests": sum(invocations.values()) * USD_PER_LAMBDA_REQUEST,
        "duration": sum(
            count * billed_ms(median[f] * duration_factor) * sizes[f].usd_per_ms
            for f, count in invocations.items()
            if count
        ),
        "dynamodb": put_items * WRITE_UNITS_PER_WAIT * USD_PER_WRITE_REQUEST_UNIT
        + queries * READ_UNITS_PER_QUERY * USD_PER_READ_REQUEST_UNIT,
        "events": custom_events * USD_PER_CUSTOM_EVENT,
    }
    return {**{k: round(v, 9) for k, v in parts.items()}, "total": round(sum(parts.values()), 9)}


def physical_minimum(heartbeats: int) -> dict[str, Any]:
    """What any orchestrator of one action must do (issue 20's floor): start, read the hook,
    send the fewest heartbeats that keep it (``heartbeats``: ``policy.minimum_heartbeats``) and
    complete it; no check, no round.

    As calls: one StartExecution, one DescribeLifecycleHooks (the hook's HeartbeatTimeout and
    metadata), a RecordLifecycleActionHeartbeat each and one CompleteLifecycleAction; each made by
    a Lambda function as here (the event's target, the hook read, a heartbeat, the completion). As
    a Standard workflow: a Task for the hook read, and a Wait and a Task before each heartbeat
    and the completion: ``2 x heartbeats + 3`` transitions. Latency: none (the completion the
    moment the checks would pass)."""
    return {
        "state_transitions": 2 * heartbeats + 3,
        "lambda_invocations": {
            "StartFunction": 1,
            "ReadHookFunction": 1,
            "HeartbeatFunction": heartbeats,
            "CompleteFunction": 1,
        },
        "aws_calls": heartbeats + 3,
        "autoscaling_calls": heartbeats + 2,
    }
