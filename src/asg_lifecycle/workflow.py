"""The state document that flows through the Step Functions workflow, and each task's pure step.

Every task of ``src/orchestrator/lifecycle.asl.json`` invokes one function with the whole
document and gets the next one back. The function does the work the document asks for
(:func:`work_on_entry`), then whatever that work decided is due at once (:func:`work_after`),
until what is left is to wait or nothing; ``decision.next`` then says which:

    ``wait``   -> wait ``waitSeconds``, then the next round of checks
    ``settle`` -> wait ``waitSeconds``, then read the hook (a reconciled action)
    ``hold``   -> wait ``waitSeconds``, then complete with ``result`` (no checks)
    ``end``    -> done; ``outcome`` says how it ended

Inside one invocation, ``decision.next`` also takes the values ``check`` (plan ready: run the
first round now), ``heartbeat`` and ``complete`` (with ``result``): work that is done before the
task returns (:class:`Work`). A document never leaves a task with those (:func:`parked`).

Every ending goes through :func:`_ended`, which writes the one ``outcome`` of the action:
``completed`` (with the result sent), ``already-finished`` (Auto Scaling had no active action any
more: completed elsewhere, instance gone), ``timed-out`` (the hook expired first; its
DefaultResult applied), ``hook-deleted``, ``duplicate`` (a reconciled workflow that found the
event's own workflow running).

The handlers do the AWS calls and hand the answers to these functions, which decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from asg_lifecycle.checks.base import CheckResult, combine
from asg_lifecycle.config import ActionConfig, safe_result
from asg_lifecycle.model import LifecycleAction, LifecycleResult, format_time
from asg_lifecycle.policy import (
    Plan,
    Progress,
    after_heartbeat,
    after_round,
    decide,
    hold_seconds,
    jitter,
    make_plan,
    wait_after_failed_checks,
)

State = dict[str, Any]

WAITS = ("wait", "settle", "hold", "end")
"""What a document leaves a task with: each has ``waitSeconds`` for the Wait state after it."""


class Work(StrEnum):
    """What a task can do for an action, in the order it may do them in one invocation."""

    READ_HOOK = "read-hook"
    CHECKS = "checks"
    HEARTBEAT = "heartbeat"
    COMPLETE = "complete"


RETRIED = (Work.HEARTBEAT, Work.COMPLETE)
"""Also left for the next task (``decision.next``, with ``waitSeconds`` and ``failed`` or
``deferred``): a call this task decided on and could not make (:func:`retry_later`)."""

LEFT_OVER = ("failed", "deferred")
"""The keys of a decision whose call is left to the next task: ``failed`` (made, and failed past
botocore's retries) or ``deferred`` (not started: too little of the function's time was left);
each holds why."""

CALLS = {"heartbeat": "heartbeat", "complete": "completion"}
"""What people call the call each ``decision.next`` of :data:`RETRIED` makes."""


def left_over(decision: Any) -> tuple[str, str] | None:
    """Whether the call ``decision`` asks for was left to the next task: (``failed`` or
    ``deferred``, why), or None if it was not (:func:`retry_later` sets one of the two)."""
    if not isinstance(decision, dict):
        return None
    for key in LEFT_OVER:
        if key in decision:
            return key, str(decision[key])
    return None


def left_over_text(decision: Any) -> str | None:
    """The call left to the next task, for people (the emulator's log, the CLI's timeline)."""
    left = left_over(decision)
    if left is None:
        return None
    kind, why = left
    call = CALLS.get(decision.get("next"), "call")
    seconds = decision.get("waitSeconds")
    if kind == "deferred":
        return f"{call} not started ({why}); the next task makes it in {seconds} s"
    return f"{call} failed ({why[:120]}); the next task tries again in {seconds} s"


PASS_THROUGH_SECONDS = 1
"""The Wait after an ended action (the workflow runs on to its Choice, the tasks on the way do
nothing). Not 0: a Wait state's seconds are a positive integer."""


class InvalidState(ValueError):
    """A document no task can act on (a decision this workflow does not know)."""


def work_on_entry(state: State) -> Work | None:
    """What a task does first with the document it was given.

    It comes from the start (no decision: read the hook), from a Wait (the decision it waited on),
    or back from error recovery (``error`` set; ``AfterError`` in the definition). A round of
    checks that failed is followed by a heartbeat, so that the hook does not lapse while checks
    cannot run; the next task runs the round again (:func:`heartbeat_recorded` clears ``error``).
    """
    decision = state.get("decision")
    step = decision.get("next") if isinstance(decision, dict) else None
    if step is None or step == "settle":
        return Work.READ_HOOK
    if step == "wait":
        return Work.HEARTBEAT if "error" in state else Work.CHECKS
    if step == "heartbeat" and left_over(decision) is not None:
        return Work.HEARTBEAT
    if step in ("hold", "complete"):
        return Work.COMPLETE
    if step == "end":
        return None
    raise InvalidState(f"no task acts on decision {step!r}")


