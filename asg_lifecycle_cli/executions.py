"""Reading the stack's executions from Step Functions (thin: the reading of them is ``views``).

Cost: ``list`` is one ListExecutions per 1,000 executions in flight plus one short
GetExecutionHistory (newest 25 events; more while a task is being tried again) per execution, and
Auto Scaling's reads of :mod:`asg_lifecycle_cli.waiting`; an instance's action is found among the
running executions (all of them only when none runs for it); ``show`` then reads its whole
history.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from asg_lifecycle.model import InvalidAction, execution_prefix
from asg_lifecycle_cli.errors import AmbiguousAction, UnknownAction
from asg_lifecycle_cli.stack import Stack
from asg_lifecycle_cli.views import (
    ActionView,
    ExecutionName,
    latest_state,
    pending_retry,
    view_of,
)

_LATEST_EVENTS = 25  # enough to reach the newest state document, unless a task keeps failing


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
    arn = summary["executionArn"]
    page = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=_LATEST_EVENTS)
    events = page["events"]
    state = latest_state(events)
    # A task tried again and again (3 events a try) since its document: read further back.
    while state is None and page.get("nextToken"):
        page = sfn.get_execution_history(
            executionArn=arn, reverseOrder=True, maxResults=1000, nextToken=page["nextToken"]
        )
        state = latest_state(page["events"])
    if state is None:
        return None
    try:
        return view_of(summary, state, pending_retry(events))
    except InvalidAction:  # started by hand with a malformed action: not one to operate on
        return None


def in_flight(
    sfn: Any, running: Iterable[dict[str, Any]], group: str | None = None
) -> list[ActionView]:
    """The action of each running workflow (``running``: :func:`summaries`), oldest first."""
    views = []
    for summary in running:
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


@dataclass(frozen=True, slots=True)
class Located:
    view: ActionView
    running: list[str]  # ARNs of every running workflow of the action (event's, reconciler's)


def find(sfn: Any, stack: Stack, what: str, hook: str | None = None) -> ActionView:
    """The action of an instance (see :func:`locate`), or of an execution given by name (whole,
    or with its token cut) or ARN."""
    if what.startswith("arn:"):
        return _described(sfn, stack, what)
    if ExecutionName.parse(what) is None:
        return locate(sfn, stack, what, hook).view
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{what}"
    try:
        return _described(sfn, stack, arn)
    except UnknownAction:
        named = [s for s in summaries(sfn, stack, running_only=False) if s["name"].startswith(what)]
        if len(named) != 1:
            raise
        return _described(sfn, stack, str(named[0]["executionArn"]))


def locate(sfn: Any, stack: Stack, instance: str, hook: str | None = None) -> Located:
    """An instance's action: its running workflow; else its latest workflow (one that failed or
    was stopped may have left its action waiting; Auto Scaling says whether it still is). One
    ListExecutions of the running ones; all of them (newest first) only when none is running."""
    running = [s for s in summaries(sfn, stack) if _is_for(s, instance, hook)]
    candidates = running
    if not candidates:
        ended = [s for s in summaries(sfn, stack, running_only=False) if _is_for(s, instance, hook)]
        candidates = [max(ended, key=lambda s: s["startDate"])] if ended else []
    views = [v for v in (view(sfn, s) for s in candidates) if v is not None]
    if not views:
        where = instance + (f" on hook {hook!r}" if hook else "")
        raise UnknownAction(where, stack.name)
    hooks = sorted({v.action.hook_name for v in views})
    if len(hooks) > 1:
        raise AmbiguousAction(instance, hooks)
    chosen = max(views, key=lambda v: v.action.started_at)
    a = chosen.action
    prefix = execution_prefix(a.transition, a.instance_id, a.hook_name) + "-"
    return Located(
        chosen, [str(s["executionArn"]) for s in running if s["name"].startswith(prefix)]
    )


def _is_for(summary: dict[str, Any], instance: str, hook: str | None) -> bool:
    name = ExecutionName.parse(str(summary["name"]))
    return name is not None and name.is_for(instance, hook)


def running_names(sfn: Any, stack: Stack) -> list[str]:
    return [str(s["name"]) for s in summaries(sfn, stack)]


def _described(sfn: Any, stack: Stack, arn: str) -> ActionView:
    try:
        described = sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist as exc:
        raise UnknownAction(arn.rsplit(":", 1)[-1], stack.name) from exc
    found = view(sfn, described)
    if found is None:
        raise UnknownAction(arn.rsplit(":", 1)[-1], stack.name)
    return found
