"""The workflow's function: the work a document asks for, what follows at once, and what a
failed call costs (AWS replaced by stand-ins; the flows in tests/flow run it on the emulator)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from botocore.exceptions import ClientError

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters.autoscaling import HookInfo
from asg_lifecycle.adapters.clients import ONE_ATTEMPT_SECONDS
from asg_lifecycle.checks.base import Answer, Check, CheckContext, passed, waiting
from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition
from handlers import advance, steps
from tests.unit.conftest import Context

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN = "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f"
THROTTLED = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Op")


class _Calls:
    def __init__(self) -> None:
        self.made: list[str] = []
        self.failing: set[str] = set()

    def call(self, name: str) -> None:
        self.made.append(name)
        if name in self.failing:
            raise THROTTLED


class _Ready(Check):
    name = "instance-status"
    transitions = frozenset(Transition)
    summary = "ready when the test says so"
    example: ClassVar[dict[str, Any]] = {}
    ready = False

    def evaluate(self, ctx: CheckContext) -> Answer:
        return passed("ok") if _Ready.ready else waiting("not yet")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Calls]:
    calls = _Calls()
    clock.use(lambda: T0 + timedelta(seconds=5))
    monkeypatch.setattr(steps, "client", lambda service: service)
    monkeypatch.setattr(steps, "CATALOGUE", {"instance-status": _Ready})
    monkeypatch.setattr(
        steps.autoscaling,
        "describe_hook",
        lambda c, g, h: (calls.call("describe"), HookInfo(300, LifecycleResult.ABANDON, ""))[1],
    )
    monkeypatch.setattr(steps.autoscaling, "record_heartbeat", lambda c, a: calls.call("heartbeat"))
    monkeypatch.setattr(steps.autoscaling, "complete", lambda c, a, r: calls.call(f"complete {r}"))
    monkeypatch.setattr(_Ready, "ready", False)
    yield calls
    clock.use(None)


def _start() -> dict[str, Any]:
    action = LifecycleAction(
        "web", "web-launch", "i-0123456789abcdef0", TOKEN, Transition.LAUNCHING, T0
    )
    return {"action": action.to_json()}


def test_the_first_task_reads_the_hook_and_runs_the_first_round(aws: _Calls) -> None:
    state = advance.handler(_start(), Context())
    assert state["ran"] == ["read-hook", "checks"]
    assert aws.made == ["describe"]
    assert state["decision"]["next"] == "wait"
    assert state["plan"]["heartbeatTimeout"] == 300


def test_a_passing_round_completes_in_the_same_task(aws: _Calls) -> None:
    _Ready.ready = True
    state = advance.handler(_start(), Context())
    assert state["ran"] == ["read-hook", "checks", "complete"]
    assert aws.made == ["describe", "complete CONTINUE"]
    assert state["outcome"]["status"] == "completed"
    assert state["decision"] == {
        "next": "end",
        "reason": state["outcome"]["reason"],
        "waitSeconds": workflow.PASS_THROUGH_SECONDS,
    }
    again = advance.handler(state, Context())  # the rest of the chain up to Route
    assert again["ran"] == []
    assert aws.made == ["describe", "complete CONTINUE"], "nothing after the end"


def test_a_completion_that_fails_keeps_the_round_for_the_next_task(aws: _Calls) -> None:
    """Not a failed task (which would run the checks again, and after the recovery rounds send
    the safe result): the decided CONTINUE is made by the next task."""
    first = advance.handler(_start(), Context())
    _Ready.ready = True
    aws.failing.add("complete CONTINUE")
    left = advance.handler(first, Context())
    assert left["ran"] == ["checks"]
    assert left["decision"]["next"] == "complete"
    assert left["decision"]["result"] == "CONTINUE"
    assert "Throttling" in left["decision"]["failed"]
    assert "outcome" not in left
    aws.failing.clear()
    _Ready.ready = False  # the next task does not look again: the round decided
    done = advance.handler(left, Context())
    assert done["ran"] == ["complete"]
    assert done["outcome"]["result"] == "CONTINUE"


def test_a_round_that_leaves_too_little_time_leaves_its_call_to_the_next_task(
    aws: _Calls,
) -> None:
    """Slow checks: a completion cut off by the function's timeout would fail the task, and Step
    Functions would run the round again. Under one call attempt's worst case left (24.999 s of
    25), the round is kept and the call not started; with 25 s left it is made."""
    first = advance.handler(_start(), Context())
    _Ready.ready = True
    short = Context(remaining_ms=ONE_ATTEMPT_SECONDS * 1000 - 1)
    left = advance.handler(first, short)
    assert left["ran"] == ["checks"]
    assert left["decision"]["next"] == "complete"
    assert left["decision"]["result"] == "CONTINUE"
    assert left["decision"]["deferred"] == "24999 ms left"
    assert "failed" not in left["decision"], "not started, so not failed"
    assert aws.made == ["describe"], "no completion started"
    _Ready.ready = False  # the next task makes the decided call without looking again
    done = advance.handler(left, short)  # its own work: made whatever the time left
    assert done["ran"] == ["complete"]
    assert aws.made == ["describe", "complete CONTINUE"]
    _Ready.ready = True
    enough = advance.handler(first, Context(remaining_ms=ONE_ATTEMPT_SECONDS * 1000))
    assert enough["ran"] == ["checks", "complete"]


def test_a_heartbeat_is_left_to_the_next_task_too_when_time_is_short(aws: _Calls) -> None:
    first = advance.handler(_start(), Context())
    clock.use(lambda: T0 + timedelta(seconds=255))  # the 300 s hook needs its heartbeat
    left = advance.handler(first, Context(remaining_ms=1_000))
    assert left["ran"] == ["checks"]
    assert left["decision"]["next"] == "heartbeat"
    assert left["decision"]["deferred"] == "1000 ms left"
    assert aws.made == ["describe"]


def test_work_a_task_was_given_fails_the_task(aws: _Calls) -> None:
    """Step Functions retries it, then the definition's recovery takes over (AfterError)."""
    aws.failing.add("describe")
    with pytest.raises(ClientError):
        advance.handler(_start(), Context())  # the hook read
    aws.failing.clear()
    first = advance.handler(_start(), Context())
    _Ready.ready = True
    aws.failing.add("complete CONTINUE")
    left = advance.handler(first, Context())
    with pytest.raises(ClientError):
        advance.handler(left, Context())  # the completion, now this task's own work