def work_after(state: State) -> Work | None:
    """What is due at once after a piece of work: the first round once the plan is ready, the
    heartbeat or the completion a round decided. None: the task returns (:func:`parked`)."""
    step = state["decision"]["next"]
    if step == "check":
        return Work.CHECKS
    if step == "heartbeat":
        return Work.HEARTBEAT
    if step == "complete":
        return Work.COMPLETE
    return None


def parked(state: State, ran: Sequence[Work]) -> State:
    """The document a task returns: what it ran (``ran``, for timelines) and a decision the
    definition's Wait and Choice states can read."""
    decision = state["decision"]
    seconds = decision.get("waitSeconds")
    waitable = decision["next"] in WAITS or (
        decision["next"] in RETRIED and left_over(decision) is not None
    )
    if not waitable or not isinstance(seconds, int) or seconds < 1:
        raise InvalidState(f"a task cannot return decision {decision!r}")
    return {**state, "ran": [w.value for w in ran]}


def retry_later(state: State, why: str, *, started: bool = True) -> State:
    """The heartbeat or completion a round just decided failed (after botocore's retries), or was
    not started (``started`` False: too little of the function's time was left): the task returns
    the round (its results, its checks' memos, the decided result) instead of failing, and the
    next task makes the call 1-4 s later (jittered). If it fails there too, Step Functions'
    retries and the definition's recovery apply to it as to any failed call.

    Failing the whole task instead would lose the round: Step Functions would run the checks
    again (a check that had just sent a command would send it again), and after the recovery
    rounds the workflow would send the safe result, not the decided one.
    """
    progress = state.get("progress") or {}
    seconds = 1 + jitter(action_of(state).execution_name, int(progress.get("rounds", 0)), 4)
    key = "failed" if started else "deferred"
    decision = {k: v for k, v in state["decision"].items() if k not in LEFT_OVER}
    return {**state, "decision": {**decision, "waitSeconds": seconds, key: why}}


def action_of(state: State) -> LifecycleAction:
    return LifecycleAction.from_json(state.get("action"))


def planned(
    state: State,
    heartbeat_timeout: int | None,
    default_result: LifecycleResult | None,
    config: ActionConfig | str,
    now: datetime,
) -> State:
    """After reading the hook.

    ``heartbeat_timeout`` None: the hook is gone. ``config`` str: the configuration is invalid.

    An invalid configuration runs no checks and guesses nothing: the safe result (ABANDON a
    launch, CONTINUE a termination) is sent just before the hook's first HeartbeatTimeout ends.
    Completing at once would, on a launch hook, ABANDON every new instance the moment it starts,
    and the group would churn through replacements as fast as EC2 launches them.
    """
    action = action_of(state)
    if heartbeat_timeout is None or default_result is None:
        return _ended(
            state,
            "hook-deleted",
            None,
            "the lifecycle hook no longer exists; Auto Scaling ended its actions",
            now,
        )
    state = _recovered(state)
    if isinstance(config, str):
        return {
            **state,
            "configError": config,
            "decision": {
                "next": "hold",
                "waitSeconds": hold_seconds(action.started_at, heartbeat_timeout, now),
                "result": safe_result(action.transition).value,
                "reason": f"invalid configuration: {config}",
            },
        }
    if action.reconciled:  # the confirming heartbeat restarted the hook's timeout: count from now
        action = replace(action, started_at=now)
    plan, progress = make_plan(action, heartbeat_timeout, default_result, config, now)
    return {
        **state,
        "plan": plan.to_json(),
        "progress": progress.to_json(),
        "decision": {"next": "check", "reason": "plan ready"},
    }


