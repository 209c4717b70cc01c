"""What the handlers log and publish: each handler is called (AWS calls replaced by fakes) and its
log lines and EMF output (stdout, as Lambda sends it to CloudWatch) are read back.

The dashboard and the alarms in template.yaml are checked against ``Metric`` and ``DIMENSIONS`` in
tests/unit/test_template_observability.py; these tests check that the handlers emit exactly those.
"""

from __future__ import annotations

import ast
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.autoscaling import HookInfo
from asg_lifecycle.adapters.fleet import Fleet
from asg_lifecycle.checks.base import Answer, Check, CheckContext, passed
from asg_lifecycle.config import ActionConfig, CheckSpec
from asg_lifecycle.decision import Decision, Next
from asg_lifecycle.document import StateDocument
from asg_lifecycle.lifecycle_states import Instance
from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition, without_token
from asg_lifecycle.reconcile import WaitingInstance
from handlers import observability
from handlers.observability import DIMENSIONS, UNITS, Metric, correlation_keys
from tests.conftest import ROOT, load_event
from tests.unit.conftest import Context

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN = "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f"
HANDLERS = ROOT / "src" / "handlers"


@dataclass(frozen=True)
class Emitted:
    """One metric of one EMF document."""

    namespace: str
    name: str
    unit: str
    dimensions: dict[str, str]
    value: float


def _emf(stdout: str) -> list[Emitted]:
    """Every metric in the EMF documents printed to stdout."""
    found: list[Emitted] = []
    for line in stdout.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            (names,) = directive["Dimensions"]  # one dimension set per document
            dimensions = {name: document[name] for name in names}
            for metric in directive["Metrics"]:
                raw = document[metric["Name"]]
                value = sum(raw) if isinstance(raw, list) else raw
                found.append(
                    Emitted(
                        directive["Namespace"], metric["Name"], metric["Unit"], dimensions, value
                    )
                )
    return found


@pytest.fixture
def emitted(capsys: pytest.CaptureFixture[str]) -> Any:
    """Reads what was published so far, and checks every metric against the one list: its
    name is a ``Metric``, its dimensions and unit those ``DIMENSIONS`` and ``UNITS`` give it, and
    its namespace and service those of the shared Metrics (which the alarms use)."""

    def read() -> list[Emitted]:
        found = _emf(capsys.readouterr().out)
        for metric in found:
            expected = {"service", *DIMENSIONS.get(Metric(metric.name), ())}
            assert set(metric.dimensions) == expected, metric
            assert metric.dimensions["service"] == observability.metrics.service
            assert metric.namespace == observability.metrics.namespace
            assert metric.unit == UNITS.get(Metric(metric.name), MetricUnit.Count).value, metric
        return found

    return read


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    clock.use(lambda: T0 + timedelta(seconds=60))
    yield
    clock.use(None)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def _action(transition: Transition = Transition.LAUNCHING) -> LifecycleAction:
    return LifecycleAction("web", "web-hook", "i-0123456789abcdef0", TOKEN, transition, T0)


def _planned(
    action: LifecycleAction, checks: tuple[str, ...] = ("instance-status",)
) -> StateDocument:
    config = ActionConfig(
        tuple(CheckSpec(name) for name in checks),
        30,
        600,
        LifecycleResult.ABANDON,
        LifecycleResult.ABANDON,
    )
    return workflow.planned(StateDocument(action), 300, LifecycleResult.ABANDON, config, T0)


def _deciding(doc: StateDocument, decision: Decision) -> dict[str, Any]:
    return doc.deciding(decision).to_json()


def _sent(metrics: list[Emitted], name: Metric) -> list[Emitted]:
    return [m for m in metrics if m.name == name]


# --- correlation keys -------------------------------------------------------------------------


