"""The state document's steps: what each task hands back to the state machine, without AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asg_lifecycle import workflow
from asg_lifecycle.checks.base import CheckResult
from asg_lifecycle.config import ActionConfig, CheckSpec
from asg_lifecycle.model import InvalidAction, LifecycleAction, LifecycleResult, Transition
from asg_lifecycle.policy import Verdict

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN = "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def start(transition: Transition = Transition.LAUNCHING) -> dict[str, Any]:
    action = LifecycleAction("web", "web-launch", "i-0123456789abcdef0", TOKEN, transition, T0)
    return {"action": action.to_json()}


CONFIG = ActionConfig(
    (CheckSpec("instance-status"),), 30, 600, LifecycleResult.ABANDON, LifecycleResult.ABANDON
)


def planned(hb: int = 300, config: ActionConfig | str = CONFIG) -> dict[str, Any]:
    return workflow.planned(start(), hb, LifecycleResult.ABANDON, config, T0)


def result(status: Verdict, reason: str = "r") -> CheckResult:
    return CheckResult("instance-status", status, reason)


def test_every_state_is_plain_json() -> None:
    state = workflow.checked(planned(), [result(Verdict.WAIT)], at(0))
    assert json.loads(json.dumps(state)) == state


def test_hook_gone_ends_with_hook_deleted_and_no_result() -> None:
    state = workflow.planned(start(), None, None, "", T0)
    assert state["decision"]["next"] == "end"
    assert state["outcome"]["status"] == "hook-deleted"
    assert state["outcome"]["result"] is None


def test_plan_ready_goes_to_the_first_round_of_checks_at_once() -> None:
    state = planned()
    assert state["decision"]["next"] == "check"
    assert state["plan"]["heartbeatTimeout"] == 300
    assert state["progress"]["heartbeats"] == 0


def test_invalid_configuration_holds_then_abandons_a_launch_whatever_the_default() -> None:
    """A hook whose DefaultResult is CONTINUE still never gets an unchecked instance in service."""
    state = workflow.planned(
        start(), 300, LifecycleResult.CONTINUE, "pollSeconds must be 5..3600", T0
    )
    assert state["decision"] == {
        "next": "hold",
        "waitSeconds": 270,  # HeartbeatTimeout less its 30 s safety margin
        "result": "ABANDON",
        "reason": "invalid configuration: pollSeconds must be 5..3600",
    }
    ended = workflow.completed(state, at(270))
    assert ended["outcome"]["result"] == "ABANDON"
    assert ended["outcome"]["configError"] == "pollSeconds must be 5..3600"


def test_invalid_configuration_on_terminate_lets_the_instance_go() -> None:
    state = workflow.planned(start(Transition.TERMINATING), 300, LifecycleResult.ABANDON, "bad", T0)
    assert state["decision"]["result"] == "CONTINUE"


def test_hold_counts_from_the_actions_start_not_from_a_late_delivery() -> None:
    state = workflow.planned(start(), 300, LifecycleResult.ABANDON, "bad", at(200))
    assert state["decision"]["waitSeconds"] == 70  # 300 - 30 margin - 200 already gone
    late = workflow.planned(start(), 300, LifecycleResult.ABANDON, "bad", at(290))
    assert late["decision"]["waitSeconds"] == 1, "past the margin: complete at once"


def test_a_round_without_results_never_passes() -> None:
    state = workflow.checked(planned(), [], at(0))
    assert state["decision"]["next"] == "complete"
    assert state["decision"]["result"] == "ABANDON"
    assert state["decision"]["reason"] == "check failed: no check ran"


def test_passing_round_completes_with_continue() -> None:
    state = workflow.checked(planned(), [result(Verdict.PASS, "ok")], at(0))
    assert state["decision"]["next"] == "complete"
    assert state["decision"]["result"] == "CONTINUE"
    assert state["progress"]["rounds"] == 1
    assert state["checks"] == [
        {"name": "instance-status", "status": "pass", "reason": "ok", "durationMs": 0}
    ]


def test_failing_round_completes_with_on_failure() -> None:
    state = workflow.checked(planned(), [result(Verdict.FAIL, "impaired")], at(0))
    assert state["decision"]["next"] == "complete"
    assert state["decision"]["result"] == "ABANDON"
    assert state["decision"]["reason"] == "check failed: instance-status: impaired"


def test_waiting_round_waits_the_poll_interval() -> None:
    state = workflow.checked(planned(), [result(Verdict.WAIT)], at(0))
    assert state["decision"]["next"] == "wait"
    assert 30 <= state["decision"]["waitSeconds"] <= 33  # the poll and up to 10 % jitter


def test_heartbeat_extends_the_hook_and_then_waits() -> None:
    state = planned(hb=60)
    state = workflow.checked(state, [result(Verdict.WAIT)], at(40))
    assert state["decision"]["next"] == "heartbeat"
    after = workflow.heartbeat_recorded(state, at(40))
    assert after["decision"]["next"] == "wait"
    assert after["progress"]["heartbeats"] == 1
    assert after["progress"]["hookExpiresAt"] == "2026-01-01T00:01:40Z"


def test_action_gone_ends_without_a_result() -> None:
    state = workflow.action_gone(planned(), at(10), "RecordLifecycleActionHeartbeat")
    assert state["decision"]["next"] == "end"
    assert state["outcome"]["status"] == "already-finished"
    assert state["outcome"]["result"] is None
    assert "RecordLifecycleActionHeartbeat" in state["outcome"]["reason"]


def test_completed_reports_result_reason_and_counts() -> None:
    state = workflow.checked(planned(), [result(Verdict.PASS, "ok")], at(90))
    ended = workflow.completed(state, at(90))
    assert ended["outcome"] == {
        "status": "completed",
        "result": "CONTINUE",
        "reason": "all checks passed: instance-status",
        "at": "2026-01-01T00:01:30Z",
        "heartbeats": 0,
        "rounds": 1,
    }


def test_an_error_caught_by_the_workflow_is_kept_in_the_outcome() -> None:
    state = {**planned(), "error": {"Error": "States.TaskFailed", "Cause": "boom"}}
    state["decision"] = {"next": "complete", "result": "ABANDON", "reason": "workflow error"}
    ended = workflow.completed(state, at(5))
    assert ended["outcome"]["error"] == {"Error": "States.TaskFailed", "Cause": "boom"}


def test_a_document_without_an_action_is_rejected() -> None:
    with pytest.raises(InvalidAction, match="action"):
        workflow.planned({}, 300, LifecycleResult.ABANDON, CONFIG, T0)


# --- endings that are not a completion --------------------------------------------------------


def test_a_call_due_after_the_hook_expired_is_recorded_as_timed_out() -> None:
    state = planned(hb=300)  # the hook expires at 300 s unless heartbeated
    assert not workflow.lapsed(state, at(299))
    assert workflow.lapsed(state, at(300))
    outcome = workflow.timed_out(state, at(310), "the heartbeat")["outcome"]
    assert outcome["status"] == "timed-out"
    assert outcome["result"] == "ABANDON", "the hook's DefaultResult is what Auto Scaling applied"


def test_no_active_action_is_timed_out_after_the_expiry_and_finished_elsewhere_before() -> None:
    state = planned(hb=300)
    assert workflow.action_gone(state, at(100), "complete")["outcome"]["status"] == (
        "already-finished"
    )
    assert workflow.action_gone(state, at(301), "complete")["outcome"]["status"] == "timed-out"


def test_a_state_without_a_plan_never_counts_as_lapsed() -> None:
    assert not workflow.lapsed(start(), at(10**6))


def test_a_round_that_runs_clears_the_error_being_recovered_from() -> None:
    state = {**planned(), "error": {"Error": "Lambda.Unknown"}, "recovery": {"rounds": 2}}
    after = workflow.checked(state, [result(Verdict.WAIT)], at(30))
    assert "error" not in after
    assert "recovery" not in after


def test_a_heartbeat_keeps_the_recovery_count_and_waits_a_poll_after_failed_checks() -> None:
    waiting = workflow.checked(planned(), [result(Verdict.WAIT)], at(0))
    # the round after it failed: the document the failed task was given, with the error
    state = {**waiting, "error": {"Error": "Lambda.Unknown"}, "recovery": {"rounds": 2}}
    assert workflow.work_on_entry(state) is Work.HEARTBEAT
    after = workflow.heartbeat_recorded(state, at(30))
    assert after["recovery"] == {"rounds": 2}, "checks that never run must not heartbeat forever"
    assert after["decision"]["next"] == "wait"
    assert after["decision"]["waitSeconds"] == 30, "the poll interval"
    assert "error" not in after, "the next task runs the round again, not another heartbeat"
    assert workflow.work_on_entry(after) is workflow.Work.CHECKS


def test_after_failed_checks_the_wait_never_outlasts_the_hook() -> None:
    """HeartbeatTimeout 120, poll 600: after the heartbeat the next round comes before the hook
    needs its next heartbeat, not a whole poll later."""
    config = ActionConfig(
        (CheckSpec("instance-status"),), 600, 3600, LifecycleResult.ABANDON, LifecycleResult.ABANDON
    )
    state = planned(hb=120, config=config)
    after = workflow.heartbeat_recorded(state, at(40))
    assert after["progress"]["hookExpiresAt"] == "2026-01-01T00:02:40Z"
    assert after["decision"]["waitSeconds"] == 120 - 12  # expiry less the 12 s margin


def test_a_reconciled_action_settles_before_its_hook_is_read() -> None:
    state = workflow.settling(start(), 60)
    assert state["settled"] is True
    assert state["decision"]["next"] == "settle"
    assert 60 <= state["decision"]["waitSeconds"] < 90, "jittered: a run's orphans spread out"
    ended = workflow.duplicate(state, at(60), "launch-i-0123456789abcdef0-x-token")
    assert ended["outcome"]["status"] == "duplicate"
    assert ended["decision"]["next"] == "end"


def test_a_reconciled_action_is_planned_from_its_confirming_heartbeat() -> None:
    """Found by a run at 0 s but read at 200 s (the run came late): the hook was just heartbeated,
    so it expires HeartbeatTimeout after the read, not after the run."""
    action = LifecycleAction(
        "web", "web-launch", "i-0123456789abcdef0", None, Transition.LAUNCHING, T0
    )
    state = workflow.planned(
        {"action": action.to_json()}, 300, LifecycleResult.ABANDON, CONFIG, at(200)
    )
    assert state["progress"]["hookExpiresAt"] == "2026-01-01T00:08:20Z"
    assert not workflow.lapsed(state, at(400))


Work = workflow.Work


@pytest.mark.parametrize(
    ("decision", "error", "work"),
    [
        (None, False, Work.READ_HOOK),  # the execution's start
        (None, True, Work.READ_HOOK),  # the hook read failed: read it again
        ("settle", False, Work.READ_HOOK),  # a reconciled action after settling
        ("wait", False, Work.CHECKS),  # the next round
        ("wait", True, Work.HEARTBEAT),  # checks failed: keep the hook alive first
        ("hold", False, Work.COMPLETE),  # invalid configuration: the safe result
        ("hold", True, Work.COMPLETE),
        ("complete", True, Work.COMPLETE),  # the safe result after errors
        ("end", False, None),  # ended earlier in a chain of rounds: nothing to do
    ],
)
def test_what_a_task_does_first_with_the_document_it_gets(
    decision: str | None, error: bool, work: workflow.Work | None
) -> None:
    state: dict[str, Any] = planned()
    if decision is None:
        state = start()
    else:
        state = {**state, "decision": {"next": decision, "waitSeconds": 5, "reason": "r"}}
    if error:
        state["error"] = {"Error": "States.TaskFailed", "Cause": "boom"}
    assert workflow.work_on_entry(state) is work


@pytest.mark.parametrize("decision", ["check", "heartbeat", "maybe"])
def test_a_document_no_task_returns_is_rejected_on_entry(decision: str) -> None:
    """A task never returns ``check`` or ``heartbeat`` (it does that work itself): such a
    document, or an unknown decision, is an error (Step Functions retries, then the safe result),
    not a guess."""
    state = {**planned(), "decision": {"next": decision, "reason": "r"}}
    with pytest.raises(workflow.InvalidState, match=decision):
        workflow.work_on_entry(state)


def test_what_is_done_at_once_after_each_piece_of_work() -> None:
    assert workflow.work_after(planned()) is Work.CHECKS  # plan ready: the first round now
    passed = workflow.checked(planned(), [result(Verdict.PASS)], at(0))
    assert workflow.work_after(passed) is Work.COMPLETE
    waiting = workflow.checked(planned(), [result(Verdict.WAIT)], at(0))
    assert workflow.work_after(waiting) is None
    beat = workflow.checked(planned(hb=60), [result(Verdict.WAIT)], at(35))
    assert beat["decision"]["next"] == "heartbeat"
    assert workflow.work_after(beat) is Work.HEARTBEAT
    assert workflow.work_after(workflow.heartbeat_recorded(beat, at(35))) is None
    assert workflow.work_after(workflow.completed(passed, at(0))) is None


def test_every_document_a_task_returns_can_be_waited_on() -> None:
    """The definition's Wait states read ``decision.waitSeconds`` (a positive integer) from
    every document a task returns, an ended action's too."""
    ended = workflow.completed(workflow.checked(planned(), [result(Verdict.PASS)], at(0)), at(0))
    returned = [
        workflow.checked(planned(), [result(Verdict.WAIT)], at(0)),
        workflow.settling(start(), 60),
        planned(config="bad"),
        ended,
        workflow.planned(start(), None, None, "", T0),
    ]
    for state in returned:
        parked = workflow.parked(state, [Work.CHECKS])
        assert parked["decision"]["waitSeconds"] >= 1
        assert parked["ran"] == ["checks"]
    assert ended["decision"]["waitSeconds"] == workflow.PASS_THROUGH_SECONDS


