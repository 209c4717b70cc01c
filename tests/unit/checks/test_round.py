"""A round of checks without AWS: order, early stop, errors as WAIT, memos carried by position."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from asg_lifecycle import workflow
from asg_lifecycle.checks.base import (
    Answer,
    Check,
    CheckContext,
    failed,
    passed,
    run_round,
    waiting,
)
from asg_lifecycle.config import ActionConfig, CheckSpec
from asg_lifecycle.document import StateDocument
from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition
from asg_lifecycle.policy import Verdict

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACTION = LifecycleAction(
    "web",
    "web-launch",
    "i-0123456789abcdef0",
    "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f",
    Transition.LAUNCHING,
    T0,
)
SEEN: list[tuple[str, Any]] = []


class _Fake(Check):
    transitions: ClassVar[frozenset[Transition]] = frozenset(Transition)
    summary: ClassVar[str] = "test double"
    example: ClassVar[dict[str, Any]] = {}


class Counting(_Fake):
    """Passes; remembers how often it ran (memo = count)."""

    name: ClassVar[str] = "counting"

    def evaluate(self, ctx: CheckContext) -> Answer:
        SEEN.append((self.name, ctx.memo))
        return passed("ok", memo=(ctx.memo or 0) + 1)


class Slow(_Fake):
    name: ClassVar[str] = "slow"

    def evaluate(self, ctx: CheckContext) -> Answer:
        SEEN.append((self.name, ctx.memo))
        return waiting("not yet", memo="sent")


class Broken(_Fake):
    name: ClassVar[str] = "broken"

    def evaluate(self, ctx: CheckContext) -> Answer:
        SEEN.append((self.name, ctx.memo))
        raise ConnectionError("endpoint unreachable " + "x" * 400)


class Refusing(_Fake):
    name: ClassVar[str] = "refusing"

    def evaluate(self, ctx: CheckContext) -> Answer:
        SEEN.append((self.name, ctx.memo))
        return failed("exit code 3", responseCode=3)


CATALOGUE: dict[str, type[Check]] = {c.name: c for c in (Counting, Slow, Broken, Refusing)}


def round_of(*names: str, memos: list[Any] | None = None) -> list[Any]:
    SEEN.clear()
    specs = [CheckSpec(n) for n in names]
    return run_round(specs, CATALOGUE, ACTION, lambda _s: None, memos=memos or [], now=T0)


def test_checks_run_in_order_and_stop_at_the_first_that_does_not_pass() -> None:
    results = round_of("counting", "slow", "refusing")
    assert [r.name for r in results] == ["counting", "slow"]
    assert [r.status for r in results] == [Verdict.PASS, Verdict.WAIT]
    assert [name for name, _ in SEEN] == ["counting", "slow"]


def test_each_check_gets_its_own_memo_back_by_position() -> None:
    results = round_of("counting", "slow", memos=[4, "sent"])
    assert SEEN == [("counting", 4), ("slow", "sent")]
    assert [r.memo for r in results] == [5, "sent"]


def test_an_exception_is_wait_with_the_error_named_and_the_memo_kept() -> None:
    errors: list[str] = []
    results = run_round(
        [CheckSpec("broken")],
        CATALOGUE,
        ACTION,
        lambda _s: None,
        on_error=lambda name, exc: errors.append(f"{name}:{type(exc).__name__}"),
        memos=["command-1"],
    )
    (result,) = results
    assert result.status is Verdict.WAIT
    assert result.reason.startswith("error, will retry: ConnectionError: endpoint unreachable")
    assert len(result.reason) <= 300
    assert result.memo == "command-1"
    assert errors == ["broken:ConnectionError"]


def test_a_definitive_failure_keeps_its_details_for_the_output() -> None:
    (result,) = round_of("refusing")
    assert result.status is Verdict.FAIL
    assert result.to_json()["details"] == {"responseCode": 3}


def test_memos_travel_in_the_state_and_skipped_checks_keep_theirs() -> None:
    config = ActionConfig(
        (CheckSpec("counting"), CheckSpec("slow"), CheckSpec("refusing")),
        30,
        600,
        LifecycleResult.ABANDON,
        LifecycleResult.ABANDON,
    )
    state = workflow.planned(StateDocument(ACTION), 300, LifecycleResult.ABANDON, config, T0)
    assert "checkMemos" not in state.to_json()
    first = StateDocument.from_json(
        workflow.checked(state, round_of("counting", "slow"), T0).to_json()
    )
    assert first.to_json()["checkMemos"] == [1, "sent", None]
    second_round = round_of("counting", "slow", memos=first.memos)
    assert SEEN == [("counting", 1), ("slow", "sent")]
    second = workflow.checked(first, second_round, T0).to_json()
    assert second["checkMemos"] == [2, "sent", None]
    assert {k: second["checks"][1][k] for k in ("name", "status", "reason")} == {
        "name": "slow",
        "status": "wait",
        "reason": "not yet",
    }


class _Serving(Check):
    name: ClassVar[str] = "serving"
    transitions: ClassVar[frozenset[Transition]] = frozenset(Transition)
    summary: ClassVar[str] = "test double: puts the instance in service"
    example: ClassVar[dict[str, Any]] = {}
    for_warm_pool: ClassVar[bool] = False

    def evaluate(self, ctx: CheckContext) -> Answer:
        SEEN.append(("serving", ctx.action.destination))
        return waiting("registered")


def test_a_check_not_for_the_warm_pool_is_not_run_for_an_instance_going_there() -> None:
    SEEN.clear()
    into_pool = replace(ACTION, origin="EC2", destination="WarmPool")
    (skipped,) = run_round([CheckSpec("serving")], {"serving": _Serving}, into_pool, lambda s: s)
    assert skipped.status is Verdict.PASS
    assert skipped.details == {"skipped": "warm pool"}
    assert SEEN == []
    for destination in ("AutoScalingGroup", None):
        action = replace(ACTION, destination=destination)
        (ran,) = run_round([CheckSpec("serving")], {"serving": _Serving}, action, lambda s: s)
        assert ran.status is Verdict.WAIT
    assert SEEN == [("serving", "AutoScalingGroup"), ("serving", None)]