def test_a_document_a_task_cannot_act_on_fails_it(aws: _Calls) -> None:
    bad = {**_start(), "decision": {"next": "check", "reason": "r"}}
    with pytest.raises(workflow.InvalidState):
        advance.handler(bad, Context())
    assert aws.made == []


def test_a_heartbeat_the_round_decides_is_sent_in_the_same_task(aws: _Calls) -> None:
    first = advance.handler(_start(), Context())
    clock.use(lambda: T0 + timedelta(seconds=255))  # the 300 s hook needs its heartbeat
    beat = advance.handler(first, Context())
    assert beat["ran"] == ["checks", "heartbeat"]
    assert aws.made == ["describe", "heartbeat"]
    assert beat["decision"]["next"] == "wait"
    assert beat["progress"]["heartbeats"] == 1
    assert beat["progress"]["hookExpiresAt"] == "2026-01-01T00:09:15Z"


def test_a_heartbeat_that_fails_is_left_to_the_next_task(aws: _Calls) -> None:
    first = advance.handler(_start(), Context())
    clock.use(lambda: T0 + timedelta(seconds=255))
    aws.failing.add("heartbeat")
    left = advance.handler(first, Context())
    assert left["ran"] == ["checks"]
    assert left["decision"]["next"] == "heartbeat"
    assert 1 <= left["decision"]["waitSeconds"] <= 4
    aws.failing.clear()
    clock.use(lambda: T0 + timedelta(seconds=258))
    sent = advance.handler(left, Context())
    assert sent["ran"] == ["heartbeat"]
    assert sent["progress"]["hookExpiresAt"] == "2026-01-01T00:09:18Z"


def test_checks_that_fail_after_the_hook_read_fail_the_task(
    aws: _Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a heartbeat or completion is left to the next task; anything else fails the task
    (the next attempt reads the hook again)."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise THROTTLED

    monkeypatch.setattr(steps, "run_round", broken)
    with pytest.raises(ClientError):
        advance.handler(_start(), Context())
