"""Issue 18 end to end on the emulator: the group's instance lifecycle policy in the safe result
of a terminate hook, the replaceRootVolume block, and target-group-health with a warm pool.

A group that retains abandoned terminations (``TerminateHookAbandon: retain``) keeps an instance
whose shutdown was not seen to finish: the workflow's default ``onFailure`` / ``onTimeout`` of a
termination is then ABANDON (docs/CONFIGURATION.md, "Terminate hooks under the retain policy").
"""

from __future__ import annotations

from typing import Any

import pytest

from lifecycle_emulator.play import play
from tests.flow.stack import assert_completed_once_by_the_workflow, doc, emulated, only

FAILING_SHUTDOWN = {"name": "ssm-command", "params": {"commands": ["/opt/app/bin/leave"]}}


def _states(aws: Any) -> dict[str, str]:
    found = aws.client("autoscaling").describe_auto_scaling_instances()["AutoScalingInstances"]
    return {i["InstanceId"]: i["LifecycleState"] for i in found}


@pytest.mark.parametrize(
    ("policy", "result", "state"),
    [("retain", "ABANDON", "Terminating:Retained"), ("terminate", "CONTINUE", None)],
)
def test_a_failed_shutdown_is_abandoned_by_default_only_where_the_group_retains(
    policy: str, result: str, state: str | None
) -> None:
    """The hook names no onFailure and keeps the DefaultResult CONTINUE these docs advised before
    retain existed: the group's policy alone decides what a failed shutdown gets."""
    document = doc(
        [
            {
                "name": "web-terminate",
                "transition": "terminate",
                "heartbeatTimeout": 300,
                "defaultResult": "CONTINUE",
                "metadata": {"checks": [FAILING_SHUTDOWN], "pollSeconds": 30},
            }
        ],
        instances=[{"readyAfter": 30, "command": {"seconds": 20, "exitCode": 1, "output": "no"}}],
        steps=[{"at": 0, "desired": 1}, {"at": 300, "desired": 0}],
        parameters={"SsmCommandDocuments": "AWS-RunShellScript"},
    )
    document["group"]["instanceLifecyclePolicy"] = policy
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)
        states = _states(aws)

    leaving = only(report, "terminate")
    assert leaving.result == result
    assert_completed_once_by_the_workflow(leaving)
    assert leaving.checks[-1]["status"] == "fail"
    assert leaving.outcome is not None
    assert leaving.outcome["reason"].startswith("check failed: ssm-command")
    assert states.get(leaving.instance_id) == state


def test_a_root_volume_replacement_takes_its_block_and_is_not_retained() -> None:
    """Under retain, the terminate hook's real shutdown (a script that fails here) would retain
    the instance; a root-volume replacement is not a termination: its replaceRootVolume block
    runs instead, and the instances come back through the launch hook."""
    document = doc(
        [
            {
                "name": "web-launch",
                "transition": "launch",
                "heartbeatTimeout": 300,
                "defaultResult": "ABANDON",
                "metadata": {"pollSeconds": 20},
            },
            {
                "name": "web-terminate",
                "transition": "terminate",
                "heartbeatTimeout": 300,
                "defaultResult": "ABANDON",
                "metadata": {
                    "checks": [FAILING_SHUTDOWN],
                    "pollSeconds": 20,
                    "replaceRootVolume": {"checks": ["target-group-drain"]},
                },
            },
        ],
        instances=[{"readyAfter": 30, "command": {"seconds": 20, "exitCode": 1, "output": "no"}}],
        steps=[
            {"at": 0, "desired": 1},
            {"at": 600, "instanceRefresh": {"strategy": "ReplaceRootVolume"}},
        ],
        parameters={"SsmCommandDocuments": "AWS-RunShellScript"},
    )
    document["group"]["instanceLifecyclePolicy"] = "retain"
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)
        states = _states(aws)

    replaced = only(report, "terminate")
    assert replaced.action == "ReplaceRootVolume"
    assert replaced.result == "CONTINUE"
    assert_completed_once_by_the_workflow(replaced)
    assert [c["name"] for c in replaced.checks] == ["target-group-drain"]
    launches = [a for a in report.actions if a.transition == "launch"]
    assert [a.result for a in launches] == ["CONTINUE", "CONTINUE"]
    assert states == {replaced.instance_id: "InService"}


def test_target_group_health_never_registers_an_instance_going_into_the_warm_pool() -> None:
    """The hook's top-level checks (written before the pool) name target-group-health: the launch
    into the pool passes it without registering, the launch out of the pool registers and waits
    for healthy as before."""
    document = doc(
        [
            {
                "name": "web-launch",
                "transition": "launch",
                "heartbeatTimeout": 300,
                "defaultResult": "ABANDON",
                "metadata": {"checks": ["target-group-health"], "pollSeconds": 20},
            }
        ],
        steps=[{"at": 0, "desired": 0}, {"at": 900, "desired": 1}],
    )
    document["group"]["warmPool"] = {"MinSize": 1, "PoolState": "Stopped"}
    with emulated(document) as (aws, scenario):
        report = play(scenario, aws)
    launches = [a for a in report.actions if a.transition == "launch"]
    into_pool = launches[0]
    (out_of_pool,) = [a for a in launches if a.origin == "WarmPool"]
    assert (into_pool.origin, into_pool.destination) == ("EC2", "WarmPool")
    assert into_pool.result == "CONTINUE"
    assert into_pool.checks[0]["status"] == "pass"
    assert into_pool.checks[0]["details"] == {"skipped": "warm pool"}
    assert into_pool.checks[0]["reason"].startswith("not run: the instance goes into the warm pool")
    assert (out_of_pool.origin, out_of_pool.destination) == ("WarmPool", "AutoScalingGroup")
    assert out_of_pool.instance_id == into_pool.instance_id
    assert out_of_pool.result == "CONTINUE"
    assert out_of_pool.checks[0]["reason"].startswith("healthy in 1 target group")
