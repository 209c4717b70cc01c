"""Powertools Logger and Metrics shared by every handler, and the action's correlation keys.

Tracer is left out on purpose: it needs aws-xray-sdk in the package, and a cold-start cost, for
spans that Step Functions' own execution history already shows (each task's input, output,
duration and retries).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from asg_lifecycle.model import LifecycleAction

logger = Logger()
metrics = Metrics()


def correlation_keys(action: LifecycleAction) -> dict[str, Any]:
    """What every log line about an action carries.

    Only a prefix of the token: the whole token is a capability to complete the action.
    """
    return {
        "group": action.group_name,
        "hook": action.hook_name,
        "instance_id": action.instance_id,
        "transition": action.transition.short,
        "token_prefix": action.token_prefix,
    }


def counted_ending(state: dict[str, Any]) -> dict[str, Any]:
    """A state whose action ended without our completion: an expired hook is counted
    (``ActionsTimedOut``), whether the function saw it coming or Auto Scaling said so."""
    if state.get("outcome", {}).get("status") == "timed-out":
        metrics.add_metric(name="ActionsTimedOut", unit=MetricUnit.Count, value=1)
    return state