def test_correlation_keys_name_the_action_and_its_execution_without_the_whole_token() -> None:
    keys = correlation_keys(_action(Transition.TERMINATING))
    assert keys == {
        "group": "web",
        "hook": "web-hook",
        "instance_id": "i-0123456789abcdef0",
        "transition": "terminate",
        "origin": "unknown",
        "destination": "unknown",
        "action": "unknown",
        "token_prefix": "c3f1e4a2",
        "execution": _action(Transition.TERMINATING).execution_name.removesuffix(TOKEN[8:]),
    }
    assert _action().execution_name.startswith(keys["execution"].replace("terminate", "launch"))
    assert all(TOKEN not in str(value) for value in keys.values())


def test_correlation_keys_say_where_the_instance_goes_and_the_events_action() -> None:
    event = load_event("instance-refresh-terminate.json")
    action = LifecycleAction.from_json(
        {**event["detail"], "StartedAt": event["time"], "LifecycleActionToken": TOKEN}
    )
    keys = correlation_keys(action)
    assert (keys["origin"], keys["destination"], keys["action"]) == (
        "AutoScalingGroup",
        "AutoScalingGroup",
        "ReplaceRootVolume",
    )


def test_a_reconciled_actions_execution_is_its_whole_name() -> None:
    action = LifecycleAction(
        "web", "web-hook", "i-0123456789abcdef0", None, Transition.LAUNCHING, T0
    )
    assert correlation_keys(action)["execution"] == action.execution_name
    assert correlation_keys(action)["token_prefix"] == "reconciled"


def test_without_token_cuts_every_token_in_an_arn_and_nothing_else() -> None:
    arn = f"arn:aws:states:us-east-1:123456789012:execution:s-lifecycle:{_action().execution_name}"
    assert without_token(arn) == arn.removesuffix(TOKEN[8:])
    other = "7bf73129-1428-4cd3-a780-95db273d1602"
    assert without_token(f"{TOKEN} and {other}") == "c3f1e4a2 and 7bf73129"
    assert without_token("launch-i-0123456789abcdef0-1a2b3c4d-r202601010000") == (
        "launch-i-0123456789abcdef0-1a2b3c4d-r202601010000"
    )


# --- each handler's metrics and log lines -----------------------------------------------------


@pytest.mark.parametrize(
    ("transition", "result"),
    [
        (Transition.LAUNCHING, LifecycleResult.CONTINUE),
        (Transition.TERMINATING, LifecycleResult.ABANDON),
    ],
)
def test_a_completion_is_counted_by_transition_and_result_and_by_its_older_name(
    transition: Transition,
    result: LifecycleResult,
    monkeypatch: pytest.MonkeyPatch,
    emitted: Any,
    logs: io.StringIO,
) -> None:
    from handlers import complete  # noqa: PLC0415

    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(complete, "client", lambda service: service)
    monkeypatch.setattr(
        autoscaling, "complete", lambda c, a, r: sent.append((a.instance_id, r.value))
    )
    event = _deciding(
        _planned(_action(transition)), Decision(Next.COMPLETE, "checks passed", result=result)
    )
    state = complete.handler(event, Context())
    assert state["outcome"]["status"] == "completed"
    assert sent == [("i-0123456789abcdef0", result.value)]
    metrics = emitted()
    (completed,) = _sent(metrics, Metric.ACTIONS_COMPLETED)
    assert completed.dimensions == {
        "service": observability.metrics.service,
        "Transition": transition.short,
        "Result": result.value,
    }
    assert completed.value == 1
    (older,) = [m for m in metrics if m.name == f"Completed{result.value.title()}"]
    assert older.value == 1
    (line,) = [x for x in _lines(logs) if x["message"] == "Completed"]
    assert line["result"] == result.value
    assert line["execution"] == correlation_keys(_action(transition))["execution"]
    assert TOKEN not in logs.getvalue()


