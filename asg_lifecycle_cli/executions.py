"""Reading the stack's executions from Step Functions (thin: the reading of them is ``views``).

Cost: ``list`` is one ListExecutions per 1,000 executions in flight plus one short
GetExecutionHistory (newest 25 events) per execution; ``show`` reads one whole history.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from asg_lifecycle.model import InvalidAction, execution_prefix
from asg_lifecycle_cli.errors import AmbiguousAction, UnknownAction
from asg_lifecycle_cli.stack import Stack
from asg_lifecycle_cli.views import ActionView, ExecutionName, latest_state, state_document, view_of

_LATEST_EVENTS = 25  # enough to reach the newest state document from the end of a history


def summaries(sfn: Any, stack: Stack, running_only: bool = True) -> Iterator[dict[str, Any]]:
    """The state machine's executions (ListExecutions), newest first."""
    kwargs: dict[str, Any] = {"stateMachineArn": stack.state_machine_arn}
    if running_only:
        kwargs["statusFilter"] = "RUNNING"
    for page in sfn.get_paginator("list_executions").paginate(
        **kwargs, PaginationConfig={"PageSize": 1000}
    ):
        yield from page["executions"]


def view(sfn: Any, summary: dict[str, Any]) -> ActionView | None:
    """The execution's latest state; None for an execution that is not one of this workflow's."""
    page = sfn.get_execution_history(
        executionArn=summary["executionArn"], reverseOrder=True, maxResults=_LATEST_EVENTS
    )
    state = latest_state(page["events"])
    if state is None:  # a history longer than the page since its last document: the input
        described = sfn.describe_execution(executionArn=summary["executionArn"])
        state = state_document(described.get("input"))
    if state is None:
        return None
    try:
        return view_of(summary, state)
    except InvalidAction:  # started by hand with a malformed action: not one to operate on
        return None


def in_flight(sfn: Any, stack: Stack, group: str | None = None) -> list[ActionView]:
    """Every action with a running workflow, oldest first."""
    views = []
    for summary in summaries(sfn, stack):
        found = view(sfn, summary)
        if found is not None and (group is None or found.action.group_name == group):
            views.append(found)
    return sorted(views, key=lambda v: v.action.started_at)


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """The execution's whole history, oldest first."""
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def find(
    sfn: Any, stack: Stack, what: str, hook: str | None = None, running_only: bool = True
) -> ActionView:
    """The action of an instance (its running workflow; else, with ``running_only`` False, its
    latest one), or of an execution given by name or ARN."""
    if what.startswith("arn:"):
        return _described(sfn, stack, what)
    if ExecutionName.parse(what) is not None:  # a whole name, or one with its token cut
        arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{what}"
        try:
            return _described(sfn, stack, arn)
        except UnknownAction:
            named = [
                s for s in summaries(sfn, stack, running_only=False) if s["name"].startswith(what)
            ]
            if len(named) != 1:
                raise
            return _described(sfn, stack, str(named[0]["executionArn"]))
    matches = [
        s
        for s in summaries(sfn, stack, running_only=running_only)
        if (name := ExecutionName.parse(str(s["name"]))) is not None and name.is_for(what, hook)
    ]
    if not matches:
        raise UnknownAction(what + (f" on hook {hook!r}" if hook else ""), stack.name, running_only)
    running = [s for s in matches if s["status"] == "RUNNING"]
    candidates = running or [max(matches, key=lambda s: s["startDate"])]
    views = [v for v in (view(sfn, s) for s in candidates) if v is not None]
    hooks = sorted({v.action.hook_name for v in views})
    if len(hooks) > 1:
        raise AmbiguousAction(what, hooks)
    if not views:
        raise UnknownAction(what, stack.name, running_only)
    return max(views, key=lambda v: v.action.started_at)


def running_names(sfn: Any, stack: Stack) -> list[str]:
    return [str(s["name"]) for s in summaries(sfn, stack)]


def running_for(sfn: Any, stack: Stack, view: ActionView) -> list[str]:
    """ARNs of every running workflow of the view's action (instance, hook, transition): the
    event's, and one a reconcile run started, may both be running."""
    a = view.action
    prefix = execution_prefix(a.transition, a.instance_id, a.hook_name) + "-"
    return [
        str(s["executionArn"]) for s in summaries(sfn, stack) if str(s["name"]).startswith(prefix)
    ]


def _described(sfn: Any, stack: Stack, arn: str) -> ActionView:
    try:
        described = sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist as exc:
        raise UnknownAction(arn.rsplit(":", 1)[-1], stack.name, in_flight_only=False) from exc
    found = view(sfn, described)
    if found is None:
        raise UnknownAction(arn.rsplit(":", 1)[-1], stack.name, in_flight_only=False)
    return found
