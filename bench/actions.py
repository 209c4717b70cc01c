"""Benchmark (not a test): what one lifecycle action costs, and how soon it completes.

    python -m bench.actions

One action per cell on the local emulation (the real definition and handlers, virtual time), each
cell run twice: with its signal and without it.

* **Launches** whose checks (the stack's default, ``instance-status``) pass 1 min, 30 min or 6 h
  after the instance starts, under HeartbeatTimeouts of 60, 300 and 3600 s (``pollSeconds`` 30,
  the stack's ``LaunchMaxPollSeconds`` 0: no back-off; ``maxWaitSeconds`` an hour longer than the
  checks take). The signal: the instance's user data sends "Run checks now" once it is ready
  (scenario ``signalsReady``); without it, nothing does.
* **Terminate drains**: an ``ssm-command`` drain script that runs 1 min, 30 min or 6 h (the same
  HeartbeatTimeouts) under the stack's terminate defaults (``DefaultPollSeconds`` 30,
  ``TerminateMaxPollSeconds`` 300; ``maxWaitSeconds`` an hour longer than the script). The
  signal: Run Command's status-change event when the script ends, which the stack's rule routes
  to SignalFunction; without it, the emulator drops that event (``drop_event``), as if the rule
  did not exist. A target-group drain cannot stand for a 6-h drain: ELB caps the deregistration
  delay at 3600 s (``lifecycle_emulator.fleet.MAX_DRAIN_SECONDS``).
* A launch whose instance is ready after 2 minutes (HeartbeatTimeout 300), with and without its
  signal (issue 20's latency target); launches with ``maxPollSeconds`` 300 (back-off a launch
  hook may ask for), with and without a signal; a launch whose checks pass at the first round;
  and one at ``pollSeconds`` 5 without a signal (near-immediate completion before signals).

Counted per action, from its own execution history and the Lambda invocations about its instance
while it lasted:

* state transitions (by state); Lambda invocations by function (SignalFunction included); AWS
  calls by operation (Auto Scaling's, the signal table's ``dynamodb.Query`` and
  ``sfn.SendTaskSuccess`` among them); DynamoDB PutItem, one per callback wait (the history's
  ``putItem.waitForTaskToken`` tasks scheduled), and how many of those waits a signal ended;
  EventBridge custom events (the instance's own signal);
* heartbeats sent beside the minimum ``ceil((W - H) / (H - m))`` for a hook of HeartbeatTimeout
  ``H`` held ``W`` seconds (:func:`asg_lifecycle.policy.minimum_heartbeats`; target: within one);
* the cost at list prices (:mod:`bench.cost`), each function's invocations billed at its median
  run here, beside the physical minimum (:func:`bench.cost.physical_minimum`: start, hook read,
  minimum heartbeats, completion);
* the latency from the moment the checks would pass to CompleteLifecycleAction, and for a
  signalled action from the signal.

The functions' boto3 clients are created before each run (warm containers: ``bench.imports``
measures cold starts). Writes ``bench/results/actions.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asg_lifecycle.adapters.clients import client
from asg_lifecycle.policy import GLOBAL_TIMEOUT_CAP, global_timeout, minimum_heartbeats
from bench import cost
from bench.definition import digest
from bench.results import load_average, save
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.play import T0, play
from lifecycle_emulator.scenarios import parse

CHECK_SECONDS = (60, 1800, 21_600)
HEARTBEAT_TIMEOUTS = (60, 300, 3600)
POLL = 30  # the launches' pollSeconds; the stack's DefaultPollSeconds, which terminations take
SIGNAL_READY_AFTER = 120  # issue 20: "a launch whose instance signals ready after 2 minutes"
LAUNCH_MAX_POLL = 300  # the launches that ask for back-off (the stack's terminate default)
SCALE_IN_AT = 300  # a terminate cell's instance launches at 0 (no launch hook), leaves at this
DRAIN_DOCUMENT = "AWS-RunShellScript"
# What the functions' first calls create (a warm container has them already).
CLIENTS = ("autoscaling", "ec2", "stepfunctions", "ssm", "dynamodb")
AUTOSCALING = "auto-scaling."  # botocore's event prefix for Auto Scaling operations
QUERY = "dynamodb.Query"
SEND_TASK_SUCCESS = "sfn.SendTaskSuccess"
CALLBACK_RESOURCE = "putItem.waitForTaskToken"  # the rounds' waits (a history task's resource)
COMMAND_EVENT = "EC2 Command Invocation Status-change Notification"
FINAL_COMMAND_STATUSES = frozenset({"Success", "Failed", "TimedOut", "Cancelled"})


@dataclass(frozen=True)
class Case:
    """One action to measure: a launch or a terminate drain, with its signal or without."""

    transition: str  # "launch" | "terminate"
    check_seconds: int
    heartbeat_timeout: int
    signal: bool
    poll: int = POLL  # a launch hook's pollSeconds (a terminate hook takes the stack's default)
    max_poll: int | None = None  # a launch hook's maxPollSeconds (None: the stack's default)

    @property
    def name(self) -> str:
        signal = "signal" if self.signal else "no-signal"
        return (
            f"{self.transition}-{self.check_seconds}-{self.heartbeat_timeout}-{self.poll}-"
            f"{self.max_poll}-{signal}"
        )


def _instance_of(payload: Any) -> str | None:
    """The instance a function's input is about: a state document's ``action``, a lifecycle
    event's ``detail``, or a signal's (the instance's own, Run Command's) ``detail``."""
    if not isinstance(payload, dict):
        return None
    action = payload.get("action") or payload.get("detail") or {}
    if not isinstance(action, dict):
        return None
    found = action.get("EC2InstanceId") or action.get("instance-id")
    return str(found) if found else None


def within_one(sent: int, minimum: int) -> bool:
    """The heartbeat target: at most one more (or fewer) than the minimum."""
    return abs(sent - minimum) <= 1


def _max_wait(check_seconds: int) -> int:
    return min(check_seconds + 3600, GLOBAL_TIMEOUT_CAP)


def launch_scenario(case: Case) -> dict[str, Any]:
    """One launch whose checks pass ``check_seconds`` after it starts, given an hour more."""
    metadata: dict[str, Any] = {
        "pollSeconds": case.poll,
        "maxWaitSeconds": _max_wait(case.check_seconds),
    }
    if case.max_poll is not None:
        metadata["maxPollSeconds"] = case.max_poll
    return {
        "group": {"name": "bench", "maxSize": 1},
        "hooks": [
            {
                "name": "bench-launch",
                "transition": "launch",
                "heartbeatTimeout": case.heartbeat_timeout,
                "defaultResult": "ABANDON",
                "metadata": metadata,
            }
        ],
        "instances": [{"readyAfter": case.check_seconds, "signalsReady": case.signal}],
        "steps": [{"at": 0, "desired": 1}],
        "horizon": case.check_seconds + 600,
    }


def terminate_scenario(case: Case) -> dict[str, Any]:
    """One termination whose drain script runs ``check_seconds``, given an hour more; poll and
    back-off are the stack's defaults."""
    wait = _max_wait(case.check_seconds)
    drain = {"commands": ["/opt/app/bin/drain"], "timeoutSeconds": wait}
    return {
        "parameters": {"SsmCommandDocuments": DRAIN_DOCUMENT},
        "group": {"name": "bench", "maxSize": 1},
        "hooks": [
            {
                "name": "bench-terminate",
                "transition": "terminate",
                "heartbeatTimeout": case.heartbeat_timeout,
                "defaultResult": "CONTINUE",
                "metadata": {
                    "checks": [{"name": "ssm-command", "params": drain}],
                    "maxWaitSeconds": wait,
                },
            }
        ],
        "instances": [{"readyAfter": 60, "command": {"seconds": case.check_seconds}}],
        "steps": [{"at": 0, "desired": 1}, {"at": SCALE_IN_AT, "desired": 0}],
        "horizon": case.check_seconds + 900,
    }


