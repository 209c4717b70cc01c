"""Every command of ``asg-lifecycle`` on the emulator; what each bad input or missing piece gets."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from asg_lifecycle_cli.main import cli
from asg_lifecycle_cli.operations import STOP_ERROR
from lifecycle_emulator.faults import Faults, Outage
from tests.cli.conftest import FLEET, Paused, lines_with, paused, paused_at
from tests.conftest import ROOT
from tests.flow.stack import at, doc, launch_hook, terminate_hook

# --- list -----------------------------------------------------------------------------------------


def test_list_shows_each_action_in_flight_with_its_deadlines_and_last_checks(fleet: Paused) -> None:
    waiting = fleet.waiting()
    assert len(waiting) == 2
    result = fleet.cli("list")
    assert result.exit_code == 0, result.output
    for instance in waiting:
        (row,) = lines_with(result, instance)
        assert "web-launch" in row
        assert "launch" in row
        assert "instance-status: wait" in row
    done = [r.instance_id for r in fleet.aws.autoscaling.actions(active=False)]
    assert done
    assert not lines_with(result, done[0])  # completed: not in flight


def test_list_json_gives_times_left_from_the_plan(fleet: Paused) -> None:
    result = fleet.cli("list", "--json")
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)
    assert sorted(a["instanceId"] for a in actions) == sorted(fleet.waiting())
    for action in actions:
        assert action["status"] == "RUNNING"
        assert action["ageSeconds"] == 100
        # HeartbeatTimeout 300 from the start at 0 (no heartbeat yet); maxWaitSeconds 900
        assert action["hookExpiresInSeconds"] == 200
        assert action["givesUpInSeconds"] == 800
        assert action["checks"][0]["name"] == "instance-status"
        assert action["checks"][0]["status"] == "wait"


def test_list_shows_an_action_left_waiting_with_no_workflow_running(fleet: Paused) -> None:
    """A workflow stopped by hand leaves its action waiting: listed from Auto Scaling's side,
    with no plan (no age, deadlines or checks known), until the reconciler starts a workflow."""
    stopped, running = fleet.waiting()
    listed = {a["instanceId"]: a for a in json.loads(fleet.cli("list", "--json").stdout)}
    fleet.aws.client("stepfunctions").stop_execution(executionArn=listed[stopped]["executionArn"])
    result = fleet.cli("list")
    assert result.exit_code == 0, result.output
    (row,) = lines_with(result, stopped)
    assert "web-launch" in row
    assert "no workflow running" in row
    assert "instance-status" not in row  # no checks known
    assert "instance-status: wait" in lines_with(result, running)[0]
    assert "1 waiting with no workflow running" in result.output
    actions = {a["instanceId"]: a for a in json.loads(fleet.cli("list", "--json").stdout)}
    assert actions[stopped] == {
        "execution": None,
        "executionArn": None,
        "status": "NO_WORKFLOW",
        "group": "web",
        "hook": "web-launch",
        "instanceId": stopped,
        "transition": "launch",
        "path": "unknown->AutoScalingGroup",
        "action": None,
        "startedAt": None,
        "ageSeconds": None,
        "hookExpiresInSeconds": None,
        "givesUpInSeconds": None,
        "phase": "no workflow running",
        "checks": [],
        "decision": {},
        "outcome": None,
    }
    assert actions[running]["status"] == "RUNNING"


def _retain(instance_id: str, state: str = "Terminating:Retained") -> None:
    """Put an instance in a retained state, as a terminate hook abandoned under an instance
    lifecycle policy with TerminateHookAbandon retain leaves it (not emulated: set in moto)."""
    from moto.autoscaling.models import autoscaling_backends  # noqa: PLC0415

    from lifecycle_emulator.local_aws import ACCOUNT, REGION  # noqa: PLC0415

    backend = autoscaling_backends[ACCOUNT][REGION]
    (found,) = [
        i
        for g in backend.autoscaling_groups.values()
        for i in g.instance_states
        if i.instance.id == instance_id
    ]
    found.lifecycle_state = state


def test_list_shows_retained_instances_with_what_to_do(fleet: Paused) -> None:
    """A retained instance is held by no hook and has no workflow: list names it, its state,
    and the command that releases it; --json gives it as status RETAINED."""
    (done,) = [r.instance_id for r in fleet.aws.autoscaling.actions(active=False)]
    _retain(done)
    result = fleet.cli("list")
    assert result.exit_code == 0, result.output
    assert "1 retained after an abandoned termination" in result.output
    (row,) = lines_with(result, done)
    assert row.split() == [done, "web", "Terminating:Retained"]
    assert (
        "aws autoscaling terminate-instance-in-auto-scaling-group --instance-id INSTANCE "
        "--no-should-decrement-desired-capacity"
    ) in result.output
    listed = json.loads(fleet.cli("list", "--json").stdout)
    (retained,) = [a for a in listed if a["status"] == "RETAINED"]
    assert retained["instanceId"] == done
    assert retained["lifecycleState"] == "Terminating:Retained"
    assert retained["release"].endswith(
        f"--instance-id {done} --no-should-decrement-desired-capacity"
    )
    assert len(listed) == 3, "the two actions in flight, then the retained instance"
    other = fleet.cli("list", "--group", "api")
    assert "retained" not in other.output
    assert other.output.startswith("No lifecycle action")


def test_list_without_retained_instances_says_nothing_of_them(fleet: Paused) -> None:
    result = fleet.cli("list")
    assert "retained" not in result.output
    assert all(a["status"] != "RETAINED" for a in json.loads(fleet.cli("list", "--json").stdout))


def test_an_action_whose_event_was_lost_is_listed_extended_and_completed() -> None:
    """No execution was ever started for it: list shows it, and extend and complete address it by
    instance id, as the reconciler's workflow would."""
    with paused_at(FLEET, at=100, lose="LAUNCHING") as lost:
        aws = lost.aws
        waiting = lost.waiting()
        assert len(waiting) == 3
        assert aws.executions() == []
        result = lost.cli("list", "--group", "web")
        assert result.exit_code == 0, result.output
        assert all("no workflow running" in lines_with(result, i)[0] for i in waiting)
        assert "3 waiting with no workflow running" in result.output
        assert lost.cli("list", "--group", "api").output.startswith("No lifecycle action")

        result = lost.cli("extend", waiting[0])
        assert result.exit_code == 0, result.output
        assert "No workflow runs for it" in result.output
        result = lost.cli("complete", waiting[1], "--result", "ABANDON", "--yes")
        assert result.exit_code == 0, result.output
        assert "Completed" in result.output
        assert "Stopped" not in result.output
        (extended,) = aws.autoscaling.actions(instance_id=waiting[0])
        (completed,) = aws.autoscaling.actions(instance_id=waiting[1])
        assert (len(extended.heartbeats), extended.result) == (1, None)
        assert completed.result == "ABANDON"
        assert lost.cli("extend", waiting[1]).exit_code == 1  # over now: no action waits


