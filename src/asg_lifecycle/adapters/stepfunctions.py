"""Start the workflow for an action, exactly once.

The execution name is derived from the action's token. Step Functions answers a StartExecution
with a name it has seen either with the same execution (same name and input, still running) or
with ``ExecutionAlreadyExists``; both mean a workflow for this action exists, so a duplicate
delivery is a no-op. This is why Powertools' idempotency utility (a DynamoDB table, and the
costliest import in ``python -m bench.imports``) is not needed here: Step Functions already keeps
the record, for 90 days.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from asg_lifecycle.document import StateDocument
from asg_lifecycle.reconcile import PastExecution

Started = Literal["started", "duplicate"]


def start_workflow(client: Any, state_machine_arn: str, doc: StateDocument) -> tuple[Started, str]:
    """Start (or find) the action's execution with ``doc`` as its input; returns what happened
    and the execution ARN."""
    name = doc.action.execution_name
    try:
        response = client.start_execution(
            stateMachineArn=state_machine_arn,
            name=name,
            input=json.dumps(doc.to_json(), sort_keys=True),
        )
    except client.exceptions.ExecutionAlreadyExists:
        arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        return "duplicate", arn
    return "started", str(response["executionArn"])


def running_execution_names(client: Any, state_machine_arn: str) -> set[str]:
    """Names of the state machine's running executions (one call per 1,000)."""
    names: set[str] = set()
    pages = client.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn,
        statusFilter="RUNNING",
        PaginationConfig={"PageSize": 1000},
    )
    for page in pages:
        names.update(str(e["name"]) for e in page["executions"])
    return names


def running_executions(client: Any, state_machine_arn: str) -> dict[str, datetime]:
    """The state machine's running executions: name -> start date (one call per 1,000)."""
    started: dict[str, datetime] = {}
    pages = client.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn,
        statusFilter="RUNNING",
        PaginationConfig={"PageSize": 1000},
    )
    for page in pages:
        started.update((str(e["name"]), e["startDate"]) for e in page["executions"])
    return started


HISTORY_PAGES = 10
"""At most this many pages of 1,000 executions read back by :func:`executions_since` in one call:
what is older than they reach is not known to have run (its action counts as an orphan)."""


def executions_since(
    client: Any, state_machine_arn: str, since: datetime, max_pages: int = HISTORY_PAGES
) -> list[PastExecution]:
    """Every execution (any status) started at or after ``since``, as far as ``max_pages`` reach.

    ListExecutions answers the most recent first ("Results are sorted by time, with the most
    recent execution first"), so the read stops at the first one started before ``since``.
    """
    found: list[PastExecution] = []
    pages = client.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn,
        PaginationConfig={"PageSize": 1000, "MaxItems": 1000 * max_pages},
    )
    for page in pages:
        for execution in page["executions"]:
            started = execution["startDate"]
            if started < since:
                return found
            found.append(
                PastExecution(
                    name=str(execution["name"]),
                    status=str(execution["status"]),
                    started=started,
                    stopped=execution.get("stopDate"),
                )
            )
    return found


def end_wait(client: Any, task_token: str) -> bool:
    """SendTaskSuccess for a round's wait, with an empty output (the definition drops it).
    False when the wait is over already (``TaskTimedOut``: it ran its course or another signal
    ended it; ``InvalidToken``, ``TaskDoesNotExist``)."""
    try:
        client.send_task_success(taskToken=task_token, output="{}")
    except (
        client.exceptions.TaskTimedOut,
        client.exceptions.InvalidToken,
        client.exceptions.TaskDoesNotExist,
    ):
        return False
    return True
