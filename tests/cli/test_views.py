"""The CLI's pure parts: execution names, the latest state of a history, the timeline, the stack's
name and outputs, what a dead-letter message holds. No AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asg_lifecycle.model import hook_digest
from asg_lifecycle_cli.errors import OperatorError
from asg_lifecycle_cli.operations import event_of
from asg_lifecycle_cli.stack import from_outputs, name_from_samconfig
from asg_lifecycle_cli.views import (
    ExecutionName,
    checks_summary,
    duration,
    latest_state,
    timeline,
    view_of,
)
from tests.conftest import ROOT

T = datetime(2026, 1, 1, tzinfo=UTC)
ACTION = {
    "AutoScalingGroupName": "web",
    "LifecycleHookName": "web-launch",
    "EC2InstanceId": "i-0123456789abcdef0",
    "LifecycleActionToken": "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
    "StartedAt": "2026-01-01T00:00:00Z",
    "Origin": "EC2",
    "Destination": "AutoScalingGroup",
}
PLAN = {
    "heartbeatTimeout": 300,
    "defaultResult": "ABANDON",
    "pollSeconds": 30,
    "giveUpAt": "2026-01-01T00:15:00Z",
    "globalDeadline": "2026-01-01T08:20:00Z",
    "onTimeout": "ABANDON",
    "checks": [{"name": "instance-status", "params": {}}],
}


def _event(kind: str, seconds: int, **details: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": T + timedelta(seconds=seconds), **details}


def _exited(name: str, seconds: int, doc: dict[str, Any]) -> dict[str, Any]:
    kind = "PassStateExited" if name.endswith("ErrorRound") else "TaskStateExited"
    return _event(kind, seconds, stateExitedEventDetails={"name": name, "output": json.dumps(doc)})


def test_execution_names_of_this_workflow_are_parsed_and_others_are_not() -> None:
    name = ExecutionName.parse(f"launch-i-0123456789abcdef0-{hook_digest('web-launch')}-tok")
    assert name is not None
    assert name.is_for("i-0123456789abcdef0", None)
    assert name.is_for("i-0123456789abcdef0", "web-launch")
    assert not name.is_for("i-0123456789abcdef0", "web-warmup")
    assert not name.is_for("i-0000000000000000f", None)
    assert ExecutionName.parse("my-own-execution") is None
    assert ExecutionName.parse("reboot-i-0123456789abcdef0-01234567-x") is None


def test_the_latest_state_is_the_newest_document_in_a_reversed_history() -> None:
    older = {"action": ACTION, "decision": {"next": "check"}}
    newer = {"action": ACTION, "decision": {"next": "wait", "waitSeconds": 30}}
    newest_first = [
        _event(
            "WaitStateEntered",
            60,
            stateEnteredEventDetails={"name": "W", "input": json.dumps(newer)},
        ),
        _exited("Round", 59, newer),
        _exited("ReadHookAndCheck", 1, older),
    ]
    assert latest_state(newest_first) == newer
    not_ours = [_event("ExecutionStarted", 0, executionStartedEventDetails={"input": "[1]"})]
    assert latest_state(not_ours) is None


def test_a_view_reads_deadlines_checks_and_phase_from_the_state() -> None:
    state = {
        "action": ACTION,
        "plan": PLAN,
        "progress": {"hookExpiresAt": "2026-01-01T00:05:00Z", "heartbeats": 0, "rounds": 3},
        "checks": [{"name": "instance-status", "status": "wait", "reason": "initializing"}],
        "decision": {"next": "wait", "waitSeconds": 31},
    }
    summary = {"name": "n", "executionArn": "arn:x", "status": "RUNNING"}
    view = view_of(summary, state)
    document = view.to_json(T + timedelta(seconds=100))
    assert document["hookExpiresInSeconds"] == 200
    assert document["givesUpInSeconds"] == 800
    assert document["ageSeconds"] == 100
    assert document["phase"] == "waiting"
    assert view_of(summary, {**state, "recovery": {"rounds": 2}}).phase() == "recovering (2/4)"
    assert view_of({**summary, "status": "ABORTED"}, state).phase() == "aborted"


def test_the_timeline_tells_rounds_heartbeats_errors_and_the_end() -> None:
    base = {"action": ACTION, "plan": PLAN}
    events = [
        _event(
            "ExecutionStarted",
            0,
            executionStartedEventDetails={"input": json.dumps({"action": ACTION})},
        ),
        _exited(
            "ReadHookAndCheck",
            2,
            {
                **base,
                "ran": ["read-hook", "checks"],
                "progress": {"rounds": 1},
                "checks": [
                    {"name": "instance-status", "status": "wait", "reason": "init", "durationMs": 4}
                ],
                "decision": {"next": "wait", "waitSeconds": 31, "reason": "init"},
            },
        ),
        _event("TaskStateEntered", 33, stateEnteredEventDetails={"name": "Round"}),
        _event(
            "TaskFailed", 34, taskFailedEventDetails={"error": "Lambda.Unknown", "cause": "boom"}
        ),
        _exited("FirstErrorRound", 35, {**base, "recovery": {"rounds": 1, "waitSeconds": 17}}),
        _exited(
            "NextRound",
            52,
            {
                **base,
                "ran": ["heartbeat"],
                "progress": {"hookExpiresAt": "2026-01-01T00:05:52Z"},
                "decision": {"next": "wait", "waitSeconds": 30, "reason": "init"},
            },
        ),
        _exited(
            "Round",
            82,
            {
                **base,
                "ran": ["checks", "complete"],
                "progress": {"rounds": 2},
                "checks": [{"name": "instance-status", "status": "pass", "reason": "ok"}],
                "outcome": {"status": "completed", "result": "CONTINUE", "reason": "ok"},
                "decision": {"next": "end", "waitSeconds": 1, "reason": "ok"},
            },
        ),
        _exited("NextRound", 84, {**base, "ran": [], "decision": {"next": "end"}}),
        _event(
            "ExecutionSucceeded",
            90,
            executionSucceededEventDetails={
                "output": json.dumps(
                    {
                        **base,
                        "outcome": {"status": "completed", "result": "CONTINUE", "reason": "ok"},
                    }
                )
            },
        ),
    ]
    story = [e.what for e in timeline(events)]
    assert story == [
        "workflow started (from the event)",
        "hook read: HeartbeatTimeout 300 s, DefaultResult ABANDON, poll 30 s, "
        "checks instance-status",
        "round 1: not ready, next round in 31 s",
        "Round failed: Lambda.Unknown",
        "error recovery 1/4: trying again in 17 s",
        "heartbeat recorded: hook now expires at 2026-01-01T00:05:52Z",
        "round 2: complete",
        "completion: completed CONTINUE - ok",
        "workflow ended: completed CONTINUE - ok",
    ]
    (round_one,) = [e for e in timeline(events) if e.what.startswith("round 1")]
    assert round_one.details == ["instance-status: wait - init (4 ms)"]


def test_a_reconciled_start_and_an_operators_stop_are_told_as_such() -> None:
    reconciled = {k: v for k, v in ACTION.items() if k != "LifecycleActionToken"}
    events = [
        _event(
            "ExecutionStarted",
            0,
            executionStartedEventDetails={"input": json.dumps({"action": reconciled})},
        ),
        _event(
            "ExecutionAborted",
            50,
            executionAbortedEventDetails={
                "error": "CompletedByOperator",
                "cause": "ABANDON by x: y",
            },
        ),
    ]
    entries = timeline(events)
    assert entries[0].what == "workflow started (from the reconcile run)"
    assert entries[1].what == "workflow aborted: CompletedByOperator"
    assert entries[1].details == ["ABANDON by x: y"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (-1, "expired"), (0, "0s"), (59, "59s"), (250, "4m10s"), (3720, "1h02m")],
)
def test_durations_read_at_a_glance(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_checks_summary_is_cut_to_its_width() -> None:
    checks = [{"name": "instance-status", "status": "wait", "reason": "x" * 100}]
    assert len(checks_summary(checks, width=40)) == 40
    assert checks_summary([]) == "-"


def test_the_stack_name_in_samconfig(tmp_path: Path) -> None:
    assert name_from_samconfig(ROOT / "samconfig.toml") == "asg-lifecycle-orchestrator"
    assert name_from_samconfig(tmp_path / "absent.toml") is None
    deploy = tmp_path / "deploy.toml"
    deploy.write_text('[default.deploy.parameters]\nstack_name = "fleet-hooks"\n')
    assert name_from_samconfig(deploy) == "fleet-hooks"
    broken = tmp_path / "broken.toml"
    broken.write_text("stack_name = ")
    with pytest.raises(OperatorError, match="not valid TOML"):
        name_from_samconfig(broken)


def test_a_stack_without_this_projects_outputs_is_refused() -> None:
    with pytest.raises(OperatorError, match="no output StateMachineArn, StartFunctionName"):
        from_outputs("other", {"BucketName": "b"})
    stack = from_outputs("s", {"StateMachineArn": "arn:sm", "StartFunctionName": "f"})
    assert stack.dead_letter_queue_url is None


def test_what_a_dead_letter_message_holds() -> None:
    launch = json.loads((ROOT / "events" / "launch.json").read_text())
    assert event_of(launch) == ("lifecycle", launch)
    record = {"requestContext": {"condition": "RetriesExhausted"}, "requestPayload": launch}
    assert event_of(record) == ("lifecycle", launch)
    scheduled = {"detail-type": "Scheduled Event", "time": "2026-01-01T00:05:00Z"}
    assert event_of(scheduled) == ("schedule", scheduled)
    assert event_of("not json")[0] == "unknown"
    assert event_of([1, 2])[0] == "unknown"
    assert event_of({"source": "aws.ec2"})[0] == "unknown"


def test_a_call_left_to_the_next_task_is_told_as_failed_or_deferred() -> None:
    base = {"action": ACTION, "plan": PLAN}
    decision = {
        "next": "complete",
        "result": "CONTINUE",
        "reason": "all checks passed",
        "waitSeconds": 3,
        "failed": "ResourceContentionFault('pending update')",
    }
    left = {**base, "ran": ["checks"], "progress": {"rounds": 4}, "decision": decision}
    story = timeline([_exited("Round", 120, left)])
    assert [e.what for e in story] == [
        "round 4: complete with CONTINUE (all checks passed)",
        "completion failed (ResourceContentionFault('pending update')); "
        "the next task tries again in 3 s",
    ]
    summary = {"name": "n", "executionArn": "arn:x", "status": "RUNNING"}
    assert view_of(summary, left).phase() == "completion failed, trying again"
    # not started: the round left too little of the function's time for the call
    deferred = {k: v for k, v in decision.items() if k != "failed"}
    deferred = {**deferred, "next": "heartbeat", "deferred": "1200 ms left"}
    waiting = {**left, "decision": deferred}
    assert timeline([_exited("Round", 120, waiting)])[1].what == (
        "heartbeat not started (1200 ms left); the next task makes it in 3 s"
    )
    assert view_of(summary, waiting).phase() == "heartbeat deferred to the next task"
    ended = {**base, "decision": {"next": "end", "waitSeconds": 1}}
    assert view_of(summary, ended).phase() == "ending"


def test_the_served_groups_output_gives_names_or_the_serving_tag() -> None:
    from asg_lifecycle.served import ServedGroups  # noqa: PLC0415
    from asg_lifecycle_cli.errors import OperatorError  # noqa: PLC0415
    from asg_lifecycle_cli.stack import from_outputs, served_groups  # noqa: PLC0415

    named = served_groups("web, api")
    assert (named.names, named.by_tag) == (frozenset({"web", "api"}), False)
    tagged = served_groups("tag:asg-lifecycle-orchestrator=prod")
    assert (tagged.by_tag, tagged.tag_value) == (True, "prod")
    with pytest.raises(OperatorError, match="names no group"):
        served_groups(" , ")
    outputs = {"StateMachineArn": "arn", "StartFunctionName": "fn"}
    assert from_outputs("old", outputs).served_groups_output is None  # deployed before it
    # read only by the commands that need it: a malformed one does not stop the others
    assert from_outputs("odd", {**outputs, "ServedGroups": ","}).served_groups_output == ","
    assert served_groups("web") == ServedGroups(frozenset({"web"}), "")