@pytest.mark.parametrize(
    "decision",
    [
        {"next": "check", "reason": "plan ready"},
        {"next": "complete", "result": "CONTINUE", "reason": "r"},
        {"next": "wait", "reason": "r"},  # no waitSeconds
        {"next": "wait", "waitSeconds": 0, "reason": "r"},
    ],
)
def test_a_task_never_returns_work_left_undone_or_a_wait_it_cannot_wait(
    decision: dict[str, Any],
) -> None:
    with pytest.raises(workflow.InvalidState):
        workflow.parked({**planned(), "decision": decision}, [])


def test_a_call_the_round_decided_and_could_not_make_is_left_to_the_next_task() -> None:
    """The round (its results, its checks' memos, the decided result) is kept; the next task,
    1-4 s later, makes the call as its first work."""
    state = workflow.checked(planned(), [result(Verdict.PASS, "ready")], at(0))
    state = {**state, "checkMemos": [{"commandId": "c-1"}]}
    later = workflow.retry_later(state, "ClientError('throttled')")
    assert later["decision"]["next"] == "complete"
    assert later["decision"]["result"] == "CONTINUE", "the decided result, not the safe one"
    assert later["decision"]["failed"] == "ClientError('throttled')"
    assert 1 <= later["decision"]["waitSeconds"] <= 4
    assert later["checkMemos"] == [{"commandId": "c-1"}]
    assert later["checks"] == state["checks"]
    assert workflow.parked(later, [Work.CHECKS])["ran"] == ["checks"]
    assert workflow.work_on_entry(later) is Work.COMPLETE
    assert "failed" not in workflow.completed(later, at(3))["decision"]