def scenario(case: Case) -> dict[str, Any]:
    return launch_scenario(case) if case.transition == "launch" else terminate_scenario(case)


def _is_command_status(event: dict[str, Any]) -> bool:
    return event.get("detail-type") == COMMAND_EVENT


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _command_ended(aws: LocalAws, instance_id: str) -> float | None:
    """When Run Command reported the instance's command finished (epoch s): sent whether or not
    the event was then dropped."""
    for event in aws.service_events.sent:
        detail = event.get("detail") or {}
        if (
            _is_command_status(event)
            and detail.get("instance-id") == instance_id
            and detail.get("status") in FINAL_COMMAND_STATUSES
        ):
            return _epoch(str(event["time"]))
    return None


def _ready_and_signal(
    aws: LocalAws, case: Case, instance_id: str
) -> tuple[float | None, float | None]:
    """When the checks would pass, and when the signal was sent (epoch s; None: never)."""
    if case.transition == "terminate":
        ended = _command_ended(aws, instance_id)
        return ended, ended if case.signal else None
    behaviour = aws.fleet.behaviour[instance_id]
    ready = (
        None
        if behaviour.ready_after is None
        else aws.fleet.booted_at[instance_id] + behaviour.ready_after
    )
    sent = [when for when, i in aws.fleet.ready_signals if i == instance_id]
    return ready, (sent[0] if sent else None)


