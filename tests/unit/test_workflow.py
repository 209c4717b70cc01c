"""Each task's pure step over the typed state document: what it hands back to the state machine,
without AWS."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from asg_lifecycle import workflow
from asg_lifecycle.checks.base import CheckResult
from asg_lifecycle.config import ActionConfig, CheckSpec, OnAbandon
from asg_lifecycle.decision import Decision, Next
from asg_lifecycle.document import StateDocument, Status
from asg_lifecycle.lifecycle_states import Instance
from asg_lifecycle.model import InvalidAction, LifecycleAction, LifecycleResult, Transition
from asg_lifecycle.policy import Verdict

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN = "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f"
INSTANCE = "i-0123456789abcdef0"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def start(
    transition: Transition = Transition.LAUNCHING, token: str | None = TOKEN
) -> StateDocument:
    return StateDocument(LifecycleAction("web", "web-launch", INSTANCE, token, transition, T0))


CONFIG = ActionConfig(
    (CheckSpec("instance-status"),), 30, 600, LifecycleResult.ABANDON, LifecycleResult.ABANDON
)


def planned(hb: int = 300, config: ActionConfig | str = CONFIG) -> StateDocument:
    return workflow.planned(start(), hb, LifecycleResult.ABANDON, config, T0)


def result(status: Verdict, reason: str = "r", memo: object = None) -> CheckResult:
    return CheckResult("instance-status", status, reason, memo=memo)


def roundtrip(doc: StateDocument) -> StateDocument:
    """Through JSON and back, as Step Functions carries it between tasks."""
    return StateDocument.from_json(json.loads(json.dumps(doc.to_json())))


# --- is the action waiting? --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transition", "instance", "why"),
    [
        (Transition.LAUNCHING, Instance("web", "Pending:Wait"), None),
        (Transition.LAUNCHING, Instance("web", "Warmed:Pending:Wait"), None),
        (Transition.TERMINATING, Instance("web", "Terminating:Wait"), None),
        (Transition.TERMINATING, Instance("web", "Warmed:Terminating:Wait"), None),
        # ReuseOnScaleIn: a scale-in's terminate action, the instance on its way back to the pool
        (Transition.TERMINATING, Instance("web", "Warmed:Pending:Wait"), None),
        # an instance refresh that replaces root volumes holds the instance here
        (Transition.TERMINATING, Instance("web", "ReplacingRootVolume:Wait"), None),
        (Transition.LAUNCHING, None, "is in no Auto Scaling group"),
        (Transition.LAUNCHING, Instance("api", "Pending:Wait"), "is in group 'api', not 'web'"),
        (Transition.LAUNCHING, Instance("web", "InService"), "is InService, not in a launch"),
        (Transition.LAUNCHING, Instance("web", "Terminating:Wait"), "not in a launch wait"),
        (Transition.TERMINATING, Instance("web", "Pending:Wait"), "not in a terminate wait"),
        (Transition.TERMINATING, Instance("web", "Terminating:Retained"), "Terminating:Retained"),
    ],
)
def test_an_action_is_acted_on_only_when_its_instance_waits_in_its_group(
    transition: Transition, instance: Instance | None, why: str | None
) -> None:
    """EC2 Auto Scaling User Guide, "How lifecycle hooks work" / "Warm pool instance lifecycle" /
    "Instance refresh example events": the wait states each transition's hooks hold."""
    found = workflow.not_waiting(start(transition).action, instance)
    if why is None:
        assert found is None
    else:
        assert found is not None
        assert why in found


# --- the hook read ---------------------------------------------------------------------------


