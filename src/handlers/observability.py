"""Powertools Logger and Metrics shared by every handler: the action's correlation keys, and the
one list of metrics the functions emit (docs/OBSERVABILITY.md describes them for operators).

Logs: every line about an action carries :func:`correlation_keys`. No line holds a whole
LifecycleActionToken: where an execution's name or ARN (which end in the token) appears, the token
in it is cut to its prefix (:func:`without_token`).

Metrics: every name is a :class:`Metric`, and a metric with dimensions besides ``service`` has
them in :data:`DIMENSIONS`. template.yaml's dashboard and alarms are tested against this list
(tests/unit/test_template_observability.py): a renamed metric or a changed dimension set would
otherwise leave an empty graph, or an alarm that never fires, without any error.

Tracing: no Powertools Tracer in the code. ``Tracer()`` imports aws-xray-sdk (and patches
botocore) when it is created, even disabled: hundreds of milliseconds of every cold start, several
times what Logger and Metrics cost (``python -m bench.imports``, table "what each library choice
costs" in docs/PERFORMANCE.md). What it would add, a subsegment per AWS call, is in the
execution's history already (each task's input, output, duration and retries) and in the logs.
The stack's ``Tracing`` parameter turns on the platform's tracing instead (Lambda active tracing,
Step Functions X-Ray tracing): the services record the spans, nothing is imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from asg_lifecycle.document import StateDocument, Status
from asg_lifecycle.model import UNKNOWN, LifecycleAction, LifecycleResult, without_token

if TYPE_CHECKING:
    from asg_lifecycle.checks.base import CheckResult

logger = Logger()
metrics = Metrics()


class Metric(StrEnum):
    """Every metric the functions emit (namespace ``POWERTOOLS_METRICS_NAMESPACE``, dimension
    ``service`` = ``POWERTOOLS_SERVICE_NAME``, plus :data:`DIMENSIONS`)."""

    ACTIONS_STARTED = "ActionsStarted"
    DUPLICATE_EVENTS = "DuplicateEvents"
    EVENTS_IGNORED = "EventsIgnored"
    EVENTS_REJECTED = "EventsRejected"
    INVALID_HOOK_CONFIGURATION = "InvalidHookConfiguration"
    CHECK_ERRORS = "CheckErrors"
    CHECK_DURATION = "CheckDuration"
    HEARTBEATS = "Heartbeats"
    ACTIONS_COMPLETED = "ActionsCompleted"
    COMPLETED_CONTINUE = "CompletedContinue"
    COMPLETED_ABANDON = "CompletedAbandon"
    ACTIONS_TIMED_OUT = "ActionsTimedOut"
    ACTIONS_NOT_WAITING = "ActionsNotWaiting"
    ORPHANS_RECONCILED = "OrphansReconciled"
    RETAINED_INSTANCES = "RetainedInstances"
    ROUNDS_SIGNALLED = "RoundsSignalled"


DIMENSIONS: Final[Mapping[Metric, tuple[str, ...]]] = {
    Metric.ACTIONS_COMPLETED: ("Transition", "Result"),
    Metric.CHECK_DURATION: ("Check",),
}
"""Dimensions besides ``service``; a metric not named here has ``service`` only."""

UNITS: Final[Mapping[Metric, MetricUnit]] = {Metric.CHECK_DURATION: MetricUnit.Milliseconds}
"""Units other than Count."""

_COMPLETED: Final[Mapping[LifecycleResult, Metric]] = {
    LifecycleResult.CONTINUE: Metric.COMPLETED_CONTINUE,
    LifecycleResult.ABANDON: Metric.COMPLETED_ABANDON,
}


def correlation_keys(action: LifecycleAction) -> dict[str, Any]:
    """What every log line about an action carries: enough to find its other lines (by instance,
    group, hook) and its workflow (``execution``, the execution's name without the whole token);
    where the instance comes from and goes to and the event's Action (``ReplaceRootVolume``) as
    AWS names them, ``unknown`` for what the event (or, for a lost event, the wait state) did not
    say."""
    return {
        "group": action.group_name,
        "hook": action.hook_name,
        "instance_id": action.instance_id,
        "transition": action.transition.short,
        "origin": action.origin or UNKNOWN,
        "destination": action.destination or UNKNOWN,
        "action": action.action_name or UNKNOWN,
        "token_prefix": action.token_prefix,
        "execution": without_token(action.execution_name),
    }


def count(metric: Metric, value: int = 1) -> None:
    """Add to a ``service``-only count, published when the handler returns."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)


def _emit(metric: Metric, value: float, dimensions: Mapping[str, str]) -> None:
    """Publish one metric at once with its own dimensions (besides ``service``).

    Not ``metrics.add_dimension``: that would put these dimensions on every metric of the
    invocation, and move the ``service``-only metrics that the alarms watch.
    """
    unit = UNITS.get(metric, MetricUnit.Count)
    # namespace and the service dimension: Powertools reads them from the environment, as Metrics
    with single_metric(name=metric, unit=unit, value=value, default_dimensions=dict(dimensions)):
        pass


def count_completion(action: LifecycleAction, result: LifecycleResult) -> None:
    """A CompleteLifecycleAction Auto Scaling took: ``ActionsCompleted`` by transition and
    result, and the older per-result counts (``CompletedContinue`` / ``CompletedAbandon``, kept
    for alarms and queries that use them)."""
    count(_COMPLETED[result])
    _emit(
        Metric.ACTIONS_COMPLETED,
        1,
        {"Transition": action.transition.short, "Result": result.value},
    )


def record_check_durations(results: Sequence[CheckResult]) -> None:
    """``CheckDuration`` of each check that ran this round, by check name (a catalogue name:
    the configuration is validated against the catalogue, so the dimension stays bounded)."""
    for result in results:
        _emit(Metric.CHECK_DURATION, result.duration_ms, {"Check": result.name})


_ENDINGS: Final[Mapping[Status, Metric]] = {
    Status.TIMED_OUT: Metric.ACTIONS_TIMED_OUT,
    Status.NOT_WAITING: Metric.ACTIONS_NOT_WAITING,
}


def counted_ending(doc: StateDocument) -> StateDocument:
    """A document whose action ended without our completion: an expired hook
    (``ActionsTimedOut``) and an action Auto Scaling does not hold as named
    (``ActionsNotWaiting``) are counted, each once, where the ending is decided."""
    if doc.outcome is not None and doc.outcome.status in _ENDINGS:
        count(_ENDINGS[doc.outcome.status])
    return doc
