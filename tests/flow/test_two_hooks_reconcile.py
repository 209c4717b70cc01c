"""Two launch hooks on one group, one fast and one slow, and the reconciler (issue 19, item 8).

Auto Scaling keeps the instance in Pending:Wait until every hook is done, and its API does not say
which hook still holds it. The reconciler used to start a workflow for the fast hook (done, no
workflow running) every run while the slow one waited; each ended already-finished, and
OrphansReconciled counted one every period. It now leaves out a hook whose own workflow succeeded
for this wait while another hook's runs; a lost event beside a running hook is still recovered.
"""

from __future__ import annotations

from typing import Any

from lifecycle_emulator.play import ActionReport, Report, play
from tests.flow.stack import (
    assert_completed_once_by_the_workflow,
    assert_hook_never_lapsed,
    doc,
    emulated,
    launch_hook,
)

SLOW_SECONDS = 900  # the slow hook's command runs this long: three reconcile runs meanwhile
HEARTBEAT = 600


def _two_hooks() -> dict[str, Any]:
    fast = launch_hook(heartbeat=HEARTBEAT, pollSeconds=30)
    slow = {
        **launch_hook(heartbeat=HEARTBEAT),
        "name": "web-slow",
        "metadata": {
            "checks": [
                {
                    "name": "ssm-command",
                    "params": {"commands": ["/opt/app/warm-cache"], "timeoutSeconds": 1500},
                }
            ],
            "pollSeconds": 30,
        },
    }
    return doc(
        [fast, slow],
        instances=[{"readyAfter": 60, "command": {"seconds": SLOW_SECONDS, "exitCode": 0}}],
        parameters={"SsmCommandDocuments": "AWS-RunShellScript"},
        horizon=1800,
    )


def _by_hook(report: Report) -> dict[str, ActionReport]:
    actions = {a.hook: a for a in report.actions if a.transition == "launch"}
    assert sorted(actions) == ["web-launch", "web-slow"], [a.hook for a in report.actions]
    assert len(report.actions) == 2, "one instance, two launch hooks: two actions"
    return actions


def test_no_orphan_is_counted_while_the_slow_hook_runs() -> None:
    with emulated(_two_hooks()) as (aws, scenario):
        report = play(scenario, aws)
        reconciles = [i for i in aws.runtime.invocations if i.function == "ReconcileFunction"]
        names = [e["name"] for e in aws.executions()]

    actions = _by_hook(report)
    fast, slow = actions["web-launch"], actions["web-slow"]
    for action in (fast, slow):
        assert action.result == "CONTINUE"
        assert_completed_once_by_the_workflow(action)
        assert_hook_never_lapsed(action, HEARTBEAT)
    assert fast.ended_at is not None
    assert slow.ended_at is not None
    assert slow.ended_at >= SLOW_SECONDS
    # The runs while the instance was in Pending:Wait, the fast hook done, the slow one running.
    during = [r for r in reconciles if fast.ended_at < r.at.timestamp() - report.t0 < slow.ended_at]
    assert len(during) >= 2, [r.at for r in reconciles]
    for run in reconciles:
        assert run.error is None
        assert run.result["started"] == [], "OrphansReconciled counts len(started)"
    assert not [n for n in names if "-r2026" in n], "no reconciled workflow was started"
    assert (len(fast.workflows), len(slow.workflows)) == (1, 1)


def test_a_lost_event_beside_a_slow_hook_is_still_recovered_once() -> None:
    """The fast hook's event is lost; the slow hook's workflow runs. The first run starts the
    fast hook's workflow (nothing of its ran for this wait); the later runs, while the slow hook
    still waits, leave it: its reconciled workflow ran and succeeded for this wait."""
    with emulated(_two_hooks()) as (aws, scenario):
        aws.autoscaling.drop_event = lambda event: (
            event["detail"]["LifecycleHookName"] == "web-launch"
        )
        report = play(scenario, aws)
        reconciles = [i for i in aws.runtime.invocations if i.function == "ReconcileFunction"]

    actions = _by_hook(report)
    fast, slow = actions["web-launch"], actions["web-slow"]
    for action in (fast, slow):
        assert action.result == "CONTINUE"
        assert_completed_once_by_the_workflow(action)
        assert_hook_never_lapsed(action, HEARTBEAT)
    (recovered,) = fast.workflows
    assert recovered.endswith("-r202601010005"), "started by the first run (5 min 37 s)"
    (own,) = slow.workflows
    assert not own.endswith("-r202601010005")
    started = [run.result["started"] for run in reconciles]
    assert len(started[0]) == 1
    assert started[0][0].endswith(recovered)
    assert all(s == [] for s in started[1:]), started
    assert slow.ended_at is not None
    assert len([r for r in reconciles if r.at.timestamp() - report.t0 < slow.ended_at]) >= 2