def test_plan_ready_goes_to_the_first_round_of_checks_at_once() -> None:
    doc = planned()
    assert doc.next is Next.CHECK
    assert doc.plan is not None
    assert doc.plan.heartbeat_timeout == 300
    assert doc.progress is not None
    assert doc.progress.heartbeats == 0
    assert doc.notice is not None
    assert doc.notice.to_json() == {
        "kind": "started",
        "instanceId": INSTANCE,
        "group": "web",
        "hook": "web-launch",
        "transition": "autoscaling:EC2_INSTANCE_LAUNCHING",
        "waitingSince": "2026-01-01T00:00:00Z",
        "giveUpAt": "2026-01-01T00:10:00Z",
        "onTimeout": "ABANDON",
        "summary": "its checks run; it gives up at 2026-01-01T00:10:00Z with ABANDON",
    }, "the Lifecycle Action Started notification, whole: no token"
    assert roundtrip(doc) == replace(doc, notice=None), "a notice is read by no task"


def test_invalid_configuration_holds_then_abandons_a_launch_whatever_the_default() -> None:
    """A hook whose DefaultResult is CONTINUE still never gets an unchecked instance in service."""
    doc = workflow.planned(start(), 300, LifecycleResult.CONTINUE, "pollSeconds: bad", T0)
    assert doc.decision == Decision(
        Next.HOLD,
        "invalid configuration: pollSeconds: bad",
        wait_seconds=270,  # HeartbeatTimeout less its 30 s safety margin
        result=LifecycleResult.ABANDON,
    )
    ended = workflow.completed(roundtrip(doc), at(270))
    assert ended.outcome is not None
    assert ended.outcome.result is LifecycleResult.ABANDON
    assert ended.outcome.config_error == "pollSeconds: bad"
    assert not workflow.lapsed(doc, at(299))
    assert workflow.lapsed(doc, at(300))


def test_invalid_configuration_on_terminate_lets_the_instance_go() -> None:
    doc = workflow.planned(start(Transition.TERMINATING), 300, LifecycleResult.ABANDON, "bad", T0)
    assert doc.decision is not None
    assert doc.decision.result is LifecycleResult.CONTINUE


def test_hold_counts_from_the_actions_start_not_from_a_late_delivery() -> None:
    doc = workflow.planned(start(), 300, LifecycleResult.ABANDON, "bad", at(200))
    assert doc.decision is not None
    assert doc.decision.wait_seconds == 70
    late = workflow.planned(start(), 300, LifecycleResult.ABANDON, "bad", at(290))
    assert late.decision is not None
    assert late.decision.wait_seconds == 1


def test_a_hook_read_after_its_first_timeout_had_passed_is_known() -> None:
    assert not workflow.expired_before_read(start(), 600, at(599))
    assert workflow.expired_before_read(start(), 600, at(600))


# --- a lost event's action -----------------------------------------------------------------


def test_a_lost_events_action_waits_a_jittered_time_first() -> None:
    doc = workflow.settling(start(token=None), 60)
    assert doc.settle_seconds is not None
    assert 60 <= doc.settle_seconds < 90
    assert roundtrip(doc).settle_seconds == doc.settle_seconds
    assert doc.next is None, "nothing is decided before its hook is read"


def test_a_lost_events_action_confirms_with_a_heartbeat_before_any_check() -> None:
    """Found by a run at 0 s but read at 200 s: planned from the read (the confirming heartbeat
    restarts the hook's timeout), and confirmed before the first round."""
    doc = workflow.planned(start(token=None), 300, LifecycleResult.ABANDON, CONFIG, at(200))
    assert doc.next is Next.CONFIRM
    assert doc.progress is not None
    assert doc.progress.hook_expires_at == at(500)
    confirmed = workflow.heartbeat_recorded(roundtrip(doc), at(202))
    assert confirmed.next is Next.CHECK
    assert confirmed.progress is not None
    assert confirmed.progress.heartbeats == 1
    assert confirmed.progress.hook_expires_at == at(502)


def test_a_lost_events_action_with_an_invalid_configuration_confirms_then_holds() -> None:
    doc = workflow.planned(start(token=None), 300, LifecycleResult.ABANDON, "bad", at(200))
    assert doc.next is Next.CONFIRM, "never complete an action not confirmed as this hook's"
    held = workflow.heartbeat_recorded(doc, at(201))
    assert held.decision is not None
    assert held.decision.next is Next.HOLD
    assert held.decision.result is LifecycleResult.ABANDON
    assert held.decision.wait_seconds == 269  # from the read at 200: 300 - 30 margin - 1


