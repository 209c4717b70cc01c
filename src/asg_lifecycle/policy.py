"""The timing decisions of one lifecycle action: deadlines, when to heartbeat, what to send.

Pure functions of (plan, progress, check verdict, now). Auto Scaling's rules they rely on:

* a hook holds an instance for ``HeartbeatTimeout`` seconds (30-7200); each
  RecordLifecycleActionHeartbeat restarts that full timeout;
* whatever happens, the wait ends ``min(100 x HeartbeatTimeout, 172800 s)`` after it started (the
  global timeout), and then the hook's DefaultResult applies;

so this module heartbeats only when the hook would otherwise expire before the next round, never
tries to extend past the global timeout, and gives up (with the configured result) a safety margin
before it, so that the result sent is ours and not whatever DefaultResult happens to be.

A fleet scaling at once starts all its actions in the same second, and Auto Scaling has one
throttling bucket per account and Region: each action's heartbeat schedule is shifted once by a
jitter that is a hash of the action (:func:`jitter`), so the same inputs always give the same answer
and a fleet does not beat in step; after the first, heartbeats come a full usable
``HeartbeatTimeout - margin`` apart. Rounds are spread the same way (up to a tenth of the poll
interval longer).

Rounds back off while the checks keep waiting (:func:`poll_interval`): each wait is half the time
the action has waited so far, at least ``pollSeconds`` and at most ``maxPollSeconds``. A long wait
then costs few rounds, and a signal (:mod:`asg_lifecycle.signals`) runs the checks at once
whatever the interval. Back-off never delays a heartbeat: :func:`decide` sends it first when a
round would end too late.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from asg_lifecycle.config import ActionConfig, CheckSpec, OnAbandon
from asg_lifecycle.decision import Decision, Next
from asg_lifecycle.model import (
    LifecycleAction,
    LifecycleResult,
    Transition,
    format_time,
    parse_time,
)

HEARTBEAT_TIMEOUT_MIN = 30
HEARTBEAT_TIMEOUT_MAX = 7200
GLOBAL_TIMEOUT_CAP = 172_800  # 48 hours
GLOBAL_TIMEOUT_FACTOR = 100
# Step Functions Standard allows 25,000 history events per execution; one round (the callback
# task that waits for it, the checks' task and the Choice after it) writes 13, 14 when the wait
# falls back to a Wait state; a heartbeat 7 more (at most 100 of them: the global timeout is 100
# HeartbeatTimeouts). Rounds are stretched so that one execution never needs more than this many,
# with about 6,000 events left for tasks tried again through outages (3 events a try).
MAX_ROUNDS = 1300
# Signals may run rounds early only while this many rounds are left for the rest of the wait: a
# flood of signals can use up half the rounds, never the execution's history.
SIGNAL_ROUNDS = MAX_ROUNDS // 2
# A signal ends a wait at the earliest this long after the round before it (or after pollSeconds,
# if shorter): a burst of signals (a drain's tasks stopping one by one, a flood) runs a round at
# most that often.
SIGNAL_SPACING_SECONDS = 5

# A round that starts more than this after it was due had its task retried (a Wait state ends
# within a second or two of its time; a cold start adds a few).
LATE_ROUND_SECONDS = 10
# The longest stretch between two tries of a round's task: the definition's retry delay at most
# (Run checks' MaxDelaySeconds, 60) after a try that ran to the check function's timeout (90 s,
# template.yaml). tests/unit/test_definition.py ties the three together.
RETRY_SPAN_SECONDS = 150
# The longest one try of a heartbeat or a completion can take: HeartbeatFunction's and
# CompleteFunction's Timeout (template.yaml; tests/unit/test_definition.py ties them). A try that
# runs into it fails as Lambda.Unknown and is tried again within 2 s ("Record lifecycle action
# heartbeat"'s first retry interval, full jitter).
LIFECYCLE_CALL_TRY_SECONDS = 20
# The least safety margin: one try that times out, the retry's delay (at most 2 s) and the retried
# call (3 s).
MARGIN_FLOOR = LIFECYCLE_CALL_TRY_SECONDS + 5
# The state machine's TimeoutSeconds: the longest an action can wait (the global timeout cap) and
# an hour for the last round, retries and completion. A backstop: nothing should ever reach it.
EXECUTION_TIMEOUT = GLOBAL_TIMEOUT_CAP + 3600


def global_timeout(heartbeat_timeout: int) -> int:
    return min(GLOBAL_TIMEOUT_FACTOR * heartbeat_timeout, GLOBAL_TIMEOUT_CAP)


def usable_heartbeat_budget(heartbeat_timeout: int) -> int:
    """Seconds one heartbeat buys: the timeout less the safety margin (the first heartbeat of an
    action also gives up its jitter, once)."""
    return heartbeat_timeout - safety_margin(heartbeat_timeout)


def minimum_heartbeats(heartbeat_timeout: int, held_seconds: float) -> int:
    """The fewest heartbeats that keep a hook of ``heartbeat_timeout`` alive for ``held_seconds``
    while keeping the safety margin: ``ceil((W - H) / (H - m))``."""
    if held_seconds <= heartbeat_timeout:
        return 0
    return math.ceil(
        (held_seconds - heartbeat_timeout) / usable_heartbeat_budget(heartbeat_timeout)
    )


def safety_margin(heartbeat_timeout: int) -> int:
    """Seconds kept in hand before any deadline, for a round's checks and the API call after them.

    10 % of the heartbeat timeout, at least :data:`MARGIN_FLOOR` (a heartbeat whose function
    times out is tried again in time), at most 120 s, and never over a third of the timeout (a
    heartbeat buys two thirds of it at least): a hook under 75 s cannot outlast a timed-out
    heartbeat.
    """
    return min(max(MARGIN_FLOOR, heartbeat_timeout // 10), 120, heartbeat_timeout // 3)


def jitter(key: str, salt: int, span: int) -> int:
    """A spread in ``[0, span)`` seconds, the same for the same action (``key``) and ``salt``.

    An empty key (a plan made before jitter existed) gets none.
    """
    if span <= 1 or not key:
        return 0
    digest = hashlib.sha256(f"{key}:{salt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % span


class Verdict(StrEnum):
    """The combined answer of a round of checks."""

    PASS = "pass"
    WAIT = "wait"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything fixed for the life of one action, computed once from the hook and its config.

    ``on_abandon``: the group's instance lifecycle policy (read for terminate actions only; a
    plan without it, from before it was read, is ``terminate``): under ``retain`` an ABANDON
    sent, or a DefaultResult ABANDON applied, keeps the instance for an operator.
    """

    transition: Transition
    started_at: datetime
    heartbeat_timeout: int
    default_result: LifecycleResult
    global_deadline: datetime
    give_up_at: datetime
    poll_seconds: int
    margin: int
    on_failure: LifecycleResult
    on_timeout: LifecycleResult
    checks: tuple[CheckSpec, ...]
    jitter_key: str = ""
    on_abandon: OnAbandon = OnAbandon.TERMINATE
    max_poll_seconds: int = 0  # rounds back off up to it (0, or pollSeconds or less: none)
    waiting_notice_seconds: int = 0  # the "waiting long" notification after this long (0: none)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "transition": self.transition.value,
            "startedAt": format_time(self.started_at),
            "heartbeatTimeout": self.heartbeat_timeout,
            "defaultResult": self.default_result.value,
            "globalDeadline": format_time(self.global_deadline),
            "giveUpAt": format_time(self.give_up_at),
            "pollSeconds": self.poll_seconds,
            "maxPollSeconds": max(self.poll_seconds, self.max_poll_seconds),
            "waitingNoticeSeconds": self.waiting_notice_seconds,
            "margin": self.margin,
            "onFailure": self.on_failure.value,
            "onTimeout": self.on_timeout.value,
            "checks": [c.to_json() for c in self.checks],
            "jitterKey": self.jitter_key,
        }
        if self.transition is Transition.TERMINATING:
            data["terminateHookAbandon"] = self.on_abandon.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            transition=Transition(data["transition"]),
            started_at=parse_time(data["startedAt"]),
            heartbeat_timeout=int(data["heartbeatTimeout"]),
            default_result=LifecycleResult(data["defaultResult"]),
            global_deadline=parse_time(data["globalDeadline"]),
            give_up_at=parse_time(data["giveUpAt"]),
            poll_seconds=int(data["pollSeconds"]),
            margin=int(data["margin"]),
            on_failure=LifecycleResult(data["onFailure"]),
            on_timeout=LifecycleResult(data["onTimeout"]),
            checks=tuple(CheckSpec(c["name"], c.get("params", {})) for c in data["checks"]),
            jitter_key=str(data.get("jitterKey", "")),
            on_abandon=OnAbandon(data.get("terminateHookAbandon", OnAbandon.TERMINATE.value)),
            # a plan from before back-off: no back-off
            max_poll_seconds=int(data.get("maxPollSeconds", data["pollSeconds"])),
            waiting_notice_seconds=int(data.get("waitingNoticeSeconds", 0)),
        )