def _relative(at: float | None, t0: float) -> float | None:
    return None if at is None else round(at - t0, 3)


def _callback_tasks(events: list[dict[str, Any]], kind: str) -> int:
    """The rounds' waits (``putItem.waitForTaskToken`` tasks) of one history event kind:
    ``TaskScheduled`` (one PutItem each) or ``TaskSucceeded`` (ended by a signal)."""
    key = {
        "TaskScheduled": "taskScheduledEventDetails",
        "TaskSucceeded": "taskSucceededEventDetails",
    }[kind]
    return sum(
        1
        for e in events
        if str(e["type"]).endswith(kind) and (e.get(key) or {}).get("resource") == CALLBACK_RESOURCE
    )


def measure(case: Case) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """One action: its counts, and each function's run times in ms (priced in :func:`price`)."""
    document = scenario(case)
    spec = parse(document, case.name)
    with LocalAws(spec.parameters, start=T0, behaviours=spec.behaviour()) as aws:
        if not case.signal:
            aws.service_events.drop_event = _is_command_status
        for service in CLIENTS:
            client(service)
        with cost.timed(aws.runtime) as durations:
            report = play(spec, aws)
        # the first action of its kind (an ABANDONed launch's replacement comes after it)
        action = next(a for a in report.actions if a.transition == case.transition)
        (execution,) = [e for e in aws.executions() if e["name"].endswith(action.token)]
        events = aws.history(execution["arn"])
        ended = action.ended_at if action.ended_at is not None else float("inf")
        mine = [
            i
            for i in aws.runtime.invocations
            if _instance_of(i.payload) == action.instance_id
            and i.function != "ReconcileFunction"
            and action.started_at <= i.at.timestamp() - report.t0 <= ended
        ]
        samples = cost.samples(mine, durations)
        ready_at, signal_at = _ready_and_signal(aws, case, action.instance_id)
        custom_events = sum(
            1
            for when, i in aws.fleet.ready_signals
            if i == action.instance_id and action.started_at <= when - report.t0 <= ended
        )
    ready, signalled = _relative(ready_at, report.t0), _relative(signal_at, report.t0)
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in events
        if str(e["type"]).endswith("StateEntered")
    ]
    calls = Counter(c for i in mine for c in i.api_calls)
    output = execution["output"] or {}
    outcome = output.get("outcome") or {}
    plan = output.get("plan") or {}
    held = (action.ended_at or 0) - action.started_at
    minimum = minimum_heartbeats(case.heartbeat_timeout, held)
    heartbeats = len(action.heartbeats)
    possible = case.check_seconds < global_timeout(case.heartbeat_timeout)
    done = possible and action.ended_at is not None
    # The physical minimum holds the instance until the checks would pass (or, if they cannot
    # before the global timeout, as long as this action held it).
    needed = ready - action.started_at if possible and ready is not None else held
    cell = {
        "transition": case.transition,
        "signal": case.signal,
        "check_seconds": case.check_seconds,
        "heartbeat_timeout": case.heartbeat_timeout,
        "poll_seconds": plan.get("pollSeconds"),
        "max_poll_seconds": plan.get("maxPollSeconds"),
        "max_wait_seconds": _max_wait(case.check_seconds),
        "result": action.result,
        "status": outcome.get("status"),
        "possible": possible,  # checks outlasting the global timeout cannot pass
        "started_at_seconds": action.started_at,
        "held_seconds": held,
        "rounds": int(outcome.get("rounds", 0)),
        "heartbeats": heartbeats,
        "heartbeats_minimum": minimum,
        "heartbeats_within_one": within_one(heartbeats, minimum),
        "heartbeat_at_seconds": action.heartbeats,
        "state_transitions": len(entered),
        "transitions_by_state": dict(Counter(entered)),
        "lambda_invocations": dict(sorted(Counter(i.function for i in mine).items())),
        "lambda_errors": sum(1 for i in mine if i.error is not None),
        "aws_calls": dict(sorted(calls.items())),
        "autoscaling_calls": sum(n for c, n in calls.items() if c.startswith(AUTOSCALING)),
        "dynamodb_put_items": _callback_tasks(events, "TaskScheduled"),
        "dynamodb_queries": calls.get(QUERY, 0),
        "send_task_success": calls.get(SEND_TASK_SUCCESS, 0),
        "waits_signalled": _callback_tasks(events, "TaskSucceeded"),
        "custom_events": custom_events,
        "ready_at_seconds": ready,
        "signal_at_seconds": signalled,
        "latency_seconds": round(action.ended_at - ready, 3)
        if done and ready is not None and action.ended_at is not None
        else None,
        "latency_from_signal_seconds": round(action.ended_at - signalled, 3)
        if done and signalled is not None and action.ended_at is not None
        else None,
        "minimum": {
            "held_seconds": needed,
            **cost.physical_minimum(minimum_heartbeats(case.heartbeat_timeout, needed)),
        },
    }
    return cell, samples


