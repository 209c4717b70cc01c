"""Powertools Logger and Metrics shared by every handler, and the action's correlation keys.

Tracer is left out on purpose: it needs aws-xray-sdk in the package, and a cold-start cost, for
spans that Step Functions' own execution history already shows (each task's input, output,
duration and retries).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics

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
