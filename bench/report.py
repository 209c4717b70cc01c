"""Write ``docs/PERFORMANCE.md`` (and its plots) from the benchmarks' results.

    python -m bench.report

Reads ``bench/results/{imports,actions,scale-<N>}.json`` as the last ``make bench`` left them;
every figure in the report names the command that produced it. Nothing here measures anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from asg_lifecycle.policy import poll_jitter_span, usable_heartbeat_budget
from bench.actions import POLL
from bench.baseline import BASELINE_STATES, BASELINE_TRANSITIONS_PER_ROUND
from bench.definition import digest, rounds_per_choice
from bench.results import load
from bench.scale import USD_PER_LAMBDA_REQUEST, USD_PER_STATE_TRANSITION

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
COLD_START_TARGET = 1.25


def _duration(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min"


def cold_start(data: dict[str, Any]) -> list[str]:
    by_clients: dict[frozenset[str], list[tuple[str, float]]] = {}
    for name, row in data["handlers"].items():
        by_clients.setdefault(frozenset(row["clients"]), []).append((name, row["floor_ms"]))
    same = max(by_clients.values(), key=len)  # the same floor, measured for several handlers
    lines = [
        "## Cold start",
        "",
        f"`python -m bench.imports --runs {data['runs']}` on {data['machine']}: median of "
        f"{data['runs']} fresh interpreters each. *init* = import the handler and create the "
        "boto3 clients its first call creates; *floor* = `import boto3` and create the same "
        "clients: what any Python function calling those APIs pays.",
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
    lines += [
        "",
        f"Target: init within {COLD_START_TARGET}x the floor (✗ marks a miss). Deployment "
        f"package (`.aws-sam/build`, zipped): {data['package_zip_kb']} KiB, of which the "
        f"project's own code {data['own_code_zip_kb']} KiB (the rest is Powertools and its "
        "dependencies; boto3 comes with the runtime).",
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
        "What each library choice costs (ms): "
        + "; ".join(f"{label}: {ms}" for label, ms in data["candidates_ms"].items())
        + ".",
        "",
    ]
    return lines


def _over_half(row: dict[str, Any], baseline_transitions: int | None = None) -> float:
    """Transitions over half the baseline's (exact counts, not the rounded ratio); by default the
    fixed-interval baseline's, else ``baseline_transitions``."""
    if baseline_transitions is None:
        baseline_transitions = row["baseline"]["state_transitions"]
    return float(row["ours"]["state_transitions"] - baseline_transitions / 2)


def _cell(row: dict[str, Any]) -> str:
    return f"{_duration(row['check_seconds'])}/{row['heartbeat_timeout']} s"


def _heartbeats(count: int) -> str:
    return f"{count} heartbeat{'' if count == 1 else 's'}"


def _more_rounds(over_half: list[dict[str, Any]]) -> list[str]:
    """Why cells over half ran more rounds than the baseline, by HeartbeatTimeout: those whose
    usable heartbeat budget is under two poll intervals (any other is left unexplained)."""
    by_timeout: dict[int, list[dict[str, Any]]] = {}
    for row in over_half:  # the case docs/ARCHITECTURE.md explains: a budget under two polls
        short = usable_heartbeat_budget(row["heartbeat_timeout"]) < 2 * POLL
        if short and row["rounds"] > row["baseline_rounds"]:
            by_timeout.setdefault(row["heartbeat_timeout"], []).append(row)
    found = [
        f" At HeartbeatTimeout {timeout} s the usable budget of "
        f"{usable_heartbeat_budget(timeout)} s is under two poll intervals: heartbeating within "
        f"one of the minimum while checking at least every {POLL} s takes about two rounds a "
        "heartbeat ("
        + "; ".join(
            f"{_duration(r['check_seconds'])}: {r['rounds']} rounds and "
            f"{_heartbeats(r['ours']['heartbeats'])}, the baseline's {r['baseline_rounds']} and "
            f"{r['baseline']['heartbeats']}"
            for r in rows
        )
        + ")."
        for timeout, rows in sorted(by_timeout.items())
    ]
    if found:
        found.append(
            " Heartbeating on every round instead would bring the transitions to about half "
            "(the shape's ratio at the same rounds) and miss the heartbeat target; rounds a "
            "heartbeat apart would meet both and miss the latency target. With a usable budget "
            "under two poll intervals this definition cannot meet all three "
            '(docs/ARCHITECTURE.md, "Short HeartbeatTimeouts: three targets at odds").'
        )
    return found


