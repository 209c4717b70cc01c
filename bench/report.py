"""Write ``docs/PERFORMANCE.md`` (and its plot) from the benchmarks' results.

    python -m bench.report

Reads ``bench/results/{imports,actions,scale-<N>}.json`` as the last ``make bench`` left them, and
the previous release's figures (``bench/previous-release.json``); every figure in the report names
the command that produced it and the machine it ran on. Nothing here measures anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from asg_lifecycle.policy import poll_jitter_span
from bench.actions import POLL
from bench.cost import (
    USD_PER_GB_SECOND,
    USD_PER_LAMBDA_REQUEST,
    USD_PER_STATE_TRANSITION,
    FunctionSize,
    billed_ms,
)
from bench.definition import digest
from bench.results import load, previous_release

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
COLD_START_TARGET = 1.25
# The workflow's functions in the order an action calls them.
FUNCTIONS = (
    "StartFunction",
    "ReadHookFunction",
    "CheckFunction",
    "HeartbeatFunction",
    "CompleteFunction",
)
SHORT = {f: f.removesuffix("Function") for f in FUNCTIONS}
# Transitions an action spends once besides its rounds and heartbeats: the first Choice, the hook
# read and its Choice, the completion and Done, less the first round's Wait (it has none).
ONCE_PER_ACTION = 4


def _duration(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min"


def _cell(row: dict[str, Any]) -> str:
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


def _requests_usd(row: dict[str, Any]) -> float:
    """Transitions and Lambda requests only: what the previous release's report priced."""
    return float(row["usd"]["transitions"] + row["usd"]["requests"])


def heartbeat_misses(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r["heartbeats_within_one"]]


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
        "| handler | clients | init ms | floor ms | init / floor | handler import ms | costliest imports (cumulative ms) |",  # noqa: E501
        "|---|---|---|---|---|---|---|",
    ]
    for module, row in data["handlers"].items():
        top = ", ".join(f"`{t['module']}` {t['cumulative_ms']}" for t in row["importtime_top"][1:4])
        ratio = row["ratio"]
        mark = "" if ratio is None or ratio <= COLD_START_TARGET else " ✗"
        lines.append(
            f"| `{module}` | {', '.join(row['clients'])} | {row['init_ms']} | {row['floor_ms']} "
            f"| {ratio}{mark} | {row['import_ms']} | {top} |"
        )
    misses = [
        m
        for m, r in data["handlers"].items()
        if r["ratio"] is not None and r["ratio"] > COLD_START_TARGET
    ]
    before = previous["imports"]
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
        "Previous release ("
        + f"`{before['command']}` on {before['machine']}, as its report recorded it): "
        + "; ".join(
            f"`{m}` ({', '.join(r['clients'])}), its one workflow function: init {r['init_ms']} "
            f"ms, floor {r['floor_ms']} ms, init / floor {r['ratio']}"
            for m, r in before["handlers"].items()
        )
        + f"; package {before['package_zip_kb']} KiB, own code {before['own_code_zip_kb']} KiB.",
        "",
        "What each library choice costs (ms): "
        + "; ".join(f"{label}: {ms}" for label, ms in data["candidates_ms"].items())
        + ".",
        "",
    ]
    return lines


def _lambda_split(row: dict[str, Any]) -> str:
    invocations = row["lambda_invocations"]
    return " / ".join(str(invocations.get(f, 0)) for f in FUNCTIONS)


def _within(row: dict[str, Any]) -> str:
    return "✓" if row["heartbeats_within_one"] else "✗"


def _latency(seconds: float | None) -> str:
    return "n/a (gave up)" if seconds is None else f"{seconds:.0f} s"


def _states_in_order(rows: list[dict[str, Any]]) -> list[str]:
    """Every state any row entered, in the order the rows first entered them."""
    return list(dict.fromkeys(s for r in rows for s in r["transitions_by_state"]))


