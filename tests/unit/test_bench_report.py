"""What bench.report writes from the benchmarks' results: targets met or missed as the figures
say, the previous release beside this one, the commands and the machine named, and results of
another definition refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import actions as bench_actions
from bench import definition, report
from bench.actions import price
from bench.results import previous_release

MACHINE = "CPython 3.11.7, x86_64, 2 CPUs, Linux 6.18.44"
MEDIAN_MS = {
    "StartFunction": 10.0,
    "ReadHookFunction": 8.0,
    "CheckFunction": 4.0,
    "HeartbeatFunction": 3.0,
    "CompleteFunction": 3.0,
}


def _row(
    check_seconds: int,
    heartbeat_timeout: int,
    rounds: int,
    heartbeats: int,
    minimum: int,
    *,
    latency: float | None = 10.0,
    once: int = report.ONCE_PER_ACTION,
    poll: int = 30,
) -> dict[str, Any]:
    transitions = 3 * rounds + 2 * heartbeats + once
    cell = {
        "check_seconds": check_seconds,
        "heartbeat_timeout": heartbeat_timeout,
        "poll_seconds": poll,
        "result": "CONTINUE" if latency is not None else "ABANDON",
        "status": "completed",
        "possible": latency is not None,
        "held_seconds": check_seconds + (latency or 0),
        "rounds": rounds,
        "heartbeats": heartbeats,
        "heartbeats_minimum": minimum,
        "heartbeats_within_one": bench_actions.within_one(heartbeats, minimum),
        "state_transitions": transitions,
        "transitions_by_state": {
            "Read lifecycle hook": 1,
            "Run checks": rounds,
            "Record lifecycle action heartbeat": heartbeats,
            "Other": transitions - rounds - heartbeats - 1,
        },
        "lambda_invocations": {
            "StartFunction": 1,
            "ReadHookFunction": 1,
            "CheckFunction": rounds,
            "HeartbeatFunction": heartbeats,
            "CompleteFunction": 1,
        },
        "autoscaling_calls": 4 + heartbeats,
        "latency_seconds": latency,
    }
    return price(cell, MEDIAN_MS)


def _actions(matrix: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "matrix": matrix,
        "ready_at_first_round": _row(0, 300, 1, 0, 0, latency=0.0),
        "readiness_signal_poll_5": _row(120, 300, 25, 0, 0, latency=1.0, poll=5),
        "lambda_median_ms": MEDIAN_MS,
        "lambda_samples": dict.fromkeys(MEDIAN_MS, 11),
        "function_sizes": {f: {"memory_mb": 256, "architecture": "arm64"} for f in MEDIAN_MS},
        "definition": definition.digest(),
        "machine": MACHINE,
        "load_at_start": [1.5, 1.0, 0.5],
        "load_at_end": [2.5, 1.0, 0.5],
    }


def _imports() -> dict[str, Any]:
    handler = {
        "clients": ["autoscaling"],
        "init_ms": 300.0,
        "floor_ms": 250.0,
        "ratio": 1.2,
        "import_ms": 50.0,
        "importtime_top": [{"module": "x", "cumulative_ms": 1.0}],
    }
    return {
        "runs": 11,
        "handlers": {
            "handlers.heartbeat": handler,
            "handlers.complete": {**handler, "init_ms": 400.0, "ratio": 1.6},
        },
        "package_zip_kb": 1000.0,
        "own_code_zip_kb": 70.0,
        "candidates_ms": {"Powertools Logger + Metrics (used)": 40.0},
        "machine": MACHINE,
        "load_at_start": [1.0, 1.0, 1.0],
        "load_at_end": [1.0, 1.0, 1.0],
    }


def _scale() -> dict[str, Any]:
    return {
        "instances": 1000,
        "actions": 2000,
        "wall_seconds": 900.0,
        "peak_rss_mb": 1200,
        "completed_exactly_once": True,
        "completions": 2000,
        "heartbeats": 0,
        "heartbeats_minimum": 0,
        "heartbeats_within_one": 2000,
        "autoscaling_calls_per_second": {"peak": 4000, "mean_busy": 300.0},
        "aws_calls_per_action": 11.0,
        "lambda_invocations_per_action": 6.5,
        "lambda_invocations_per_action_by_function": {
            "CheckFunction": 3.5,
            "StartFunction": 1.0,
            "CompleteFunction": 1.0,
            "ReadHookFunction": 1.0,
        },
        "state_transitions_per_action": 14.5,
        "usd_per_1000_actions": {
            "transitions": 0.36,
            "requests": 0.0013,
            "duration": 0.0001,
            "total": 0.3614,
        },
        "reconciler": {"invocations": 7, "median_ms": 5.0},
        "definition": definition.digest(),
        "machine": MACHINE,
        "load_at_start": [1.0, 1.0, 1.0],
        "load_at_end": [1.0, 1.0, 1.0],
    }


def _render(matrix: list[dict[str, Any]]) -> str:
    return report.render(_imports(), _actions(matrix), _scale(), previous_release())


def test_each_cell_says_whether_it_meets_the_heartbeat_target() -> None:
    met = _render([_row(60, 300, 3, 0, 0), _row(1800, 60, 74, 37, 36)])
    assert "met in every cell (2 of 2; the largest difference +1, 30 min/60 s)" in met
    assert "| 37 / 36 | ✓ |" in met

    missed = _render([_row(60, 300, 3, 0, 0), _row(1800, 60, 74, 38, 36)])
    assert "| 38 / 36 | ✗ |" in missed
    assert "missed in 1 of 2 cells (30 min/60 s: 38 sent, minimum 36)" in missed


def test_the_previous_release_is_beside_each_cell_it_measured() -> None:
    before = {
        (r["check_seconds"], r["heartbeat_timeout"]): r
        for r in previous_release()["actions"]["matrix"]
    }
    old = before[(60, 300)]
    text = _render([_row(60, 300, 3, 0, 0)])
    now = 3 * 3 + report.ONCE_PER_ACTION
    ratio = now / old["state_transitions"]
    assert f"| {now} / {old['state_transitions']} ({ratio:.2f}) |" in text
    assert f"are {ratio:.2f} (1 min/300 s) to {ratio:.2f} (1 min/300 s) times" in text
    assert "fewer rounds (issue 20)" in text


def test_the_transitions_are_explained_by_rounds_and_heartbeats_only_when_they_add_up() -> None:
    shaped = _render([_row(60, 300, 3, 0, 0), _row(1800, 60, 74, 36, 36)])
    assert f"3 x rounds + 2 x heartbeats + {report.ONCE_PER_ACTION}*" in shaped
    unshaped = _render([_row(60, 300, 3, 0, 0), _row(1800, 60, 74, 36, 36, once=9)])
    assert "do not share one shape" in unshaped
    assert "3 x rounds" not in unshaped


def test_every_section_names_its_command_machine_and_load() -> None:
    text = _render([_row(60, 300, 3, 0, 0), _row(21_600, 60, 241, 119, 119, latency=None)])
    assert f"`python -m bench.imports --runs 11` on {MACHINE}" in text
    assert f"`python -m bench.actions` on {MACHINE}" in text
    assert f"`python -m bench.scale --instances 1000` on {MACHINE}" in text
    assert "1-minute load average 1.5 at the start, 2.5 at the end; 15-minute 0.5" in text
    assert "missed by `handlers.complete`" in text  # init / floor 1.6 > 1.25
    assert "n/a (gave up)" in text
    assert "| True (2,000 completions) | 2,000 of 2,000" in text
    assert "Start 1, ReadHook 1, Check 3.5, Complete 1" in text  # in the order they are called


def test_the_previous_release_covers_every_cell_bench_actions_runs() -> None:
    previous = previous_release()
    cells = {
        (r["check_seconds"], r["heartbeat_timeout"], r["poll_seconds"])
        for r in previous["actions"]["matrix"]
    }
    assert cells == {
        (c, h, bench_actions.POLL)
        for c in bench_actions.CHECK_SECONDS
        for h in bench_actions.HEARTBEAT_TIMEOUTS
    }
    first = previous["actions"]["ready_at_first_round"]
    signal = previous["actions"]["readiness_signal_poll_5"]
    assert (first["check_seconds"], first["heartbeat_timeout"]) == (0, 300)
    assert (signal["check_seconds"], signal["poll_seconds"]) == (120, 5)
    assert previous["definition"] != definition.digest(), "the previous release's definition"


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    found: dict[str, Any] = {
        "imports.json": _imports(),
        "actions.json": _actions(
            [_row(60, 300, 3, 0, 0), _row(1800, 60, 74, 36, 36, latency=None)]
        ),
        "scale-1000.json": _scale(),
    }
    monkeypatch.setattr(report, "load", found.get)
    monkeypatch.setattr(report, "DOCS", tmp_path)
    return found


def test_the_report_and_its_plot_are_written_from_the_results(
    results: dict[str, Any], tmp_path: Path
) -> None:
    assert report.main([]) == 0
    assert (tmp_path / "performance-actions.png").stat().st_size > 10_000
    assert "## Scale: 1,000 instances" in (tmp_path / "PERFORMANCE.md").read_text()


def test_results_of_another_definition_are_refused(results: dict[str, Any], tmp_path: Path) -> None:
    results["scale-1000.json"]["definition"] = "0000000000000000"
    assert report.main([]) == 2
    assert not (tmp_path / "PERFORMANCE.md").exists()


def test_missing_results_are_refused(results: dict[str, Any], tmp_path: Path) -> None:
    del results["imports.json"]
    assert report.main([]) == 2
    assert not (tmp_path / "PERFORMANCE.md").exists()