# --- a late event's action (a dead-letter replay, a resend) --------------------------------


@pytest.mark.parametrize(
    ("late_by", "first"), [(0, Next.CHECK), (29, Next.CHECK), (30, Next.CONFIRM)]
)
def test_an_event_30_s_old_when_its_workflow_started_confirms_its_token_first(
    late_by: int, first: Next
) -> None:
    """Its token may be of an earlier action of an instance waiting again on the same hook: the
    API lists no tokens, so a heartbeat by the token comes before any check. The hook's timeout
    still counts from the event (the action began then); the heartbeat restarts it."""
    late = replace(start(), received_at=at(late_by))
    doc = workflow.planned(late, 300, LifecycleResult.ABANDON, CONFIG, at(late_by + 1))
    assert doc.next is first
    assert doc.progress is not None
    assert doc.progress.hook_expires_at == at(300)
    if first is Next.CONFIRM:
        assert doc.decision is not None
        assert f"{late_by} s old when its workflow started" in doc.decision.reason
        confirmed = workflow.heartbeat_recorded(roundtrip(doc), at(late_by + 2))
        assert confirmed.next is Next.CHECK
        assert confirmed.decision is not None
        assert confirmed.decision.reason == "confirmed: the token is held"
        assert confirmed.progress is not None
        assert confirmed.progress.hook_expires_at == at(late_by + 302)


def test_a_late_event_with_an_invalid_configuration_confirms_then_holds() -> None:
    """Nothing is held, let alone completed, for a token not confirmed as the one held."""
    late = replace(start(), received_at=at(40))
    doc = workflow.planned(late, 300, LifecycleResult.ABANDON, "bad", at(41))
    assert doc.next is Next.CONFIRM
    held = workflow.heartbeat_recorded(doc, at(42))
    assert held.decision is not None
    assert held.decision.next is Next.HOLD


# --- rounds ----------------------------------------------------------------------------------


def test_a_round_without_results_never_passes() -> None:
    doc = workflow.checked(planned(), [], at(0))
    assert doc.decision == Decision(
        Next.COMPLETE, "check failed: no check ran", result=LifecycleResult.ABANDON
    )


def test_passing_round_completes_with_continue() -> None:
    doc = workflow.checked(planned(), [result(Verdict.PASS, "ok")], at(0))
    assert doc.decision is not None
    assert doc.decision.next is Next.COMPLETE
    assert doc.decision.result is LifecycleResult.CONTINUE
    assert doc.progress is not None
    assert doc.progress.rounds == 1
    assert doc.to_json()["checks"] == [
        {"name": "instance-status", "status": "pass", "reason": "ok", "durationMs": 0}
    ]


def test_failing_round_completes_with_on_failure() -> None:
    doc = workflow.checked(planned(), [result(Verdict.FAIL, "impaired")], at(0))
    assert doc.decision is not None
    assert doc.decision.reason == "check failed: instance-status: impaired"
    assert doc.decision.result is LifecycleResult.ABANDON


def test_waiting_round_waits_the_poll_interval_and_keeps_memos() -> None:
    doc = workflow.checked(planned(), [result(Verdict.WAIT, memo={"commandId": "c-1"})], at(0))
    assert doc.decision is not None
    assert doc.decision.next is Next.WAIT
    assert doc.decision.wait_seconds is not None
    assert 30 <= doc.decision.wait_seconds <= 33
    assert roundtrip(doc).memos == ({"commandId": "c-1"},)


def test_a_heartbeat_comes_when_the_hook_needs_it_and_the_round_right_after_it() -> None:
    """HeartbeatTimeout 60, margin 10: a round at 20 would end after the heartbeat is due (at
    50, less the first heartbeat's jitter): wait until then, heartbeat, then the round at once."""
    doc = workflow.checked(planned(hb=60), [result(Verdict.WAIT)], at(20))
    assert doc.decision is not None
    assert doc.decision.next is Next.HEARTBEAT
    seconds = doc.decision.wait_seconds
    assert seconds is not None
    assert 20 + seconds <= 50, "when the hook needs it, not later"
    sent = 20 + seconds
    after = workflow.heartbeat_recorded(roundtrip(doc), at(sent))
    assert after.decision == Decision(Next.CHECK, "heartbeat recorded", due_at=at(sent))
    assert after.progress is not None
    assert after.progress.heartbeats == 1
    assert after.progress.hook_expires_at == at(sent + 60)


