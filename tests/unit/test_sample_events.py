"""events/: the sample inputs for `sam local invoke` are what each function really gets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asg_lifecycle import signals
from asg_lifecycle.document import StateDocument
from asg_lifecycle.events import Ignored, InvalidEvent, parse_event
from asg_lifecycle.model import LifecycleAction
from asg_lifecycle.narrative import FUNCTIONS, STATES, Task
from tests.conftest import EVENTS, ROOT, load_event

DEFINITION: dict[str, Any] = json.loads(
    (ROOT / "src" / "orchestrator" / "lifecycle.asl.json").read_text()
)
# Which state each task's sample is the input of, and the decision that leads there.
SAMPLES = {
    "task-read-hook.json": ("Read lifecycle hook", None),
    "task-run-checks.json": ("Run checks", "check"),
    "task-heartbeat.json": ("Record lifecycle action heartbeat", "heartbeat"),
    "task-complete.json": ("Complete lifecycle action", "complete"),
}

# Each sample StartFunction gets (an EventBridge event): what it is, as (transition, Origin,
# Destination, Action) of its action, "ignored" or "rejected". A new sample must be listed here.
EVENT_SAMPLES: dict[str, tuple[str, str | None, str | None, str | None] | str] = {
    "launch.json": ("launch", "EC2", "AutoScalingGroup", None),
    "terminate.json": ("terminate", "AutoScalingGroup", "EC2", None),
    "warm-pool-launch-into-pool.json": ("launch", "EC2", "WarmPool", None),
    "warm-pool-launch-into-group.json": ("launch", "WarmPool", "AutoScalingGroup", None),
    # "Instance refresh example events" (EC2 Auto Scaling User Guide): a root-volume replacement
    # holds the instance in ReplacingRootVolume:Wait (terminate hooks), then in Pending:Wait
    # (launch hooks) once its new root volume is attached; it stays in the group throughout.
    "instance-refresh-terminate.json": (
        "terminate",
        "AutoScalingGroup",
        "AutoScalingGroup",
        "ReplaceRootVolume",
    ),
    "instance-refresh-launch.json": (
        "launch",
        "AutoScalingGroup",
        "AutoScalingGroup",
        "ReplaceRootVolume",
    ),
    "test-notification.json": "ignored",
    "malformed.json": "rejected",
}


# Each sample SignalFunction gets, and the kind of signal it is (asg_lifecycle.signals).
SIGNAL_SAMPLES = {"signal-run-checks-now.json": "instance", "signal-tag-change.json": "ec2-tags"}


def test_every_event_sample_is_listed() -> None:
    samples = {p.name for p in EVENTS.glob("*.json")} - {"env.json"}
    for_start = {n for n in samples if not n.startswith(("task-", "signal-"))}
    assert for_start == set(EVENT_SAMPLES)
    assert {n for n in samples if n.startswith("signal-")} == set(SIGNAL_SAMPLES)


@pytest.mark.parametrize("name", sorted(SIGNAL_SAMPLES))
def test_each_signal_sample_is_what_signal_function_reads_it_as(name: str) -> None:
    signal = signals.parse(load_event(name))
    assert signal.kind == SIGNAL_SAMPLES[name]
    assert signal.instance_ids == (parse_event(load_event("launch.json")).instance_id,)


@pytest.mark.parametrize("name", sorted(EVENT_SAMPLES))
def test_each_event_sample_is_what_start_function_reads_it_as(name: str) -> None:
    expected = EVENT_SAMPLES[name]
    event = load_event(name)
    if expected == "rejected":
        with pytest.raises(InvalidEvent):
            parse_event(event)
        return
    action = parse_event(event)
    if expected == "ignored":
        assert isinstance(action, Ignored)
        return
    assert isinstance(action, LifecycleAction)
    assert event["detail-type"] == f"EC2 Instance-{action.transition.short} Lifecycle Action"
    found = (action.transition.short, action.origin, action.destination, action.action_name)
    assert found == expected
    assert action.replaces_root_volume is (expected[3] == "ReplaceRootVolume")


def test_every_task_function_has_a_sample_state_document() -> None:
    covered = {STATES[state] for state, _ in SAMPLES.values()}
    assert covered == set(Task) == set(FUNCTIONS.values())
    assert {p.name for p in EVENTS.glob("task-*.json")} == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_is_a_valid_document_that_routes_to_its_state(name: str) -> None:
    state, decision = SAMPLES[name]
    doc = StateDocument.from_json(load_event(name))
    assert doc.action == parse_event(load_event("launch.json"))
    assert (doc.next.value if doc.next else None) == decision
    if decision is None:  # the execution's input: the first Choice sends it to the hook read
        first = DEFINITION["States"][DEFINITION["StartAt"]]
        assert first["Choices"][0]["Next"] == state
        return
    states = DEFINITION["States"]
    routed = {
        rule["Next"]
        for choice in states.values()
        if choice["Type"] == "Choice"
        for rule in choice["Choices"]
        if rule.get("StringEquals") == decision
    }
    # straight to the state, or through the wait before it: a Wait state, or a wait a signal
    # may end (a callback task whose timeout leads to the state)
    reached = {_after_wait(states, n) for n in routed}
    assert reached == {state}


def _after_wait(states: dict[str, Any], name: str) -> str:
    state = states[name]
    if state["Type"] == "Wait" or str(state.get("Resource", "")).endswith(":putEvents"):
        return str(state["Next"])  # a Wait, or the notification before the first round
    if str(state.get("Resource", "")).endswith(".waitForTaskToken"):
        (timeout,) = [c for c in state["Catch"] if c["ErrorEquals"] == ["States.Timeout"]]
        return str(timeout["Next"])
    return name


def test_the_env_file_names_only_functions_of_the_template_and_its_state_machine() -> None:
    """The state machine's name as template.yaml builds it for samconfig.toml's stack."""
    from cfnlint.decode import decode_str  # noqa: PLC0415

    from asg_lifecycle_cli.stack import name_from_samconfig  # noqa: PLC0415

    template, _ = decode_str((ROOT / "template.yaml").read_text())
    assert template is not None
    machine = f":stateMachine:{name_from_samconfig(ROOT / 'samconfig.toml')}-lifecycle"
    env = json.loads((EVENTS / "env.json").read_text())
    for function, variables in env.items():
        resource = template["Resources"][function]
        assert resource["Type"] == "AWS::Serverless::Function", function
        assert variables["STATE_MACHINE_ARN"].endswith(machine)
