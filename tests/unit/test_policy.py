"""Deadlines, heartbeats and results, decided without AWS."""

from __future__ import annotations

import bisect
import itertools
import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from asg_lifecycle.config import ActionConfig, CheckSpec, OnAbandon
from asg_lifecycle.decision import Next
from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition
from asg_lifecycle.policy import (
    LATE_ROUND_SECONDS,
    MAX_ROUNDS,
    RETRY_SPAN_SECONDS,
    SIGNAL_ROUNDS,
    Plan,
    Progress,
    Verdict,
    after_heartbeat,
    after_round,
    before_round,
    decide,
    global_timeout,
    heartbeat_due,
    jitter,
    make_plan,
    minimum_heartbeats,
    poll_interval,
    safety_margin,
    usable_heartbeat_budget,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def action(transition: Transition = Transition.LAUNCHING) -> LifecycleAction:
    return LifecycleAction(
        "web", "hook", "i-0123456789abcdef0", "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f", transition, T0
    )


def config(
    poll: int = 30,
    max_wait: int = 1800,
    on: LifecycleResult = LifecycleResult.ABANDON,
    max_poll: int = 0,
) -> ActionConfig:
    return ActionConfig(
        (CheckSpec("instance-status"),), poll, max_wait, on, on, max_poll_seconds=max_poll
    )


def plan_for(
    hb: int = 300, poll: int = 30, max_wait: int = 1800, jittered: bool = False, max_poll: int = 0
) -> tuple[Plan, Progress]:
    """A plan; without jitter unless asked, so that the timing rules can be read exactly."""
    chosen = config(poll, max_wait, max_poll=max_poll)
    plan, progress = make_plan(action(), hb, LifecycleResult.ABANDON, chosen, T0)
    return (plan if jittered else replace(plan, jitter_key="")), progress


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_global_timeout_is_100_heartbeats_capped_at_48_hours() -> None:
    assert global_timeout(30) == 3000
    assert global_timeout(1728) == 172_800
    assert global_timeout(7200) == 172_800


def test_plan_deadlines() -> None:
    plan, progress = plan_for(hb=300, max_wait=1800)
    assert plan.global_deadline == at(30_000)
    assert plan.give_up_at == at(1800)
    assert progress.hook_expires_at == at(300)
    long_plan, _ = plan_for(hb=60, max_wait=172_800)
    assert long_plan.give_up_at == at(6000 - safety_margin(60))  # before the global timeout


def test_checks_passing_means_continue() -> None:
    plan, progress = plan_for()
    decision = decide(plan, progress, Verdict.PASS, "ok", at(40))
    assert (decision.next, decision.result) == (Next.COMPLETE, LifecycleResult.CONTINUE)


def test_definitive_failure_ends_early_with_the_failure_result() -> None:
    plan, progress = plan_for()
    decision = decide(plan, progress, Verdict.FAIL, "instance is terminated", at(40))
    assert (decision.next, decision.result) == (Next.COMPLETE, LifecycleResult.ABANDON)
    assert "instance is terminated" in decision.reason


def test_waiting_past_the_give_up_time_completes_with_the_timeout_result() -> None:
    plan, progress = plan_for(max_wait=600)
    decision = decide(plan, progress, Verdict.WAIT, "initializing", at(600))
    assert (decision.next, decision.result) == (Next.COMPLETE, LifecycleResult.ABANDON)


def test_no_heartbeat_while_the_hook_outlasts_the_next_round() -> None:
    plan, progress = plan_for(hb=300, poll=30)
    decision = decide(plan, progress, Verdict.WAIT, "initializing", at(30))
    assert (decision.next, decision.wait_seconds) == (Next.WAIT, 30)


def test_a_round_that_would_not_end_before_the_heartbeat_waits_for_the_heartbeat() -> None:
    """Expires at 300, margin 30: the heartbeat is due at 270. A round at 200 waking at 260 ends
    (with a margin for its checks) by 290 > 270: instead, wait until 270, heartbeat, and run the
    round right after it; its checks never stand between the hook and its heartbeat."""
    plan, progress = plan_for(hb=300, poll=60)
    assert heartbeat_due(plan, progress) == at(270)
    early = decide(plan, progress, Verdict.WAIT, "initializing", at(170))
    assert (early.next, early.wait_seconds, early.due_at) == (Next.WAIT, 60, at(230))
    decision = decide(plan, progress, Verdict.WAIT, "initializing", at(200))
    assert (decision.next, decision.wait_seconds, decision.due_at) == (Next.HEARTBEAT, 70, at(270))
    assert after_heartbeat(plan, progress, at(270)).hook_expires_at == at(570)


def test_a_heartbeat_already_due_is_sent_a_second_later() -> None:
    plan, progress = plan_for(hb=300, poll=30)
    late = decide(plan, progress, Verdict.WAIT, "initializing", at(275))
    assert (late.next, late.wait_seconds) == (Next.HEARTBEAT, 1)


def test_the_last_round_needs_no_heartbeat_when_the_hook_outlasts_it() -> None:
    """Give-up at 400, hook until 600: the round at 400 decides, the completion follows it."""
    plan, progress = plan_for(hb=600, poll=300, max_wait=400)
    decision = decide(plan, progress, Verdict.WAIT, "x", at(350))
    assert (decision.next, decision.wait_seconds) == (Next.WAIT, 50)


def test_with_a_heartbeat_timeout_shorter_than_the_poll_rounds_follow_the_heartbeats() -> None:
    plan, progress = plan_for(hb=30, poll=120)
    first = decide(plan, progress, Verdict.WAIT, "initializing", at(1))
    assert (first.next, first.wait_seconds) == (Next.HEARTBEAT, 19)  # due at 20 = 30 - 10
    beaten = after_heartbeat(plan, progress, at(20))
    second = decide(plan, beaten, Verdict.WAIT, "initializing", at(20))
    assert (second.next, second.wait_seconds) == (Next.HEARTBEAT, 30 - safety_margin(30))


def test_rounds_stretch_so_one_execution_fits_the_history_limit() -> None:
    plan, progress = plan_for(hb=3600, poll=5, max_wait=172_800)
    decision = decide(plan, progress, Verdict.WAIT, "x", at(0))
    # 172,800 s in at most MAX_ROUNDS rounds: at least 87 s apart.
    assert decision.wait_seconds >= math.ceil(
        (plan.give_up_at - at(0)).total_seconds() / MAX_ROUNDS
    )


def test_a_start_time_in_the_future_is_clamped_to_now() -> None:
    future = LifecycleAction(
        "web",
        "hook",
        "i-0123456789abcdef0",
        "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f",
        Transition.LAUNCHING,
        at(3600),
    )
    plan, _ = make_plan(future, 300, LifecycleResult.ABANDON, config(), T0)
    assert plan.started_at == T0


def test_heartbeat_timeout_outside_aws_bounds_is_rejected() -> None:
    with pytest.raises(ValueError, match="30-7200"):
        plan_for(hb=10)


def test_plan_and_progress_round_trip_through_json() -> None:
    plan, progress = plan_for()
    assert Plan.from_json(plan.to_json()) == plan
    assert Progress.from_json(progress.to_json()) == progress


def simulate(
    hb: int,
    poll: int,
    max_wait: int,
    ready_at: float | None,
    round_cost: float,
    *,
    sent: list[float] | None = None,
    max_poll: int = 0,
    signals: tuple[float, ...] = (),
) -> dict[str, float]:
    """Play the loop (jitter included) against an Auto Scaling that enforces the hook's timeouts;
    ``sent`` collects when each heartbeat was sent. A signal at a moment in ``signals`` ends the
    round's wait then, if the round's decision allows signals by then."""
    plan, progress = plan_for(hb=hb, poll=poll, max_wait=max_wait, jittered=True, max_poll=max_poll)
    now, heartbeats, last_extend, taken = 0.0, 0, 0.0, 0
    expires = min(hb, global_timeout(hb))
    while True:
        assert now <= expires, f"hook expired at {expires}s before the round at {now}s"
        now += round_cost  # the round of checks takes time
        verdict = Verdict.PASS if ready_at is not None and now >= ready_at else Verdict.WAIT
        progress = after_round(progress)
        decision = decide(plan, progress, verdict, "", at(now))
        if decision.next is Next.COMPLETE:
            return {
                "end": now,
                "heartbeats": heartbeats,
                "result": decision.result == LifecycleResult.CONTINUE,
                "rounds": progress.rounds,
            }
        assert decision.wait_seconds is not None
        woken = None
        window = json.loads(json.dumps(decision.to_json())).get("signal")
        if decision.next in (Next.WAIT, Next.HEARTBEAT):  # the definition writes its window
            assert window is not None, decision
            opens = max(now, int(window["after"]) - T0.timestamp())
            closes = min(int(window["until"]) - T0.timestamp(), now + decision.wait_seconds)
            index = max(taken, bisect.bisect_left(signals, opens))  # the first it may take
            if index < len(signals) and signals[index] < closes:
                woken, taken = signals[index], index + 1  # each signal ends one wait
        if woken is not None:  # a signal: the round now (a heartbeat wait's heartbeat not sent)
            now = max(now, woken)
            continue
        now += decision.wait_seconds
        if decision.next is Next.HEARTBEAT:  # sent when due, then the next round at once
            assert now < expires, f"heartbeat at {now}s after the hook expired at {expires}s"
            heartbeats += 1
            if sent is not None:
                sent.append(now)
            progress = after_heartbeat(plan, progress, at(now))
            expires = min(now + hb, global_timeout(hb))
            assert expires > last_extend
            last_extend = expires


# Step Functions keeps at most 25,000 events per execution. In lifecycle.asl.json a round is its
# wait, the checks' task (entered, scheduled, started, succeeded, exited) and the Choice after it
# (entered, exited); a heartbeat is a task and a Choice; the start, the hook read and its Choice,
# the completion and the end: ~20.
HISTORY_LIMIT = 25_000
# A round waits in a callback task (entered, scheduled, started, submitted, timed out or
# succeeded, exited): 13 with the checks and the Choice; 14 when it falls back to a Wait state
# (its task failed: entered, scheduled, started, failed, exited, then the Wait's two).
EVENTS_PER_ROUND, EVENTS_PER_HEARTBEAT, FIXED_EVENTS = 14, 7, 20
# Kept free for tasks tried again through outages (a failed try writes 3 events: scheduled,
# started, failed): two outages of about 1,000 tries each in one action.
RETRY_RESERVE = 6_000


def history_events(run: dict[str, float]) -> float:
    return (
        FIXED_EVENTS + EVENTS_PER_ROUND * run["rounds"] + EVENTS_PER_HEARTBEAT * run["heartbeats"]
    )


@settings(max_examples=200, deadline=None)
# A heartbeat due after the give-up time once pushed the last round past it (and the round
# found the instance ready, 8 s after maxWaitSeconds): never heartbeat for rounds after give-up.
@example(hb=30, poll=5, max_wait=30, ready_frac=1.25, round_cost=1.0, max_poll=0, signal_every=None)
@given(
    hb=st.integers(30, 7200),
    poll=st.integers(5, 3600),
    max_wait=st.integers(30, 172_800),
    ready_frac=st.none() | st.floats(0, 1.5),
    round_cost=st.floats(0, 5),
    max_poll=st.integers(0, 3600),
    signal_every=st.none() | st.floats(0.5, 600),
)
def test_loop_never_lets_the_hook_lapse_and_always_ends_before_the_global_timeout(
    *,
    hb: int,
    poll: int,
    max_wait: int,
    ready_frac: float | None,
    round_cost: float,
    max_poll: int,
    signal_every: float | None,
) -> None:
    """Back-off (any maxPollSeconds) and signals (a flood, one every ``signal_every`` s) change
    when rounds run, never whether the hook lapses or the history holds the whole action."""
    ready_at = None if ready_frac is None else ready_frac * max_wait
    signals: tuple[float, ...] = ()
    if signal_every is not None:
        signals = tuple(n * signal_every for n in range(1, int(max_wait / signal_every) + 2))[
            :20_000
        ]
    run = simulate(hb, poll, max_wait, ready_at, round_cost, max_poll=max_poll, signals=signals)
    assert run["end"] < global_timeout(hb)
    assert history_events(run) <= HISTORY_LIMIT - RETRY_RESERVE, "one execution holds it all"
    if ready_at is None or ready_at > max_wait + poll:
        assert not run["result"]


@pytest.mark.parametrize(
    ("hb", "poll", "wait", "max_poll"),
    [
        (300, 30, 6 * 3600, 0),
        (300, 30, 6 * 3600, 300),  # the default terminate back-off
        (300, 30, 6 * 3600, 3600),
        (60, 30, 3600, 0),
        (60, 30, 3600, 600),
        (3600, 30, 30 * 3600, 0),
        (3600, 30, 30 * 3600, 3600),
        (30, 600, 2000, 0),
        (120, 7, 900, 0),
    ],
)
def test_heartbeats_are_within_one_of_the_minimum(
    hb: int, poll: int, wait: int, max_poll: int
) -> None:
    """``ceil((W - H) / (H - m))`` heartbeats keep a hook of HeartbeatTimeout H alive until W with
    the safety margin m; the jitter shifts an action's schedule once, it is not taken off every
    interval. Backing off to a maxPollSeconds longer than the hook changes none of it."""
    sent: list[float] = []
    run = simulate(hb, poll, 48 * 3600, ready_at=wait, round_cost=0, sent=sent, max_poll=max_poll)
    assert run["result"]
    minimum = minimum_heartbeats(hb, run["end"])
    assert minimum <= run["heartbeats"] <= minimum + 1, (run, minimum)
    usable = usable_heartbeat_budget(hb)
    assert all(b - a == usable for a, b in itertools.pairwise(sent)), sent[:5]


def test_the_minimum_number_of_heartbeats() -> None:
    assert minimum_heartbeats(300, 300) == 0, "the first HeartbeatTimeout needs none"
    assert minimum_heartbeats(300, 301) == 1
    assert minimum_heartbeats(300, 21_600) == math.ceil((21_600 - 300) / (300 - 30)) == 79
    assert usable_heartbeat_budget(300) == 300 - safety_margin(300)


def test_a_round_late_after_retries_heartbeats_first_when_another_try_could_be_too_late() -> None:
    """The hook expires at 300 s (margin 30): a retried round's next try may come up to
    RETRY_SPAN_SECONDS later, so one that starts with under RETRY_SPAN + margin left heartbeats
    first; one that starts on time runs its checks (its heartbeat comes after them)."""
    plan, progress = plan_for(hb=300, poll=30, max_wait=1800)
    edge = 300 - RETRY_SPAN_SECONDS - 30
    assert before_round(plan, progress, at(270), at(270)) is None, "on time"
    assert before_round(plan, progress, at(270), at(270 + LATE_ROUND_SECONDS)) is None
    assert before_round(plan, progress, at(30), at(edge)) is None, "late, time for another try"
    first = before_round(plan, progress, at(30), at(edge + 1))
    assert first is not None
    assert (first.next, first.wait_seconds) == (Next.HEARTBEAT, 1)
    assert before_round(plan, progress, None, at(299)) is None, "no due time: an older document"
    short, _ = plan_for(hb=300, poll=30, max_wait=100)
    given_up = before_round(short, progress, at(90), at(edge + 1))
    assert given_up is not None
    assert (given_up.next, given_up.result) == (Next.COMPLETE, LifecycleResult.ABANDON)
    assert "could not run" in given_up.reason


def test_plans_carry_a_jitter_key_of_their_action() -> None:
    plan, _ = plan_for(jittered=True)
    assert plan.jitter_key == action().execution_name
    assert Plan.from_json(plan.to_json()) == plan


def test_jitter_is_deterministic_bounded_and_spread() -> None:
    keys = [f"launch-i-{n:017x}-hook-token" for n in range(500)]
    values = [jitter(key, 3, 15) for key in keys]
    assert values == [jitter(key, 3, 15) for key in keys]
    assert all(0 <= value < 15 for value in values)
    assert set(values) == set(range(15)), "every second of the span is used by some action"
    assert jitter("", 3, 15) == 0
    assert jitter("key", 3, 1) == 0


def test_a_fleet_started_at_once_does_not_poll_or_heartbeat_in_step() -> None:
    """500 actions started in the same second: their rounds and heartbeats land on many seconds."""
    rounds: set[int] = set()
    heartbeats: set[int] = set()
    for n in range(500):
        instance = f"i-{n:017x}"
        act = LifecycleAction("web", "hook", instance, None, Transition.LAUNCHING, T0)
        plan, progress = make_plan(act, 300, LifecycleResult.ABANDON, config(30, 1800), T0)
        now = 0
        for _ in range(12):  # 12 rounds of checks still waiting, heartbeats as needed
            progress = after_round(progress)
            decision = decide(plan, progress, Verdict.WAIT, "", at(now))
            if decision.next is Next.HEARTBEAT:
                heartbeats.add(now)
                progress = after_heartbeat(plan, progress, at(now))
            now += decision.wait_seconds
            rounds.add(now)
    assert len(heartbeats) >= 10, sorted(heartbeats)
    assert len(rounds) >= 30


@pytest.mark.parametrize("hb", [30, 60, 300, 3600])
def test_a_round_as_long_as_one_and_a_half_margins_never_costs_the_hook(hb: int) -> None:
    """A round runs only if it ends, with a margin for its checks, before the heartbeat is due,
    and the heartbeat has its own margin: checks that take longer than the margin (a dependency
    that does not answer) still never let the hook lapse."""
    cost = 1.5 * safety_margin(hb)
    run = simulate(hb, 30, 4 * hb, ready_at=None, round_cost=cost)  # asserts on every lapse
    assert not run["result"], "never ready: the give-up result"
    assert run["heartbeats"] >= minimum_heartbeats(hb, 4 * hb)


def test_a_plan_carries_the_groups_policy_and_one_without_it_is_terminate() -> None:
    """Plans written before the policy was read decode as AWS's default, ``terminate``."""
    plan, _ = make_plan(
        action(Transition.TERMINATING),
        300,
        LifecycleResult.ABANDON,
        config(),
        T0,
        on_abandon=OnAbandon.RETAIN,
    )
    data = plan.to_json()
    assert data["terminateHookAbandon"] == "retain"
    assert Plan.from_json(data) == plan
    older = {k: v for k, v in data.items() if k != "terminateHookAbandon"}
    assert Plan.from_json(older).on_abandon is OnAbandon.TERMINATE
    with pytest.raises(ValueError, match="keep"):
        Plan.from_json({**data, "terminateHookAbandon": "keep"})


# --- back-off ----------------------------------------------------------------------------------


def test_rounds_back_off_by_half_the_time_waited_between_poll_and_max_poll() -> None:
    plan, _ = plan_for(hb=3600, poll=30, max_wait=21_600, max_poll=300)
    assert [poll_interval(plan, at(t)) for t in (0, 30, 60, 61, 100, 599, 600, 5000)] == [
        30,
        30,
        30,
        30,
        50,
        299,
        300,
        300,
    ]
    flat, _ = plan_for(hb=3600, poll=30, max_wait=21_600, max_poll=10)
    assert poll_interval(flat, at(5000)) == 30, "a maxPollSeconds under the poll: no back-off"


def test_a_six_hour_drain_backs_off_to_one_round_a_heartbeat() -> None:
    """HeartbeatTimeout 300, the default terminate settings (poll 30, maxPollSeconds 300): once
    backed off, each heartbeat comes with one round, against 720 rounds at a flat 30 s."""
    flat = simulate(300, 30, 48 * 3600, ready_at=6 * 3600, round_cost=0)
    backed_off = simulate(300, 30, 48 * 3600, ready_at=6 * 3600, round_cost=0, max_poll=300)
    assert flat["rounds"] > 600
    assert backed_off["heartbeats"] <= minimum_heartbeats(300, backed_off["end"]) + 1
    assert backed_off["rounds"] <= backed_off["heartbeats"] + 12, backed_off
    assert backed_off["end"] - 6 * 3600 <= 300, "the drain's end is seen within one maxPoll"


def test_a_signal_runs_the_round_at_once_and_a_flood_spares_half_the_rounds() -> None:
    """A launch signalled ready at 120 s completes then, not at its next poll; one signal a
    second from the start uses at most SIGNAL_ROUNDS rounds early, then waits run their course."""
    signalled = simulate(300, 30, 1800, ready_at=120, round_cost=0, signals=(120.0,))
    assert signalled["end"] == 120
    unsignalled = simulate(300, 30, 1800, ready_at=120, round_cost=0)
    assert unsignalled["end"] > 120
    flood = tuple(float(t) for t in range(1, 3 * 3600))
    run = simulate(300, 5, 48 * 3600, ready_at=None, round_cost=0, signals=flood)
    assert run["rounds"] <= MAX_ROUNDS
    early = simulate(300, 5, 48 * 3600, ready_at=None, round_cost=0)
    assert run["rounds"] <= early["rounds"] + SIGNAL_ROUNDS
