"""Each check of the catalogue through the real state machine on the local emulation: its pass,
wait and fail paths, configured per hook in NotificationMetadata.

Launch hooks here: HeartbeatTimeout 300 s, a round every 30 s, at most 300 s of waiting, so a
check that never passes ends in ABANDON at 300 s, and a definitive failure ABANDONs at the round
that sees it. The world changes on the virtual clock (a tag set at 95 s, a task stopped at 400 s),
the way an instance or an operator would change it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from asg_lifecycle.checks.ssm_command import NOT_RECORDED
from asg_lifecycle.policy import poll_jitter_span
from lifecycle_emulator.local_aws import ACCOUNT, REGION, LocalAws
from lifecycle_emulator.play import ActionReport, play
from tests.flow.stack import (
    assert_at_round,
    assert_completed_once_by_the_workflow,
    at,
    doc,
    emulated,
    launch_hook,
    only,
    terminate_hook,
)

MAX_WAIT = 300
# The stack's parameters that allow what these checks name (anything else is an invalid
# configuration: tests/unit/test_config.py); ReadinessParameterPath keeps its default.
ALLOWS = {
    "SsmCommandDocuments": "AWS-RunShellScript",
    "CustomCheckFunctionArns": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:web-ready",
    "EcsClusterNames": "web",
}


def launch(checks: list[Any], **extra: Any) -> dict[str, Any]:
    """One instance launching; the play ends a minute after the deadline (an ABANDONed instance
    is replaced, and the replacements would go on for the 48 hours of the default horizon)."""
    hook = launch_hook(checks=checks, pollSeconds=30, maxWaitSeconds=MAX_WAIT)
    return doc([hook], horizon=MAX_WAIT + 60, **{"parameters": ALLOWS, **extra})


def first(report: Any) -> ActionReport:
    """The first instance's launch action (a replacement may follow it)."""
    action: ActionReport = report.actions[0]
    assert action.transition == "launch"
    return action


def instance(aws: LocalAws, index: int = 0) -> str:
    """The id of the ``index``-th instance the fleet launched."""
    return list(aws.fleet.behaviour)[index]


def later(aws: LocalAws, seconds: float, change: Callable[[LocalAws], None]) -> None:
    """Change the world ``seconds`` into the play (on the virtual clock)."""
    aws.clock.call_at(at(seconds), lambda: change(aws))


def run(document: dict[str, Any], *changes: tuple[float, Callable[[LocalAws], None]]) -> Any:
    with emulated(document) as (aws, scenario):
        for seconds, change in changes:
            later(aws, seconds, change)
        return play(scenario, aws), aws


def last_check(action: ActionReport, name: str) -> dict[str, Any]:
    found = [c for c in action.checks if c["name"] == name]
    assert found, f"no result of {name} in the output: {action.checks}"
    return found[-1]


