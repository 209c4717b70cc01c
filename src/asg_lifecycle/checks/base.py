"""The interface every check implements, and how a round of checks is run.

A check answers one question about one instance (is it ready? is it drained?) with PASS, WAIT or
FAIL. WAIT means "not yet" and is also the answer to a transient problem (an API error, a dependency
that does not answer): the workflow asks again until the action's deadline. Only FAIL, a definitive
answer, ends an action early.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asg_lifecycle.config import CheckSpec
from asg_lifecycle.model import LifecycleAction, Transition
from asg_lifecycle.policy import Verdict

ClientFactory = Callable[[str], Any]
"""Returns a boto3 client for a service name; clients are created once per container."""


@dataclass(frozen=True, slots=True)
class CheckContext:
    action: LifecycleAction
    params: Mapping[str, Any]
    client: ClientFactory


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: Verdict
    reason: str
    duration_ms: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "status": self.status.value,
            "reason": self.reason,
            "durationMs": self.duration_ms,
        }
        if self.details:
            data["details"] = dict(self.details)
        return data


class Check(ABC):
    """One kind of check. Subclasses set ``name`` and ``transitions`` and implement ``evaluate``."""

    name: ClassVar[str]
    transitions: ClassVar[frozenset[Transition]]

    @abstractmethod
    def evaluate(self, ctx: CheckContext) -> tuple[Verdict, str]:
        """Answer for ``ctx.action.instance_id``. May raise: an exception counts as WAIT."""


def run_round(
    specs: Sequence[CheckSpec],
    catalogue: Mapping[str, type[Check]],
    action: LifecycleAction,
    client: ClientFactory,
    on_error: Callable[[str, BaseException], None] | None = None,
) -> list[CheckResult]:
    """Run the checks in order, stopping at the first that does not pass (the rest can't matter)."""
    results: list[CheckResult] = []
    for spec in specs:
        started = time.monotonic()
        try:
            status, reason = catalogue[spec.name]().evaluate(
                CheckContext(action, spec.params, client)
            )
        except Exception as exc:  # a transient problem, or a bug: never a reason to give up early
            if on_error is not None:
                on_error(spec.name, exc)
            status, reason = Verdict.WAIT, f"error, will retry: {type(exc).__name__}: {exc}"[:300]
        elapsed = int((time.monotonic() - started) * 1000)
        results.append(CheckResult(spec.name, status, reason, elapsed))
        if status is not Verdict.PASS:
            break
    return results


def combine(results: Sequence[CheckResult]) -> tuple[Verdict, str]:
    """PASS only when every check passed; otherwise the first check that did not.

    No result at all is FAIL: a round that checked nothing vouches for nothing.
    """
    if not results:
        return Verdict.FAIL, "no check ran"
    for result in results:
        if result.status is not Verdict.PASS:
            return result.status, f"{result.name}: {result.reason}"
    return Verdict.PASS, "all checks passed: " + ", ".join(r.name for r in results)