@dataclass(frozen=True, slots=True)
class Progress:
    """What changes round to round: when the hook expires if nobody heartbeats, and counters."""

    hook_expires_at: datetime
    heartbeats: int = 0
    rounds: int = 0
    told_waiting_long: bool = False  # its "waiting long" notification was sent (once)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "hookExpiresAt": format_time(self.hook_expires_at),
            "heartbeats": self.heartbeats,
            "rounds": self.rounds,
        }
        if self.told_waiting_long:
            data["toldWaitingLong"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        return cls(
            hook_expires_at=parse_time(data["hookExpiresAt"]),
            heartbeats=int(data["heartbeats"]),
            rounds=int(data["rounds"]),
            told_waiting_long=data.get("toldWaitingLong") is True,
        )


def make_plan(
    action: LifecycleAction,
    heartbeat_timeout: int,
    default_result: LifecycleResult,
    config: ActionConfig,
    now: datetime,
    *,
    on_abandon: OnAbandon = OnAbandon.TERMINATE,
) -> tuple[Plan, Progress]:
    """Fix the action's deadlines. ``now`` bounds the start when the event's clock is ahead."""
    if not HEARTBEAT_TIMEOUT_MIN <= heartbeat_timeout <= HEARTBEAT_TIMEOUT_MAX:
        raise ValueError(f"HeartbeatTimeout {heartbeat_timeout} is outside 30-7200 s")
    started = min(action.started_at, now)
    global_deadline = started + timedelta(seconds=global_timeout(heartbeat_timeout))
    margin = safety_margin(heartbeat_timeout)
    give_up_at = min(
        started + timedelta(seconds=config.max_wait_seconds),
        global_deadline - timedelta(seconds=margin),
    )
    plan = Plan(
        transition=action.transition,
        started_at=started,
        heartbeat_timeout=heartbeat_timeout,
        default_result=default_result,
        global_deadline=global_deadline,
        give_up_at=give_up_at,
        poll_seconds=config.poll_seconds,
        max_poll_seconds=config.longest_poll,
        waiting_notice_seconds=config.waiting_notice_seconds,
        margin=margin,
        on_failure=config.on_failure,
        on_timeout=config.on_timeout,
        checks=config.checks,
        jitter_key=action.execution_name,
        # the policy is about terminate actions: a launch's plan does not carry it
        on_abandon=on_abandon
        if action.transition is Transition.TERMINATING
        else OnAbandon.TERMINATE,
    )
    expires = min(started + timedelta(seconds=heartbeat_timeout), global_deadline)
    return plan, Progress(hook_expires_at=expires)


def decide(
    plan: Plan, progress: Progress, verdict: Verdict, reason: str, now: datetime
) -> Decision:
    """The next step after a round of checks that ended at ``now``.

    The hook needs its heartbeat a margin before it expires (:func:`heartbeat_due`). A round is
    run only if it ends, its checks given a margin too, before that; otherwise the workflow waits
    until the heartbeat is due, sends it, and runs the round right after it, with the whole
    HeartbeatTimeout ahead. So a round's checks never stand between the hook and its heartbeat,
    and each heartbeat buys the whole usable HeartbeatTimeout.
    """
    if verdict is Verdict.PASS:
        return Decision(Next.COMPLETE, reason, result=LifecycleResult.CONTINUE)
    if verdict is Verdict.FAIL:
        return Decision(Next.COMPLETE, f"check failed: {reason}", result=plan.on_failure)
    if now >= plan.give_up_at:
        waited = int((now - plan.started_at).total_seconds())
        return Decision(
            Next.COMPLETE, f"checks not passed after {waited}s: {reason}", result=plan.on_timeout
        )
    margin = timedelta(seconds=plan.margin)
    wake = min(now + _poll(plan, progress, now), plan.give_up_at)
    if progress.hook_expires_at >= plan.global_deadline:
        # No heartbeat can extend the hook any more (the give-up time is a margin before it).
        wake = min(wake, progress.hook_expires_at - margin)
        if wake <= now:
            return Decision(
                Next.COMPLETE,
                f"no time left before the global timeout: {reason}",
                result=plan.on_timeout,
            )
    elif (
        wake + margin > (due := heartbeat_due(plan, progress))
        and due < plan.give_up_at
        and not (wake == plan.give_up_at and wake + margin <= progress.hook_expires_at)
    ):  # the round would not end before the heartbeat is due (and is not the last one), and
        # the heartbeat is needed before the give-up time (else it would push the round past it)
        seconds = _floor_seconds(due - now)
        until = now + timedelta(seconds=seconds)
        # A signal may run the round early, as long as it starts a margin before the heartbeat
        # is due, as a scheduled round would (and while rounds can be spared).
        signals_from = _signals_from(plan, progress, now, until)
        return Decision(
            Next.HEARTBEAT,
            reason,
            wait_seconds=seconds,
            due_at=until,
            signal_after=signals_from,
            signal_until=max(signals_from, until - margin),
        )
    seconds = _seconds(wake - now)
    due = now + timedelta(seconds=seconds)
    signals_from = _signals_from(plan, progress, now, due)
    return Decision(Next.WAIT, reason, wait_seconds=seconds, due_at=due, signal_after=signals_from)


def _signals_from(plan: Plan, progress: Progress, now: datetime, end: datetime) -> datetime:
    """When a signal may end the wait that begins ``now`` and ends at ``end``: a few seconds on
    (:data:`SIGNAL_SPACING_SECONDS`: a burst of signals runs a round at most that often), or never
    (``end``) once the rounds a signal may use are used up."""
    if progress.rounds >= SIGNAL_ROUNDS:
        return end
    spacing = timedelta(seconds=min(plan.poll_seconds, SIGNAL_SPACING_SECONDS))
    return min(now + spacing, end)


def heartbeat_due(plan: Plan, progress: Progress) -> datetime:
    """When the hook needs its next heartbeat: a margin before it expires. The first heartbeat of
    an action comes up to half a margin earlier (a jitter, the same for the same action): that
    shift stays with every later heartbeat, so a fleet that started together does not beat in
    step, and costs the action no heartbeat more."""
    spread = jitter(plan.jitter_key, 0, plan.margin // 2) if progress.heartbeats == 0 else 0
    return progress.hook_expires_at - timedelta(seconds=plan.margin + spread)


def before_round(
    plan: Plan, progress: Progress, due_at: datetime | None, now: datetime
) -> Decision | None:
    """What comes before a round that starts late, if anything.

    A round starts on time, at least a margin before the hook expires (:func:`decide`). One that
    starts more than :data:`LATE_ROUND_SECONDS` after it was due had its task retried after
    errors (a check's dependency that hangs, Lambda failing), and the next try may come up to
    :data:`RETRY_SPAN_SECONDS` later: if the hook would not outlast that, the round heartbeats
    first and runs its checks a second later; past the give-up time it completes with
    ``onTimeout`` instead, as a round that did not pass would have.
    """
    if due_at is None or now - due_at <= timedelta(seconds=LATE_ROUND_SECONDS):
        return None
    needed = timedelta(seconds=RETRY_SPAN_SECONDS + plan.margin)
    if progress.hook_expires_at - now >= needed:
        return None
    if now >= plan.give_up_at:
        waited = int((now - plan.started_at).total_seconds())
        return Decision(
            Next.COMPLETE,
            f"checks not passed after {waited}s: their last round could not run",
            result=plan.on_timeout,
        )
    if progress.hook_expires_at >= plan.global_deadline:  # a heartbeat would buy nothing
        return None
    return heartbeat_first("the round is late (its task was retried): heartbeat first", now)


def heartbeat_first(reason: str, now: datetime) -> Decision:
    """The heartbeat in a second, then the round (no signal ends that wait)."""
    return Decision(Next.HEARTBEAT, reason, wait_seconds=1, due_at=now + timedelta(seconds=1))


def hold_seconds(started_at: datetime, heartbeat_timeout: int, now: datetime) -> int:
    """How long to wait before completing without checks: until just before the hook's first
    HeartbeatTimeout ends, measured from the action's start (at least 1 s)."""
    margin = timedelta(seconds=safety_margin(heartbeat_timeout))
    return _floor_seconds(started_at + timedelta(seconds=heartbeat_timeout) - margin - now)


def after_heartbeat(plan: Plan, progress: Progress, now: datetime) -> Progress:
    """Progress once Auto Scaling accepted a heartbeat sent at ``now``."""
    extended = min(now + timedelta(seconds=plan.heartbeat_timeout), plan.global_deadline)
    return replace(progress, hook_expires_at=extended, heartbeats=progress.heartbeats + 1)


def after_round(progress: Progress) -> Progress:
    return replace(progress, rounds=progress.rounds + 1)


def _poll(plan: Plan, progress: Progress, now: datetime) -> timedelta:
    """The poll interval (:func:`poll_interval`) plus a jitter of up to a tenth of it, stretched
    if the rounds left would not fit in one execution's history."""
    rounds_left = max(1, MAX_ROUNDS - progress.rounds)
    needed = (plan.give_up_at - now).total_seconds() / rounds_left
    interval = poll_interval(plan, now)
    spread = jitter(plan.jitter_key, progress.rounds, poll_jitter_span(interval))
    return timedelta(seconds=max(interval + spread, math.ceil(needed)))


BACKOFF_SHARE = 0.5
"""While the checks keep waiting, each wait between rounds is this share of the time waited."""


def poll_interval(plan: Plan, now: datetime) -> int:
    """Seconds to the next round, before jitter: half the time the action has waited so far,
    at least ``pollSeconds``, at most ``maxPollSeconds``. Rounds back off by time waited, not by
    rounds run, so rounds a signal ran early do not change the schedule."""
    longest = max(plan.poll_seconds, plan.max_poll_seconds)
    waited = (now - plan.started_at).total_seconds()
    return min(longest, max(plan.poll_seconds, math.floor(waited * BACKOFF_SHARE)))


def poll_jitter_span(poll_seconds: int) -> int:
    """Rounds are ``poll_seconds`` plus ``[0, span)`` seconds apart."""
    return poll_seconds // 10 + 1


def _floor_seconds(delta: timedelta) -> int:
    """Whole seconds, rounded down: for waits that must end *before* a deadline."""
    return max(1, math.floor(delta.total_seconds()))


def _seconds(delta: timedelta) -> int:
    """Whole seconds for a Wait state, at least 1 so that every round moves time forward."""
    return max(1, math.ceil(delta.total_seconds()))