def settling(state: State, seconds: int) -> State:
    """A reconciled action waits ``seconds`` (plus a jitter of up to half of it: a reconcile run's
    orphans do not all read at once) before its hook is read (see
    :data:`asg_lifecycle.reconcile.SETTLE_SECONDS`)."""
    seconds += jitter(action_of(state).execution_name, 0, seconds // 2)
    return {
        **state,
        "settled": True,
        "decision": {
            "next": "settle",
            "waitSeconds": seconds,
            "reason": "reconciled: giving a late event's workflow time to start",
        },
    }


def duplicate(state: State, now: datetime, other: str) -> State:
    """Another workflow (the event's, started late) handles the action: this one stops here."""
    return _ended(state, "duplicate", None, f"workflow {other} handles this action", now)


def memos_of(state: State) -> list[Any]:
    """What each configured check (by position) asked to get back next round."""
    memos = state.get("checkMemos")
    return list(memos) if isinstance(memos, list) else []


def checked(state: State, results: Sequence[CheckResult], now: datetime) -> State:
    """After a round of checks: complete, or (heartbeat and) wait.

    ``checks`` holds this round's results (name, status, reason, duration, details): the last
    round's are in the execution's output. A check that did not run this round (an earlier one
    did not pass) keeps its memo.
    """
    state = _recovered(state)
    plan = Plan.from_json(state["plan"])
    progress = after_round(Progress.from_json(state["progress"]))
    verdict, reason = combine(results)
    decision = decide(plan, progress, verdict, reason, now)
    memos = (memos_of(state) + [None] * len(plan.checks))[: len(plan.checks)]
    for index, result in enumerate(results):
        memos[index] = result.memo
    updated = {
        **state,
        "progress": progress.to_json(),
        "checks": [r.to_json() for r in results],
        "decision": decision.to_json(),
    }
    if any(memo is not None for memo in memos):
        updated["checkMemos"] = memos
    else:
        updated.pop("checkMemos", None)
    return updated


def heartbeat_recorded(state: State, now: datetime) -> State:
    """After a heartbeat: wait the time the round decided (or, after checks that failed to run
    or a retried heartbeat, a poll interval bounded by the hook's next need), then the next
    round."""
    plan = Plan.from_json(state["plan"])
    progress = after_heartbeat(plan, Progress.from_json(state["progress"]), now)
    decision = {k: v for k, v in state["decision"].items() if k not in LEFT_OVER}
    if state["decision"]["next"] != "heartbeat" or left_over(state["decision"]) is not None:
        # not the round's own heartbeat (its wait is decided): after checks that could not run,
        # or a heartbeat sent late, the wait counts from now
        decision["waitSeconds"] = wait_after_failed_checks(plan, progress, now)
    # ``error`` goes (the next task runs the round again, :func:`work_on_entry`); ``recovery``,
    # the count of attempts, stays until a round runs.
    kept = {k: v for k, v in state.items() if k != "error"}
    return {**kept, "progress": progress.to_json(), "decision": {**decision, "next": "wait"}}


def lapsed(state: State, now: datetime) -> bool:
    """Whether the hook has run out of time: Auto Scaling has applied its DefaultResult.

    A heartbeat or completion retried (by Step Functions, after an error) past this moment is not
    sent: the action is recorded as timed out instead.
    """
    progress = state.get("progress")
    return isinstance(progress, dict) and now >= Progress.from_json(progress).hook_expires_at


def timed_out(state: State, now: datetime, during: str) -> State:
    """The hook expired before the workflow could act: DefaultResult applied (Auto Scaling's)."""
    plan = state.get("plan")
    default = LifecycleResult(plan["defaultResult"]) if isinstance(plan, dict) else None
    return _ended(
        state,
        "timed-out",
        default,
        f"the hook expired before {during}; Auto Scaling applied its DefaultResult",
        now,
    )


def action_gone(state: State, now: datetime, during: str) -> State:
    """Auto Scaling answered "No active Lifecycle Action": it ended elsewhere (or timed out)."""
    if lapsed(state, now):
        return timed_out(state, now, during)
    return _ended(
        state,
        "already-finished",
        None,
        f"Auto Scaling has no active lifecycle action any more ({during})",
        now,
    )


def completed(state: State, now: datetime) -> State:
    decision = state["decision"]
    return _ended(state, "completed", LifecycleResult(decision["result"]), decision["reason"], now)


def _recovered(state: State) -> State:
    """The hook was read, or a round of checks ran: forget the error the workflow was recovering
    from (``AfterError`` in the definition), so that a later failure gets its full count of
    attempts. (A heartbeat does not reset it: checks that never run must not heartbeat forever.)"""
    return {k: v for k, v in state.items() if k not in ("error", "recovery")}


def _ended(
    state: State, status: str, result: LifecycleResult | None, reason: str, now: datetime
) -> State:
    progress = state.get("progress") or {}
    outcome: dict[str, Any] = {
        "status": status,
        "result": result.value if result else None,
        "reason": reason,
        "at": format_time(now),
        "heartbeats": progress.get("heartbeats", 0),
        "rounds": progress.get("rounds", 0),
    }
    if "error" in state:
        outcome["error"] = state["error"]
    if "configError" in state:
        outcome["configError"] = state["configError"]
    decision = {"next": "end", "reason": reason, "waitSeconds": PASS_THROUGH_SECONDS}
    return {**state, "outcome": outcome, "decision": decision}