def test_a_lost_termination_is_reached_past_the_instances_finished_launch() -> None:
    """The instance's latest workflow is its launch's (succeeded): extend and complete reach the
    termination Auto Scaling holds now, not the launch's finished action."""
    document = doc(
        [launch_hook(), terminate_hook()],
        instances=[{"readyAfter": 30}],
        steps=[{"at": 0, "desired": 1}, {"at": 200, "desired": 0}],
    )
    with paused_at(document, at=260, lose="TERMINATING") as lost:
        aws = lost.aws
        (instance,) = lost.waiting("web-terminate")
        assert [e["status"] for e in aws.executions()] == ["SUCCEEDED"]  # the launch's
        result = lost.cli("extend", instance)
        assert result.exit_code == 0, result.output
        assert "web-terminate" in result.output
        result = lost.cli("complete", instance, "--result", "CONTINUE", "--yes")
        assert result.exit_code == 0, result.output
        (record,) = aws.autoscaling.actions(instance_id=instance, hook_name="web-terminate")
        assert (len(record.heartbeats), record.result) == (1, "CONTINUE")


def test_list_of_another_group_or_an_idle_stack_says_nothing_is_in_flight(fleet: Paused) -> None:
    result = fleet.cli("list", "--group", "api")
    assert result.exit_code == 0
    assert "No lifecycle action in flight" in result.output


# --- show -----------------------------------------------------------------------------------------


def _story(result: Result) -> list[tuple[str, str]]:
    """``show``'s timeline as (offset, what) pairs; details (indented further) left out."""
    _, _, story = result.output.partition("\n\n")
    return [
        (line.split(None, 1)[0], line.split(None, 1)[1])
        for line in story.splitlines()
        if not line.startswith(" " * 12)
    ]