@pytest.mark.parametrize(
    "instance", [None, Instance("web", "InService"), Instance("api", "Pending:Wait")]
)
def test_an_action_auto_scaling_does_not_hold_is_counted_and_logged(
    instance: Instance | None,
    monkeypatch: pytest.MonkeyPatch,
    emitted: Any,
    logs: io.StringIO,
) -> None:
    from handlers import read_hook  # noqa: PLC0415

    monkeypatch.setenv("SERVED_GROUP_NAMES", "web")
    monkeypatch.setattr(read_hook, "client", lambda service: service)
    monkeypatch.setattr(read_hook, "group_tags", lambda c, g: {})  # served, not yet claimed
    monkeypatch.setattr(read_hook, "claim_group", lambda c, g, own: None)
    monkeypatch.setattr(autoscaling, "describe_instance", lambda c, i: instance)
    monkeypatch.setattr(
        autoscaling, "describe_hook", lambda c, g, h: HookInfo(300, LifecycleResult.ABANDON, None)
    )
    state = read_hook.handler(StateDocument(_action()).to_json(), Context())
    assert state["outcome"]["status"] == "not-waiting"
    assert [(m.name, m.value) for m in emitted()] == [("ActionsNotWaiting", 1)]
    (warning,) = [x for x in _lines(logs) if x["level"] == "WARNING"]
    assert warning["why"] in state["outcome"]["reason"]
    assert warning["instance_id"] == "i-0123456789abcdef0"


def test_a_completion_after_the_hook_expired_is_counted_as_timed_out_not_completed(
    monkeypatch: pytest.MonkeyPatch, emitted: Any, logs: io.StringIO
) -> None:
    from handlers import complete  # noqa: PLC0415

    monkeypatch.setattr(complete, "client", lambda service: service)
    clock.use(lambda: T0 + timedelta(hours=3))  # past the 300-second hook
    event = _deciding(
        _planned(_action()),
        Decision(Next.COMPLETE, "checks passed", result=LifecycleResult.CONTINUE),
    )
    state = complete.handler(event, Context())
    assert state["outcome"]["status"] == "timed-out"
    metrics = emitted()
    assert [(m.name, m.value) for m in metrics] == [("ActionsTimedOut", 1)]
    (warning,) = [x for x in _lines(logs) if x["level"] == "WARNING"]
    assert warning["instance_id"] == "i-0123456789abcdef0"
    assert warning["token_prefix"] == "c3f1e4a2"


class _Ready(Check):
    name = "instance-status"
    transitions = frozenset(Transition)
    summary = "ready after 20 ms"
    example: ClassVar[dict[str, Any]] = {}

    def evaluate(self, ctx: CheckContext) -> Answer:
        time.sleep(0.02)
        return passed("ready")


class _Broken(Check):
    name = "instance-tag"
    transitions = frozenset(Transition)
    summary = "always raises"
    example: ClassVar[dict[str, Any]] = {}

    def evaluate(self, ctx: CheckContext) -> Answer:
        raise RuntimeError("access denied")


def test_each_check_that_ran_has_its_duration_and_a_raising_check_is_an_error(
    monkeypatch: pytest.MonkeyPatch, emitted: Any, logs: io.StringIO
) -> None:
    from handlers import run_checks  # noqa: PLC0415

    monkeypatch.setattr(
        run_checks, "CATALOGUE", {"instance-status": _Ready, "instance-tag": _Broken}
    )
    event = _deciding(  # the next round, after a Wait
        _planned(_action(), checks=("instance-status", "instance-tag")),
        Decision(Next.WAIT, "r", wait_seconds=30, due_at=T0 + timedelta(seconds=60)),
    )
    state = run_checks.handler(event, Context())
    metrics = emitted()
    durations = {m.dimensions["Check"]: m.value for m in _sent(metrics, Metric.CHECK_DURATION)}
    assert durations == {c["name"]: c["durationMs"] for c in state["checks"]}
    assert set(durations) == {"instance-status", "instance-tag"}
    assert durations["instance-status"] >= 20
    assert [m.value for m in _sent(metrics, Metric.CHECK_ERRORS)] == [1]
    (warning,) = [x for x in _lines(logs) if x["level"] == "WARNING"]
    assert warning["check"] == "instance-tag"
    assert warning["group"] == "web"
    assert warning["execution"] == correlation_keys(_action())["execution"]