def assert_passed(action: ActionReport, name: str, at_or_before: float) -> None:
    """Passed by the round planned for ``at_or_before`` (rounds 30 s apart, plus their jitter)."""
    assert action.result == "CONTINUE", action.outcome
    assert_completed_once_by_the_workflow(action)
    assert action.ended_at is not None
    assert action.ended_at <= at_or_before + (at_or_before // 30) * (poll_jitter_span(30) - 1)
    assert last_check(action, name)["status"] == "pass"


def assert_timed_out(action: ActionReport, name: str, reason_part: str) -> None:
    """Waited the whole maxWaitSeconds, then the hook's onTimeout result (ABANDON for launch)."""
    assert action.result == "ABANDON", action.outcome
    assert_completed_once_by_the_workflow(action)
    assert action.ended_at == MAX_WAIT
    result = last_check(action, name)
    assert result["status"] == "wait"
    assert reason_part in result["reason"], result


def assert_failed_early(
    action: ActionReport, name: str, reason_part: str, after: float, rounds: int = 1
) -> None:
    """A definitive failure (from ``after``) ends the action within ``rounds`` rounds of it,
    with onFailure."""
    assert action.result == "ABANDON", action.outcome
    assert_completed_once_by_the_workflow(action)
    assert action.ended_at is not None
    assert after <= action.ended_at <= after + rounds * (30 + poll_jitter_span(30))
    result = last_check(action, name)
    assert result["status"] == "fail"
    assert reason_part in result["reason"], result
    assert action.outcome is not None
    assert name in action.outcome["reason"]


# --- instance-tag -----------------------------------------------------------------------------
def tag(value: str) -> Callable[[LocalAws], None]:
    def change(aws: LocalAws) -> None:
        aws.client("ec2").create_tags(
            Resources=[instance(aws)], Tags=[{"Key": "app/ready", "Value": value}]
        )

    return change


TAG_CHECK = {"name": "instance-tag", "params": {"key": "app/ready", "failValue": "failed"}}


def test_instance_tag_passes_at_the_first_round_after_the_instance_tags_itself() -> None:
    report, _ = run(launch([TAG_CHECK]), (95, tag("ready")))
    assert_passed(first(report), "instance-tag", at_or_before=120)


def test_instance_tag_never_set_waits_until_the_deadline() -> None:
    report, _ = run(launch([TAG_CHECK]))
    assert_timed_out(first(report), "instance-tag", "app/ready")


def test_instance_tag_fail_value_abandons_at_once() -> None:
    report, _ = run(launch([TAG_CHECK]), (95, tag("failed")))
    assert_failed_early(first(report), "instance-tag", "failed", after=95)


# --- ssm-parameter ----------------------------------------------------------------------------
def parameter(value: str) -> Callable[[LocalAws], None]:
    def change(aws: LocalAws) -> None:
        aws.client("ssm").put_parameter(
            Name=f"/asg-lifecycle/{instance(aws)}/ready", Value=value, Type="String"
        )

    return change


PARAM_CHECK = {
    "name": "ssm-parameter",
    "params": {"name": "/asg-lifecycle/{instanceId}/ready", "failValue": "failed"},
}


def test_ssm_parameter_passes_once_the_instance_writes_it() -> None:
    report, _ = run(launch([PARAM_CHECK]), (95, parameter("ready")))
    assert_passed(first(report), "ssm-parameter", at_or_before=120)


def test_ssm_parameter_missing_waits_until_the_deadline() -> None:
    report, _ = run(launch([PARAM_CHECK]))
    assert_timed_out(first(report), "ssm-parameter", "does not exist yet")


def test_ssm_parameter_fail_value_abandons_at_once() -> None:
    report, _ = run(launch([PARAM_CHECK]), (95, parameter("failed")))
    assert_failed_early(first(report), "ssm-parameter", "fail", after=95)


# --- ssm-command ------------------------------------------------------------------------------
COMMAND_CHECK = {"name": "ssm-command", "params": {"commands": ["/opt/app/healthcheck"]}}


def test_ssm_command_sent_once_the_agent_is_online_and_passing_on_success() -> None:
    """The agent comes online with the instance (60 s); the command runs 20 s. Its end is a
    signal (Run Command's "EC2 Command Invocation Status-change Notification"): the round that
    reads Success comes when it finishes, not at the next poll."""
    document = launch([COMMAND_CHECK], instances=[{"readyAfter": 60, "command": {"output": "up"}}])
    report, _ = run(document)
    action = first(report)
    assert_passed(action, "ssm-command", at_or_before=120)
    assert_at_round(action.ended_at, 80, waits=2)  # 0, 30: no agent; 60 sends; its end: Success
    details = last_check(action, "ssm-command")["details"]
    assert details["responseCode"] == 0
    assert details["output"] == NOT_RECORDED


def test_ssm_command_exiting_non_zero_abandons_with_its_error_output_when_recorded() -> None:
    document = launch(
        [COMMAND_CHECK],
        instances=[{"readyAfter": 60, "command": {"exitCode": 3, "output": "db unreachable"}}],
        parameters={**ALLOWS, "RecordCommandOutput": "Enabled"},
    )
    report, _ = run(document)
    action = first(report)
    # Sent by the first round after 60 s, fails 20 s later, read by the round after that.
    assert_failed_early(action, "ssm-command", "3", after=80, rounds=2)
    assert "db unreachable" in str(last_check(action, "ssm-command")["details"])


SECRET = "DB_PASSWORD=hunter2-0123"


@pytest.mark.parametrize(("record", "exit_code"), [(None, 0), (None, 1), ("Enabled", 0)])
def test_a_secret_printed_by_the_command_is_in_no_log_or_history_unless_recorded(
    record: str | None, exit_code: int
) -> None:
    """The attack (issue 19): a health script prints a password. By default its output reaches
    no log line of any function and no event of the execution history; with the stack parameter
    RecordCommandOutput=Enabled it does (the check's details: the "Checks done" line and the
    Run checks state's output)."""
    parameters = {**ALLOWS, **({"RecordCommandOutput": record} if record else {})}
    document = launch(
        [COMMAND_CHECK],
        instances=[{"readyAfter": 0, "command": {"exitCode": exit_code, "output": SECRET}}],
        parameters=parameters,
    )
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)
        logs = [line for i in aws.runtime.invocations for line in i.logs]
        events = [json.dumps(e, default=str) for h in aws.histories().values() for e in h]
    action = first(report)
    assert action.result == ("CONTINUE" if exit_code == 0 else "ABANDON"), action.outcome
    assert last_check(action, "ssm-command")["status"] == ("pass" if exit_code == 0 else "fail")
    assert logs
    assert events
    leaked_logs = [line for line in logs if SECRET in line]
    leaked_events = [event for event in events if SECRET in event]
    if record:
        assert any("Checks done" in line for line in leaked_logs)
        assert leaked_events
    else:
        assert leaked_logs == []
        assert leaked_events == []
        assert any(NOT_RECORDED[:40] in event for event in events)


