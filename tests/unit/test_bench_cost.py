"""What the benchmarks charge an action (bench/cost.py): list prices, each function's memory and
architecture from the template, and the handlers' timed runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench import cost
from lifecycle_emulator.runtime import Invocation

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Architectures: [arm64]
    MemorySize: 256
Resources:
  CheckFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.run_checks.handler
      CodeUri: !Sub "src/"
  BigFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.big.handler
      MemorySize: 1024
      Architectures: [x86_64]
  Queue:
    Type: AWS::SQS::Queue
"""


@pytest.fixture
def template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    monkeypatch.setattr(cost, "TEMPLATE", path)
    cost.function_sizes.cache_clear()
    yield
    cost.function_sizes.cache_clear()


@pytest.mark.usefixtures("template")
def test_each_function_is_billed_by_its_own_size_else_the_globals() -> None:
    assert cost.function_sizes() == {
        "CheckFunction": cost.FunctionSize(256, "arm64"),
        "BigFunction": cost.FunctionSize(1024, "x86_64"),
    }


def test_the_stacks_workflow_functions_all_have_a_size() -> None:
    cost.function_sizes.cache_clear()
    sizes = cost.function_sizes()
    for function in (
        "StartFunction",
        "ReadHookFunction",
        "CheckFunction",
        "HeartbeatFunction",
        "CompleteFunction",
        "ReconcileFunction",
        "SignalFunction",
    ):
        assert sizes[function].architecture in cost.USD_PER_GB_SECOND


@pytest.mark.usefixtures("template")
def test_an_action_costs_its_transitions_requests_and_duration_at_list_prices() -> None:
    price = cost.usd(
        2000,
        {"CheckFunction": 1_000_000, "BigFunction": 0},
        {"CheckFunction": 2.2, "BigFunction": 9},
    )
    assert price["transitions"] == pytest.approx(0.05)  # $0.025 per 1,000
    assert price["requests"] == pytest.approx(0.20)  # $0.20 per million
    # 3 ms (rounded up) at 256 MB on arm64, a million times
    assert price["duration"] == pytest.approx(1e6 * 3 / 1000 * 0.25 * 0.0000133334)
    assert price["total"] == pytest.approx(0.25 + price["duration"])


@pytest.mark.usefixtures("template")
def test_signals_cost_their_table_writes_and_reads_and_the_instances_own_events() -> None:
    price = cost.usd(0, {}, {}, put_items=1_000_000, queries=1_000_000, custom_events=1_000_000)
    # on demand: $0.625 per million write request units, $0.125 per million read request units
    assert price["dynamodb"] == pytest.approx(0.625 + 0.125)
    assert price["events"] == pytest.approx(1.00)  # EventBridge custom events
    assert price["total"] == pytest.approx(1.75)
    assert cost.usd(10, {}, {})["dynamodb"] == cost.usd(10, {}, {})["events"] == 0


def test_the_physical_minimum_is_start_hook_read_heartbeats_and_completion() -> None:
    assert cost.physical_minimum(0) == {
        "state_transitions": 3,
        "lambda_invocations": {
            "StartFunction": 1,
            "ReadHookFunction": 1,
            "HeartbeatFunction": 0,
            "CompleteFunction": 1,
        },
        "aws_calls": 3,
        "autoscaling_calls": 2,
    }
    eighty = cost.physical_minimum(80)
    assert eighty["state_transitions"] == 2 * 80 + 3
    assert sum(eighty["lambda_invocations"].values()) == eighty["aws_calls"] == 83
    assert eighty["autoscaling_calls"] == 82


@pytest.mark.usefixtures("template")
def test_longer_runs_cost_more_duration_by_the_factor() -> None:
    once = cost.usd(0, {"BigFunction": 1000}, {"BigFunction": 10})
    tenfold = cost.usd(0, {"BigFunction": 1000}, {"BigFunction": 10}, duration_factor=10)
    assert once["duration"] == pytest.approx(1000 * 10 / 1000 * 1 * 0.0000166667)
    assert tenfold["duration"] == pytest.approx(10 * once["duration"])
    assert tenfold["requests"] == once["requests"]


def test_lambda_bills_whole_milliseconds_at_least_one() -> None:
    assert [cost.billed_ms(ms) for ms in (0.0, 0.2, 1.0, 1.01, 37.5)] == [1, 1, 1, 2, 38]


class _Runtime:
    """The two things :func:`bench.cost.timed` uses of the emulator's Lambda runtime."""

    def __init__(self) -> None:
        self.running: Invocation | None = None

    def handler_of(self, fn: Any) -> Any:
        def handler(event: Any, context: Any) -> Any:
            if event == "fail":
                raise RuntimeError("the function failed")
            return {"echo": event}

        return handler

    def current_invocation(self) -> Invocation | None:
        return self.running

    def invoke(self, function: str, event: Any) -> Invocation:
        self.running = Invocation(function, datetime(2026, 1, 1, tzinfo=UTC), event)
        try:
            self.running.result = self.handler_of(function)(event, None)
        except RuntimeError as exc:
            self.running.error = type(exc).__name__
        record, self.running = self.running, None
        return record


def test_every_handler_run_is_timed_failures_too_and_only_while_timing() -> None:
    runtime = _Runtime()
    before = runtime.invoke("CheckFunction", "untimed")
    with cost.timed(runtime) as durations:  # type: ignore[arg-type]
        ok = runtime.invoke("CheckFunction", "a")
        failed = runtime.invoke("CheckFunction", "fail")
        other = runtime.invoke("CompleteFunction", "b")
    after = runtime.invoke("CheckFunction", "untimed again")
    assert ok.result == {"echo": "a"}
    assert failed.error == "RuntimeError"
    assert set(durations) == {id(ok), id(failed), id(other)}
    assert all(ms >= 0 for ms in durations.values())
    assert "handler_of" not in vars(runtime), "the runtime's own method is back"
    samples = cost.samples([before, ok, failed, other, after], durations)
    assert {f: len(ms) for f, ms in samples.items()} == {"CheckFunction": 2, "CompleteFunction": 1}


def test_a_functions_price_is_its_median_run() -> None:
    assert cost.median([3.0, 100.0, 4.0]) == 4.0
    assert cost.median([2.0, 3.0]) == 2.5