def test_show_tells_an_actions_story_round_by_round(fleet: Paused) -> None:
    instance = fleet.waiting()[0]  # never ready: at 100 s, four rounds of 30 s and a jitter
    result = fleet.cli("show", instance)
    assert result.exit_code == 0, result.output
    header = result.output.split("\n\n")[0].splitlines()
    assert header[0] == f"{instance}  launch  EC2->AutoScalingGroup  group web  hook web-launch"
    assert re.fullmatch(r"started 2026-01-01T00:00:00\+00:00  phase next round in \d+s", header[2])
    assert header[3] == "hook expires in 3m20s, gives up in 13m20s"
    story = _story(result)
    assert story[:2] == [
        ("+0s", "workflow started (from the event): launch EC2->AutoScalingGroup"),
        (
            "+0s",
            "hook read: HeartbeatTimeout 300 s, DefaultResult ABANDON, poll 30 s, checks "
            "instance-status; gives up at 2026-01-01T00:15:00Z (ABANDON)",
        ),
    ]
    rounds = story[2:]
    assert [what.split(":")[0] for _, what in rounds] == [
        "round 1",
        "round 2",
        "round 3",
        "round 4",
    ]
    assert rounds[0][0] == "+0s"
    for _, what in rounds:
        assert re.fullmatch(
            r"round \d: instance-status wait \(.+\) -> next round in 3[0-3] s", what
        )


