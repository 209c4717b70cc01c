"""What bench.report writes from the benchmarks' results: targets met or missed as the figures
say, each cell without its signal beside its run with it, the previous release beside this one,
the commands and the machine named, and results of another definition refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import actions as bench_actions
from bench import cost, definition, report
from bench.actions import price
from bench.results import previous_release

MACHINE = "CPython 3.11.7, x86_64, 2 CPUs, Linux 6.18.44"
MEDIAN_MS = {
    "StartFunction": 10.0,
    "ReadHookFunction": 8.0,
    "CheckFunction": 4.0,
    "HeartbeatFunction": 3.0,
    "CompleteFunction": 3.0,
    "SignalFunction": 4.0,
}


def _row(
    transition: str,
    cell: tuple[int, int],  # checks take (s), HeartbeatTimeout (s)
    rounds: int,
    heartbeats: int,
    minimum: int,
    *,
    signal: bool = False,
    latency: float | None = 10.0,
    from_signal: float | None = None,
    waits_signalled: int | None = None,
    once: int = report.ONCE_PER_ACTION,
    poll: int = 30,
    max_poll: int = 30,
) -> dict[str, Any]:
    check_seconds, heartbeat_timeout = cell
    transitions = 3 * rounds + 2 * heartbeats + once
    if signal and from_signal is None and latency is not None:
        from_signal = 0.0
    signalled = (1 if from_signal == 0 else 0) if waits_signalled is None else waits_signalled
    invocations = {
        "StartFunction": 1,
        "ReadHookFunction": 1,
        "CheckFunction": rounds,
        "HeartbeatFunction": heartbeats,
        "CompleteFunction": 1,
        **({"SignalFunction": 1} if signal and from_signal is not None else {}),
    }
    row = {
        "transition": transition,
        "signal": signal,
        "check_seconds": check_seconds,
        "heartbeat_timeout": heartbeat_timeout,
        "poll_seconds": poll,
        "max_poll_seconds": max_poll,
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
        "lambda_invocations": invocations,
        "autoscaling_calls": 4 + heartbeats,
        "dynamodb_put_items": rounds + heartbeats - 1,
        "dynamodb_queries": 1 if "SignalFunction" in invocations else 0,
        "send_task_success": signalled,
        "waits_signalled": signalled,
        "custom_events": 1 if signal and transition == "launch" else 0,
        "latency_seconds": (from_signal if from_signal is not None else latency)
        if latency is not None
        else None,
        "latency_from_signal_seconds": from_signal if latency is not None else None,
        "minimum": {"held_seconds": check_seconds, **cost.physical_minimum(minimum)},
    }
    return price(row, MEDIAN_MS)


def _pair(transition: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """A cell without its signal and with it (the signal ends its last wait, unless told)."""
    signalled = {k: kwargs.pop(k) for k in ("from_signal", "waits_signalled") if k in kwargs}
    return [
        _row(transition, *args, **kwargs),
        _row(transition, *args, signal=True, **{**kwargs, **signalled}),
    ]


DRAIN = report.DRAIN_CELL


def _actions(
    launch: list[dict[str, Any]] | None = None,
    terminate: list[dict[str, Any]] | None = None,
    signalled_launch: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "launch": launch
        if launch is not None
        else [*_pair("launch", (60, 300), 3, 0, 0), *_pair("launch", (1800, 60), 74, 36, 36)],
        "terminate": terminate
        if terminate is not None
        else _pair("terminate", DRAIN, 88, 80, 79, max_poll=300),
        "signalled_launch": signalled_launch
        if signalled_launch is not None
        else _pair("launch", (120, 300), 5, 0, 0, latency=6.0),
        "launch_max_poll": _pair("launch", (1800, 300), 14, 6, 6, max_poll=300),
        "ready_at_first_round": _row("launch", (0, 300), 1, 0, 0, latency=0.0),
        "poll_5": _row("launch", (120, 300), 25, 0, 0, latency=1.0, poll=5),
        "lambda_median_ms": MEDIAN_MS,
        "lambda_samples": dict.fromkeys(MEDIAN_MS, 11),
        "function_sizes": {f: {"memory_mb": 256, "architecture": "arm64"} for f in MEDIAN_MS},
        "definition": definition.digest(),
        "machine": MACHINE,
        "load_at_start": [1.5, 1.0, 0.5],
        "load_at_end": [2.5, 1.0, 0.5],
    }


def _imports(complete_ratio: float = 1.6) -> dict[str, Any]:
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
            "handlers.complete": {**handler, "init_ms": 400.0, "ratio": complete_ratio},
            "handlers.signal": {**handler, "clients": ["dynamodb", "stepfunctions"]},
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
        "dynamodb_put_items_per_action": 2.5,
        "usd_per_1000_actions": {
            "transitions": 0.36,
            "requests": 0.0013,
            "duration": 0.0001,
            "dynamodb": 0.0016,
            "events": 0.0,
            "total": 0.363,
        },
        "reconciler": {"invocations": 7, "median_ms": 5.0},
        "definition": definition.digest(),
        "machine": MACHINE,
        "load_at_start": [1.0, 1.0, 1.0],
        "load_at_end": [1.0, 1.0, 1.0],
    }


def _render(actions: dict[str, Any] | None = None, imports: dict[str, Any] | None = None) -> str:
    return report.render(imports or _imports(), actions or _actions(), _scale(), previous_release())


def _target(text: str, starts: str) -> str:
    (line,) = [row for row in text.splitlines() if row.startswith(starts)]
    return line


def test_the_drain_target_is_marked_from_its_transitions_and_heartbeats() -> None:
    met = _render()
    row = _target(met, "| A 6 h terminate drain at HeartbeatTimeout 300 s")
    transitions = 3 * 88 + 2 * 80 + report.ONCE_PER_ACTION  # 428
    assert f"| {transitions} with its signal, {transitions} without |" in row
    assert row.endswith("| ✓ met |")
    beats = _target(met, "| The same drain: heartbeats within one of the minimum")
    assert "80 sent / 79 minimum with its signal" in beats
    assert beats.endswith("| ✓ met |")

    over = _render(_actions(terminate=_pair("terminate", DRAIN, 100, 82, 79, max_poll=300)))
    row = _target(over, "| A 6 h terminate drain at HeartbeatTimeout 300 s")
    assert "| 468 with its signal, 468 without |" in row  # 3 x 100 + 2 x 82 + 4
    assert row.endswith("| ✗ missed |")
    assert _target(over, "| The same drain: heartbeats").endswith("| ✗ missed |")  # 82 vs 79


def test_the_previous_release_drain_is_beside_the_target() -> None:
    before = {
        (r["check_seconds"], r["heartbeat_timeout"]): r
        for r in previous_release()["actions"]["terminate"]
    }[DRAIN]
    row = _target(_render(), "| A 6 h terminate drain at HeartbeatTimeout 300 s")
    assert f"| {before['state_transitions']} |" in row


@pytest.mark.parametrize(
    ("from_signal", "mark"), [(0.0, "✓ met"), (2.0, "✓ met"), (3.0, "✗ missed")]
)
def test_the_signalled_launch_target_is_marked_from_its_latency_after_the_signal(
    from_signal: float, mark: str
) -> None:
    launch = _pair("launch", (120, 300), 5, 0, 0, latency=6.0, from_signal=from_signal)
    text = _render(_actions(signalled_launch=launch))
    row = _target(text, "| A launch whose instance signals ready after 2 min")
    assert f"| {from_signal:.0f} s after the signal |" in row
    assert row.endswith(f"| {mark} |")
    without = _target(text, "| The same launch without a signal")
    assert "| 6 s |" in without
    assert without.endswith("| ✓ met |")


def test_a_slow_launch_without_a_signal_misses_the_poll_target() -> None:
    slow = _pair("launch", (120, 300), 5, 0, 0, latency=31.0)
    text = _render(_actions(signalled_launch=slow))
    assert _target(text, "| The same launch without a signal").endswith("| ✗ missed |")


def test_the_cold_start_target_names_each_miss() -> None:
    missed = _target(_render(), "| Every handler's cold init within 1.25x")
    assert "missed by 1 of 3: `handlers.complete` 1.6" in missed
    assert missed.endswith("| ✗ missed |")
    met = _target(_render(imports=_imports(1.25)), "| Every handler's cold init within 1.25x")
    assert met.endswith("| ✓ met |")
    # a handler the previous release did not have
    assert (
        "| `handlers.signal` | dynamodb, stepfunctions | 300.0 | 250.0 | 1.2 | new |" in _render()
    )


def test_each_cell_shows_its_run_without_the_signal_beside_its_run_with_it() -> None:
    text = _render()
    transitions = 3 * 88 + 2 * 80 + report.ONCE_PER_ACTION
    (row,) = [r for r in text.splitlines() if r.startswith("| 6 h | 300 s | CONTINUE | 88 / 88")]
    assert f"| {transitions} / {transitions} |" in row
    assert "| 80 (79) / 80 (79) | ✓ |" in row
    assert "| 10 s / 0 s |" in row  # from ready without; from the signal with
    floor = cost.physical_minimum(79)
    assert f"| {floor['state_transitions']} / 82 / 81 / " in row


def test_each_cell_says_whether_it_meets_the_heartbeat_target() -> None:
    met = _render()
    assert "met in every run (6 of 6; the largest difference +1, terminate 6 h/300 s)" in met

    missed = _render(
        _actions(
            launch=[*_pair("launch", (60, 300), 3, 0, 0), *_pair("launch", (1800, 60), 74, 38, 36)]
        )
    )
    assert "| 38 (36) / 38 (36) | ✗ |" in missed
    assert "missed in 2 of 6 runs (launch 30 min/60 s: 38 sent, minimum 36, " in missed


def test_a_signal_that_ended_no_wait_is_told() -> None:
    lost = _pair("launch", (60, 60), 3, 2, 1, latency=11.0, from_signal=11.0, waits_signalled=0)
    text = _render(_actions(launch=lost))
    assert "A signal ended no wait in launch 1 min/60 s (no wait was open to it" in text
    assert "completion 11 s after the signal)" in text
    assert "(lost: no wait took it)" in text

    rounds = report.SIGNAL_ROUNDS + 20
    late = _pair(
        "launch", (21_600, 3600), rounds, 6, 6, latency=1.0, from_signal=1.0, waits_signalled=0
    )
    text = _render(_actions(launch=late))
    assert f"launch 6 h/3600 s ({rounds} rounds: past `policy.SIGNAL_ROUNDS`" in text


def test_the_previous_release_is_beside_each_cell_it_measured() -> None:
    before = {
        (r["check_seconds"], r["heartbeat_timeout"]): r
        for r in previous_release()["actions"]["launch"]
    }
    old = before[(60, 300)]
    text = _render()
    now = 3 * 3 + report.ONCE_PER_ACTION
    ratio = now / old["state_transitions"]
    assert f"| {old['state_transitions']} / {now} / {now} ({ratio:.2f}) |" in text
    assert "### Beside the previous release" in text
    assert f"commit `{previous_release()['release'][:7]}`" in text


def test_the_transitions_are_explained_by_rounds_and_heartbeats_only_when_they_add_up() -> None:
    shaped = _render()
    assert f"3 x rounds + 2 x heartbeats + {report.ONCE_PER_ACTION}*" in shaped
    odd = [*_pair("launch", (60, 300), 3, 0, 0), *_pair("launch", (1800, 60), 74, 36, 36, once=9)]
    unshaped = _render(_actions(launch=odd))
    assert "do not share one shape" in unshaped
    assert "3 x rounds" not in unshaped


def test_every_section_names_its_command_machine_and_load() -> None:
    text = _render(
        _actions(
            launch=[
                *_pair("launch", (60, 300), 3, 0, 0),
                *_pair("launch", (21_600, 60), 241, 119, 119, latency=None),
            ]
        )
    )
    assert f"`python -m bench.imports --runs 11` on {MACHINE}" in text
    assert f"`python -m bench.actions` on {MACHINE}" in text
    assert f"`python -m bench.scale --instances 1000` on {MACHINE}" in text
    assert "1-minute load average 1.5 at the start, 2.5 at the end; 15-minute 0.5" in text
    assert "missed by `handlers.complete`" in text  # init / floor 1.6 > 1.25
    assert "n/a (gave up)" in text
    assert "| True (2,000 completions) | 2,000 of 2,000" in text
    assert "Start 1, ReadHook 1, Check 3.5, Complete 1" in text  # in the order they are called
    assert "DynamoDB PutItem per action: 2.5" in text


def test_the_previous_release_covers_every_cell_bench_actions_runs() -> None:
    previous = previous_release()
    for kind in ("launch", "terminate"):
        cells = {
            (r["check_seconds"], r["heartbeat_timeout"], r["poll_seconds"])
            for r in previous["actions"][kind]
        }
        assert cells == {
            (c, h, bench_actions.POLL)
            for c in bench_actions.CHECK_SECONDS
            for h in bench_actions.HEARTBEAT_TIMEOUTS
        }
        assert all(r["transition"] == kind for r in previous["actions"][kind])
    first = previous["actions"]["ready_at_first_round"]
    poll_5 = previous["actions"]["poll_5"]
    assert (first["check_seconds"], first["heartbeat_timeout"]) == (0, 300)
    assert (poll_5["check_seconds"], poll_5["poll_seconds"]) == (120, 5)
    assert previous["definition"] != definition.digest(), "the previous release's definition"
    assert set(previous["scale"]["usd_per_1000_actions"]) >= {"transitions", "requests", "total"}


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    found: dict[str, Any] = {
        "imports.json": _imports(),
        "actions.json": _actions(),
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
    text = (tmp_path / "PERFORMANCE.md").read_text()
    assert "## Targets" in text
    assert "## Scale: 1,000 instances" in text


def test_results_of_another_definition_are_refused(results: dict[str, Any], tmp_path: Path) -> None:
    results["scale-1000.json"]["definition"] = "0000000000000000"
    assert report.main([]) == 2
    assert not (tmp_path / "PERFORMANCE.md").exists()


def test_missing_results_are_refused(results: dict[str, Any], tmp_path: Path) -> None:
    del results["imports.json"]
    assert report.main([]) == 2
    assert not (tmp_path / "PERFORMANCE.md").exists()
