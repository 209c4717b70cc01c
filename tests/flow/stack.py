"""The whole stack from ``template.yaml`` on the local emulation: real ASL, handlers in-process.

Each test describes a group as a scenario document (the format of ``asg-lifecycle-local``), may
schedule interventions on the virtual clock (an operator completing an action, a hook deleted,
an event delivered twice), plays it and asserts on what Auto Scaling saw and what the workflow said.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asg_lifecycle.policy import minimum_heartbeats, poll_jitter_span
from lifecycle_emulator.faults import Faults
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.play import T0, ActionReport, Report
from lifecycle_emulator.scenarios import Scenario, parse

GROUP = "web"


def doc(
    hooks: list[dict[str, Any]],
    instances: list[dict[str, Any]] | None = None,
    steps: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A scenario document for one group ``web`` with a target group (drain 60 s)."""
    return {
        "group": {"name": GROUP, "maxSize": 10, "targetGroup": {"deregistrationDelay": 60}},
        "hooks": hooks,
        "instances": instances or [],
        "defaultInstance": {"readyAfter": 60},
        "steps": steps or [{"at": 0, "desired": 1}],
        **extra,
    }


def launch_hook(heartbeat: int = 300, default: str = "ABANDON", **metadata: Any) -> dict[str, Any]:
    return _hook("web-launch", "launch", heartbeat, default, metadata)


def terminate_hook(
    heartbeat: int = 300, default: str = "CONTINUE", **metadata: Any
) -> dict[str, Any]:
    return _hook("web-terminate", "terminate", heartbeat, default, metadata)


def _hook(
    name: str, transition: str, heartbeat: int, default: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    hook: dict[str, Any] = {
        "name": name,
        "transition": transition,
        "heartbeatTimeout": heartbeat,
        "defaultResult": default,
    }
    if metadata:
        hook["metadata"] = metadata
    return hook


@contextmanager
def emulated(
    document: dict[str, Any], name: str = "test", faults: Faults | None = None
) -> Iterator[tuple[LocalAws, Scenario]]:
    """The stack deployed on the emulation, the group not yet created: schedule, then play;
    with ``faults`` injected meanwhile (``lifecycle_emulator.faults``)."""
    scenario = parse(document, name)
    with LocalAws(scenario.parameters, start=T0, behaviours=scenario.behaviour()) as aws:
        if faults is None:
            yield aws, scenario
            return
        faults.install(aws)
        try:
            yield aws, scenario
        finally:
            faults.uninstall()


def at(seconds: float) -> float:
    """The epoch second ``seconds`` after the start of a play."""
    return T0.timestamp() + seconds


def assert_at_round(actual: float | None, expected: float, waits: int, poll: int = 30) -> None:
    """A round ``waits`` poll intervals in: rounds are ``poll`` plus a jitter of
    ``[0, poll_jitter_span(poll))`` seconds apart (:func:`asg_lifecycle.policy.jitter`), so the
    round planned for ``expected`` lands up to ``waits`` jitters later."""
    assert actual is not None
    latest = expected + waits * (poll_jitter_span(poll) - 1)
    assert expected <= actual <= latest, f"{actual} not in [{expected}, {latest}]"


def only(report: Report, transition: str) -> ActionReport:
    (action,) = [a for a in report.actions if a.transition == transition]
    return action


def assert_hook_never_lapsed(action: ActionReport, heartbeat_timeout: int) -> None:
    """Every stretch between the start, each heartbeat and the end is within HeartbeatTimeout."""
    assert action.ended_at is not None
    points = [action.started_at, *action.heartbeats, action.ended_at]
    gaps = [b - a for a, b in itertools.pairwise(points)]
    assert max(gaps) <= heartbeat_timeout, f"hook would have lapsed: gaps {gaps}"


def assert_heartbeats_only_when_needed(action: ActionReport, heartbeat_timeout: int) -> None:
    """Within one of the fewest that keep the hook alive with its margin (issue 17, item 4): the
    one more is the heartbeat sent before a round that then passed, rather than after it."""
    assert action.duration is not None
    allowed = minimum_heartbeats(heartbeat_timeout, action.duration) + 1
    assert len(action.heartbeats) <= allowed, (len(action.heartbeats), allowed)


def assert_completed_once_by_the_workflow(action: ActionReport) -> None:
    assert action.end_reason == "completed"
    assert action.completions == 1
    assert action.calls_after_end == 0
    assert action.execution_status == "SUCCEEDED"
    assert action.outcome is not None
    assert action.outcome["status"] == "completed"
    assert action.outcome["result"] == action.result


def lambda_invoke(aws: LocalAws, function: str, event: Any) -> dict[str, Any]:
    """A synchronous invoke of one of the stack's functions, through moto's Lambda API."""
    response = aws.client("lambda").invoke(
        FunctionName=aws.stack.functions[function].name, Payload=json.dumps(event)
    )
    assert "FunctionError" not in response, response["Payload"].read()
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


def put_event(aws: LocalAws, event: dict[str, Any]) -> None:
    """Send an Auto Scaling-shaped event through moto's EventBridge (the template's rule)."""
    entry = aws.client("events").put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event.get("resources", []),
            }
        ]
    )
    assert entry["FailedEntryCount"] == 0
