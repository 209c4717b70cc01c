"""The workflow under Lambda's and Auto Scaling's own errors, as AWS raises them, through the real
definition on the emulator (issue 18, item 7):

* a task function that times out (Step Functions: ``Lambda.Unknown`` once the function's Timeout
  has run out) or runs out of memory, before its AWS call, or after it (the call took effect,
  the answer is lost and Step Functions runs the function again);
* ``ResourceContention`` (HTTP 500) on a share of the functions' Auto Scaling calls;
* a stale "No active Lifecycle Action found" on the first completion.
"""

from __future__ import annotations

import pytest

from lifecycle_emulator.faults import Cut, Faults
from lifecycle_emulator.play import ActionReport, play
from tests.flow.stack import (
    assert_completed_once_by_the_workflow,
    assert_hook_never_lapsed,
    doc,
    emulated,
    launch_hook,
    only,
)

LIFECYCLE_CALLS = ("RecordLifecycleActionHeartbeat", "CompleteLifecycleAction")
Call = tuple[float, str, str]  # (seconds into the play, operation, "accepted" / "rejected")


def _one_launch(heartbeat: int, ready: int, faults: Faults) -> tuple[ActionReport, list[Call]]:
    """One launch (hook HeartbeatTimeout ``heartbeat``, poll 30 s), the instance ready after
    ``ready`` s; the report's action and the lifecycle calls (at, operation, outcome)."""
    document = doc(
        [launch_hook(heartbeat=heartbeat, pollSeconds=30)], instances=[{"readyAfter": ready}]
    )
    with emulated(document, faults=faults) as (aws, scenario):
        report = play(scenario, aws)
        calls = [
            (c.at - report.t0, c.operation, c.outcome)
            for c in aws.autoscaling.calls
            if c.operation in LIFECYCLE_CALLS and c.token == report.actions[0].token
        ]
    return only(report, "launch"), calls


# --- a task function that times out before its call -------------------------------------------


@pytest.mark.parametrize(
    ("function", "heartbeat", "ready", "skip"),
    [
        ("ReadHookFunction", 300, 400, 0),
        ("CheckFunction", 300, 400, 0),
        ("HeartbeatFunction", 600, 1300, 0),  # the first heartbeat
        ("HeartbeatFunction", 600, 1300, 1),  # a later one, due a full H - margin after the last
        ("CompleteFunction", 300, 400, 0),
    ],
)
def test_a_task_function_that_times_out_before_its_call_still_completes_once(
    function: str, heartbeat: int, ready: int, skip: int
) -> None:
    """Step Functions Developer Guide, "Handling errors in Step Functions workflows" and "Handle
    transient Lambda service exceptions": unhandled Lambda errors, function timeouts among them,
    reach Step Functions as ``Lambda.Unknown``; Lambda Developer Guide, "Configure Lambda function
    timeout": Lambda stops the invocation once its Timeout has run out (template.yaml: 30 s for
    the task functions, 90 s for CheckFunction).

    One invocation of ``function`` times out before its handler made any call: the task fails
    with ``Lambda.Unknown`` 30 s (CheckFunction 90 s) after it started, the definition's
    States.ALL retrier runs the function again, and the action is completed once with the
    decided result, nothing sent after it; the hook never lapsed (HeartbeatTimeout 600 s keeps a
    60 s margin, more than one timed-out heartbeat costs)."""
    faults = Faults(lambda_timeouts={function: Cut(1, skip=skip)})
    action, _ = _one_launch(heartbeat, ready, faults)

    assert faults.interrupted == [(function, "timeout", False)]
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    assert_hook_never_lapsed(action, heartbeat)


def test_a_check_function_out_of_memory_still_completes_once() -> None:
    """Out of memory, Lambda kills the runtime (``Runtime.ExitError``, AWS Knowledge Center
    "Lambda runtime exit error"; the Step Functions guide counts it among ``Lambda.Unknown``):
    either name is taken by the definition's States.ALL retrier; the round runs again."""
    faults = Faults(lambda_out_of_memory={"CheckFunction": Cut(2)})
    action, _ = _one_launch(300, 400, faults)

    assert faults.interrupted == [("CheckFunction", "out-of-memory", False)] * 2
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)


def test_a_heartbeat_that_times_out_with_the_smallest_margin_still_completes_once() -> None:
    """As above, HeartbeatTimeout 300 s (the smallest the product documents for fast hooks):
    the second heartbeat's function times out once before its call. The safety margin
    (30 s; at least ``policy.MARGIN_FLOOR``, 25 s) holds the function's 20-s try, the retry's delay
    and the retried call."""
    faults = Faults(lambda_timeouts={"HeartbeatFunction": Cut(1, skip=1)})
    action, _ = _one_launch(300, 700, faults)

    assert faults.interrupted == [("HeartbeatFunction", "timeout", False)]
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)


# --- a task function that times out after its call was accepted ---------------------------------