def test_a_round_that_starts_late_heartbeats_first_and_gives_up_past_the_deadline() -> None:
    """A round whose task was retried until the hook had too little time for another try: no
    check runs."""
    doc = workflow.checked(planned(hb=300), [result(Verdict.WAIT)], at(0))
    assert doc.decision is not None
    assert doc.decision.due_at is not None
    assert workflow.late_round(doc, doc.decision.due_at) is None, "on time: runs its checks"
    assert workflow.late_round(doc, at(100)) is None, "late, but time for another try"
    late = workflow.late_round(doc, at(130))  # 170 s left: under the 150 s span + 30 s margin
    assert late is not None
    assert late.decision is not None
    assert (late.decision.next, late.decision.wait_seconds) == (Next.HEARTBEAT, 1)
    config = replace(CONFIG, max_wait_seconds=100)
    short = workflow.checked(planned(hb=300, config=config), [result(Verdict.WAIT)], at(0))
    given_up = workflow.late_round(short, at(295))
    assert given_up is not None
    assert given_up.decision is not None
    assert given_up.decision.next is Next.COMPLETE
    assert given_up.decision.result is LifecycleResult.ABANDON


# --- endings -----------------------------------------------------------------------------------


def test_completed_reports_result_reason_and_counts() -> None:
    doc = workflow.checked(planned(), [result(Verdict.PASS, "ok")], at(90))
    ended = workflow.completed(doc, at(90))
    assert ended.next is Next.END
    assert ended.to_json()["outcome"] == {
        "status": "completed",
        "result": "CONTINUE",
        "reason": "all checks passed: instance-status",
        "at": "2026-01-01T00:01:30Z",
        "heartbeats": 0,
        "rounds": 1,
        "instanceId": INSTANCE,
        "group": "web",
        "hook": "web-launch",
        "transition": "autoscaling:EC2_INSTANCE_LAUNCHING",
        "summary": "completed CONTINUE: all checks passed: instance-status",
    }, "also the Lifecycle Action Ended notification's detail: never the token"


def test_an_action_still_waiting_at_the_stacks_threshold_is_told_so_once() -> None:
    """WaitingNoticeSeconds: the first round that decides to wait on at or after it carries
    the notice (the last round's checks in words, never their details); no later round."""
    doc = replace(planned(), plan=replace(planned().planned()[0], waiting_notice_seconds=60))
    early = workflow.checked(doc, [result(Verdict.WAIT, "initializing")], at(59))
    assert early.notice is None
    told = workflow.checked(early, [result(Verdict.WAIT, "initializing")], at(60))
    assert told.notice is not None
    notice = told.notice.to_json()
    assert notice["kind"] == "waiting-long"
    assert notice["checks"] == "instance-status: wait (initializing)"
    assert notice["summary"] == "still waiting after 60 s: instance-status: wait (initializing)"
    again = workflow.checked(roundtrip(told), [result(Verdict.WAIT, "initializing")], at(90))
    assert again.notice is None, "once per action"
    never = workflow.checked(planned(), [result(Verdict.WAIT, "x")], at(5000))
    assert never.notice is None, "0: no such notice"


def test_a_call_due_after_the_hook_expired_is_recorded_as_timed_out() -> None:
    doc = planned(hb=300)  # the hook expires at 300 s unless heartbeated
    assert not workflow.lapsed(doc, at(299))
    assert workflow.lapsed(doc, at(300))
    outcome = workflow.timed_out(doc, at(310), "the heartbeat").outcome
    assert outcome is not None
    assert outcome.status is Status.TIMED_OUT
    assert outcome.result is LifecycleResult.ABANDON, "the DefaultResult Auto Scaling applied"