def price(cell: dict[str, Any], median_ms: dict[str, float]) -> dict[str, Any]:
    """The cell with its list price (``usd``), the total if Lambda ran ten times as long, and
    the price of its physical minimum."""
    invocations = cell["lambda_invocations"]
    others = {
        "put_items": cell.get("dynamodb_put_items", 0),
        "queries": cell.get("dynamodb_queries", 0),
        "custom_events": cell.get("custom_events", 0),
    }
    minimum = cell.get("minimum")
    return {
        **cell,
        "usd": cost.usd(cell["state_transitions"], invocations, median_ms, **others),
        "usd_total_duration_x10": cost.usd(
            cell["state_transitions"], invocations, median_ms, duration_factor=10, **others
        )["total"],
        **(
            {
                "minimum": {
                    **minimum,
                    "usd": cost.usd(
                        minimum["state_transitions"], minimum["lambda_invocations"], median_ms
                    )["total"],
                }
            }
            if minimum is not None
            else {}
        ),
    }


def matrix(transition: str) -> list[Case]:
    """Each cell without its signal, then with it."""
    return [
        Case(transition, c, h, signal)
        for c in CHECK_SECONDS
        for h in HEARTBEAT_TIMEOUTS
        for signal in (False, True)
    ]


RUNS: dict[str, list[Case]] = {
    "launch": matrix("launch"),
    "terminate": matrix("terminate"),
    "signalled_launch": [
        Case("launch", SIGNAL_READY_AFTER, 300, signal) for signal in (False, True)
    ],
    "launch_max_poll": [
        Case("launch", c, 300, signal, max_poll=LAUNCH_MAX_POLL)
        for c in CHECK_SECONDS[1:]
        for signal in (False, True)
    ],
    "ready_at_first_round": [Case("launch", 0, 300, False)],
    "poll_5": [Case("launch", SIGNAL_READY_AFTER, 300, False, poll=5)],
}
SINGLE = ("ready_at_first_round", "poll_5")  # one cell each: saved as the cell itself


def run() -> dict[str, Any]:
    load_at_start, definition = load_average(), digest()  # as the run starts
    measured: dict[str, list[dict[str, Any]]] = {}
    pooled: dict[str, list[float]] = {}
    for name, cases in RUNS.items():
        measured[name] = []
        for case in cases:
            cell, samples = measure(case)
            measured[name].append(cell)
            for function, ms in samples.items():
                pooled.setdefault(function, []).extend(ms)
    median_ms = {f: cost.median(ms) for f, ms in sorted(pooled.items())}
    priced = {name: [price(c, median_ms) for c in cells] for name, cells in measured.items()}
    return {
        **{name: cells[0] if name in SINGLE else cells for name, cells in priced.items()},
        "lambda_median_ms": median_ms,
        "lambda_samples": {f: len(ms) for f, ms in sorted(pooled.items())},
        "function_sizes": {
            f: {"memory_mb": s.memory_mb, "architecture": s.architecture}
            for f, s in cost.function_sizes().items()
        },
        "definition": definition,
        "load_at_start": load_at_start,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.actions", description=__doc__)
    parser.parse_args(argv)
    save("actions.json", run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