def test_a_heartbeat_is_counted_and_logged_with_the_actions_keys(
    monkeypatch: pytest.MonkeyPatch, emitted: Any, logs: io.StringIO
) -> None:
    from handlers import heartbeat  # noqa: PLC0415

    beats: list[str] = []
    monkeypatch.setattr(heartbeat, "client", lambda service: service)
    monkeypatch.setattr(autoscaling, "record_heartbeat", lambda c, a: beats.append(a.instance_id))
    due = T0 + timedelta(seconds=60)
    event = _deciding(
        _planned(_action()), Decision(Next.HEARTBEAT, "r", wait_seconds=30, due_at=due)
    )
    heartbeat.handler(event, Context())
    assert beats == ["i-0123456789abcdef0"]
    assert [(m.name, m.value) for m in emitted()] == [("Heartbeats", 1)]
    (line,) = [x for x in _lines(logs) if x["message"] == "Heartbeat recorded"]
    assert {k: line[k] for k in correlation_keys(_action())} == correlation_keys(_action())


def test_an_invalid_hook_configuration_is_counted(
    monkeypatch: pytest.MonkeyPatch, emitted: Any, logs: io.StringIO
) -> None:
    from handlers import read_hook  # noqa: PLC0415

    monkeypatch.setenv("SERVED_GROUP_NAMES", "web")
    monkeypatch.setattr(read_hook, "client", lambda service: service)
    monkeypatch.setattr(read_hook, "group_tags", lambda c, g: {})  # served, not yet claimed
    monkeypatch.setattr(read_hook, "claim_group", lambda c, g, own: None)
    monkeypatch.setattr(
        autoscaling, "describe_instance", lambda c, i: Instance("web", "Pending:Wait")
    )
    monkeypatch.setattr(
        autoscaling,
        "describe_hook",
        lambda c, g, h: HookInfo(300, LifecycleResult.ABANDON, '{"checks": ["no-such-check"]}'),
    )
    state = read_hook.handler({"action": _action().to_json()}, Context())
    assert state["decision"]["next"] == "hold"
    assert [(m.name, m.value) for m in emitted()] == [("InvalidHookConfiguration", 1)]
    (error,) = [x for x in _lines(logs) if x["level"] == "ERROR"]
    assert error["hook"] == "web-hook"
    assert error["transition"] == "launch"


def test_a_started_workflow_is_counted_and_logged_without_the_whole_token(
    monkeypatch: pytest.MonkeyPatch, emitted: Any, logs: io.StringIO
) -> None:
    from handlers import start  # noqa: PLC0415

    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:s-lifecycle"
    monkeypatch.setenv("STATE_MACHINE_ARN", machine)
    monkeypatch.setenv("SERVED_GROUP_NAMES", "web")
    arns: list[str] = []

    def started(client: Any, state_machine: str, doc: StateDocument) -> tuple[str, str]:
        name = doc.action.execution_name
        arns.append(f"{machine.replace('stateMachine', 'execution')}:{name}")
        return "started", arns[-1]

    monkeypatch.setattr(start, "client", lambda service: service)
    monkeypatch.setattr(start, "start_workflow", started)
    answer = start.handler(load_event("launch.json"), Context())
    assert answer == {"status": "started", "executionArn": arns[0]}
    assert TOKEN in arns[0]
    assert [(m.name, m.value) for m in emitted()] == [("ActionsStarted", 1)]
    (line,) = [x for x in _lines(logs) if x["message"] == "Workflow started"]
    assert line["execution_arn"] == arns[0].removesuffix(TOKEN[8:])
    assert line["execution_arn"].endswith(line["execution"])
    assert TOKEN not in logs.getvalue()