def test_a_document_before_the_hook_read_never_counts_as_lapsed() -> None:
    assert not workflow.lapsed(start(), at(10**6))


def test_an_ending_keeps_the_decision_end_for_the_choice_states() -> None:
    for status in Status:
        ended = workflow.ended(planned(), status, "why", at(1))
        assert ended.next is Next.END
        assert roundtrip(ended).outcome == ended.outcome


# --- the action as Auto Scaling sees it; the group's instance lifecycle policy (issue 18) ------


def _action(
    transition: Transition = Transition.LAUNCHING,
    destination: str | None = None,
    action_name: str | None = None,
) -> LifecycleAction:
    return LifecycleAction(
        "web",
        "web-hook",
        INSTANCE,
        TOKEN,
        transition,
        T0,
        origin="EC2" if destination else None,
        destination=destination,
        action_name=action_name,
    )


LAUNCH = Transition.LAUNCHING
TERMINATE = Transition.TERMINATING


@pytest.mark.parametrize(
    ("action", "state", "destination", "action_name"),
    [
        # a launch into the warm pool waits in Warmed:Pending:Wait: its destination, if unsaid
        (_action(LAUNCH), "Warmed:Pending:Wait", "WarmPool", None),
        (_action(LAUNCH, "WarmPool"), "Warmed:Pending:Wait", "WarmPool", None),
        (_action(LAUNCH, "AutoScalingGroup"), "Warmed:Pending:Wait", "WarmPool", None),
        # an event saying WarmPool for an instance Auto Scaling launches into the group: unknown
        (_action(LAUNCH, "WarmPool"), "Pending:Wait", None, None),
        (_action(LAUNCH, "AutoScalingGroup"), "Pending:Wait", "AutoScalingGroup", None),
        (_action(LAUNCH), "Pending:Wait", None, None),
        # a launch's Action cannot be told from its state: the event's word
        (_action(LAUNCH, None, "ReplaceRootVolume"), "Pending:Wait", None, "ReplaceRootVolume"),
        # ReuseOnScaleIn: a terminate action back into the pool
        (_action(TERMINATE), "Warmed:Pending:Wait", "WarmPool", None),
        (_action(TERMINATE, "WarmPool"), "Terminating:Wait", None, None),
        # a root-volume replacement waits in ReplacingRootVolume:Wait, a termination does not
        (_action(TERMINATE), "ReplacingRootVolume:Wait", None, "ReplaceRootVolume"),
        (_action(TERMINATE, None, "ReplaceRootVolume"), "Terminating:Wait", None, None),
        (
            _action(TERMINATE, None, "ReplaceRootVolume"),
            "ReplacingRootVolume:Wait",
            None,
            "ReplaceRootVolume",
        ),
    ],
)
def test_where_the_instance_goes_is_what_auto_scaling_holds_it_for(
    action: LifecycleAction, state: str, destination: str | None, action_name: str | None
) -> None:
    seen = workflow.as_auto_scaling_sees_it(action, state)
    assert (seen.destination, seen.action_name) == (destination, action_name)
    assert (seen.origin, seen.token, seen.execution_name) == (
        action.origin,
        action.token,
        action.execution_name,
    )
    if (destination, action_name) == (action.destination, action.action_name):
        assert seen is action


@pytest.mark.parametrize(
    ("action", "on_abandon", "held"),
    [
        (_action(TERMINATE), OnAbandon.TERMINATE, LifecycleResult.CONTINUE),
        (_action(TERMINATE), OnAbandon.RETAIN, LifecycleResult.ABANDON),
        (_action(TERMINATE, "WarmPool"), OnAbandon.RETAIN, LifecycleResult.ABANDON),
        (_action(TERMINATE, None, "ReplaceRootVolume"), OnAbandon.RETAIN, LifecycleResult.CONTINUE),
        (_action(LAUNCH), OnAbandon.RETAIN, LifecycleResult.ABANDON),
    ],
)
def test_an_invalid_configuration_holds_the_safe_result_of_the_groups_policy(
    action: LifecycleAction, on_abandon: OnAbandon, held: LifecycleResult
) -> None:
    """Under retain, a termination nobody could check is kept for an operator, whatever the
    hook's DefaultResult; a root-volume replacement is not a termination."""
    for default in LifecycleResult:
        doc = workflow.planned(
            StateDocument(action), 300, default, "bad", T0, on_abandon=on_abandon
        )
        assert doc.decision is not None
        assert doc.decision.next is Next.HOLD
        assert doc.decision.result is held
        assert doc.plan is not None
        assert roundtrip(doc).plan == doc.plan