def per_action(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Per lifecycle action",
        "",
        f"`python -m bench.actions` on {data['machine']}: one launch on the local emulation "
        f"(the real definition and handlers, virtual time), poll {POLL} s. The baseline is a "
        "fixed-interval workflow that checks every poll interval from the action's start and "
        "heartbeats on every poll, with one task per step and a Choice after each "
        f"({BASELINE_STATES}), for the rounds it runs itself: one at the start and one every "
        f"{POLL} s until the checks would pass or the action gives up (`bench.baseline`). "
        "*At these rounds* is the same baseline for the rounds the workflow ran: the two "
        "definitions' shapes compared round for round. Costs are Step Functions "
        f"Standard transitions (${USD_PER_STATE_TRANSITION * 1000:.3f} per 1,000) and Lambda "
        f"requests (${USD_PER_LAMBDA_REQUEST * 1e6:.2f} per million), us-east-1 list prices, "
        "without Lambda duration.",
        "",
        "![per action](performance-actions.png)",
        "",
        "| checks take | HeartbeatTimeout | result | rounds (baseline's) | heartbeats (minimum) | Auto Scaling calls | Lambda invocations | state transitions | transitions / baseline | transitions / baseline at these rounds | USD per 1,000 actions | baseline: heartbeats / AS calls / Lambda / transitions / USD per 1,000 |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in data["matrix"]:
        ours, base = row["ours"], row["baseline"]
        note = "" if row["possible"] else " (global timeout 100 x HBT is shorter)"
        lines.append(
            f"| {_duration(row['check_seconds'])} | {row['heartbeat_timeout']} s "
            f"| {row['result']}{note} | {row['rounds']} ({row['baseline_rounds']}) "
            f"| {ours['heartbeats']} ({row['heartbeats_minimum']}) "
            f"| {ours['autoscaling_calls']} | {ours['lambda_invocations']} "
            f"| {ours['state_transitions']} | {row['transitions_vs_baseline']} "
            f"| {row['transitions_vs_same_rounds']} "
            f"| {ours['usd'] * 1000:.2f} | {base['heartbeats']} / {base['autoscaling_calls']} / "
            f"{base['lambda_invocations']} / {base['state_transitions']} / "
            f"{base['usd'] * 1000:.2f} |"
        )
    worst_heartbeats = max(
        r["ours"]["heartbeats"] - r["heartbeats_minimum"] for r in data["matrix"]
    )
    worst_ratio = max(r["transitions_vs_baseline"] for r in data["matrix"])
    over_half = [r for r in data["matrix"] if _over_half(r) > 0]
    lines += [
        "",
        "Targets: heartbeats within one of the minimum (`ceil(wait / usable budget)` less the "
        "hook's first timeout; the usable budget is HeartbeatTimeout less the safety margin and "
        f"the largest jitter): worst excess here {worst_heartbeats} — "
        f"{'met' if worst_heartbeats <= 1 else 'missed'}. Transitions at most half the "
        f"baseline's: worst ratio {worst_ratio} — "
        + (
            f"missed in {len(over_half)} of {len(data['matrix'])} cells ("
            + ", ".join(
                f"{_cell(r)}: {r['ours']['state_transitions']} vs "
                f"{r['baseline']['state_transitions']}, {r['rounds']} rounds to the "
                f"baseline's {r['baseline_rounds']}"
                for r in over_half
            )
            + ")."
            if over_half
            else "met."
        ),
        "",
    ]
    first_chain, loop = rounds_per_choice()
    shape_over = [r for r in data["matrix"] if _over_half(r, r["same_rounds_transitions"]) > 0]
    lines += [
        "Why about half, round for round: here a round is a Wait and a task (which runs the "
        "checks and, only when due, the heartbeat or the completion in the same invocation), "
        f"and the workflow's one Choice comes after {first_chain} rounds and then every {loop} "
        f"(`src/orchestrator/lifecycle.asl.json`): {2 + 1 / loop:g} transitions a round against "
        f"the baseline's {BASELINE_TRANSITIONS_PER_ROUND}. An action that ends before a Choice "
        "runs on to it through a 1-second Wait and a task that does nothing for each round left "
        "(two transitions and a Lambda request each)"
        + (
            ": at the same rounds, an action that ends on an even round is one transition over "
            "half ("
            + ", ".join(_cell(r) for r in shape_over)
            + ' here), an odd one under (docs/ARCHITECTURE.md, "One function, two rounds to a '
            'Choice").'
            if shape_over and all(r["rounds"] % 2 == 0 for r in shape_over)
            else "."
        ),
        "",
        "The rounds differ: the workflow's are a poll interval plus a jitter of up to a tenth "
        "of it apart (a fleet's rounds do not fall in the same second), so it runs fewer than "
        "the baseline when no heartbeat needs a round of its own; when the hook would lapse "
        "before the next round, it runs one just before the hook needs its heartbeat and "
        "heartbeats there, so that each heartbeat buys nearly a whole HeartbeatTimeout."
        + "".join(_more_rounds(over_half)),
        "",
    ]
    first = data["ready_at_first_round"]
    ours, base = first["ours"], first["baseline"]
    lines += [
        f"The shortest action, a launch whose checks pass at the first round "
        f"(HeartbeatTimeout {first['heartbeat_timeout']} s): {ours['state_transitions']} "
        f"transitions and {ours['lambda_invocations']} Lambda invocations against the "
        f"baseline's {base['state_transitions']} and {base['lambda_invocations']} (ratio "
        f"{first['transitions_vs_baseline']}): it ends in the first task and runs through "
        f"{first_chain - 1} empty rounds to the first Choice; the baseline, with no "
        "heartbeat to send either, has nothing more to spend.",
        "",
    ]
    return lines


def latency(data: dict[str, Any]) -> list[str]:
    rows = [r for r in data["matrix"] if r["latency_seconds"] is not None]
    if not rows:
        return ["## Latency", "", "No cell of `python -m bench.actions` could pass its checks.", ""]
    worst = max(r["latency_seconds"] for r in rows)
    signal = data["readiness_signal_poll_5"]
    return [
        "## Latency",
        "",
        "From the moment the checks would pass to CompleteLifecycleAction, in virtual time "
        f"(`python -m bench.actions` on {data['machine']}): "
        + ", ".join(
            f"{_duration(r['check_seconds'])}/{r['heartbeat_timeout']} s: "
            f"{r['latency_seconds']:.0f} s"
            for r in rows
        )
        + f". Worst {worst:.0f} s; target at most one poll interval ({POLL} s): "
        f"{'met' if worst <= POLL else 'missed'}. By design a round comes at most "
        f"{POLL + poll_jitter_span(POLL) - 1} s after the one before (the poll interval plus "
        "its jitter of up to a tenth, `asg_lifecycle.policy`; rounds are stretched further only "
        "when a wait would need more than 2,000 of them), so completion can come that long "
        "after readiness, plus the round's own time: over the target by up to a tenth of the "
        "poll interval" + (", which none of the cells above reached." if worst <= POLL else "."),
        "",
        'Near-immediate completion: give the hook `"pollSeconds": 5` (the shortest) and a '
        "cheap readiness check the instance signals itself, e.g. `instance-tag` (user data "
        "tags the instance `ready` when its service is up) or `ssm-parameter`. Measured with "
        f"`pollSeconds: {signal['poll_seconds']}`: {signal['latency_seconds']:.0f} s from ready "
        f"to completion (by design at most "
        f"{signal['poll_seconds'] + poll_jitter_span(signal['poll_seconds']) - 1} s plus the "
        f"round's own time), {signal['ours']['state_transitions']} transitions for a launch "
        f"whose checks take {_duration(signal['check_seconds'])}: a poll that short costs "
        "transitions for as long as the checks wait, so keep it for launches that are ready "
        "within minutes.",
        "",
    ]


def scale(data: dict[str, Any]) -> list[str]:
    bucket = data["autoscaling_calls_per_second"]
    return [
        f"## Scale: {data['instances']:,} instances",
        "",
        f"`python -m bench.scale --instances {data['instances']}` on {data['machine']}: "
        f"{data['instances']:,} instances launched at once, then scaled in "
        f"({data['actions']:,} actions).",
        "",
        "| wall time | peak memory | all completed exactly once | Auto Scaling calls per second (peak / mean of busy seconds) | per action: AWS calls / Lambda / transitions | USD per 1,000 actions |",  # noqa: E501
        "|---|---|---|---|---|---|",
        f"| {data['wall_seconds'] / 60:.1f} min | {data['peak_rss_mb']} MB "
        f"| {data['completed_exactly_once']} "
        f"| {bucket['peak']} / {bucket['mean_busy']} "
        f"| {data['aws_calls_per_action']} / {data['lambda_invocations_per_action']} / "
        f"{data['state_transitions_per_action']} | {data['usd_per_1000_actions']:.2f} |",
        "",
        "Wall time is the emulator's (moto serves every call in Python, one function at a "
        "time), not AWS's. The per-second figures are virtual time: every instance launches in "
        "the same second here, so the first second carries every action's start (in tag mode a "
        "`DescribeTags` each) and hook read (`DescribeLifecycleHooks`); in AWS that burst meets "
        "the account's Auto Scaling rate limit and is spread by botocore's and Step Functions' "
        "jittered retries (see the fault-injection suite), while later heartbeats and rounds are "
        "spread by the workflow's own jitter.",
        "",
    ]


def plot(actions: dict[str, Any]) -> None:
    """Four panels, one a target: transitions (absolute and against the baseline, target half),
    heartbeats against the minimum (target: within one), latency (target: one poll interval).
    The figure names the commands and the machine, as the tables do."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    rows = actions["matrix"]
    labels = [f"{_duration(r['check_seconds'])}\nHBT {r['heartbeat_timeout']}" for r in rows]
    x = list(range(len(rows)))
    width = 0.4
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    (absolute, ratio), (heartbeats, latency_axis) = axes

    absolute.bar([i - width / 2 for i in x], [r["ours"]["state_transitions"] for r in rows], width)
    absolute.bar(
        [i + width / 2 for i in x], [r["baseline"]["state_transitions"] for r in rows], width
    )
    absolute.set_yscale("log")
    absolute.set_title("State transitions per action (log scale)")
    absolute.legend(["this workflow", "baseline: heartbeat every poll"], fontsize=8)

    ratios = [r["transitions_vs_baseline"] for r in rows]
    ratio.bar(x, ratios, 0.6, color=["tab:red" if v > 0.5 else "tab:green" for v in ratios])
    ratio.axhline(0.5, color="black", linestyle="--", linewidth=1, label="target: at most 0.5")
    for i, v in zip(x, ratios, strict=True):
        ratio.annotate(f"{v:g}", (i, v), ha="center", va="bottom", fontsize=8)
    ratio.set_ylim(0, max(1.0, max(ratios) * 1.15))
    ratio.set_title("Transitions / baseline's (red: over the target)")
    ratio.legend(fontsize=8)

    sent = [r["ours"]["heartbeats"] for r in rows]
    minimum = [r["heartbeats_minimum"] for r in rows]
    heartbeats.bar([i - width / 2 for i in x], sent, width, label="sent")
    heartbeats.bar([i + width / 2 for i in x], minimum, width, label="minimum")
    for i, (count, m) in enumerate(zip(sent, minimum, strict=True)):
        heartbeats.annotate(
            f"{count} / {m}", (i, max(count, m, 1)), ha="center", va="bottom", fontsize=7
        )
    heartbeats.set_yscale("symlog", linthresh=1)
    heartbeats.set_ylim(0, max(3, *sent, *minimum) * 3)
    heartbeats.set_title("Heartbeats per action: sent / minimum (target: within one)")
    heartbeats.legend(fontsize=8)

    measured = [(i, r["latency_seconds"]) for i, r in enumerate(rows)]
    latency_axis.bar(
        [i for i, v in measured if v is not None],
        [v for _, v in measured if v is not None],
        0.6,
        color=["tab:red" if v > POLL else "tab:green" for _, v in measured if v is not None],
    )
    for i, v in measured:
        text = "n/a: gave up" if v is None else f"{v:.0f} s"
        latency_axis.annotate(text, (i, v or 0), ha="center", va="bottom", fontsize=8)
    latency_axis.axhline(POLL, color="black", linestyle="--", linewidth=1, label="target: one poll")
    latency_axis.set_ylim(0, max([POLL * 1.4] + [v * 1.15 for _, v in measured if v is not None]))
    latency_axis.set_title("Ready to CompleteLifecycleAction, virtual s (red: over the target)")
    latency_axis.legend(fontsize=8)

    for axis in axes.flat:
        axis.set_xticks(x)
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
        f"python -m bench.actions on {actions['machine']}; drawn by python -m bench.report",
        ha="center",
        fontsize=8,
        color="dimgray",
    )
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(DOCS / "performance-actions.png", dpi=100)
    plt.close(fig)


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
    DOCS.mkdir(exist_ok=True)
    plot(actions)
    lines = [
        "# Performance and cost",
        "",
        "Written by `python -m bench.report` from the results of `make bench` "
        "(`bench.imports`, `bench.actions`, `bench.scale`); rerun `make bench` to refresh. "
        "Benchmarks are not tests: nothing here is asserted.",
        "",
        *cold_start(imports),
        *per_action(actions),
        *latency(actions),
        *scale(scale_result),
    ]
    (DOCS / "PERFORMANCE.md").write_text("\n".join(lines).rstrip() + "\n")
    print("written: docs/PERFORMANCE.md, docs/performance-actions.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