def test_orphans_reconciled_are_counted_and_each_logged_with_its_execution(
    monkeypatch: pytest.MonkeyPatch, emitted: Any, logs: io.StringIO
) -> None:
    from handlers import reconcile  # noqa: PLC0415

    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:s-lifecycle"
    monkeypatch.setenv("STATE_MACHINE_ARN", machine)
    monkeypatch.setattr(reconcile, "client", lambda service: service)
    monkeypatch.setattr(
        reconcile.fleet,
        "read_fleet",
        lambda c, served: Fleet([WaitingInstance("web", "i-0123456789abcdef0", "Pending:Wait")]),
    )
    monkeypatch.setattr(reconcile.fleet, "lifecycle_hooks", lambda c, group: [])
    monkeypatch.setattr(reconcile.stepfunctions, "running_execution_names", lambda c, m: set())
    orphan = LifecycleAction(
        "web", "web-hook", "i-0123456789abcdef0", None, Transition.LAUNCHING, T0
    )
    monkeypatch.setattr(reconcile.reconcile, "orphans", lambda *args: [orphan])
    monkeypatch.setattr(
        reconcile.stepfunctions,
        "start_workflow",
        lambda c, m, doc: ("started", f"{machine}:{doc.action.execution_name}"),
    )
    answer = reconcile.handler({"time": "2026-01-01T00:00:00Z"}, Context())
    assert len(answer["started"]) == 1
    assert [(m.name, m.value) for m in emitted()] == [
        ("OrphansReconciled", 1),
        ("RetainedInstances", 0),
    ]
    (warning,) = [x for x in _lines(logs) if x["level"] == "WARNING"]
    assert warning["execution"] == orphan.execution_name
    assert warning["token_prefix"] == "reconciled"


def test_retained_instances_are_counted_every_run_and_named_in_a_warning(
    monkeypatch: pytest.MonkeyPatch, emitted: Any, logs: io.StringIO
) -> None:
    from handlers import reconcile  # noqa: PLC0415

    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:1:stateMachine:s")
    monkeypatch.setattr(reconcile, "client", lambda service: service)
    retained = [
        WaitingInstance("web", "i-0123456789abcdef0", "Terminating:Retained"),
        WaitingInstance("api", "i-0fedcba9876543210", "Warmed:Terminating:Retained"),
    ]
    monkeypatch.setattr(reconcile.fleet, "read_fleet", lambda c, served: Fleet([], retained))
    answer = reconcile.handler({"time": "2026-01-01T00:00:00Z"}, Context())
    assert answer == {"waiting": 0, "started": [], "retained": 2}
    assert [(m.name, m.value) for m in emitted()] == [
        ("OrphansReconciled", 0),
        ("RetainedInstances", 2),
    ]
    (warning,) = [x for x in _lines(logs) if x["level"] == "WARNING"]
    assert warning["retained"] == [
        "web i-0123456789abcdef0 Terminating:Retained",
        "api i-0fedcba9876543210 Warmed:Terminating:Retained",
    ]
    (summary,) = [x for x in _lines(logs) if x["message"] == "Reconciled"]
    assert (summary["waiting"], summary["started"], summary["retained"]) == (0, 0, 2)


# --- the one list -------------------------------------------------------------------------------


def _handler_sources() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text()) for p in sorted(HANDLERS.glob("*.py"))}


def test_only_observability_publishes_metrics() -> None:
    """Handlers count through ``count`` and friends, so every name is a ``Metric``."""
    for name, tree in _handler_sources().items():
        if name == "observability.py":
            continue
        calls = [
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        ]
        assert "add_metric" not in calls, name
        assert "add_dimension" not in calls, name


def _declarations(tree: ast.Module) -> Iterator[ast.AST]:
    """The module without the tables that only describe metrics (DIMENSIONS, UNITS)."""
    for statement in tree.body:
        target = statement.target if isinstance(statement, ast.AnnAssign) else None
        if not (isinstance(target, ast.Name) and target.id in {"DIMENSIONS", "UNITS"}):
            yield from ast.walk(statement)


def test_every_metric_is_published_somewhere() -> None:
    """A member no handler publishes would be a dead line on the dashboard (or a silent alarm)."""
    used = {
        node.attr
        for tree in _handler_sources().values()
        for node in _declarations(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Metric"
    }
    assert used == set(Metric.__members__), set(Metric.__members__) ^ used