def test_a_heartbeat_accepted_before_its_function_timed_out_is_sent_again_harmlessly() -> None:
    """The heartbeat was accepted, then its function timed out: Step Functions runs it again
    (``Lambda.Unknown`` is retried) and Auto Scaling accepts a second heartbeat 20-22 s later
    (the function's Timeout; RecordLifecycleActionHeartbeat may be repeated while the action is
    active: each restarts the HeartbeatTimeout). The action is completed once, never lapsed."""
    faults = Faults(lambda_timeouts={"HeartbeatFunction": Cut(1, after_calls=True)})
    action, calls = _one_launch(300, 400, faults)

    assert faults.interrupted == [("HeartbeatFunction", "timeout", True)]
    beats = [at for at, operation, outcome in calls if operation == LIFECYCLE_CALLS[0]]
    assert all(outcome == "accepted" for _, _, outcome in calls)
    assert len(beats) == 2
    assert 20 <= beats[1] - beats[0] <= 22, "the same heartbeat again, once Lambda stopped it"
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    assert_hook_never_lapsed(action, 300)


def _completion_lost_to_a_timeout() -> tuple[ActionReport, list[Call]]:
    faults = Faults(lambda_timeouts={"CompleteFunction": Cut(1, after_calls=True)})
    action, calls = _one_launch(300, 400, faults)
    assert faults.interrupted == [("CompleteFunction", "timeout", True)]
    return action, calls


def test_a_completion_accepted_before_its_function_timed_out_completes_the_action_once() -> None:
    """CompleteLifecycleAction was accepted (CONTINUE), then the function timed out: its answer
    is lost and Step Functions runs it again. The retried completion gets "No active Lifecycle
    Action found" (the action is over: API Reference, CompleteLifecycleAction) and sends nothing
    more: Auto Scaling took exactly one completion, the decided one; the only call after the
    action's end is that rejected retry, which the function cannot avoid without reading first."""
    action, calls = _completion_lost_to_a_timeout()

    completions = [
        (at, outcome) for at, operation, outcome in calls if operation == LIFECYCLE_CALLS[1]
    ]
    assert [outcome for _, outcome in completions] == ["accepted", "rejected"]
    assert 20 <= completions[1][0] - completions[0][0] <= 22
    assert action.end_reason == "completed"
    assert action.result == "CONTINUE"
    assert action.completions == 1
    assert action.calls_after_end == 1, "the retried completion, rejected"
    assert action.execution_status == "SUCCEEDED"


def test_a_completion_accepted_before_its_function_timed_out_is_reported_as_completed() -> None:
    """The execution's outcome says the truth: this workflow completed the action, CONTINUE
    (the retried completion finds the instance InService, where CONTINUE takes it), and says
    how it knows."""
    action, _ = _completion_lost_to_a_timeout()

    assert action.outcome is not None
    assert action.outcome["status"] == "completed"
    assert action.outcome["result"] == "CONTINUE"
    assert "accepted on an earlier try" in action.outcome["reason"]


# --- Auto Scaling's own errors -----------------------------------------------------------------


def test_resource_contention_on_a_share_of_calls_still_completes_every_action_once() -> None:
    """EC2 Auto Scaling API Reference (CompleteLifecycleAction, RecordLifecycleActionHeartbeat,
    DescribeAutoScalingInstances, DescribeLifecycleHooks: Errors): ``ResourceContention``, "You
    already have a pending update to an Amazon EC2 Auto Scaling resource (for example, an Auto
    Scaling group, instance, or load balancer)", HTTP 500; nothing of the call is applied.
    A third of the functions' Auto Scaling calls are refused so (botocore retries HTTP 500, the
    definition retries what still fails): three launches, each completed once, CONTINUE."""
    document = doc(
        [launch_hook(heartbeat=300, pollSeconds=30)],
        steps=[{"at": 0, "desired": 3}],
        defaultInstance={"readyAfter": 400},
    )
    faults = Faults(resource_contention=0.3, seed=5)
    with emulated(document, faults=faults) as (aws, scenario):
        report = play(scenario, aws)

    assert faults.contended >= 5, "the contention really met the functions"
    assert report.problems == []
    assert [a.result for a in report.actions] == ["CONTINUE"] * 3
    for action in report.actions:
        assert_completed_once_by_the_workflow(action)
        assert_hook_never_lapsed(action, 300)


def test_a_stale_no_active_answer_to_the_first_completion_still_completes() -> None:
    """Auto Scaling answered the first CompleteLifecycleAction "No active Lifecycle Action
    found" while the action was still active (eventually consistent: PrairieLearn/PrairieLearn
    PR #15586): the definition's LifecycleActionNotFound retrier sends it again 10 s later and
    the action is completed once; the outcome says completed, not already-finished."""
    faults = Faults(stale_not_found={"CompleteLifecycleAction": 1})
    action, calls = _one_launch(300, 60, faults)

    assert faults.stale_answers == ["CompleteLifecycleAction"]
    assert [outcome for _, operation, outcome in calls if operation == LIFECYCLE_CALLS[1]] == [
        "rejected",
        "accepted",
    ]
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