def test_ssm_command_still_running_waits_until_the_deadline() -> None:
    document = launch([COMMAND_CHECK], instances=[{"readyAfter": 0, "command": {"seconds": 9999}}])
    report, _ = run(document)
    assert_timed_out(first(report), "ssm-command", "InProgress")


# --- target-group-health ----------------------------------------------------------------------
def test_target_group_health_registers_the_instance_and_passes_when_healthy() -> None:
    document = launch([{"name": "target-group-health"}], instances=[{"readyAfter": 75}])
    report, _ = run(document)
    action = first(report)
    assert_passed(action, "target-group-health", at_or_before=120)
    assert_at_round(action.ended_at, 90, waits=3)  # 0 registers (initial), 30, 60 initial, 90 ok


def test_target_group_health_unhealthy_instance_waits_until_the_deadline() -> None:
    document = launch([{"name": "target-group-health"}], instances=[{"readyAfter": None}])
    report, _ = run(document)
    first = report.actions[0]
    assert_timed_out(first, "target-group-health", "unhealthy")


# --- lambda (custom) ---------------------------------------------------------------------------
def custom(answers: list[dict[str, Any]], seen: list[dict[str, Any]]) -> Callable[[Any], Any]:
    """A user's check function: answers in turn (the last one from then on); records its input."""

    def handler(event: Any) -> Any:
        seen.append(event)
        return answers[min(len(seen) - 1, len(answers) - 1)]

    return handler


