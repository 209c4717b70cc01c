"""EventBridge target: a signal ends the waits of the instances it names, so their rounds run now.

A signal is the instance's own "Run checks now" (user data, ``asg-lifecycle signal``) or an AWS
event that may let a check pass (:mod:`asg_lifecycle.signals`: tag, parameter, Run Command and ECS
container instance changes). For each instance it names, the rounds waiting in the signal table
(written by the workflow's "Wait for the next round or a signal" state) get SendTaskSuccess with
an empty output. Nothing else: the workflow runs its own checks, against Auto Scaling's and the
checks' own view, and decides as on any round; an instance no workflow of this stack waits for
has no item, so a signal for it does nothing. A wait that is over (its round ran) is left alone;
a signal that comes between two waits is lost and the round runs at its time.

Errors are raised; Lambda does not retry (a late signal is worth nothing: the rounds poll).

Calls: DynamoDB Query (the signal table), Step Functions SendTaskSuccess.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from asg_lifecycle import clock, signals
from asg_lifecycle.adapters import signal_table
from asg_lifecycle.adapters.clients import client
from asg_lifecycle.adapters.stepfunctions import end_wait
from handlers.observability import Metric, count, logger, metrics

ENV_SIGNAL_TABLE = "SIGNAL_TABLE_NAME"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    event_id = event.get("id") if isinstance(event, dict) else None
    try:
        signal = signals.parse(event)
    except signals.InvalidSignal as exc:
        logger.info("Not a signal", extra={"reason": str(exc), "event_id": event_id})
        return {"status": "ignored", "reason": str(exc)}
    table = os.environ[ENV_SIGNAL_TABLE]
    ended: list[str] = []
    for instance in signal.instance_ids:
        now = clock.now().timestamp()  # each instance's window, as it is now
        for waiting in signal_table.waiting_rounds(client("dynamodb"), table, instance, now):
            if end_wait(client("stepfunctions"), waiting.token):
                ended.append(f"{instance} {waiting.hook[:64]}")
    count(Metric.ROUNDS_SIGNALLED, len(ended))
    logger.info(
        "Signal",
        extra={
            "kind": signal.kind,
            "instances": list(signal.instance_ids),
            "waits_ended": ended,
            "event_id": event_id,
        },
    )
    return {"status": "signalled" if ended else "nothing-waiting", "waitsEnded": ended}
