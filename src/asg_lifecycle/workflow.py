"""Each workflow task's pure step: given the state document and what AWS answered, the next one.

The handlers (``src/handlers``) make the AWS calls and hand the answers here; the definition
(``src/orchestrator/lifecycle.asl.json``) routes on the :class:`~asg_lifecycle.decision.Next`
each step decides, waits, and retries the tasks that fail. Nothing here calls AWS, reads the
clock or retries.

Every ending goes through :func:`ended`, which writes the action's one ``outcome``
(:class:`~asg_lifecycle.document.Status`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from asg_lifecycle.checks.base import CheckResult, combine
from asg_lifecycle.config import POLL_BOUNDS, ActionConfig, OnAbandon, safe_result
from asg_lifecycle.decision import SIGNALLED, Decision, Next
from asg_lifecycle.document import (
    STARTED,
    WAITING_LONG,
    Notice,
    Outcome,
    StateDocument,
    Status,
    who_of,
)
from asg_lifecycle.lifecycle_states import Instance, waits_for
from asg_lifecycle.model import (
    REPLACE_ROOT_VOLUME,
    LifecycleAction,
    LifecycleResult,
    Transition,
    format_time,
)
from asg_lifecycle.policy import (
    Plan,
    Progress,
    after_heartbeat,
    after_round,
    before_round,
    decide,
    heartbeat_first,
    hold_seconds,
    jitter,
    make_plan,
)


def not_waiting(action: LifecycleAction, instance: Instance | None) -> str | None:
    """Why Auto Scaling does not hold ``action`` as the event says it does, or None if it does:
    the instance is in the event's group and in a wait state AWS documents for the transition
    (:mod:`asg_lifecycle.lifecycle_states`)."""
    if instance is None:
        return f"instance {action.instance_id} is in no Auto Scaling group"
    if instance.group_name != action.group_name:
        return (
            f"instance {action.instance_id} is in group {instance.group_name!r}, "
            f"not {action.group_name!r}"
        )
    if not waits_for(action.transition, instance.lifecycle_state):
        return (
            f"instance {action.instance_id} is {instance.lifecycle_state}, not in a "
            f"{action.transition.short} wait state"
        )
    return None


# Auto Scaling's own view of where an action takes the instance: a launch into the warm pool and
# a scale-in back into it (ReuseOnScaleIn) both wait in this state, and nothing else does.
INTO_WARM_POOL_STATE = "Warmed:Pending:Wait"
REPLACING_ROOT_VOLUME_STATE = "ReplacingRootVolume:Wait"
WARM_POOL = "WarmPool"


def as_auto_scaling_sees_it(
    action: LifecycleAction, lifecycle_state: str | None
) -> LifecycleAction:
    """``action`` with what its event said about the instance's way made to agree with Auto
    Scaling's own view (the instance's LifecycleState, once :func:`not_waiting` has found it
    waiting for the action's transition): that decides which checks run and what is sent.

    * An instance in ``Warmed:Pending:Wait`` goes into the warm pool: its destination is
      ``WarmPool``, whatever the event said or left out. One in any other wait state does not:
      an event's ``WarmPool`` destination is dropped (unknown: the top-level configuration, which
      checks the most), never trusted to pick a lighter ``warmPool`` block or skip a check.
    * A terminate action of an instance in ``ReplacingRootVolume:Wait`` is a root-volume
      replacement (``Action`` ``ReplaceRootVolume``); one in any other state is a real
      termination, whatever the event said. (A launch after a replacement waits like any launch:
      its ``Action`` is the event's word.)

    Not guessing: Auto Scaling holds the instance in that state for that reason alone.
    """
    destination = action.destination
    if lifecycle_state == INTO_WARM_POOL_STATE:
        destination = WARM_POOL
    elif destination == WARM_POOL:
        destination = None
    action_name = action.action_name
    if action.transition is Transition.TERMINATING:
        if lifecycle_state == REPLACING_ROOT_VOLUME_STATE:
            action_name = REPLACE_ROOT_VOLUME
        elif action_name == REPLACE_ROOT_VOLUME:
            action_name = None
    if (destination, action_name) == (action.destination, action.action_name):
        return action
    return replace(action, destination=destination, action_name=action_name)


def disagreement(action: LifecycleAction, lifecycle_state: str | None) -> str | None:
    """Why the event's explicit Destination and the instance's wait state disagree on the warm
    pool, if they do. Right after the event that may be a stale read of either side (the hook
    read reads again); later, Auto Scaling's view is taken (:func:`as_auto_scaling_sees_it`)."""
    if action.destination is None:
        return None
    into_pool = lifecycle_state == INTO_WARM_POOL_STATE
    if (action.destination == WARM_POOL) == into_pool:
        return None
    return f"the event says Destination {action.destination}, the instance is {lifecycle_state}"


def settling(doc: StateDocument, seconds: int) -> StateDocument:
    """A reconciled action's first wait: ``seconds`` plus a jitter of up to half of it (a
    reconcile run's orphans do not all read at once), for a late event's workflow to start
    (:data:`asg_lifecycle.reconcile.SETTLE_SECONDS`)."""
    return replace(doc, settle_seconds=seconds + jitter(doc.action.execution_name, 0, seconds // 2))


def planned(
    doc: StateDocument,
    heartbeat_timeout: int,
    default_result: LifecycleResult,
    config: ActionConfig | str,
    now: datetime,
    *,
    on_abandon: OnAbandon = OnAbandon.TERMINATE,
) -> StateDocument:
    """After the hook was read and the action found waiting: the plan, then the first round at
    once. Two kinds first confirm with a heartbeat (:func:`confirming_why`): a reconciled action
    (that this hook holds the instance) and a late event's (that its token is the one Auto
    Scaling holds).

    ``config`` str: the configuration is invalid. Then no check runs and nothing is guessed: the
    safe result (:func:`~asg_lifecycle.config.safe_result`: ABANDON a launch; CONTINUE a
    termination, ABANDON it under the group's ``retain`` policy) is held until just before the
    hook's first HeartbeatTimeout ends (:func:`_hold`). Completing at once would, on a launch
    hook, ABANDON every new instance the moment it starts, and the group would churn through
    replacements as fast as EC2 launches them. ``on_abandon``: the group's policy, in the plan.
    """
    action = doc.action
    config_error = config if isinstance(config, str) else None
    if isinstance(config, str):
        safe = safe_result(
            action.transition, on_abandon, replaces_root_volume=action.replaces_root_volume
        )
        config = ActionConfig((), POLL_BOUNDS[1], heartbeat_timeout, safe, safe)
    if action.reconciled:  # the confirming heartbeat restarts the hook's timeout: count from now
        action = replace(action, started_at=now)
    plan, progress = make_plan(
        action, heartbeat_timeout, default_result, config, now, on_abandon=on_abandon
    )
    doc = replace(doc, plan=plan, progress=progress, config_error=config_error)
    why_confirm = confirming_why(doc)
    if why_confirm is not None:
        return doc.deciding(Decision(Next.CONFIRM, why_confirm))
    if config_error is not None:
        return _hold(doc, now)
    return replace(started(doc), decision=Decision(Next.CHECK, "hook read", due_at=now))


def confirming_why(doc: StateDocument) -> str | None:
    """Why the action must be confirmed with a heartbeat before any check runs, if it must.

    A reconciled action is addressed by instance id, and Auto Scaling does not say which of a
    group's hooks holds an instance. A late event's token (:func:`late_event`: a dead-letter
    replay, a resend) may be of an earlier action of the same instance and hook, ended while the
    instance waits again for a new one: the API lists no tokens, so only a call by the token
    tells (refused with "No active Lifecycle Action found" if it is not the one held)."""
    if doc.action.reconciled:
        return "reconciled: confirm this hook holds it"
    if late_event(doc):
        age = int(event_age_on_arrival(doc))
        return (
            f"the event was {age} s old when its workflow started: confirm its token is the one "
            "Auto Scaling holds (a replay's may be of an earlier action)"
        )
    return None


def _hold(doc: StateDocument, now: datetime) -> StateDocument:
    plan, _ = doc.planned()
    wait = hold_seconds(plan.started_at, plan.heartbeat_timeout, now)
    reason = f"invalid configuration: {doc.config_error}"
    return doc.deciding(Decision(Next.HOLD, reason, wait_seconds=wait, result=plan.on_timeout))


def late_round(doc: StateDocument, now: datetime) -> StateDocument | None:
    """The document for a round that starts too late to run its checks (:func:`before_round`),
    or that a signal started after its window closed (:func:`signalled_too_late`)."""
    plan, progress = doc.planned()
    decision = doc.decision
    if decision is not None and signalled_too_late(decision, now):
        reason = "signalled after the wait's window closed: the heartbeat first"
        return doc.deciding(heartbeat_first(reason, now))
    due_at = decision.due_at if decision else None
    early = before_round(plan, progress, due_at, now)
    return None if early is None else doc.deciding(early)


def signalled_too_late(decision: Decision, now: datetime) -> bool:
    """Whether a round reached from the wait before a heartbeat comes after that wait's signal
    window closed: a round is only reached from there by a signal, and one so close to the
    heartbeat could stand between the hook and it. SignalFunction keeps to the window; anyone
    else holding the token need not (or a signal slow to arrive)."""
    if decision.next is not Next.HEARTBEAT:
        return False
    until = decision.signal_until or decision.due_at
    return until is not None and now >= until


def checked(doc: StateDocument, results: Sequence[CheckResult], now: datetime) -> StateDocument:
    """After a round of checks: complete, heartbeat, or wait.

    ``checks`` holds this round's results (the last round's are in the execution's output). A
    check that did not run this round (an earlier one did not pass) keeps its memo.
    """
    plan, progress = doc.planned()
    progress = after_round(progress)
    verdict, reason = combine(results)
    memos = list((doc.memos + (None,) * len(plan.checks))[: len(plan.checks)])
    for index, result in enumerate(results):
        memos[index] = result.memo
    decision = decide(plan, progress, verdict, reason, now)
    notice = None
    if decision.next in SIGNALLED and waiting_long(plan, progress, now):
        waited = int((now - plan.started_at).total_seconds())
        checks = checks_in_words(results)
        facts = {
            "waitingSince": format_time(plan.started_at),
            "giveUpAt": format_time(plan.give_up_at),
            "checks": checks,
            "rounds": progress.rounds,
            "heartbeats": progress.heartbeats,
            "summary": f"still waiting after {waited} s: {checks}"[:1000],
        }
        notice = Notice(WAITING_LONG, who_of(doc.action), facts)
        progress = replace(progress, told_waiting_long=True)
    return replace(
        doc,
        progress=progress,
        checks=tuple(results),
        memos=tuple(memos),
        decision=decision,
        notice=notice,
    )


def waiting_long(plan: Plan, progress: Progress, now: datetime) -> bool:
    """Whether the action has now waited the stack's WaitingNoticeSeconds, not yet told."""
    if plan.waiting_notice_seconds <= 0 or progress.told_waiting_long:
        return False
    return now - plan.started_at >= timedelta(seconds=plan.waiting_notice_seconds)


def checks_in_words(results: Sequence[CheckResult]) -> str:
    """``instance-status: wait (initializing)``, one per check: names, statuses and reasons
    only (a check's details may hold command output)."""
    return "; ".join(f"{r.name}: {r.status.value} ({r.reason[:160]})" for r in results)[:1000]


def heartbeat_recorded(doc: StateDocument, sent_at: datetime) -> StateDocument:
    """Auto Scaling took the heartbeat sent at ``sent_at``: the hook now expires a full
    HeartbeatTimeout later. Then the next round, at once (a lost event's action: its first
    round, or the hold of an invalid configuration)."""
    plan, progress = doc.planned()
    confirming = doc.decision is not None and doc.decision.next is Next.CONFIRM
    doc = replace(doc, progress=after_heartbeat(plan, progress, sent_at))
    if confirming and doc.config_error is not None:
        return _hold(doc, sent_at)
    reason = "heartbeat recorded"
    if confirming:
        held = "this hook holds the instance" if doc.action.reconciled else "the token is held"
        reason = f"confirmed: {held}"
        doc = started(doc)
    return doc.deciding(Decision(Next.CHECK, reason, due_at=sent_at))


def started(doc: StateDocument) -> StateDocument:
    """The document with its "Lifecycle Action Started" notice: the first round begins."""
    plan, _ = doc.planned()
    facts = {
        "waitingSince": format_time(plan.started_at),
        "giveUpAt": format_time(plan.give_up_at),
        "onTimeout": plan.on_timeout.value,
        "summary": (
            f"its checks run; it gives up at {format_time(plan.give_up_at)} with "
            f"{plan.on_timeout.value}"
        ),
    }
    return replace(doc, notice=Notice(STARTED, who_of(doc.action), facts))


def lapsed(doc: StateDocument, now: datetime) -> bool:
    """Whether the hook has run out of time: Auto Scaling has applied its DefaultResult.

    A heartbeat or completion tried (again) past this moment is not sent: the action is recorded
    as timed out instead.
    """
    return doc.progress is not None and now >= doc.progress.hook_expires_at


def stale_event(doc: StateDocument, heartbeat_timeout: int) -> bool:
    """Whether the event was already older than its hook's HeartbeatTimeout when its workflow
    started (a replay from the dead-letter queue, a resend): whatever its action was, it is over
    or it is another workflow's."""
    expiry = doc.action.started_at + timedelta(seconds=heartbeat_timeout)
    return doc.received_at is not None and doc.received_at >= expiry


# An event whose workflow starts this long after the event's time was not delivered at once: a
# dead-letter replay, an operator's resend, a delivery retried. Its token may be of an action
# that has ended while the instance waits again on the same hook for a new one.
LATE_EVENT_SECONDS = 30


def event_age_on_arrival(doc: StateDocument) -> float:
    """Seconds from the event's time to the start of its workflow (0 when unknown)."""
    if doc.received_at is None:
        return 0.0
    return (doc.received_at - doc.action.started_at).total_seconds()


def late_event(doc: StateDocument) -> bool:
    """Whether the event was :data:`LATE_EVENT_SECONDS` old or more when its workflow started."""
    return event_age_on_arrival(doc) >= LATE_EVENT_SECONDS


def expired_before_read(doc: StateDocument, heartbeat_timeout: int, now: datetime) -> bool:
    """Whether the hook's first HeartbeatTimeout ran out before its read succeeded (the read
    retried through an outage longer than the hook): Auto Scaling has applied its DefaultResult."""
    return now >= doc.action.started_at + timedelta(seconds=heartbeat_timeout)


def timed_out(
    doc: StateDocument, now: datetime, during: str, default: LifecycleResult | None = None
) -> StateDocument:
    """The hook expired before the workflow could act: its DefaultResult applied."""
    if default is None and doc.plan is not None:
        default = doc.plan.default_result
    reason = f"the hook expired before {during}; Auto Scaling applied its DefaultResult"
    return ended(doc, Status.TIMED_OUT, reason, now, default)


def completed(doc: StateDocument, now: datetime) -> StateDocument:
    decision = doc.decision
    if decision is None or decision.result is None:
        raise ValueError("nothing to complete: the decision names no result")
    return ended(doc, Status.COMPLETED, decision.reason, now, decision.result)


def ended(
    doc: StateDocument,
    status: Status,
    reason: str,
    now: datetime,
    result: LifecycleResult | None = None,
) -> StateDocument:
    """The action's one ending."""
    progress = doc.progress
    outcome = Outcome(
        status=status,
        reason=reason,
        result=result,
        at=now,
        heartbeats=progress.heartbeats if progress else 0,
        rounds=progress.rounds if progress else 0,
        config_error=doc.config_error,
        who=who_of(doc.action),
    )
    return replace(doc, outcome=outcome, decision=Decision(Next.END, reason))
