"""Faults injected into a local run, to show the stack loses no lifecycle action under them.

* Throttling: a share of the functions' Auto Scaling calls are answered ``Throttling`` ("Rate
  exceeded") instead of being served, so botocore's own retry mode, and then Step Functions'
  Retry, deal with them as they would in AWS. botocore's backoff sleeps are recorded instead of
  slept (a Lambda call takes no virtual time here).
* Events: a share of lifecycle events are delivered twice (the copy some seconds later), another
  share never (Auto Scaling's delivery is best-effort).
* An outage: every call the functions make to one service fails with HTTP 503 between two
  virtual moments (a check dependency that is down, or Auto Scaling itself).
* Contention: a share of the functions' Auto Scaling calls are refused with
  ``ResourceContention`` (HTTP 500, "You already have a pending update to an Amazon EC2 Auto
  Scaling resource ..."), which every lifecycle call of the API Reference lists among its errors.
  Nothing of a refused call is applied.
* Lambda's own ends: chosen invocations of a function time out (they last its ``Timeout``) or
  run out of memory, before their handler made its calls or after (its calls then took effect
  though its answer is lost); see :class:`lifecycle_emulator.runtime.Interruption`.
* Stale answers: Auto Scaling is eventually consistent, and has answered "No active Lifecycle
  Action found" for an action that was still active, right after its event; a later try
  succeeded (PrairieLearn/PrairieLearn PR #15586, 2026). ``stale_not_found`` answers the first
  calls of an operation that way, with Auto Scaling's own error, while the action is active.

Everything is drawn from one seeded random generator: a run with the same seed and scenario
injects the same faults.
"""

from __future__ import annotations

import random
import time as real_time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.runtime import Interruption
from lifecycle_emulator.template import FunctionSpec

RESOURCE_CONTENTION = (
    "You already have a pending update to an Amazon EC2 Auto Scaling resource (for example, an "
    "Auto Scaling group, instance, or load balancer)."
)


@dataclass
class Outage:
    service: str  # moto's service name: "ec2", "autoscaling", "ssm", "elasticloadbalancing"
    start: float  # virtual epoch seconds
    end: float


@dataclass(frozen=True)
class Cut:
    """``times`` invocations of a function end this way, the first ones after ``skip`` that run
    normally; ``after_calls``: once its handler has run (its AWS calls were made and took
    effect), else before it made any."""

    times: int = 1
    after_calls: bool = False
    skip: int = 0