@pytest.mark.parametrize(
    ("answers", "result", "status", "ended_at"),
    [
        ([{"status": "retry", "reason": "warming"}, {"status": "pass"}], "CONTINUE", "pass", 30),
        ([{"status": "retry", "reason": "warming"}], "ABANDON", "wait", MAX_WAIT),
        # (then "retry": the replacement launched at once must not fail at once too, forever)
        (
            [{"status": "fail", "reason": "schema mismatch"}, {"status": "retry"}],
            "ABANDON",
            "fail",
            0,
        ),
    ],
    ids=["pass", "wait", "fail"],
)
def test_lambda_check_follows_the_users_function(
    answers: list[dict[str, Any]], result: str, status: str, ended_at: int
) -> None:
    seen: list[dict[str, Any]] = []
    document = launch([{"name": "lambda", "params": {"function": "web-ready"}}])
    with emulated(document) as (aws, scenario):
        aws.add_function("web-ready", custom(answers, seen))
        report = play(scenario, aws)
    action = first(report)
    assert action.result == result
    assert_at_round(action.ended_at, ended_at, waits=ended_at // 30)
    assert_completed_once_by_the_workflow(action)
    assert last_check(action, "lambda")["status"] == status
    assert seen, "the user's function was invoked"
    assert all(action.token not in str(event) for event in seen), "the token stays ours"
    assert seen[0]["instanceId"] == action.instance_id


# --- ecs ----------------------------------------------------------------------------------------
def register_container_instance(aws: LocalAws) -> None:
    document = json.dumps({"instanceId": instance(aws), "region": "us-east-1"})
    aws.client("ecs").register_container_instance(cluster="web", instanceIdentityDocument=document)


def test_ecs_container_instance_passes_once_the_agent_registers() -> None:
    document = launch([{"name": "ecs-container-instance", "params": {"cluster": "web"}}])
    with emulated(document) as (aws, scenario):
        aws.client("ecs").create_cluster(clusterName="web")
        later(aws, 95, register_container_instance)
        report = play(scenario, aws)
    assert_passed(first(report), "ecs-container-instance", at_or_before=120)


def test_ecs_container_instance_never_registered_waits_until_the_deadline() -> None:
    document = launch([{"name": "ecs-container-instance", "params": {"cluster": "web"}}])
    with emulated(document) as (aws, scenario):
        aws.client("ecs").create_cluster(clusterName="web")
        report = play(scenario, aws)
    assert_timed_out(first(report), "ecs-container-instance", "not registered in cluster web")


def test_ecs_drain_sets_draining_and_waits_for_the_last_task() -> None:
    """Scale out 1 (no launch hook), scale in at 100 s; the task on it stops at 400 s."""
    drain = terminate_hook(
        checks=[{"name": "ecs-drain", "params": {"cluster": "web"}}],
        pollSeconds=30,
        maxWaitSeconds=3600,
    )
    document = doc(
        [drain], steps=[{"at": 0, "desired": 1}, {"at": 100, "desired": 0}], parameters=ALLOWS
    )
    tasks: list[str] = []

    def start_task(aws: LocalAws) -> None:
        register_container_instance(aws)
        ecs = aws.client("ecs")
        ecs.register_task_definition(
            family="app", containerDefinitions=[{"name": "app", "image": "app", "memory": 64}]
        )
        (container,) = ecs.list_container_instances(cluster="web")["containerInstanceArns"]
        started = ecs.start_task(
            cluster="web", taskDefinition="app", containerInstances=[container]
        )
        tasks.extend(t["taskArn"] for t in started["tasks"])

    def stop_task(aws: LocalAws) -> None:
        for task in tasks:
            aws.client("ecs").stop_task(cluster="web", task=task)

    with emulated(document) as (aws, scenario):
        aws.client("ecs").create_cluster(clusterName="web")
        later(aws, 10, start_task)
        later(aws, 400, stop_task)
        report = play(scenario, aws)
        status = aws.client("ecs").describe_container_instances(
            cluster="web",
            containerInstances=aws.client("ecs").list_container_instances(cluster="web")[
                "containerInstanceArns"
            ],
        )["containerInstances"][0]["status"]

    action = only(report, "terminate")
    assert action.result == "CONTINUE"
    assert_completed_once_by_the_workflow(action)
    # Scale-in at 100 s; AWS deregisters first and waits out the 60 s deregistration delay
    # before Terminating:Wait ("How lifecycle hooks work").
    assert action.started_at == 160
    # Rounds every 30 s (+ jitter) from 160; the first after the last task stops (400) passes.
    assert action.ended_at is not None
    assert 400 <= action.ended_at <= 400 + 30 + poll_jitter_span(30)
    assert status == "DRAINING"
    assert last_check(action, "ecs-drain")["status"] == "pass"