def test_show_tells_a_heartbeat_and_a_failed_try_with_its_cause() -> None:
    """Auto Scaling answers the first heartbeat "No active Lifecycle Action found" (stale: the
    instance still waits); the same call 10 s later is recorded. ``show`` tells the failed try
    with its message (the token cut, as in names), then the heartbeat and the hook's new expiry."""
    document = doc([launch_hook(heartbeat=300, pollSeconds=30)], instances=[{"readyAfter": None}])
    faults = Faults(stale_not_found={"RecordLifecycleActionHeartbeat": 1})
    with paused_at(document, at=320, faults=faults) as stack:
        (instance,) = stack.waiting()
        (record,) = stack.aws.autoscaling.actions(instance_id=instance)
        result = stack.cli("show", instance)
        as_json = json.loads(stack.cli("show", instance, "--json").stdout)
    assert result.exit_code == 0, result.output
    assert faults.stale_answers == ["RecordLifecycleActionHeartbeat"]
    (sent,) = record.heartbeats  # epoch seconds
    expires = datetime.fromtimestamp(sent + 300, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    story = [what for _, what in _story(result)]
    failed = story.index("Record lifecycle action heartbeat failed: LifecycleActionNotFound")
    assert story[failed + 1] == f"heartbeat #1 recorded: hook now expires at {expires}"
    decided = r"round \d+: .+ -> heartbeat in \d+ s, then the next round"
    assert re.fullmatch(decided, story[failed - 1])
    (cause,) = lines_with(result, "No active Lifecycle Action found with token")
    assert record.token[:8] in cause
    assert record.token not in result.output  # cut in the text; whole in --json
    assert record.token in json.dumps(as_json["timeline"])
    assert "stackTrace" not in result.output


def test_list_and_show_tell_a_task_step_functions_is_trying_again() -> None:
    """Auto Scaling is down from the start: the hook read is tried again and again (no plan yet,
    so no deadline is known). ``list`` says so, ``show`` tells the tries as one entry."""
    document = doc(
        [launch_hook(heartbeat=600, pollSeconds=30)],
        instances=[{"readyAfter": 30}],
        parameters={"AutoScalingGroupNames": "web"},
    )
    faults = Faults(outage=Outage("autoscaling", at(0), at(600)))
    with paused_at(document, at=90, faults=faults) as stack:
        (instance,) = stack.waiting()
        listed = stack.cli("list")
        shown = stack.cli("show", instance)
    assert listed.exit_code == 0, listed.output
    (row,) = lines_with(listed, instance)
    assert row.split()[4:8] == ["1m30s", "-", "-", "retrying"]  # age, expiry, give-up, phase
    assert "retrying after ClientError" in row
    assert shown.exit_code == 0, shown.output
    assert "hook not read yet: its deadlines are not known" in shown.output
    (tries,) = [w for _, w in _story(shown) if w.startswith("Read lifecycle hook failed")]
    assert re.fullmatch(r"Read lifecycle hook failed \d+ times in (\d+m)?\d+s: ClientError", tries)
    # the hook read's first call: the group's serving and claim tags (issue 19, item 4)
    assert lines_with(shown, "(Unavailable)", "DescribeTags")


def test_show_of_a_finished_action_gives_its_outcome(fleet: Paused) -> None:
    (done,) = [r.instance_id for r in fleet.aws.autoscaling.actions(active=False)]
    result = fleet.cli("show", done, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["action"]["status"] == "SUCCEEDED"
    assert document["action"]["outcome"]["status"] == "completed"
    assert document["action"]["outcome"]["result"] == "CONTINUE"
    steps = [e["what"] for e in document["timeline"]]
    assert steps[0] == "workflow started (from the event): launch EC2->AutoScalingGroup"
    assert steps[-1].startswith("workflow ended: completed CONTINUE")


def test_show_accepts_an_execution_name_or_arn(fleet: Paused) -> None:
    listed = json.loads(fleet.cli("list", "--json").stdout)[0]
    by_name = fleet.cli("show", listed["execution"], "--json")
    by_arn = fleet.cli("show", listed["executionArn"], "--json")
    assert json.loads(by_name.stdout)["action"]["instanceId"] == listed["instanceId"]
    assert json.loads(by_arn.stdout)["action"]["instanceId"] == listed["instanceId"]


def test_show_of_an_unknown_instance_or_execution_is_an_error(fleet: Paused) -> None:
    unknown = fleet.cli("show", "i-0000000000000000f")
    assert unknown.exit_code == 1
    assert "no lifecycle action known for i-0000000000000000f" in unknown.output
    arn = fleet.aws.state_machine_arn.replace(":stateMachine:", ":execution:") + ":nope-i-00"
    assert fleet.cli("show", arn).exit_code == 1


def test_show_of_something_that_is_no_instance_is_a_usage_error(fleet: Paused) -> None:
    result = fleet.cli("show", "web-1")
    assert result.exit_code == 2
    assert "neither an instance id" in result.output


# --- extend ---------------------------------------------------------------------------------------


def test_extend_records_a_heartbeat_now(fleet: Paused) -> None:
    instance = fleet.waiting()[0]
    result = fleet.cli("extend", instance)
    assert result.exit_code == 0, result.output
    assert "the hook expires 300 s from now" in result.output
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert record.heartbeats == [fleet.t0 + 100]
    assert record.deadline == fleet.t0 + 400  # HeartbeatTimeout restarted at 100 s


def test_extend_of_an_action_that_already_ended_sends_nothing(fleet: Paused) -> None:
    instance = fleet.waiting()[0]
    fleet.aws.client("autoscaling").complete_lifecycle_action(
        AutoScalingGroupName="web",
        LifecycleHookName="web-launch",
        InstanceId=instance,
        LifecycleActionResult="ABANDON",
    )  # completed elsewhere: its workflow has not noticed yet
    result = fleet.cli("extend", instance)
    assert result.exit_code == 1
    assert "no active lifecycle action" in result.output
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert record.heartbeats == []


def test_extend_of_an_unknown_instance_is_an_error_and_a_bad_id_a_usage_error(
    fleet: Paused,
) -> None:
    unknown = fleet.cli("extend", "i-0000000000000000f")
    assert unknown.exit_code == 1
    assert "no lifecycle action known for i-0000000000000000f" in unknown.output
    assert fleet.cli("extend", "web-1").exit_code == 2


# --- complete -------------------------------------------------------------------------------------


def test_complete_abandon_ends_the_action_and_stops_its_workflow(fleet: Paused) -> None:
    instance = fleet.waiting()[0]
    listed = {a["instanceId"]: a for a in json.loads(fleet.cli("list", "--json").stdout)}
    result = fleet.cli(
        "complete", instance, "--result", "ABANDON", "--reason", "disk full", input="y\n"
    )
    assert result.exit_code == 0, result.output
    assert "terminates it (and launches another)" in result.output  # asked first
    assert f"Completed {instance} (web-launch) with ABANDON." in result.output
    assert "Stopped its workflow" in result.output
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert not record.active
    assert record.result == "ABANDON"
    described = fleet.aws.client("stepfunctions").describe_execution(
        executionArn=listed[instance]["executionArn"]
    )
    assert described["status"] == "ABORTED"
    assert described["error"] == STOP_ERROR
    assert described["cause"].startswith("ABANDON by arn:aws:")
    assert described["cause"].endswith(": disk full")
    report = fleet.finish()  # nothing sent for it after the operator's completion
    (action,) = [a for a in report.actions if a.instance_id == instance]
    assert action.completions == 1
    assert action.calls_after_end == 0


def test_continue_of_a_launch_asks_first_and_a_no_sends_nothing(fleet: Paused) -> None:
    instance = fleet.waiting()[0]
    result = fleet.cli("complete", instance, "--result", "CONTINUE", input="n\n")
    assert result.exit_code == 1
    assert "puts it in service" in result.output
    assert "instance-status: wait" in result.output
    assert "Aborted" in result.output
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert record.active


def test_continue_of_a_launch_with_yes_puts_it_in_service(fleet: Paused) -> None:
    instance = fleet.waiting()[0]
    result = fleet.cli("complete", instance, "--result", "CONTINUE", "--yes")
    assert "Stopped its workflow" in result.output
    assert result.exit_code == 0, result.output
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert record.result == "CONTINUE"


def test_complete_needs_a_valid_result(fleet: Paused) -> None:
    instance = fleet.waiting()[0]
    assert fleet.cli("complete", instance).exit_code == 2
    assert fleet.cli("complete", instance, "--result", "MAYBE").exit_code == 2
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert record.active


def test_an_instance_held_by_two_hooks_needs_hook_to_choose() -> None:
    two_hooks = doc(
        [
            launch_hook(pollSeconds=30),
            {**launch_hook(pollSeconds=30), "name": "web-warmup"},
        ],
        instances=[{"readyAfter": None}],
    )
    for paused_stack in paused(two_hooks, at=60):
        (instance,) = set(paused_stack.waiting()) | set(paused_stack.waiting("web-warmup"))
        result = paused_stack.cli("extend", instance)
        assert result.exit_code == 1
        assert "several hooks (web-launch, web-warmup): choose one with --hook" in result.output
        chosen = paused_stack.cli("extend", instance, "--hook", "web-warmup")
        assert chosen.exit_code == 0, chosen.output
        (warmup,) = paused_stack.aws.autoscaling.actions(hook_name="web-warmup")
        (launch,) = paused_stack.aws.autoscaling.actions(hook_name="web-launch")
        assert (len(warmup.heartbeats), len(launch.heartbeats)) == (1, 0)


# --- resend ---------------------------------------------------------------------------------------


def test_resend_a_stored_event_starts_its_workflow(fleet: Paused, tmp_path: Path) -> None:
    instance = fleet.waiting()[0]
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert record.event is not None
    stored = tmp_path / "event.json"
    stored.write_text(json.dumps(record.event))
    result = fleet.cli("resend", str(stored))
    assert result.exit_code == 0, result.output
    # its workflow is running: nothing is sent, and still one workflow for the action
    assert "Not sent: its action is handled by the running workflow launch-" in result.output
    running = [e for e in fleet.aws.executions() if instance in e["name"]]
    assert [e["status"] for e in running] == ["RUNNING"]


def test_resend_of_a_malformed_or_non_json_file(fleet: Paused, tmp_path: Path) -> None:
    rejected = fleet.cli("resend", str(ROOT / "events" / "malformed.json"))
    assert rejected.exit_code == 1
    assert "StartFunction rejected the event" in rejected.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert fleet.cli("resend", str(garbage)).exit_code == 2
    assert fleet.cli("resend").exit_code == 2  # neither a file nor --from-dlq
    assert fleet.cli("resend", str(garbage), "--from-dlq").exit_code == 2


def test_resend_from_the_dead_letter_queue(fleet: Paused) -> None:
    sqs = fleet.aws.client("sqs")
    url = fleet.aws.stack.outputs["DeadLetterQueueUrl"]
    instance, unattended = fleet.waiting()
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    (other,) = fleet.aws.autoscaling.actions(instance_id=unattended, hook_name="web-launch")
    fleet.aws.client("stepfunctions").stop_execution(  # its action waits with no workflow
        executionArn=next(e["arn"] for e in fleet.aws.executions() if unattended in e["name"])
    )
    launch = json.loads((ROOT / "events" / "launch.json").read_text())  # an instance in no group
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record.event))  # EventBridge's DLQ
    sqs.send_message(  # Lambda's on-failure destination: the event is the requestPayload
        QueueUrl=url, MessageBody=json.dumps({"requestContext": {}, "requestPayload": other.event})
    )
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(launch))
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"detail-type": "Scheduled Event", "time": "2026-01-01T00:05:37Z"}),
    )
    sqs.send_message(QueueUrl=url, MessageBody="something else")

    dry = fleet.cli("resend", "--from-dlq", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert len(lines_with(dry, unattended, "would resend")) == 1  # waiting, no workflow
    assert len(lines_with(dry, "would discard", "handled by launch-")) == 1  # in flight
    # Auto Scaling does not hold the sample event's action: sending it would start a workflow
    # for nothing (issue 19, item 3)
    assert len(lines_with(dry, "i-0123456789abcdef0", "would discard", "no longer holds")) == 1
    assert len(lines_with(dry, "would discard", "reconcile run")) == 1
    assert len(lines_with(dry, "would keep")) == 1
    assert _queued(fleet) == 5  # a dry run takes nothing out

    result = fleet.cli("resend", "--from-dlq")
    assert result.exit_code == 1, (
        result.output
    )  # the unrecognised message is kept, and that is said
    assert "1 message(s) kept in the dead-letter queue" in result.output
    # its workflow was stopped: Step Functions answers ExecutionAlreadyExists (taken care of)
    assert len(lines_with(result, unattended, "resent", "duplicate")) == 1
    assert len(lines_with(result, instance, "discarded", "handled by")) == 1
    assert len(lines_with(result, "i-0123456789abcdef0", "discarded", "no longer holds")) == 1
    assert len(lines_with(result, "reconcile run of 2026-01-01T00:05:37Z", "discarded")) == 1
    assert len(lines_with(result, "unrecognised message", "kept")) == 1
    assert _queued(fleet) == 1
    names = {e["name"] for e in fleet.aws.executions()}
    assert not any("i-0123456789abcdef0" in n for n in names), "nothing started for it"


def test_resend_from_an_empty_dead_letter_queue(fleet: Paused) -> None:
    result = fleet.cli("resend", "--from-dlq")
    assert result.exit_code == 0
    assert "The dead-letter queue is empty." in result.output


def _queued(fleet: Paused) -> int:
    attributes = fleet.aws.client("sqs").get_queue_attributes(
        QueueUrl=fleet.aws.stack.outputs["DeadLetterQueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


# --- which stack, which credentials ---------------------------------------------------------------


def test_a_missing_stack_is_named_with_what_to_do(fleet: Paused) -> None:
    result = CliRunner().invoke(cli, ["--stack", "not-deployed", "list"])
    assert result.exit_code == 1
    assert "stack 'not-deployed' not found in us-east-1" in result.output


def test_the_stack_name_comes_from_the_environment_or_samconfig(
    fleet: Paused, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    nameless = CliRunner().invoke(cli, ["list"], env={"ASG_LIFECYCLE_STACK": None})
    assert nameless.exit_code == 1
    assert "which stack?" in nameless.output
    from_env = CliRunner().invoke(cli, ["list"], env={"ASG_LIFECYCLE_STACK": "asg-lifecycle"})
    assert from_env.exit_code == 0, from_env.output
    (tmp_path / "samconfig.toml").write_text(
        'version = 0.1\n[default.global.parameters]\nstack_name = "asg-lifecycle"\n'
    )
    from_samconfig = CliRunner().invoke(cli, ["list"], env={"ASG_LIFECYCLE_STACK": None})
    assert from_samconfig.exit_code == 0, from_samconfig.output
    assert len(lines_with(from_samconfig, "web-launch")) == 2


def test_no_credentials_is_said_before_anything_is_called(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(cli, ["--stack", "s", "--region", "eu-west-1", "list"])
    assert result.exit_code == 1
    assert "no usable AWS credentials" in result.output
    unknown = CliRunner().invoke(cli, ["--profile", "nobody", "--stack", "s", "list"])
    assert unknown.exit_code == 1
    assert "nobody" in unknown.output


def test_no_region_is_said(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = CliRunner().invoke(cli, ["--stack", "s", "list"])
    assert result.exit_code == 1
    assert "no AWS Region" in result.output


# --- --local --------------------------------------------------------------------------------------


def test_local_runs_a_command_on_a_scenario_and_plays_on_after_a_change() -> None:
    listed = CliRunner().invoke(cli, ["--local", "mixed-fleet", "--at", "150", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    actions = json.loads(listed.stdout)
    impaired = [a for a in actions if "impaired" in a["checks"][0]["reason"]]
    (never_ready,) = impaired  # the scenario's instance that never passes
    again = CliRunner().invoke(cli, ["--local", "mixed-fleet", "--at", "150", "list", "--json"])
    assert [a["instanceId"] for a in json.loads(again.stdout)] == [
        a["instanceId"] for a in actions
    ]  # the same ids every run: a listed id can be used in the next command
    abandoned = CliRunner().invoke(
        cli,
        ["--local", "mixed-fleet", "--at", "150", "complete", never_ready["instanceId"],
         "--result", "ABANDON", "--yes"],
    )  # fmt: skip
    assert abandoned.exit_code == 0, abandoned.output
    assert "Outcome per lifecycle action" in abandoned.output
    (row,) = [r for r in lines_with(abandoned, never_ready["instanceId"]) if " launch " in r]
    assert "ABANDON" in row
    assert "00:02:30" in row  # completed at the operator's moment, not at the 15-min deadline


def test_local_with_an_unknown_scenario_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["--local", "no-such-scenario", "list"])
    assert result.exit_code == 2
    assert "no scenario 'no-such-scenario'" in result.output


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("list", "show", "extend", "complete", "signal", "resend"):
        assert f"  {command} " in result.output


# --- what the review found -------------------------------------------------------------------


def test_extend_and_complete_reach_an_action_whose_workflow_ended(fleet: Paused) -> None:
    """A workflow that failed or was stopped may leave its action waiting: the commands use the
    latest workflow, and Auto Scaling says whether the action still waits."""
    instance = fleet.waiting()[0]
    listed = {a["instanceId"]: a for a in json.loads(fleet.cli("list", "--json").stdout)}
    fleet.aws.client("stepfunctions").stop_execution(executionArn=listed[instance]["executionArn"])
    assert fleet.cli("extend", instance).exit_code == 0
    result = fleet.cli("complete", instance, "--result", "ABANDON", "--yes")
    assert result.exit_code == 0, result.output
    assert "Stopped" not in result.output  # nothing was running
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert (len(record.heartbeats), record.result) == (1, "ABANDON")


def test_a_stop_that_fails_after_the_completion_is_reported_not_raised(fleet: Paused) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    from asg_lifecycle.model import LifecycleResult  # noqa: PLC0415
    from asg_lifecycle_cli import executions, operations, stack  # noqa: PLC0415

    sfn = fleet.aws.client("stepfunctions")
    found = stack.describe(fleet.aws.client("cloudformation"), fleet.aws.stack.name)
    view = executions.find(sfn, found, fleet.waiting()[0])

    class Denied:
        exceptions = sfn.exceptions

        def stop_execution(self, **_: object) -> None:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "Stop")

    done = operations.complete(
        fleet.aws.client("autoscaling"),
        Denied(),
        view,
        [view.execution_arn],
        result=LifecycleResult.ABANDON,
        reason="r",
        operator="me",
    )
    assert done.stopped == []
    assert done.not_stopped == [f"{view.execution_arn}: AccessDeniedException: no"]
    (record,) = fleet.aws.autoscaling.actions(
        instance_id=view.action.instance_id, hook_name="web-launch"
    )
    assert record.result == "ABANDON"  # the completion stands


def test_a_malformed_execution_does_not_hide_the_others(fleet: Paused) -> None:
    fleet.aws.client("stepfunctions").start_execution(
        stateMachineArn=fleet.aws.state_machine_arn,
        name="by-hand",
        input=json.dumps({"action": {"EC2InstanceId": "i-0000000000000000f"}}),
    )
    result = fleet.cli("list", "--json")
    assert result.exit_code == 0, result.output
    assert sorted(a["instanceId"] for a in json.loads(result.stdout)) == sorted(fleet.waiting())


def test_show_finds_a_name_whose_token_was_cut(fleet: Paused) -> None:
    instance = fleet.waiting()[0]
    shown = fleet.cli("show", instance)
    (line,) = lines_with(shown, "execution launch-")
    cut = line.split()[1]  # as printed: the token cut to its prefix
    assert len(cut) < len(
        json.loads(fleet.cli("show", instance, "--json").stdout)["action"]["execution"]
    )
    again = fleet.cli("show", cut)
    assert again.exit_code == 0, again.output
    assert instance in again.output