@dataclass
class Faults:
    throttle_autoscaling: float = 0.0
    resource_contention: float = 0.0  # share of the functions' Auto Scaling calls refused
    duplicate_events: float = 0.0
    drop_events: float = 0.0
    outage: Outage | None = None
    # operation ("CompleteLifecycleAction", "RecordLifecycleActionHeartbeat") -> how many of its
    # first calls get a stale "No active Lifecycle Action found"
    stale_not_found: dict[str, int] = field(default_factory=dict)
    # function logical id ("CompleteFunction") -> how its first invocations end
    lambda_timeouts: dict[str, Cut] = field(default_factory=dict)
    lambda_out_of_memory: dict[str, Cut] = field(default_factory=dict)
    seed: int = 7
    # What was injected (for the test's own checks that the faults really happened).
    throttled: int = 0
    backoff_seconds: float = 0.0
    duplicated: list[str] = field(default_factory=list)  # tokens
    dropped: list[str] = field(default_factory=list)
    outage_errors: int = 0
    stale_answers: list[str] = field(default_factory=list)  # the operations answered so
    contended: int = 0
    # (function, "timeout" / "out-of-memory", after_calls) for each invocation Lambda ended
    interrupted: list[tuple[str, str, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._undo: list[Callable[[], None]] = []
        self._invocations: dict[str, int] = {}  # function -> invocations seen

    def install(self, aws: LocalAws) -> None:
        import botocore.endpoint  # noqa: PLC0415
        from moto.core.responses import BaseResponse  # noqa: PLC0415

        serve = BaseResponse.call_action
        faults = self

        def call_action(resp: Any) -> Any:
            fault = faults._fault_for(aws, str(getattr(resp, "service_name", "")))
            if fault is None:
                return serve(resp)
            return fault

        setattr(BaseResponse, "call_action", call_action)  # noqa: B010 - a patch, on purpose
        self._undo.append(lambda: setattr(BaseResponse, "call_action", serve))
        endpoint: Any = botocore.endpoint  # botocore sleeps between tries with its ``time``
        saved_time = endpoint.time
        endpoint.time = _RecordedSleep(self)
        self._undo.append(lambda: setattr(endpoint, "time", saved_time))

        actions = aws.autoscaling
        deliver = actions._deliver

        def deliver_maybe_twice(record: Any) -> None:
            deliver(record)
            if self._random.random() < self.duplicate_events:
                self.duplicated.append(record.token)
                delay = self._random.uniform(1, 60)
                aws.clock.call_later(delay, lambda: deliver(record))

        actions._deliver = deliver_maybe_twice  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(actions, "_deliver", deliver))

        def drop(event: dict[str, Any]) -> bool:
            lost = self._random.random() < self.drop_events
            if lost:
                self.dropped.append(str(event["detail"]["LifecycleActionToken"]))
            return lost

        actions.drop_event = drop
        self._undo.append(lambda: setattr(actions, "drop_event", None))

        earlier = actions.before_call

        def stale(operation: str, params: dict[str, Any]) -> None:
            if earlier is not None:
                earlier(operation, params)
            if self.stale_answers.count(operation) < self.stale_not_found.get(operation, 0):
                self.stale_answers.append(operation)
                raise _not_found(params)

        actions.before_call = stale
        self._undo.append(lambda: setattr(actions, "before_call", earlier))

        runtime = aws.runtime
        previous = runtime.interrupt
        runtime.interrupt = self._interruption
        self._undo.append(lambda: setattr(runtime, "interrupt", previous))

    def _interruption(self, fn: FunctionSpec) -> Interruption | None:
        """Whether Lambda ends this invocation of ``fn`` (its first ones, as configured)."""
        seen = self._invocations.get(fn.logical_id, 0)
        self._invocations[fn.logical_id] = seen + 1
        for kind, cuts in (
            ("timeout", self.lambda_timeouts),
            ("out-of-memory", self.lambda_out_of_memory),
        ):
            cut = cuts.get(fn.logical_id)
            if cut is not None and cut.skip <= seen < cut.skip + cut.times:
                self.interrupted.append((fn.logical_id, kind, cut.after_calls))
                return Interruption(kind, cut.after_calls)
        return None

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _fault_for(self, aws: LocalAws, service: str) -> tuple[int, dict[str, str], str] | None:
        """The error response a function's call to ``service`` gets now, if any (the emulator's
        and the test's own calls are never faulted)."""
        if aws.runtime.current_invocation() is None:
            return None
        outage, now = self.outage, aws.clock.time()
        if outage is not None and service == outage.service and outage.start <= now < outage.end:
            self.outage_errors += 1
            return 503, {}, _error("Unavailable", "The service is unavailable.")
        if service == "autoscaling" and self._random.random() < self.throttle_autoscaling:
            self.throttled += 1
            return 400, {}, _error("Throttling", "Rate exceeded")
        contended = self.resource_contention and self._random.random() < self.resource_contention
        if service == "autoscaling" and contended:  # drawn only when asked: other runs unchanged
            self.contended += 1
            return 500, {}, _error("ResourceContention", RESOURCE_CONTENTION)
        return None


def _not_found(params: dict[str, Any]) -> Exception:
    """Auto Scaling's answer for an action it does not find, as its API words it."""
    from moto.autoscaling.exceptions import ValidationError  # noqa: PLC0415

    token = params.get("LifecycleActionToken")
    if token:
        return ValidationError(f"No active Lifecycle Action found with token {token}")
    return ValidationError(
        f"No active Lifecycle Action found with instance ID {params.get('InstanceId')}"
    )


def _error(code: str, message: str) -> str:
    """An error body in the query-protocol shape (Auto Scaling; EC2 reads the same keys)."""
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}"
        "</Message></Error><RequestId>fault-injection</RequestId></ErrorResponse>"
    )


class _RecordedSleep:
    """Stands in for the ``time`` module inside ``botocore.endpoint``: backoff is recorded."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def sleep(self, seconds: float) -> None:
        self._faults.backoff_seconds += seconds

    def time(self) -> float:
        return real_time.time()

    def __getattr__(self, name: str) -> Any:
        return getattr(real_time, name)
