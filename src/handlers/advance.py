"""Workflow task: advance one lifecycle action as far as it can go now.

Every task state of lifecycle.asl.json invokes this function with the action's state document.
It does the work the document asks for (read the hook, a round of checks, a heartbeat, the
completion: :mod:`handlers.steps`), then whatever that work decided is due at once, and returns
when what is left is to wait (:mod:`asg_lifecycle.workflow`). If a heartbeat or completion the
round decided fails, the task returns the round and the next task makes that call
(:func:`asg_lifecycle.workflow.retry_later`); so does a task left with too little time to make
that call before the function's timeout. One function for every step, rather
than one per step, lets the definition run rounds back to back without a Choice state between
them: about half the state transitions of a loop that routes after every task (docs/PERFORMANCE.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from asg_lifecycle import workflow
from asg_lifecycle.adapters.clients import ONE_ATTEMPT_SECONDS
from asg_lifecycle.model import LifecycleAction
from asg_lifecycle.workflow import State, Work
from handlers import steps
from handlers.observability import correlation_keys, logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

STEPS: dict[Work, Callable[[State, LifecycleAction], State]] = {
    Work.READ_HOOK: steps.read_hook,
    Work.CHECKS: steps.run_checks,
    Work.HEARTBEAT: steps.record_heartbeat,
    Work.COMPLETE: steps.complete,
}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = workflow.action_of(event)
    logger.append_keys(**correlation_keys(action))
    state = event
    ran: list[Work] = []
    work = workflow.work_on_entry(state)
    while work is not None:
        if work in ran:  # each piece at most once per invocation: no loop without a Wait
            raise workflow.InvalidState(f"{work} again after {ran}")
        if not ran or work not in workflow.RETRIED:
            # the work this task was given (or the first round after the hook read): if it
            # fails, Step Functions retries the task, then the definition recovers
            state = STEPS[work](state, action)
        else:
            # a call the round just decided: if it cannot be made now, keep the round and leave
            # the call to the next task (running the round again would repeat its checks)
            left = context.get_remaining_time_in_millis()
            if left < ONE_ATTEMPT_SECONDS * 1000:  # slow checks: the timeout would cut it off
                return _left_to_next_task(state, ran, f"{left} ms left", started=False)
            try:
                state = STEPS[work](state, action)
            except (BotoCoreError, ClientError) as exc:
                return _left_to_next_task(state, ran, repr(exc), started=True)
        ran.append(work)
        work = workflow.work_after(state)
    return workflow.parked(state, ran)


def _left_to_next_task(state: State, ran: list[Work], why: str, *, started: bool) -> State:
    logger.warning(
        "The next task makes the call the round decided",
        extra={"why": why, "call": state["decision"]["next"], "started": started},
    )
    return workflow.parked(workflow.retry_later(state, why, started=started), ran)
