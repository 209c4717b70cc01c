"""Write ``docs/PERFORMANCE.md`` (and its plot) from the benchmarks' results.

    python -m bench.report

Reads ``bench/results/{imports,actions,scale-<N>}.json`` as the last ``make bench`` left them, and
the previous release's figures (``bench/previous-release.json``); every figure in the report names
the command that produced it and the machine it ran on. Nothing here measures anything: each
target's mark is computed from the figures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asg_lifecycle.policy import SIGNAL_ROUNDS, SIGNAL_SPACING_SECONDS, poll_jitter_span
from bench.actions import DRAIN_DOCUMENT, LAUNCH_MAX_POLL, POLL, SIGNAL_READY_AFTER
from bench.cost import (
    USD_PER_CUSTOM_EVENT,
    USD_PER_GB_SECOND,
    USD_PER_LAMBDA_REQUEST,
    USD_PER_READ_REQUEST_UNIT,
    USD_PER_STATE_TRANSITION,
    USD_PER_WRITE_REQUEST_UNIT,
    FunctionSize,
    billed_ms,
)
from bench.definition import digest
from bench.results import load, previous_release

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Issue 20's targets (benchmark figures, not test assertions).
COLD_START_TARGET = 1.25  # every handler's cold init within this many times the boto3 floor
SIGNAL_LATENCY_TARGET = 2.0  # virtual s from a launch's signal to CompleteLifecycleAction
DRAIN_CELL = (21_600, 300)  # the 6-hour terminate drain at HeartbeatTimeout 300
DRAIN_TRANSITIONS_TARGET = 440  # its state transitions (a quarter of the release before)
# The workflow's functions in the order an action calls them.
FUNCTIONS = (
    "StartFunction",
    "ReadHookFunction",
    "CheckFunction",
    "HeartbeatFunction",
    "CompleteFunction",
    "SignalFunction",
)
SHORT = {f: f.removesuffix("Function") for f in FUNCTIONS}
# Transitions an action spends once besides its rounds and heartbeats: the first Choice, the hook
# read and its Choice, the completion and Done, less the first round's wait (it has none).
ONCE_PER_ACTION = 4
KINDS = {"launch": "Launches", "terminate": "Terminate drains"}

Row = dict[str, Any]
Pair = tuple[Row, Row]  # (without its signal, with it)


def _duration(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min"


def _key(row: Row) -> tuple[int, int]:
    return (row["check_seconds"], row["heartbeat_timeout"])


def _cell(row: Row) -> str:
    return f"{_duration(row['check_seconds'])}/{row['heartbeat_timeout']} s"


def _load(data: dict[str, Any]) -> str:
    start, end = data.get("load_at_start"), data.get("load_at_end")
    if not start or not end:
        return "load not recorded"
    return (
        f"1-minute load average {start[0]} at the start, {end[0]} at the end; "
        f"15-minute {end[2]} at the end"
    )


def _ratio(now: float, before: float) -> str:
    return f"{now / before:.2f}" if before else "n/a"


def _usd_1000(usd: float) -> str:
    return f"{usd * 1000:.2f}"


def _mark(ok: bool) -> str:
    return "✓ met" if ok else "✗ missed"


def _latency(seconds: float | None) -> str:
    return "n/a (gave up)" if seconds is None else f"{seconds:.0f} s"


def _invocations(row: Row) -> int:
    return int(sum(row["lambda_invocations"].values()))


def paired(rows: list[Row]) -> list[Pair]:
    """Each cell's run without its signal beside its run with it, in the rows' order."""
    without = {_key(r): r for r in rows if not r["signal"]}
    signalled = {_key(r): r for r in rows if r["signal"]}
    keys = dict.fromkeys(_key(r) for r in rows)
    return [(without[k], signalled[k]) for k in keys if k in without and k in signalled]


def _previous_by_cell(previous: dict[str, Any], kind: str) -> dict[tuple[int, int], Row]:
    return {_key(r): r for r in previous["actions"].get(kind, [])}


def _all_rows(data: dict[str, Any]) -> list[Row]:
    return [
        *data["launch"],
        *data["terminate"],
        *data["signalled_launch"],
        *data["launch_max_poll"],
        data["ready_at_first_round"],
        data["poll_5"],
    ]


def heartbeat_misses(rows: list[Row]) -> list[Row]:
    return [r for r in rows if not r["heartbeats_within_one"]]


def cold_start_misses(data: dict[str, Any]) -> list[str]:
    return [
        m
        for m, r in data["handlers"].items()
        if r["ratio"] is not None and r["ratio"] > COLD_START_TARGET
    ]


# --- targets --------------------------------------------------------------------------------
def drain_pair(actions: dict[str, Any]) -> Pair | None:
    return next((p for p in paired(actions["terminate"]) if _key(p[0]) == DRAIN_CELL), None)


def targets(
    imports: dict[str, Any],
    actions: dict[str, Any],
    scale_result: dict[str, Any],
    previous: dict[str, Any],
) -> list[str]:
    """Issue 20's targets, each marked from the figures below it."""
    lines = [
        "## Targets",
        "",
        "Issue 20's targets, each marked from this run's figures (the sections below have them "
        "all, with the commands that measured them). Latencies are virtual time on the "
        "emulator.",
        "",
        "| target | this release | previous release | |",
        "|---|---|---|---|",
    ]
    for without, signalled in paired(actions["signalled_launch"])[:1]:
        from_signal = signalled["latency_from_signal_seconds"]
        lines.append(
            f"| A launch whose instance signals ready after "
            f"{_duration(signalled['check_seconds'])} (HeartbeatTimeout "
            f"{signalled['heartbeat_timeout']} s): CompleteLifecycleAction at most "
            f"{SIGNAL_LATENCY_TARGET:.0f} s after the signal | "
            + (
                "no signal reached a waiting round"
                if from_signal is None
                else f"{from_signal:.0f} s after the signal"
            )
            + " | no signals (a round every poll) | "
            + _mark(from_signal is not None and from_signal <= SIGNAL_LATENCY_TARGET)
            + " |"
        )
        latency = without["latency_seconds"]
        lines.append(
            f"| The same launch without a signal: at most one poll interval ({POLL} s) after it "
            f"is ready | {_latency(latency)} | at most one poll interval | "
            + _mark(latency is not None and latency <= POLL)
            + " |"
        )
    unsignalled = [w for w, _ in paired(actions["launch"]) if w["latency_seconds"] is not None]
    if unsignalled:
        slowest = max(unsignalled, key=lambda r: r["latency_seconds"])
        old_worst = max(
            (
                r["latency_seconds"]
                for r in previous["actions"]["launch"]
                if r["latency_seconds"] is not None
            ),
            default=None,
        )
        lines.append(
            f"| Every launch of the matrix below without a signal: at most one poll interval "
            f"({POLL} s) after it is ready | worst {_latency(slowest['latency_seconds'])} "
            f"({_cell(slowest)}) | "
            + ("not measured" if old_worst is None else f"worst {_latency(old_worst)}")
            + f" | {_mark(slowest['latency_seconds'] <= POLL)} |"
        )
    drain = drain_pair(actions)
    if drain is not None:
        before = _previous_by_cell(previous, "terminate").get(DRAIN_CELL)
        old = f"{before['state_transitions']}" if before else "not measured"
        (plain, drained) = drain
        lines.append(
            f"| A {_duration(DRAIN_CELL[0])} terminate drain at HeartbeatTimeout {DRAIN_CELL[1]} "
            f"s, the stack's terminate defaults (poll {drained['poll_seconds']} s, "
            f"TerminateMaxPollSeconds {drained['max_poll_seconds']}): at most "
            f"{DRAIN_TRANSITIONS_TARGET} state transitions | {drained['state_transitions']} with "
            f"its signal, {plain['state_transitions']} without | {old} | "
            + _mark(
                max(drained["state_transitions"], plain["state_transitions"])
                <= DRAIN_TRANSITIONS_TARGET
            )
            + " |"
        )
        old_beats = (
            f"{before['heartbeats']} / {before['heartbeats_minimum']}" if before else "not measured"
        )
        lines.append(
            "| The same drain: heartbeats within one of the minimum | "
            f"{drained['heartbeats']} sent / {drained['heartbeats_minimum']} minimum with its "
            f"signal, {plain['heartbeats']} / {plain['heartbeats_minimum']} without | "
            f"{old_beats} | "
            + _mark(drained["heartbeats_within_one"] and plain["heartbeats_within_one"])
            + " |"
        )
    misses = cold_start_misses(imports)
    worst = max(
        (r for r in imports["handlers"].items() if r[1]["ratio"] is not None),
        key=lambda item: item[1]["ratio"],
        default=None,
    )
    old_misses = [
        m
        for m, r in previous["imports"]["handlers"].items()
        if r["ratio"] is not None and r["ratio"] > COLD_START_TARGET
    ]
    lines.append(
        f"| Every handler's cold init within {COLD_START_TARGET}x the boto3 floor | "
        + (
            f"missed by {len(misses)} of {len(imports['handlers'])}: "
            + ", ".join(f"`{m}` {imports['handlers'][m]['ratio']}" for m in misses)
            if misses
            else f"{len(imports['handlers'])} of {len(imports['handlers'])}"
            + (f" (highest: `{worst[0]}` {worst[1]['ratio']})" if worst else "")
        )
        + " | "
        + (
            f"missed by {len(old_misses)} of {len(previous['imports']['handlers'])}"
            if old_misses
            else "met"
        )
        + f" | {_mark(not misses)} |"
    )
    lines.append(
        f"| The {scale_result['instances']:,}-instance run completes every action exactly once "
        f"| {scale_result['completed_exactly_once']} ({scale_result['completions']:,} "
        f"completions of {scale_result['actions']:,} actions) "
        f"| {previous['scale']['completed_exactly_once']} "
        f"| {_mark(bool(scale_result['completed_exactly_once']))} |"
    )
    lines += [""]
    return lines


