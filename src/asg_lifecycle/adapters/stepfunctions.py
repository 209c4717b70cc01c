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
from typing import Any, Literal

from asg_lifecycle.document import StateDocument

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