def test_the_plan_carries_the_groups_policy_for_a_termination() -> None:
    config = ActionConfig(
        (CheckSpec("target-group-drain"),),
        30,
        600,
        LifecycleResult.ABANDON,
        LifecycleResult.ABANDON,
    )
    doc = workflow.planned(
        StateDocument(_action(TERMINATE)),
        300,
        LifecycleResult.ABANDON,
        config,
        T0,
        on_abandon=OnAbandon.RETAIN,
    )
    assert doc.to_json()["plan"]["terminateHookAbandon"] == "retain"
    assert roundtrip(doc).plan == doc.plan
    failed = workflow.checked(doc, [result(Verdict.FAIL, "drain script exited 1")], at(5))
    assert failed.decision is not None
    assert failed.decision.result is LifecycleResult.ABANDON
    launch = workflow.planned(StateDocument(_action()), 300, LifecycleResult.ABANDON, CONFIG, T0)
    assert "terminateHookAbandon" not in launch.to_json()["plan"]


# --- signals ---------------------------------------------------------------------------------


def test_a_round_signalled_after_its_heartbeat_waits_window_closed_heartbeats_first() -> None:
    """A round reached from the wait before a heartbeat came from a signal: past the window
    (a margin before the heartbeat is due) the checks do not run, the heartbeat comes first.
    Whoever holds the token can send SendTaskSuccess late; SignalFunction keeps to the window."""
    doc = planned(hb=300)
    window_closes, due = at(200), at(230)
    decision = Decision(
        Next.HEARTBEAT,
        "",
        wait_seconds=200,
        due_at=due,
        signal_after=at(5),
        signal_until=window_closes,
    )
    waiting = roundtrip(doc.deciding(decision))
    assert workflow.late_round(waiting, at(199)) is None, "in the window: the round runs"
    late = workflow.late_round(waiting, at(200))
    assert late is not None
    assert late.decision is not None
    assert (late.decision.next, late.decision.wait_seconds) == (Next.HEARTBEAT, 1)
    assert "window closed" in late.decision.reason


def test_every_wait_a_signal_may_end_names_its_end() -> None:
    """The definition writes the signal window of these waits into the table: a decision
    without its end would fail the execution at the PutItem (States.Runtime), so it cannot be
    made."""
    with pytest.raises(InvalidAction, match="needs dueAt"):
        Decision(Next.WAIT, "", wait_seconds=30)
    with pytest.raises(InvalidAction, match="needs dueAt"):
        Decision(Next.HEARTBEAT, "", wait_seconds=30)
    window = Decision(Next.WAIT, "", wait_seconds=30, due_at=at(30)).to_json()["signal"]
    assert window == {
        "after": str(int(at(30).timestamp())),
        "until": str(int(at(30).timestamp())),
        "expires": str(int(at(3630).timestamp())),
    }, "no signal unless the policy opens the window"


def test_signals_end_a_wait_at_the_earliest_five_seconds_after_the_round() -> None:
    """A burst of signals (a drain's tasks stopping one by one) runs a round at most every 5 s
    (or every pollSeconds, if shorter)."""
    checked = workflow.checked(planned(), [result(Verdict.WAIT, "not yet")], at(10))
    assert checked.decision is not None
    assert checked.decision.signal_after == at(15)
    assert checked.decision.to_json()["signal"]["until"] == str(int(at(41).timestamp())), "its end"
