"""The interface every check implements, and how a round of checks is run.

A check answers one question about one instance (is it ready? is it drained?) with PASS, WAIT or
FAIL. WAIT means "not yet" and is also the answer to a transient problem (an API error, a dependency
that does not answer): the workflow asks again until the action's deadline. Only FAIL, a definitive
answer (a command that exited non-zero, a function that answered "fail"), ends an action early.

A check is stateless code; what it must remember between rounds (an SSM command id) it returns as
``memo`` and gets back as ``ctx.memo`` in the next round. The memo travels in the workflow's state
document, so it must be small JSON.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from asg_lifecycle.config import CheckSpec, StackLimits
from asg_lifecycle.model import LifecycleAction, Transition
from asg_lifecycle.params import Param, validate
from asg_lifecycle.policy import Verdict

NOT_FOR_WARM_POOL = (
    "not run: the instance goes into the warm pool, not into service; this check runs when a"
    " launch takes it out of the pool into the group"
)

ClientFactory = Callable[[str], Any]
"""Returns a boto3 client for a service name; clients are created once per container."""


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check gets: the action, its validated parameters (defaults filled in), a client
    factory, this check's memo from the previous round (None on the first) and the time."""

    action: LifecycleAction
    params: Mapping[str, Any]
    client: ClientFactory
    memo: Any = None
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A check's answer for one round."""

    status: Verdict
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)
    memo: Any = None  # handed back as ``ctx.memo`` next round; None forgets


def passed(reason: str, memo: Any = None, **details: Any) -> Answer:
    return Answer(Verdict.PASS, reason, details, memo)


def waiting(reason: str, memo: Any = None, **details: Any) -> Answer:
    return Answer(Verdict.WAIT, reason, details, memo)


def failed(reason: str, **details: Any) -> Answer:
    return Answer(Verdict.FAIL, reason, details)


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: Verdict
    reason: str
    duration_ms: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)
    memo: Any = None

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
    """One kind of check.

    Subclasses set ``name``, ``transitions``, ``summary`` (one line for the checks reference in
    docs/CONFIGURATION.md), ``params`` (what NotificationMetadata may pass, validated before the
    first round), ``example`` (a ``checks`` entry for the reference), ``permissions`` (the IAM
    actions it calls) and ``resources`` (where IAM scopes them), and implement ``evaluate``. The
    module defining the subclass is all the catalogue needs
    (:func:`asg_lifecycle.checks.catalogue.discover`); the checks reference, the parameters'
    validation and the check function's IAM test (which prints the statement template.yaml lacks)
    are derived from these attributes.

    ``for_warm_pool`` False: the check is about an instance going into service (it registers it
    with a load balancer and waits for traffic health), which an instance going into the warm pool
    is not: it is stopped there, and the launch that takes it out of the pool into the group runs
    the hook's checks again. For an action whose destination is the warm pool the round does not
    run it (:func:`run_round`: it passes, saying so), and a ``warmPool`` block may not name it
    (an invalid configuration).
    """

    name: ClassVar[str]
    transitions: ClassVar[frozenset[Transition]]
    summary: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    example: ClassVar[dict[str, Any]]
    permissions: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[Mapping[str, str]] = {}
    """Where IAM scopes an action of ``permissions``: the ``Resource`` of its statement in
    template.yaml, written as there on one line (``!Sub "arn:${AWS::Partition}:..."``; a flow list
    ``[a, b]`` for several). An action not here is granted on ``"*"``, which is only for an action
    AWS offers no resource-level scoping for (the Service Authorization Reference lists no
    resource type for it; ``make test``'s parliament lint fails a scopable action on ``"*"``)."""
    emulation: ClassVar[str] = ""
    """How the local emulation (``lifecycle_emulator``) plays this check when it does not play it
    through whole-flow scenarios like the others (shown in the checks reference); "" when it
    does."""
    for_warm_pool: ClassVar[bool] = True

    @classmethod
    def validate_params(
        cls, raw: Mapping[str, Any], *, limits: StackLimits | None = None
    ) -> dict[str, Any]:
        """The parameters with defaults filled in, or :class:`~asg_lifecycle.params.InvalidParams`.

        Runs when the hook's configuration is read, before the first round. A check whose
        parameters depend on each other, or name what the stack must allow (a document, a
        function, a cluster, a parameter path: ``limits``), extends this (and calls ``super()``
        first). ``limits`` None: no stack at hand (the docs generator, a check's own unit tests),
        the parameters' shape only; the workflow always passes the stack's
        (:func:`asg_lifecycle.checks.catalogue.allowed_for`).
        """
        return validate(cls.params, raw)

    @abstractmethod
    def evaluate(self, ctx: CheckContext) -> Answer:
        """Answer for ``ctx.action.instance_id``. May raise: an exception counts as WAIT."""


def run_round(  # noqa: PLR0917 - the round's whole input, all required
    specs: Sequence[CheckSpec],
    catalogue: Mapping[str, type[Check]],
    action: LifecycleAction,
    client: ClientFactory,
    on_error: Callable[[str, BaseException], None] | None = None,
    memos: Sequence[Any] = (),
    now: datetime | None = None,
) -> list[CheckResult]:
    """Run the checks in order, stopping at the first that does not pass (the rest can't matter,
    and a later check may have side effects, like a command, that only make sense after it).

    ``memos[i]`` is what check ``i`` returned as memo last round. A check that is not
    :attr:`~Check.for_warm_pool` is not evaluated for an action whose destination is the warm
    pool: it passes with the reason (it was inherited from the hook's top-level checks; a
    ``warmPool`` block cannot name it).
    """
    results: list[CheckResult] = []
    for index, spec in enumerate(specs):
        memo = memos[index] if index < len(memos) else None
        started = time.monotonic()
        check = catalogue[spec.name]
        try:
            if action.into_warm_pool and not check.for_warm_pool:
                answer = passed(NOT_FOR_WARM_POOL, skipped="warm pool")
            else:
                answer = check().evaluate(CheckContext(action, spec.params, client, memo, now))
        except Exception as exc:  # a transient problem, or a bug: never a reason to give up early
            if on_error is not None:
                on_error(spec.name, exc)
            reason = f"error, will retry: {type(exc).__name__}: {exc}"
            answer = Answer(Verdict.WAIT, reason[:300], memo=memo)
        elapsed = int((time.monotonic() - started) * 1000)
        results.append(
            CheckResult(
                spec.name, answer.status, answer.reason[:500], elapsed, answer.details, answer.memo
            )
        )
        if answer.status is not Verdict.PASS:
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
