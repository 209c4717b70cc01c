"""A group served by two stacks (issue 19, item 4): each stack claims the groups it serves with its
name in the group's tag ``asg-lifecycle-orchestrator:stack``; a stack whose group another stack
has claimed does not act on it (``not-waiting``, the reason naming the other stack; counted as
ActionsNotWaiting, which raises its alarm).

The emulator runs one stack per (moto) account, so the other stack is played by its claim and,
where it acts, by its CompleteLifecycleAction.
"""

from __future__ import annotations

from typing import Any

from asg_lifecycle.served import CLAIM_TAG
from lifecycle_emulator import play
from lifecycle_emulator.local_aws import LocalAws
from tests.flow.stack import (
    GROUP,
    assert_completed_once_by_the_workflow,
    at,
    doc,
    emulated,
    launch_hook,
)


def _claim(aws: LocalAws, stack: str) -> None:
    aws.client("autoscaling").create_or_update_tags(
        Tags=[
            {
                "ResourceId": GROUP,
                "ResourceType": "auto-scaling-group",
                "Key": CLAIM_TAG,
                "Value": stack,
                "PropagateAtLaunch": False,
            }
        ]
    )


def _claims(aws: LocalAws) -> list[str]:
    tags = aws.client("autoscaling").describe_tags(
        Filters=[
            {"Name": "auto-scaling-group", "Values": [GROUP]},
            {"Name": "key", "Values": [CLAIM_TAG]},
        ]
    )["Tags"]
    return [str(t["Value"]) for t in tags]


def test_a_served_group_is_claimed_by_its_stack_once_and_its_actions_go_on() -> None:
    document = doc(
        [launch_hook(pollSeconds=30)],
        instances=[{"readyAfter": 30}, {"readyAfter": 40}],
        steps=[{"at": 0, "desired": 1}, {"at": 120, "desired": 2}],
        horizon=600,
    )
    with emulated(document) as (aws, scenario):
        report = play.play(scenario, aws)
        claims = _claims(aws)
        tagged = [
            c for i in aws.runtime.invocations for c in i.api_calls if c.endswith("OrUpdateTags")
        ]

    assert claims == [aws.stack.name]
    assert len(tagged) == 1, "claimed by the first action's hook read, then only read"
    assert len(report.actions) == 2
    for action in report.actions:
        assert_completed_once_by_the_workflow(action)


def test_a_group_claimed_by_another_stack_is_left_to_it() -> None:
    """Both stacks serve ``web`` (here: tag mode, ``enabled``, the default). The other stack
    claimed it first and completes the launch at 100 s; this stack's workflow ends at its hook
    read, ``not-waiting``, naming the other stack: no check, no heartbeat or completion. The
    action is completed once, by the other stack."""
    document = doc([launch_hook(pollSeconds=30)], instances=[{"readyAfter": 30}], horizon=250)
    with emulated(document) as (aws, scenario):
        t0 = play.begin(scenario, aws)
        _claim(aws, "the-other-stack")

        def the_other_stack_completes() -> None:
            (record,) = aws.autoscaling.records
            aws.client("autoscaling").complete_lifecycle_action(
                AutoScalingGroupName=GROUP,
                LifecycleHookName=record.hook_name,
                LifecycleActionToken=record.token,
                LifecycleActionResult="CONTINUE",
            )

        aws.clock.call_at(at(100), the_other_stack_completes)
        report = play.finish(scenario, aws, t0)
        (execution,) = aws.executions()
        functions = {i.function for i in aws.runtime.invocations}
        logs = "\n".join(line for i in aws.runtime.invocations for line in i.logs)
        claims = _claims(aws)

    (action,) = report.actions
    assert action.result == "CONTINUE"
    assert action.completions == 1, "the other stack's"
    assert action.heartbeats == []
    outcome: dict[str, Any] = execution["output"]["outcome"]
    assert outcome["status"] == "not-waiting"
    assert "claimed by stack 'the-other-stack'" in outcome["reason"]
    assert "two stacks serve it" in outcome["reason"]
    assert not functions & {"CheckFunction", "HeartbeatFunction", "CompleteFunction"}
    assert "Group served by another stack" in logs
    assert '"ActionsNotWaiting"' in logs, "counted: ActionsNotWaitingAlarm"
    assert claims == ["the-other-stack"], "a claim is never overwritten"