# --- cold start -----------------------------------------------------------------------------
def cold_start(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    by_clients: dict[frozenset[str], list[tuple[str, float]]] = {}
    for name, row in data["handlers"].items():
        by_clients.setdefault(frozenset(row["clients"]), []).append((name, row["floor_ms"]))
    same = max(by_clients.values(), key=len)  # the same floor, measured for several handlers
    lines = [
        "## Cold start",
        "",
        f"`python -m bench.imports --runs {data['runs']}` on {data['machine']} ({_load(data)}): "
        f"median of {data['runs']} fresh interpreters each. *init* = import the handler and "
        "create the boto3 clients its first call creates; *floor* = `import boto3` and create "
        "the same clients: what any Python function calling those APIs pays.",
        "",
        "| handler | clients | init ms | floor ms | init / floor | previous release: init / floor | handler import ms | costliest imports (cumulative ms) |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|",
    ]
    before = previous["imports"]
    for module, row in data["handlers"].items():
        top = ", ".join(f"`{t['module']}` {t['cumulative_ms']}" for t in row["importtime_top"][1:4])
        ratio = row["ratio"]
        mark = "" if ratio is None or ratio <= COLD_START_TARGET else " ✗"
        old = before["handlers"].get(module)
        lines.append(
            f"| `{module}` | {', '.join(row['clients'])} | {row['init_ms']} | {row['floor_ms']} "
            f"| {ratio}{mark} | {old['ratio'] if old else 'new'} | {row['import_ms']} | {top} |"
        )
    misses = cold_start_misses(data)
    lines += [
        "",
        f"Target: init within {COLD_START_TARGET}x the floor (✗ marks a miss): "
        + (f"missed by {', '.join(f'`{m}`' for m in misses)}." if misses else "met by each.")
        + f" Deployment package (`.aws-sam/build`, zipped): {data['package_zip_kb']} KiB, of "
        f"which the project's own code {data['own_code_zip_kb']} KiB (the rest is Powertools "
        "and its dependencies; boto3 comes with the runtime).",
        "",
        "The excess over the floor is the handler's own imports (*handler import ms*, with its "
        "costliest modules); Powertools Logger + Metrics, which every handler uses, cost "
        f"{data['candidates_ms'].get('Powertools Logger + Metrics (used)')} ms alone."
        + (
            " The same floor measured for different handlers ("
            + ", ".join(f"`{name}`" for name, _ in same)
            + f", the same clients) ranges {min(ms for _, ms in same)}-"
            f"{max(ms for _, ms in same)} ms in this run: small differences between ratios "
            "are noise."
            if len(same) > 1
            else ""
        ),
        "",
        f"Previous release: `{before['command']}` on {before['machine']}, as its report "
        f"recorded it; package {before['package_zip_kb']} KiB, own code "
        f"{before['own_code_zip_kb']} KiB.",
        "",
        "What each library choice costs (ms): "
        + "; ".join(f"{label}: {ms}" for label, ms in data["candidates_ms"].items())
        + ".",
        "",
    ]
    return lines


# --- per action -----------------------------------------------------------------------------
def _both(pair: Pair, value: Callable[[Row], Any]) -> str:
    first, second = (value(r) for r in pair)
    return f"{first} / {second}"


def _result(pair: Pair) -> str:
    results = {r["result"] for r in pair}
    said = (
        " / ".join(r["result"] or "none" for r in pair) if len(results) > 1 else pair[0]["result"]
    )
    return str(said) + ("" if pair[0]["possible"] else " (global timeout 100 x HBT is shorter)")


def _beats(row: Row) -> str:
    return f"{row['heartbeats']} ({row['heartbeats_minimum']})"


def _minimum(row: Row) -> str:
    floor = row["minimum"]
    return (
        f"{floor['state_transitions']} / {sum(floor['lambda_invocations'].values())} / "
        f"{floor['autoscaling_calls']} / {_usd_1000(floor['usd'])}"
    )


def matrix_table(rows: list[Row]) -> list[str]:
    """One line per cell, its run without its signal beside its run with it (``a / b``)."""
    lines = [
        "| checks take | HeartbeatTimeout | result | rounds | heartbeats sent (minimum) | within one | state transitions | Lambda invocations (Signal) | Auto Scaling calls | DynamoDB PutItem | Query / SendTaskSuccess (with) | USD per 1,000 actions | ready to completion (with: from the signal) | physical minimum: transitions / Lambda / Auto Scaling calls / USD per 1,000 |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for pair in paired(rows):
        without, signalled = pair
        within = "✓" if all(r["heartbeats_within_one"] for r in pair) else "✗"
        lines.append(
            f"| {_duration(without['check_seconds'])} | {without['heartbeat_timeout']} s "
            f"| {_result(pair)} | {_both(pair, lambda r: r['rounds'])} "
            f"| {_both(pair, _beats)} | {within} "
            f"| {_both(pair, lambda r: r['state_transitions'])} "
            f"| {_invocations(without)} / {_invocations(signalled)} "
            f"({signalled['lambda_invocations'].get('SignalFunction', 0)}) "
            f"| {_both(pair, lambda r: r['autoscaling_calls'])} "
            f"| {_both(pair, lambda r: r['dynamodb_put_items'])} "
            f"| {signalled['dynamodb_queries']} / {signalled['send_task_success']} "
            f"| {_both(pair, lambda r: _usd_1000(r['usd']['total']))} "
            f"| {_latency(without['latency_seconds'])} / "
            f"{_signal_latency(signalled)} "
            f"| {_minimum(signalled)} |"
        )
    return lines


def _signal_latency(row: Row) -> str:
    if row["latency_from_signal_seconds"] is not None:
        return f"{row['latency_from_signal_seconds']:.0f} s"
    if row["latency_seconds"] is None:
        return "n/a (gave up)"
    return f"{row['latency_seconds']:.0f} s (no signal)"


def _lost_signals(rows: list[Row]) -> list[Row]:
    """Signalled runs whose signal came while the action waited but ended no wait, so that the
    completion came later (not in the same second, as when a round was due then anyway)."""
    return [
        r
        for r in rows
        if r["signal"] and not r["waits_signalled"] and (r["latency_from_signal_seconds"] or 0) > 0
    ]


def _why_lost(row: Row) -> str:
    """Why a signal found no wait to end (``asg_lifecycle.policy``'s rules for a wait's signal
    window)."""
    if row["rounds"] - 1 >= SIGNAL_ROUNDS:  # the rounds before the last one
        return (
            f"{row['rounds']} rounds: past `policy.SIGNAL_ROUNDS` ({SIGNAL_ROUNDS}), an "
            "execution's waits take no signal"
        )
    return (
        "no wait was open to it: the wait before a heartbeat takes signals only until a margin "
        f"before the heartbeat, and a wait none in the first {SIGNAL_SPACING_SECONDS} s after "
        "the round before it"
    )


def per_action(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    sizes = data["function_sizes"]
    launch, terminate = data["launch"], data["terminate"]
    lines = [
        "## Per lifecycle action",
        "",
        f"`python -m bench.actions` on {data['machine']} ({_load(data)}): one action per cell on "
        "the local emulation (the real definition and handlers, virtual time), each run twice, "
        "without its signal and with it (*without / with* in every column). Counted from the "
        "action's own execution history and the invocations about its instance while it "
        "lasted: state transitions (one per state entered), Lambda invocations by function, AWS "
        "calls by operation, DynamoDB PutItem (one per callback wait: the history's "
        "`putItem.waitForTaskToken` tasks), Query and SendTaskSuccess (SignalFunction's). The "
        "reconciler runs every `ReconcileMinutes` whatever the fleet does: a cost of the stack, "
        "not of an action (see the scale run).",
        "",
        f"* **Launches**: checks (`instance-status`) that pass after the time in the first "
        f"column, `pollSeconds` {POLL}, the stack's `LaunchMaxPollSeconds` 0 (no back-off), "
        "`maxWaitSeconds` an hour longer. The signal: the instance's user data sends `Run "
        "checks now` once it is ready.",
        f"* **Terminate drains**: an `ssm-command` drain script ({DRAIN_DOCUMENT}) that runs for "
        "the time in the first column, under the stack's terminate defaults "
        f"(`DefaultPollSeconds` {POLL}, `TerminateMaxPollSeconds` "
        f"{terminate[0]['max_poll_seconds'] if terminate else '?'}), `maxWaitSeconds` an hour "
        "longer. The signal: Run Command's status-change event when the script ends (the "
        "stack's rule); without it, the emulator drops that event. (A target-group drain "
        "cannot last 6 h: ELB caps the deregistration delay at 3,600 s.)",
        "",
        "Cost at us-east-1 list prices, without free tiers (the pages in `bench/cost.py`): Step "
        f"Functions Standard transitions (${USD_PER_STATE_TRANSITION * 1000:.3f} per 1,000), "
        f"Lambda requests (${USD_PER_LAMBDA_REQUEST * 1e6:.2f} per million) and duration (per "
        "GB-second: "
        + ", ".join(f"${p} on {a}" for a, p in USD_PER_GB_SECOND.items())
        + "; each function's invocations billed at its median run here), DynamoDB on demand "
        f"(${USD_PER_WRITE_REQUEST_UNIT * 1e6:.3f} per million write request units: one per "
        f"PutItem; ${USD_PER_READ_REQUEST_UNIT * 1e6:.3f} per million read request units: one "
        "per strongly consistent Query) and EventBridge custom events "
        f"(${USD_PER_CUSTOM_EVENT * 1e6:.2f} per million: the instance's own signal; AWS service "
        "events are free). Step Functions bills no API request (SendTaskSuccess).",
        "",
        "*Physical minimum*: what any orchestrator of the action must do: start, read the hook, "
        "send the fewest heartbeats that hold the instance until its checks would pass, and "
        "complete (no check, no round): a Task for the hook read and a Wait and a Task before "
        "each heartbeat and the completion, *2 x heartbeats + 3* transitions; one Lambda "
        "invocation per call; Auto Scaling calls: DescribeLifecycleHooks, the heartbeats, "
        "CompleteLifecycleAction; latency 0 (`bench.cost.physical_minimum`).",
        "",
        "![per action](performance-actions.png)",
        "",
    ]
    for kind, rows in (("launch", launch), ("terminate", terminate)):
        lines += [f"### {KINDS[kind]}", "", *matrix_table(rows), ""]
    every = [*launch, *terminate]
    misses = heartbeat_misses(every)
    worst = max(every, key=lambda r: abs(r["heartbeats"] - r["heartbeats_minimum"]))
    lost = _lost_signals(every)
    lines += [
        "Heartbeat target: within one of the minimum `ceil((W - H) / (H - m))` for a hook of "
        "HeartbeatTimeout *H* held *W* seconds, *m* the safety margin "
        "(`asg_lifecycle.policy.minimum_heartbeats`): "
        + (
            f"met in every run ({len(every)} of {len(every)}; the largest difference "
            f"{worst['heartbeats'] - worst['heartbeats_minimum']:+d}, {worst['transition']} "
            f"{_cell(worst)})."
            if not misses
            else f"missed in {len(misses)} of {len(every)} runs ("
            + ", ".join(
                f"{r['transition']} {_cell(r)}{' with its signal' if r['signal'] else ''}: "
                f"{r['heartbeats']} sent, minimum {r['heartbeats_minimum']}"
                for r in misses
            )
            + ")."
        ),
        "",
    ]
    if lost:
        lines += [
            "A signal ended no wait in "
            + "; ".join(
                f"{r['transition']} {_cell(r)} ({_why_lost(r)}; completion "
                f"{r['latency_from_signal_seconds']:.0f} s after the signal)"
                for r in lost
            )
            + ". A lost signal costs at most one poll interval: the round comes at its time.",
            "",
        ]
    lines += previous_table(data, previous)
    lines += _transitions_by_state(data)
    lines += _lambda_duration(data, sizes)
    lines += changes(data, previous)
    return lines


def previous_table(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    lines = [
        "### Beside the previous release",
        "",
        f"The previous release (commit `{previous['release'][:7]}`, before signals and back-off: "
        "a plain Wait state between rounds, every poll interval; "
        f"`{previous['actions']['command']}` on {previous['actions']['machine']}; its figures "
        "kept in `bench/previous-release.json`, whose `about` says how each was obtained) "
        "beside this one's runs without and with the signal.",
        "",
    ]
    for kind in ("launch", "terminate"):
        before = _previous_by_cell(previous, kind)
        pairs = [(p, before[_key(p[0])]) for p in paired(data[kind]) if _key(p[0]) in before]
        if not pairs:
            lines += [f"{KINDS[kind]}: the previous release has no such cells.", ""]
            continue
        lines += [
            f"**{KINDS[kind]}**",
            "",
            "| checks take | HeartbeatTimeout | state transitions: before / without / with (with / before) | rounds: before / without / with | heartbeats: before / without / with | Auto Scaling calls: before / without / with | Lambda invocations: before / without / with | USD per 1,000: before / without / with | ready to completion: before / without / with (from the signal) |",  # noqa: E501
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for (without, signalled), old in pairs:
            lines.append(
                f"| {_duration(old['check_seconds'])} | {old['heartbeat_timeout']} s "
                f"| {old['state_transitions']} / {without['state_transitions']} / "
                f"{signalled['state_transitions']} "
                f"({_ratio(signalled['state_transitions'], old['state_transitions'])}) "
                f"| {old['rounds']} / {without['rounds']} / {signalled['rounds']} "
                f"| {old['heartbeats']} / {without['heartbeats']} / {signalled['heartbeats']} "
                f"| {old['autoscaling_calls']} / {without['autoscaling_calls']} / "
                f"{signalled['autoscaling_calls']} "
                f"| {sum(old['lambda_invocations'].values())} / {_invocations(without)} / "
                f"{_invocations(signalled)} "
                f"| {_usd_1000(old['usd']['total'])} / {_usd_1000(without['usd']['total'])} / "
                f"{_usd_1000(signalled['usd']['total'])} "
                f"| {_latency(old['latency_seconds'])} / {_latency(without['latency_seconds'])} "
                f"/ {_signal_latency(signalled)} |"
            )
        lines += [""]
    return lines


def _states_in_order(rows: list[Row]) -> list[str]:
    """Every state any row entered, in the order the rows first entered them."""
    return list(dict.fromkeys(s for r in rows for s in r["transitions_by_state"]))


def _by_state_table(rows: list[Row]) -> list[str]:
    lines = [
        "| state | " + " | ".join(_cell(r) for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for state in _states_in_order(rows):
        lines.append(
            f"| {state} | "
            + " | ".join(str(r["transitions_by_state"].get(state, 0)) for r in rows)
            + " |"
        )
    return lines


def _transitions_by_state(data: dict[str, Any]) -> list[str]:
    """Where the transitions go, state by state, and the shape they add up to."""
    lines = ["### State transitions by state", ""]
    for kind in ("launch", "terminate"):
        rows = [r for r in data[kind] if r["signal"]]
        if rows:
            lines += [f"{KINDS[kind]}, with the signal:", "", *_by_state_table(rows), ""]
    every = _all_rows(data)
    fixed = {r["state_transitions"] - 3 * r["rounds"] - 2 * r["heartbeats"] for r in every}
    if len(fixed) == 1:
        (once,) = fixed
        lines.append(
            f"Every run ({len(every)}, with and without signals, launches and drains) adds up "
            "to 3 transitions a round (its wait, `Run checks` and the Choice after it), 2 a "
            "heartbeat (its task and the Choice after it; the wait before it stands for the "
            "wait of the round that follows it at once) and "
            f"{once} once per action: *transitions = 3 x rounds + 2 x heartbeats + {once}*"
            + (
                " (the first Choice, the hook read and its Choice, the completion and `Done`, "
                "less the first round's wait, which it does not have). A round's wait is one "
                "state whether a signal or its time ends it: signals and back-off cut "
                "transitions only by running fewer rounds."
                if once == ONCE_PER_ACTION
                else "."
            )
        )
    else:
        lines.append(
            "The runs do not share one shape (3 a round, 2 a heartbeat and a fixed part): "
            f"fixed parts {sorted(fixed)}; see the rows above."
        )
    lines.append("")
    return lines


def _lambda_duration(data: dict[str, Any], sizes: dict[str, Any]) -> list[str]:
    median, samples = data["lambda_median_ms"], data["lambda_samples"]
    lines = [
        "### Lambda duration",
        "",
        "Each handler's run on the emulator (in-process, this machine, moto answering its AWS "
        "calls without a network; its boto3 clients created beforehand, as in a warm container: "
        "cold starts are the first section's), the median over every invocation of "
        "`python -m bench.actions`:",
        "",
        "| function | invocations timed | median ms | memory MB | architecture | USD per million invocations (request + duration) |",  # noqa: E501
        "|---|---|---|---|---|---|",
    ]
    for function in [f for f in FUNCTIONS if f in median]:
        size = sizes[function]
        per_ms = FunctionSize(size["memory_mb"], size["architecture"]).usd_per_ms
        per_million = 1e6 * (USD_PER_LAMBDA_REQUEST + billed_ms(median[function]) * per_ms)
        lines.append(
            f"| {function} | {samples[function]} | {median[function]} | {size['memory_mb']} "
            f"| {size['architecture']} | {per_million:.2f} |"
        )
    rows = _all_rows(data)

    def share(part: str) -> float:
        return max(float(r["usd"].get(part, 0.0)) / float(r["usd"]["total"]) for r in rows)

    moved = max(r["usd_total_duration_x10"] / r["usd"]["total"] - 1 for r in rows)
    lines += [
        "",
        f"In every run Lambda duration is at most {share('duration'):.2%} of the action's cost, "
        f"Lambda requests at most {share('requests'):.2%}, DynamoDB at most "
        f"{share('dynamodb'):.2%} and EventBridge custom events at most {share('events'):.2%}: "
        "state transitions are the rest. Lambda at "
        f"{'/'.join(sorted({str(s['memory_mb']) for s in sizes.values()}))} MB has a fraction of "
        "this machine's CPU and a real AWS call takes tens of milliseconds, so Lambda bills "
        "longer runs than these: were every invocation ten times as long, no run's total "
        f"would grow by more than {moved:.1%}.",
        "",
    ]
    return lines


def changes(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    """What signals and back-off change, in words computed from the figures."""
    lines = ["### What signals and back-off change", ""]
    said = []
    for kind in ("terminate", "launch"):
        before = _previous_by_cell(previous, kind)
        ratios = [
            (s["state_transitions"] / before[_key(s)]["state_transitions"], s)
            for _, s in paired(data[kind])
            if _key(s) in before
        ]
        if not ratios:
            continue
        low, high = min(ratios, key=lambda x: x[0]), max(ratios, key=lambda x: x[0])
        said.append(
            f"{KINDS[kind]}: state transitions (with the signal) {low[0]:.2f} ({_cell(low[1])}) "
            f"to {high[0]:.2f} ({_cell(high[1])}) times the previous release's."
        )
    drain = drain_pair(data)
    old = _previous_by_cell(previous, "terminate").get(DRAIN_CELL)
    if drain is not None:
        plain, drained = drain
        said.append(
            f"The {_duration(DRAIN_CELL[0])} drain at HeartbeatTimeout {DRAIN_CELL[1]} s runs "
            f"{drained['rounds']} rounds"
            + (f" where it ran {old['rounds']}" if old else "")
            + f" (back-off to {drained['max_poll_seconds']} s: about one round per heartbeat, "
            f"{drained['heartbeats']} heartbeats): {drained['state_transitions']} transitions "
            f"with its signal and {plain['state_transitions']} without"
            + (f", against {old['state_transitions']}" if old else "")
            + "; the signal takes completion from "
            f"{_latency(plain['latency_seconds'])} after the script ended (a backed-off poll) "
            f"to {_signal_latency(drained)}."
        )
    launches = paired(data["launch"])
    if launches:
        extra = max(
            (s["usd"]["dynamodb"] + s["usd"]["events"]) / s["usd"]["total"] for _, s in launches
        )
        said.append(
            "Launches keep their poll by default (`LaunchMaxPollSeconds` 0), so they run as "
            "many rounds as before; each round's wait now writes its task token "
            "(one PutItem) and the signal adds a custom event, a Query and a SignalFunction "
            f"run: at most {extra:.2%} of a launch's cost. What the signal buys a launch is "
            "latency (next section)."
        )
    backoff = paired(data["launch_max_poll"])
    default = {_key(p[0]): p for p in launches}
    for without, signalled in backoff:
        base = default.get(_key(without))
        if base is None:
            continue
        said.append(
            f"A launch hook that asks for back-off (`maxPollSeconds` {LAUNCH_MAX_POLL}), "
            f"{_cell(without)}: {signalled['state_transitions']} transitions with its signal "
            f"({_signal_latency(signalled)} from the signal to completion) and "
            f"{without['state_transitions']} without ({_latency(without['latency_seconds'])} "
            f"from ready), against {base[1]['state_transitions']} at the default poll."
        )
    first = data["ready_at_first_round"]
    old_first = previous["actions"].get("ready_at_first_round")
    said.append(
        "The shortest action, a launch whose checks pass at the first round (HeartbeatTimeout "
        f"{first['heartbeat_timeout']} s): {first['state_transitions']} transitions and "
        f"{_invocations(first)} Lambda invocations"
        + (
            f" against {old_first['state_transitions']} and "
            f"{sum(old_first['lambda_invocations'].values())} before."
            if old_first
            else "."
        )
    )
    lines += [" ".join(said), ""]
    return lines


# --- latency --------------------------------------------------------------------------------
def latency(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    lines = [
        "## Latency",
        "",
        "From the moment the checks would pass (the instance ready, the drain script ended) to "
        "CompleteLifecycleAction, in virtual time (`python -m bench.actions` on "
        f"{data['machine']}); with a signal, from the signal (sent the moment the checks would "
        "pass).",
        "",
    ]
    launches = paired(data["launch"])
    plain = [w for w, _ in launches if w["latency_seconds"] is not None]
    if plain:
        worst = max(r["latency_seconds"] for r in plain)
        before = _previous_by_cell(previous, "launch")
        old = [
            before[_key(r)]["latency_seconds"]
            for r in plain
            if _key(r) in before and before[_key(r)]["latency_seconds"] is not None
        ]
        bound = POLL + poll_jitter_span(POLL) - 1
        lines += [
            "Launches without a signal: "
            + ", ".join(f"{_cell(r)}: {r['latency_seconds']:.0f} s" for r in plain)
            + f". Worst {worst:.0f} s; target at most one poll interval ({POLL} s): "
            f"{'met' if worst <= POLL else 'missed'}"
            + (f" (previous release: worst {max(old):.0f} s)." if old else ".")
            + f" By design a round comes at most {bound} s after the one before (the poll "
            "interval plus its jitter of up to a tenth, `asg_lifecycle.policy`), so completion "
            "can come that long after readiness, plus the round's own time: over the target by "
            "up to a tenth of the poll interval"
            + (", which none of the cells above reached." if worst <= POLL else "."),
            "",
        ]
    signalled = [s for _, s in launches if s["latency_from_signal_seconds"] is not None]
    if signalled:
        quick = [r for r in signalled if r["latency_from_signal_seconds"] <= SIGNAL_LATENCY_TARGET]
        lost = _lost_signals(signalled)
        lines += [
            "Launches with the signal, from the signal: "
            + ", ".join(
                f"{_cell(r)}: {r['latency_from_signal_seconds']:.0f} s"
                + (" (lost: no wait took it)" if r in lost else "")
                for r in signalled
            )
            + f". {len(quick)} of {len(signalled)} within {SIGNAL_LATENCY_TARGET:.0f} s of the "
            "signal"
            + ("; a lost signal (above) costs at most one poll interval." if lost else ".")
            + " The cells whose checks cannot pass before the global timeout have no signal "
            "while they wait.",
            "",
        ]
    drains = paired(data["terminate"])
    if drains:
        plain_drains = [w for w, _ in drains if w["latency_seconds"] is not None]
        longest = max((w["max_poll_seconds"] for w, _ in drains), default=0)
        bound = longest + poll_jitter_span(longest) - 1
        drained = [s for _, s in drains if s["latency_from_signal_seconds"] is not None]
        lost = _lost_signals(drained)
        lines += [
            "Terminate drains without a signal (rounds backed off to "
            f"{longest} s, so completion may come up to {bound} s after the script ends): "
            + ", ".join(f"{_cell(r)}: {r['latency_seconds']:.0f} s" for r in plain_drains)
            + "; with the signal, from it: "
            + ", ".join(
                f"{_cell(r)}: {r['latency_from_signal_seconds']:.0f} s"
                + (" (lost: no wait took it)" if r in lost else "")
                for r in drained
            )
            + ".",
            "",
        ]
    pair = paired(data["signalled_launch"])
    poll_5, old_5 = data["poll_5"], previous["actions"].get("poll_5")
    if pair:
        without, with_signal = pair[0]
        lines += [
            f"A launch ready after {_duration(SIGNAL_READY_AFTER)} (HeartbeatTimeout "
            f"{with_signal['heartbeat_timeout']} s, poll {POLL} s): "
            f"{_signal_latency(with_signal)} from its signal to completion "
            f"({with_signal['state_transitions']} transitions, "
            f"{_invocations(with_signal)} Lambda invocations); without the signal "
            f"{_latency(without['latency_seconds'])} from ready "
            f"({without['state_transitions']} transitions). Before signals, near-immediate "
            f"completion took `pollSeconds: {poll_5['poll_seconds']}`: "
            f"{_latency(poll_5['latency_seconds'])} from ready, "
            f"{poll_5['state_transitions']} transitions"
            + (f" (previous release: {old_5['state_transitions']})" if old_5 else "")
            + ": a signal gets the same latency at the cost of the default poll.",
            "",
        ]
    return lines


# --- scale ----------------------------------------------------------------------------------
def _in_call_order(functions: dict[str, Any]) -> list[str]:
    """The workflow's functions in the order an action calls them, then any other."""
    return [f for f in FUNCTIONS if f in functions] + sorted(set(functions) - set(FUNCTIONS))


def scale(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    bucket = data["autoscaling_calls_per_second"]
    before = previous["scale"]
    usd, old_usd = data["usd_per_1000_actions"], before["usd_per_1000_actions"]
    by_function = data["lambda_invocations_per_action_by_function"]
    reconciler = data["reconciler"]
    writes = data.get("dynamodb_put_items_per_action")
    return [
        f"## Scale: {data['instances']:,} instances",
        "",
        f"`python -m bench.scale --instances {data['instances']}` on {data['machine']} "
        f"({_load(data)}): {data['instances']:,} instances launched at once (HeartbeatTimeout "
        "300 s, ready after 75 s), then scaled in (a 60-s deregistration delay): "
        f"{data['actions']:,} actions.",
        "",
        "| run | wall time | peak memory | all completed exactly once | heartbeats within one of the minimum | Auto Scaling calls per second (peak / mean of busy seconds) | per action: AWS calls / Lambda / transitions | USD per 1,000 actions (transitions + requests) | USD per 1,000 actions (all parts) |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|---|",
        f"| this release | {data['wall_seconds'] / 60:.1f} min | {data['peak_rss_mb']} MB "
        f"| {data['completed_exactly_once']} ({data['completions']:,} completions) "
        f"| {data['heartbeats_within_one']:,} of {data['actions']:,} ({data['heartbeats']} sent, "
        f"minimum {data['heartbeats_minimum']}) "
        f"| {bucket['peak']} / {bucket['mean_busy']} "
        f"| {data['aws_calls_per_action']} / {data['lambda_invocations_per_action']} / "
        f"{data['state_transitions_per_action']} "
        f"| {usd['transitions'] + usd['requests']:.2f} | {usd['total']:.2f} |",
        f"| previous release (`{previous['release'][:7]}`, as its report recorded it) "
        f"| {before['wall_minutes']} min | {before['peak_rss_mb']} MB "
        f"| {before['completed_exactly_once']} "
        f"| {before['heartbeats_within_one']:,} of {before['actions']:,} "
        f"({before['heartbeats']} sent, minimum {before['heartbeats_minimum']}) "
        f"| {before['autoscaling_calls_per_second']['peak']} / "
        f"{before['autoscaling_calls_per_second']['mean_busy']} "
        f"| {before['aws_calls_per_action']} / {before['lambda_invocations_per_action']} / "
        f"{before['state_transitions_per_action']} "
        f"| {old_usd['transitions'] + old_usd['requests']:.2f} | {old_usd['total']:.2f} |",
        "",
        "Lambda invocations per action: "
        + ", ".join(f"{SHORT.get(f, f)} {by_function[f]:g}" for f in _in_call_order(by_function))
        + (
            f"; DynamoDB PutItem per action: {writes:g} (one per round's wait)"
            if writes is not None
            else ""
        )
        + f". The reconciler ran {reconciler['invocations']} times in the run (every "
        "`ReconcileMinutes`, whatever the fleet; median run "
        f"{reconciler['median_ms']} ms here): a cost of the stack, left out of the per-action "
        "Lambda figures, though its AWS calls are in the per-action AWS calls.",
        "",
        "Wall time is the emulator's (moto serves every call in Python, one function at a "
        "time), not AWS's, and moves with the machine's load (above), so the two releases' "
        "wall times compare only loosely. The per-second figures are virtual time: every "
        "instance launches in the same second here, and every one terminates in another, so the "
        f"busiest second carries {bucket['peak'] / data['instances']:g} calls per instance: each "
        "action's start (in tag mode a `DescribeTags`), its hook read (`DescribeTags`, "
        "`DescribeAutoScalingInstances`, `DescribeLifecycleHooks`, and for a termination the "
        "group's instance lifecycle policy, `DescribeAutoScalingGroups`) and, for a termination, "
        "the drain check's first `DescribeAutoScalingGroups` and, since Auto Scaling drained the "
        "instance before its wait, the `CompleteLifecycleAction` that follows in the same second. "
        "In AWS that burst meets the account's Auto Scaling rate limit and is spread by "
        "botocore's and Step Functions' jittered retries (see the fault-injection suite), while "
        "later heartbeats and rounds are spread by the workflow's own jitter.",
        "",
    ]


# --- plot -----------------------------------------------------------------------------------
WIDTH = 0.27  # of a bar, beside the two others of its cell


def _grouped(
    axis: Any,
    series: list[tuple[str, list[float | None], str]],
    title: str,
    *,
    log: bool = True,
    annotate: int | None = None,
) -> None:
    """Bars per cell, one for each series (label, values, colour); None draws no bar. The
    values of series ``annotate`` are written over their bars (a 0 has no bar to see)."""
    offsets = [(i - (len(series) - 1) / 2) * WIDTH for i in range(len(series))]
    tallest = 1.0
    for index, (offset, (label, values, colour)) in enumerate(zip(offsets, series, strict=True)):
        xs = [i + offset for i, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        axis.bar(xs, ys, WIDTH, label=label, color=colour)
        tallest = max([tallest, *ys])
        if index == annotate:
            for x, y in zip(xs, ys, strict=True):
                axis.annotate(
                    f"{y:.0f}", (x, y), ha="center", va="bottom", fontsize=6, color=colour
                )
    if log:
        axis.set_yscale("symlog", linthresh=1)
    axis.set_ylim(0, tallest * (4 if log else 1.3))
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=7, loc="upper left")


def _separate(axis: Any, launches: int) -> None:
    """A line between the launch cells and the drain cells."""
    axis.axvline(launches - 0.5, color="black", linewidth=0.8)


def plot(actions: dict[str, Any], previous: dict[str, Any]) -> None:
    """Four panels over the launch and drain cells: transitions and cost against the previous
    release, heartbeats against the minimum (target: within one), latency with and without the
    signal. The figure names the commands and the machine, as the tables do."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    pairs = [(k, p) for k in ("launch", "terminate") for p in paired(actions[k])]
    before = {k: _previous_by_cell(previous, k) for k in ("launch", "terminate")}
    old = [before[k].get(_key(p[0])) for k, p in pairs]
    release = previous["release"][:7]
    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    (transitions, usd), (heartbeats, latency_axis) = axes
    _grouped(
        transitions,
        [
            (
                f"previous release ({release})",
                [o["state_transitions"] if o else None for o in old],
                "gray",
            ),
            ("without the signal", [p[0]["state_transitions"] for _, p in pairs], "tab:blue"),
            ("with the signal", [p[1]["state_transitions"] for _, p in pairs], "tab:green"),
        ],
        f"State transitions per action (log; target for the 6 h/{DRAIN_CELL[1]} s drain: "
        f"<= {DRAIN_TRANSITIONS_TARGET}, dashed)",
    )
    transitions.axhline(DRAIN_TRANSITIONS_TARGET, color="black", linestyle="--", linewidth=1)
    _grouped(
        usd,
        [
            (
                f"previous release ({release})",
                [1000 * o["usd"]["total"] if o else None for o in old],
                "gray",
            ),
            ("without the signal", [1000 * p[0]["usd"]["total"] for _, p in pairs], "tab:blue"),
            ("with the signal", [1000 * p[1]["usd"]["total"] for _, p in pairs], "tab:green"),
        ],
        "USD per 1,000 actions, all parts (log)",
    )
    _grouped(
        heartbeats,
        [
            ("minimum", [p[1]["heartbeats_minimum"] for _, p in pairs], "gray"),
            ("sent, without the signal", [p[0]["heartbeats"] for _, p in pairs], "tab:blue"),
            ("sent, with the signal", [p[1]["heartbeats"] for _, p in pairs], "tab:green"),
        ],
        "Heartbeats sent / minimum (target: within one; log)",
    )
    _grouped(
        latency_axis,
        [
            (
                f"previous release ({release})",
                [o["latency_seconds"] if o else None for o in old],
                "gray",
            ),
            (
                "without the signal, from ready",
                [p[0]["latency_seconds"] for _, p in pairs],
                "tab:blue",
            ),
            (
                "with the signal, from the signal",
                [p[1]["latency_from_signal_seconds"] for _, p in pairs],
                "tab:green",
            ),
        ],
        f"Ready to CompleteLifecycleAction, virtual s (log; one poll, {POLL} s, dashed)",
        annotate=2,
    )
    latency_axis.axhline(POLL, color="black", linestyle="--", linewidth=1)
    launches = sum(1 for k, _ in pairs if k == "launch")
    labels = [
        f"{'L' if k == 'launch' else 'T'} {_duration(p[0]['check_seconds']).replace(' ', '')}"
        f"\n{p[0]['heartbeat_timeout']}"
        for k, p in pairs
    ]
    for axis in axes.flat:
        axis.set_xticks(list(range(len(pairs))))
        axis.set_xticklabels(labels, fontsize=6)
        _separate(axis, launches)
    fig.suptitle(
        f"One action per cell on the local emulation: launches (L, poll {POLL} s, no back-off) "
        "and terminate drains (T, the stack's terminate defaults)\nchecks or drain scripts take "
        "1 min / 30 min / 6 h; under each, the HeartbeatTimeout (60 / 300 / 3600 s)",
        fontsize=11,
    )
    fig.text(
        0.5,
        0.005,
        f"python -m bench.actions on {actions['machine']}; previous release: "
        f"{previous['actions']['command']} at {release}; drawn by python -m bench.report",
        ha="center",
        fontsize=8,
        color="dimgray",
    )
    fig.tight_layout(rect=(0, 0.02, 1, 0.96))
    fig.savefig(DOCS / "performance-actions.png", dpi=100)
    plt.close(fig)


def render(
    imports: dict[str, Any],
    actions: dict[str, Any],
    scale_result: dict[str, Any],
    previous: dict[str, Any],
) -> str:
    lines = [
        "# Performance and cost",
        "",
        "Written by `python -m bench.report` from the results of `make bench` "
        "(`python -m bench.imports`, `python -m bench.actions`, "
        f"`python -m bench.scale --instances {scale_result['instances']}`); rerun `make bench` "
        "to refresh. Each section names its command, the machine it ran on and the machine's "
        "load. Benchmarks are not tests: nothing here is asserted. The previous release's "
        f"figures (commit `{previous['release'][:7]}`, before signals and back-off) are kept "
        "beside these: `bench/previous-release.json` says where each comes from.",
        "",
        *targets(imports, actions, scale_result, previous),
        *cold_start(imports, previous),
        *per_action(actions, previous),
        *latency(actions, previous),
        *scale(scale_result, previous),
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument(
        "--instances", type=int, default=1000, help="which bench.scale result to report"
    )
    args = parser.parse_args(argv)
    imports, actions = load("imports.json"), load("actions.json")
    scale_result = load(f"scale-{args.instances}.json")
    found = {"imports": imports, "actions": actions, "scale": scale_result}
    missing = [name for name, data in found.items() if data is None]
    if missing:
        print(f"run make bench first (missing: {missing})", file=sys.stderr)
        return 2
    assert imports is not None
    assert actions is not None
    assert scale_result is not None
    stale = [
        n
        for n, d in (("actions", actions), ("scale", scale_result))
        if d.get("definition") != digest()
    ]
    if stale:
        print(
            f"{stale} measured another workflow definition than "
            "src/orchestrator/lifecycle.asl.json's: run make bench again",
            file=sys.stderr,
        )
        return 2
    previous = previous_release()
    DOCS.mkdir(exist_ok=True)
    plot(actions, previous)
    (DOCS / "PERFORMANCE.md").write_text(render(imports, actions, scale_result, previous))
    print("written: docs/PERFORMANCE.md, docs/performance-actions.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