def per_action(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    rows = data["matrix"]
    before = {
        (r["check_seconds"], r["heartbeat_timeout"]): r for r in previous["actions"]["matrix"]
    }
    sizes = data["function_sizes"]
    lines = [
        "## Per lifecycle action",
        "",
        f"`python -m bench.actions` on {data['machine']} ({_load(data)}): one launch on the "
        f"local emulation (the real definition and handlers, virtual time), poll {POLL} s, "
        "checks that pass after the time in the first column (`maxWaitSeconds` an hour longer). "
        "Counted from the action's own execution history and the invocations about its "
        "instance: state transitions (one per state entered), Lambda invocations by function, "
        "AWS calls by operation. The reconciler runs every `ReconcileMinutes` whatever the fleet "
        "does: a cost of the stack, not of an action (see the scale run).",
        "",
        "Cost at us-east-1 list prices, without free tiers: Step Functions Standard transitions "
        f"(${USD_PER_STATE_TRANSITION * 1000:.3f} per 1,000), Lambda requests "
        f"(${USD_PER_LAMBDA_REQUEST * 1e6:.2f} per million) and Lambda duration (per GB-second: "
        + ", ".join(f"${p} on {a}" for a, p in USD_PER_GB_SECOND.items())
        + "), each function's invocations billed at its median run here (the table after the "
        "next).",
        "",
        "![per action](performance-actions.png)",
        "",
        "| checks take | HeartbeatTimeout | result | rounds | heartbeats sent / minimum | within one | Lambda invocations: "  # noqa: E501
        + " / ".join(SHORT[f] for f in FUNCTIONS)
        + " | Auto Scaling calls | state transitions | USD per 1,000 actions | ready to completion |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        note = "" if row["possible"] else " (global timeout 100 x HBT is shorter)"
        lines.append(
            f"| {_duration(row['check_seconds'])} | {row['heartbeat_timeout']} s "
            f"| {row['result']}{note} | {row['rounds']} "
            f"| {row['heartbeats']} / {row['heartbeats_minimum']} | {_within(row)} "
            f"| {_lambda_split(row)} | {row['autoscaling_calls']} | {row['state_transitions']} "
            f"| {_usd_1000(row['usd']['total'])} | {_latency(row['latency_seconds'])} |"
        )
    misses = heartbeat_misses(rows)
    worst = max(rows, key=lambda r: abs(r["heartbeats"] - r["heartbeats_minimum"]))
    lines += [
        "",
        "Heartbeat target: within one of the minimum `ceil((W - H) / (H - m))` for a hook of "
        "HeartbeatTimeout *H* held *W* seconds, *m* the safety margin "
        "(`asg_lifecycle.policy.minimum_heartbeats`): "
        + (
            f"met in every cell ({len(rows)} of {len(rows)}; the largest difference "
            f"{worst['heartbeats'] - worst['heartbeats_minimum']:+d}, {_cell(worst)})."
            if not misses
            else f"missed in {len(misses)} of {len(rows)} cells ("
            + ", ".join(
                f"{_cell(r)}: {r['heartbeats']} sent, minimum {r['heartbeats_minimum']}"
                for r in misses
            )
            + ")."
        ),
        "",
    ]
    lines += _transitions_by_state(rows)
    lines += _lambda_duration(data, sizes)
    lines += [
        "### What the redesign costs",
        "",
        "The same cells beside the previous release (commit "
        f"`{previous['release'][:7]}`: one `AdvanceFunction` for every task, two rounds to a "
        f"Choice; `{previous['actions']['command']}` of that commit on "
        f"{previous['actions']['machine']}, its figures kept in `bench/previous-release.json`). "
        "It priced transitions and Lambda requests only, so the costs compared here are those "
        "two (the total with duration is in the first table).",
        "",
        "| checks take | HeartbeatTimeout | state transitions: now / before (ratio) | Lambda invocations: now / before | Auto Scaling calls: now / before | heartbeats: now / before | USD per 1,000 (transitions + requests): now / before (ratio) | ready to completion: now / before |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for row in rows:
        old = before.get((row["check_seconds"], row["heartbeat_timeout"]))
        if old is None:
            continue
        ratios.append((row["state_transitions"] / old["state_transitions"], row))
        now_usd = _requests_usd(row)
        lines.append(
            f"| {_duration(row['check_seconds'])} | {row['heartbeat_timeout']} s "
            f"| {row['state_transitions']} / {old['state_transitions']} "
            f"({_ratio(row['state_transitions'], old['state_transitions'])}) "
            f"| {sum(row['lambda_invocations'].values())} / {old['lambda_invocations']} "
            f"| {row['autoscaling_calls']} / {old['autoscaling_calls']} "
            f"| {row['heartbeats']} / {old['heartbeats']} "
            f"| {_usd_1000(now_usd)} / {_usd_1000(old['usd_requests'])} "
            f"({_ratio(now_usd, old['usd_requests'])}) "
            f"| {_latency(row['latency_seconds'])} / {_latency(old['latency_seconds'])} |"
        )
    lines += ["", *_redesign_text(rows, ratios, data, previous), ""]
    return lines


def _transitions_by_state(rows: list[dict[str, Any]]) -> list[str]:
    """Where the transitions go, state by state, and the shape they add up to."""
    states = _states_in_order(rows)
    lines = [
        "### State transitions by state",
        "",
        "| state | " + " | ".join(_cell(r) for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for state in states:
        lines.append(
            f"| {state} | "
            + " | ".join(str(r["transitions_by_state"].get(state, 0)) for r in rows)
            + " |"
        )
    fixed = {r["state_transitions"] - 3 * r["rounds"] - 2 * r["heartbeats"] for r in rows}
    lines += [""]
    if len(fixed) == 1:
        (once,) = fixed
        lines.append(
            "Every cell adds up to 3 transitions a round (a Wait, `Run checks` and the Choice "
            "after it), 2 a heartbeat (its task and the Choice after it; the Wait before it "
            "stands for the Wait of the round that follows it at once) and "
            f"{once} once per action: *transitions = 3 x rounds + 2 x heartbeats + {once}*"
            + (
                " (the first Choice, the hook read and its Choice, the completion and `Done`, "
                "less the first round's Wait, which it does not have)."
                if once == ONCE_PER_ACTION
                else "."
            )
        )
    else:
        lines.append(
            "The cells do not share one shape (3 a round, 2 a heartbeat and a fixed part): "
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
    rows = [*data["matrix"], data["ready_at_first_round"], data["readiness_signal_poll_5"]]
    duration = max(r["usd"]["duration"] / r["usd"]["total"] for r in rows)
    requests = max(r["usd"]["requests"] / r["usd"]["total"] for r in rows)
    moved = max(r["usd_total_duration_x10"] / r["usd"]["total"] - 1 for r in rows)
    lines += [
        "",
        f"In every cell Lambda duration is at most {duration:.2%} of the action's cost and "
        f"Lambda requests at most {requests:.2%}: state transitions are the rest. Lambda at "
        f"{'/'.join(sorted({str(s['memory_mb']) for s in sizes.values()}))} MB has a fraction of "
        "this machine's CPU and a real AWS call takes tens of milliseconds, so Lambda bills "
        "longer runs than these: were every invocation ten times as long, no cell's total "
        f"would grow by more than {moved:.1%}.",
        "",
    ]
    return lines


def _redesign_text(
    rows: list[dict[str, Any]],
    ratios: list[tuple[float, dict[str, Any]]],
    data: dict[str, Any],
    previous: dict[str, Any],
) -> list[str]:
    if not ratios:
        return ["No cell of the previous release matches this run's cells."]
    low, high = min(ratios, key=lambda x: x[0]), max(ratios, key=lambda x: x[0])
    before = {
        (r["check_seconds"], r["heartbeat_timeout"]): r for r in previous["actions"]["matrix"]
    }
    # Auto Scaling calls besides heartbeats (hook read, completion), now and before.
    extra = sorted(
        {
            (r["autoscaling_calls"] - r["heartbeats"])
            - (old["autoscaling_calls"] - old["heartbeats"])
            for r in rows
            if (old := before.get((r["check_seconds"], r["heartbeat_timeout"]))) is not None
        }
    )
    first, old_first = data["ready_at_first_round"], previous["actions"]["ready_at_first_round"]
    return [
        f"State transitions, the cost that matters, are {low[0]:.2f} ({_cell(low[1])}) to "
        f"{high[0]:.2f} ({_cell(high[1])}) times the previous release's. The previous "
        "definition ran a round as a Wait and one task that also sent whatever heartbeat or "
        "completion was due, with a Choice every two rounds: about 2.5 transitions a round. "
        "This one gives each AWS call the product exists for its own task, so the execution "
        "history shows each heartbeat and the completion and Step Functions retries each alone: "
        "a Choice after every round, and two transitions a heartbeat. The hook read now also "
        "checks the action against Auto Scaling before anything is sent "
        "(DescribeAutoScalingInstances, and in tag mode DescribeTags again): Auto Scaling calls "
        "besides heartbeats, "
        + (
            f"{extra[0]:+d} in every cell"
            if len(extra) == 1
            else f"{extra[0]:+d} to {extra[-1]:+d} a cell"
        )
        + ". "
        + _heartbeats_then(rows, before)
        + " The shortest action, a launch whose checks pass at the first round "
        f"(HeartbeatTimeout {first['heartbeat_timeout']} s): {first['state_transitions']} "
        f"transitions and {sum(first['lambda_invocations'].values())} Lambda invocations "
        f"against {old_first['state_transitions']} and {old_first['lambda_invocations']} "
        "before. Issue 17 retired the previous target (transitions at most half a "
        "fixed-interval baseline's): readability and error handling come first, and cost is to "
        "be cut by doing fewer rounds (issue 20), not by the definition's shape.",
    ]


def _heartbeats_then(rows: list[dict[str, Any]], before: dict[tuple[int, int], Any]) -> str:
    """Heartbeats now against the previous release's, cell by cell."""
    pairs = [
        (r, old)
        for r in rows
        if (old := before.get((r["check_seconds"], r["heartbeat_timeout"]))) is not None
    ]
    fewer = [
        f"{_cell(r)}: {r['heartbeats']} (was {o['heartbeats']})"
        for r, o in pairs
        if r["heartbeats"] < o["heartbeats"]
    ]
    more = [
        f"{_cell(r)}: {r['heartbeats']} (was {o['heartbeats']})"
        for r, o in pairs
        if r["heartbeats"] > o["heartbeats"]
    ]
    said = []
    if fewer:
        said.append("fewer in " + ", ".join(fewer))
    if more:
        said.append("more in " + ", ".join(more))
    same = len(pairs) - len(fewer) - len(more)
    return (
        "Heartbeats: "
        + "; ".join(said)
        + (f"; as many in the other {same} cells" if said and same else "")
        + ("as many as before in every cell" if not said else "")
        + " (the jitter now shifts an action's first heartbeat only; after it, heartbeats come "
        "a usable HeartbeatTimeout apart)."
    )


def latency(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    rows = [r for r in data["matrix"] if r["latency_seconds"] is not None]
    if not rows:
        return ["## Latency", "", "No cell of `python -m bench.actions` could pass its checks.", ""]
    worst = max(r["latency_seconds"] for r in rows)
    before = {
        (r["check_seconds"], r["heartbeat_timeout"]): r for r in previous["actions"]["matrix"]
    }
    old = [
        before[(r["check_seconds"], r["heartbeat_timeout"])]["latency_seconds"]
        for r in rows
        if (r["check_seconds"], r["heartbeat_timeout"]) in before
    ]
    old_worst = max((v for v in old if v is not None), default=None)
    signal = data["readiness_signal_poll_5"]
    bound = POLL + poll_jitter_span(POLL) - 1
    return [
        "## Latency",
        "",
        "From the moment the checks would pass to CompleteLifecycleAction, in virtual time "
        f"(`python -m bench.actions` on {data['machine']}): "
        + ", ".join(f"{_cell(r)}: {r['latency_seconds']:.0f} s" for r in rows)
        + f". Worst {worst:.0f} s; target at most one poll interval ({POLL} s): "
        f"{'met' if worst <= POLL else 'missed'}"
        + (f" (previous release: worst {old_worst:.0f} s)." if old_worst is not None else ".")
        + f" By design a round comes at most {bound} s after the one before (the poll interval "
        "plus its jitter of up to a tenth, `asg_lifecycle.policy`; rounds are stretched further "
        "only when a wait would need more than 2,000 of them), so completion can come that long "
        "after readiness, plus the round's own time: over the target by up to a tenth of the "
        "poll interval" + (", which none of the cells above reached." if worst <= POLL else "."),
        "",
        'Near-immediate completion: give the hook `"pollSeconds": 5` (the shortest) and a '
        "cheap readiness check the instance signals itself, e.g. `instance-tag` (user data "
        "tags the instance `ready` when its service is up) or `ssm-parameter`. Measured with "
        f"`pollSeconds: {signal['poll_seconds']}`: {signal['latency_seconds']:.0f} s from ready "
        f"to completion (by design at most "
        f"{signal['poll_seconds'] + poll_jitter_span(signal['poll_seconds']) - 1} s plus the "
        f"round's own time), {signal['state_transitions']} transitions (previous release: "
        f"{previous['actions']['readiness_signal_poll_5']['state_transitions']}) for a launch "
        f"whose checks take {_duration(signal['check_seconds'])}: a poll that short costs "
        "transitions for as long as the checks wait, so keep it for launches that are ready "
        "within minutes.",
        "",
    ]


def _in_call_order(functions: dict[str, Any]) -> list[str]:
    """The workflow's functions in the order an action calls them, then any other."""
    return [f for f in FUNCTIONS if f in functions] + sorted(set(functions) - set(FUNCTIONS))


def scale(data: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    bucket = data["autoscaling_calls_per_second"]
    before = previous["scale"]
    usd = data["usd_per_1000_actions"]
    by_function = data["lambda_invocations_per_action_by_function"]
    reconciler = data["reconciler"]
    return [
        f"## Scale: {data['instances']:,} instances",
        "",
        f"`python -m bench.scale --instances {data['instances']}` on {data['machine']} "
        f"({_load(data)}): {data['instances']:,} instances launched at once (HeartbeatTimeout "
        "300 s, ready after 75 s), then scaled in (a 60-s deregistration delay): "
        f"{data['actions']:,} actions.",
        "",
        "| run | wall time | peak memory | all completed exactly once | heartbeats within one of the minimum | Auto Scaling calls per second (peak / mean of busy seconds) | per action: AWS calls / Lambda / transitions | USD per 1,000 actions (transitions + requests) | USD per 1,000 actions (with duration) |",  # noqa: E501
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
        f"| {before['completed_exactly_once']} | not measured "
        f"| {before['autoscaling_calls_per_second']['peak']} / "
        f"{before['autoscaling_calls_per_second']['mean_busy']} "
        f"| {before['aws_calls_per_action']} / {before['lambda_invocations_per_action']} / "
        f"{before['state_transitions_per_action']} "
        f"| {before['usd_per_1000_actions_requests']:.2f} | not priced |",
        "",
        "Lambda invocations per action: "
        + ", ".join(f"{SHORT.get(f, f)} {by_function[f]:g}" for f in _in_call_order(by_function))
        + f". The reconciler ran {reconciler['invocations']} times in the run (every "
        "`ReconcileMinutes`, whatever the fleet; median run "
        f"{reconciler['median_ms']} ms here): a cost of the stack, left out of the per-action "
        "Lambda figures, though its AWS calls are in the per-action AWS calls.",
        "",
        "Wall time is the emulator's (moto serves every call in Python, one function at a "
        "time), not AWS's, and moves with the machine's load (above), so the two releases' "
        "wall times compare only loosely; besides, an action now makes "
        f"{data['lambda_invocations_per_action']} Lambda invocations and "
        f"{data['state_transitions_per_action']} transitions where it made "
        f"{before['lambda_invocations_per_action']} and {before['state_transitions_per_action']}. "
        "The per-second figures are virtual time: every instance launches in the same second "
        "here, and every one terminates in another, so the busiest second carries "
        f"{bucket['peak'] / data['instances']:g} calls per instance: each action's start (in "
        "tag mode a `DescribeTags`), its hook read (`DescribeTags`, "
        "`DescribeAutoScalingInstances`, `DescribeLifecycleHooks`, and for a termination the "
        "group's instance lifecycle policy, `DescribeAutoScalingGroups`) and, for a termination, "
        "the drain check's first `DescribeAutoScalingGroups` and, since Auto Scaling drained the "
        "instance before its wait, the `CompleteLifecycleAction` that follows in the same second. "
        "In AWS that burst meets the "
        "account's Auto Scaling rate limit and is spread by botocore's and Step Functions' "
        "jittered retries (see the fault-injection suite), while later heartbeats and rounds "
        "are spread by the workflow's own jitter.",
        "",
    ]


WIDTH = 0.4  # of a bar, beside its pair


def _paired_panel(
    axis: Any, now: list[float], then: list[float | None], title: str, release: str
) -> None:
    """This release's bars beside the previous release's, each pair marked with their ratio."""
    x = range(len(now))
    axis.bar([i - WIDTH / 2 for i in x], now, WIDTH, label="this release")
    axis.bar(
        [i + WIDTH / 2 for i in x],
        [v or 0 for v in then],
        WIDTH,
        label=f"previous release ({release})",
        color="tab:gray",
    )
    for i, (n, t) in enumerate(zip(now, then, strict=True)):
        if t:
            axis.annotate(f"x{n / t:.2f}", (i, max(n, t)), ha="center", va="bottom", fontsize=7)
    axis.set_yscale("log")
    axis.set_ylim(top=max(*now, *(v or 0 for v in then)) * 3)
    axis.set_title(title)
    axis.legend(fontsize=8, loc="upper left")


def _heartbeat_panel(axis: Any, rows: list[dict[str, Any]]) -> None:
    x = range(len(rows))
    sent = [r["heartbeats"] for r in rows]
    minimum = [r["heartbeats_minimum"] for r in rows]
    axis.bar(
        [i - WIDTH / 2 for i in x],
        sent,
        WIDTH,
        label="sent",
        color=["tab:blue" if r["heartbeats_within_one"] else "tab:red" for r in rows],
    )
    axis.bar([i + WIDTH / 2 for i in x], minimum, WIDTH, label="minimum", color="tab:gray")
    for i, (count, m) in enumerate(zip(sent, minimum, strict=True)):
        axis.annotate(f"{count} / {m}", (i, max(count, m, 1)), ha="center", va="bottom", fontsize=7)
    axis.set_yscale("symlog", linthresh=1)
    axis.set_ylim(0, max(3, *sent, *minimum) * 3)
    axis.set_title("Heartbeats sent / minimum (target: within one; red: missed)")
    axis.legend(fontsize=8, loc="upper left")


def _latency_panel(
    axis: Any, rows: list[dict[str, Any]], old: list[dict[str, Any] | None], release: str
) -> None:
    measured = [(i, r["latency_seconds"]) for i, r in enumerate(rows)]
    axis.bar(
        [i for i, v in measured if v is not None],
        [v for _, v in measured if v is not None],
        0.6,
        color=["tab:red" if v > POLL else "tab:green" for _, v in measured if v is not None],
        label="this release",
    )
    for i, v in measured:
        text = "n/a: gave up" if v is None else f"{v:.0f} s"
        axis.annotate(
            text,
            (i, v or 0),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    then = [(i, o["latency_seconds"]) for i, o in enumerate(old) if o is not None]
    axis.scatter(
        [i for i, v in then if v is not None],
        [v for _, v in then if v is not None],
        marker="_",
        s=400,
        color="black",
        label=f"previous release ({release})",
        zorder=3,
    )
    axis.axhline(POLL, color="black", linestyle="--", linewidth=1, label="target: one poll")
    tallest = [v for _, v in measured if v is not None] + [v for _, v in then if v is not None]
    axis.set_ylim(0, max([POLL * 1.4] + [v * 1.2 for v in tallest]))
    axis.set_title("Ready to CompleteLifecycleAction, virtual s (red: over the target)")
    axis.legend(fontsize=8, loc="upper left")


def plot(actions: dict[str, Any], previous: dict[str, Any]) -> None:
    """Four panels: transitions and cost against the previous release, heartbeats against the
    minimum (target: within one), latency (target: one poll interval). The figure names the
    commands and the machine, as the tables do."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    rows = actions["matrix"]
    before = {
        (r["check_seconds"], r["heartbeat_timeout"]): r for r in previous["actions"]["matrix"]
    }
    old = [before.get((r["check_seconds"], r["heartbeat_timeout"])) for r in rows]
    release = previous["release"][:7]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (transitions, cost), (heartbeats, latency_axis) = axes
    _paired_panel(
        transitions,
        [r["state_transitions"] for r in rows],
        [o["state_transitions"] if o else None for o in old],
        "State transitions per action (log scale; x = this / previous)",
        release,
    )
    _paired_panel(
        cost,
        [1000 * _requests_usd(r) for r in rows],
        [1000 * o["usd_requests"] if o else None for o in old],
        "USD per 1,000 actions: transitions + Lambda requests (log scale)",
        release,
    )
    _heartbeat_panel(heartbeats, rows)
    _latency_panel(latency_axis, rows, old, release)
    labels = [f"{_duration(r['check_seconds'])}\nHBT {r['heartbeat_timeout']}" for r in rows]
    for axis in axes.flat:
        axis.set_xticks(list(range(len(rows))))
        axis.set_xticklabels(labels, fontsize=8)
    durations = " / ".join(dict.fromkeys(_duration(r["check_seconds"]) for r in rows))
    timeouts = " / ".join(dict.fromkeys(str(r["heartbeat_timeout"]) for r in rows))
    fig.suptitle(
        f"One launch per cell on the local emulation, poll {POLL} s: checks take {durations}, "
        f"HeartbeatTimeout (HBT) {timeouts} s"
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
    fig.tight_layout(rect=(0, 0.02, 1, 1))
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
        f"figures (commit `{previous['release'][:7]}`, before the workflow was redrawn with a "
        "task per AWS call) are kept beside these: `bench/previous-release.json` says where "
        "each comes from.",
        "",
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