def test_a_heartbeat_tried_again_waits_from_when_it_was_sent() -> None:
    beat = workflow.checked(planned(hb=60), [result(Verdict.WAIT)], at(35))
    assert beat["decision"]["next"] == "heartbeat"
    later = workflow.retry_later(beat, "EndpointConnectionError()")
    assert workflow.work_on_entry(later) is Work.HEARTBEAT
    sent = workflow.heartbeat_recorded(later, at(39))
    assert sent["decision"]["next"] == "wait"
    assert "failed" not in sent["decision"]
    # the poll (30 s), not the wait the round had planned before the heartbeat was late
    assert sent["decision"]["waitSeconds"] == 30
    assert sent["progress"]["hookExpiresAt"] == "2026-01-01T00:01:39Z"


def test_a_deferred_heartbeat_is_told_apart_from_a_failed_one_and_made_next() -> None:
    """Not started (too little of the function's time left) is ``deferred``, not ``failed``:
    operators read it differently; the next task makes it all the same."""
    beat = workflow.checked(planned(hb=60), [result(Verdict.WAIT)], at(35))
    later = workflow.retry_later(beat, "1000 ms left", started=False)
    assert later["decision"]["deferred"] == "1000 ms left"
    assert "failed" not in later["decision"]
    assert workflow.left_over(later["decision"]) == ("deferred", "1000 ms left")
    assert workflow.work_on_entry(later) is Work.HEARTBEAT
    assert workflow.parked(later, [Work.CHECKS])["ran"] == ["checks"]
    sent = workflow.heartbeat_recorded(later, at(37))
    assert workflow.left_over(sent["decision"]) is None
    assert sent["decision"]["waitSeconds"] == 30, "late: the wait counts from the heartbeat"


def test_left_over_reads_only_a_decision() -> None:
    assert workflow.left_over(None) is None
    assert workflow.left_over({"next": "wait"}) is None
    assert workflow.left_over({"next": "heartbeat", "failed": "x"}) == ("failed", "x")


def test_a_call_left_again_carries_one_mark_only() -> None:
    """A call that failed and is then deferred (or the reverse) says only what happened last."""
    beat = workflow.checked(planned(hb=60), [result(Verdict.WAIT)], at(35))
    failed = workflow.retry_later(beat, "Throttling", started=True)
    deferred = workflow.retry_later(failed, "800 ms left", started=False)
    assert "failed" not in deferred["decision"]
    assert workflow.left_over(deferred["decision"]) == ("deferred", "800 ms left")
    again = workflow.retry_later(deferred, "Throttling", started=True)
    assert "deferred" not in again["decision"]
    assert workflow.left_over(again["decision"]) == ("failed", "Throttling")
