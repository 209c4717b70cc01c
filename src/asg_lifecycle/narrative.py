"""One line, in operator words, for what a workflow task did: the operator CLI's timeline (from an
execution's history) and the local emulator's (from the functions' invocations) say it the same
way.

Reads the documents as JSON, tolerantly: a history can hold documents of an earlier release.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from asg_lifecycle.decision import Next


class Task(StrEnum):
    """The work each task state of the definition does (its function)."""

    READ_HOOK = "read-hook"
    CHECKS = "checks"
    HEARTBEAT = "heartbeat"
    COMPLETE = "complete"


STATES: Final[Mapping[str, Task]] = {
    "Read lifecycle hook": Task.READ_HOOK,
    "Read lifecycle hook of a lost event": Task.READ_HOOK,
    "Run checks": Task.CHECKS,
    "Confirm with a heartbeat": Task.HEARTBEAT,
    "Confirm the event's token with a heartbeat": Task.HEARTBEAT,
    "Record lifecycle action heartbeat": Task.HEARTBEAT,
    "Complete lifecycle action": Task.COMPLETE,
}
"""Each Task state of ``src/orchestrator/lifecycle.asl.json`` (tests/unit/test_definition.py)."""

FUNCTIONS: Final[Mapping[str, Task]] = {
    "ReadHookFunction": Task.READ_HOOK,
    "CheckFunction": Task.CHECKS,
    "HeartbeatFunction": Task.HEARTBEAT,
    "CompleteFunction": Task.COMPLETE,
}
"""The function (template.yaml's logical id) each task invokes."""


def describe(task: Task, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> str:
    """What a task did, from the document it got (``before``, if known) and the one it returned."""
    outcome = after.get("outcome")
    ended = isinstance(outcome, dict) and not (before or {}).get("outcome")
    if task is Task.READ_HOOK:
        label = _hook_read_label(after)
        return outcome_text(outcome, label + ": ") if ended else _hook_read(after, label)
    if task is Task.CHECKS:
        return outcome_text(outcome, "round: ") if ended else _round(before, after)
    if task is Task.HEARTBEAT:
        if ended:
            return outcome_text(outcome, "heartbeat not recorded: ")
        progress = _dict(after.get("progress"))
        expires = progress.get("hookExpiresAt", "?")
        if _dict((before or {}).get("decision")).get("next") == Next.CONFIRM:
            return f"confirmed with a heartbeat that Auto Scaling holds it: expires at {expires}"
        return (
            f"heartbeat #{progress.get('heartbeats', '?')} recorded: hook now expires at {expires}"
        )
    return outcome_text(outcome, "completion: ")


def outcome_text(outcome: Any, prefix: str = "") -> str:
    if not isinstance(outcome, dict):
        return prefix + "no outcome recorded"
    result = f" {outcome['result']}" if outcome.get("result") else ""
    return f"{prefix}{outcome.get('status')}{result} - {outcome.get('reason', '')}"


def decision_text(decision: Any) -> str:
    """``next round in 30 s``, ``heartbeat in 25 s, then the next round``, ``complete with
    CONTINUE``."""
    decision = _dict(decision)
    step = decision.get("next")
    seconds = decision.get("waitSeconds")
    texts: dict[str, str] = {
        Next.WAIT: f"next round in {seconds} s",
        Next.HEARTBEAT: f"heartbeat in {seconds} s, then the next round",
        Next.COMPLETE: f"complete with {decision.get('result')}",
        Next.HOLD: f"hold {decision.get('result')} for {seconds} s",
        Next.CONFIRM: "confirm with a heartbeat",
        Next.CHECK: "run the checks",
        Next.END: "end",
    }
    return texts.get(step, str(step)) if isinstance(step, str) else str(step)


ROOT_VOLUME_REPLACEMENT = "root-volume replacement"
"""What an instance refresh's ``Action`` ``ReplaceRootVolume`` is called in operator words: the
instance stays, with a new root volume (its terminate hooks hold it in ReplacingRootVolume:Wait,
its launch hooks in Pending:Wait after)."""

_ACTIONS: Final[Mapping[str, str]] = {"ReplaceRootVolume": ROOT_VOLUME_REPLACEMENT}
_TRANSITIONS: Final[Mapping[str, str]] = {
    "autoscaling:EC2_INSTANCE_LAUNCHING": "launch",
    "autoscaling:EC2_INSTANCE_TERMINATING": "terminate",
}
UNKNOWN = "unknown"


def action_kind(action: Any) -> str | None:
    """The event's ``Action`` in operator words (``root-volume replacement``), None when the
    action carries none (a plain launch or termination); read from the action's JSON."""
    name = _dict(action).get("Action")
    if not isinstance(name, str) or not name:
        return None
    return _ACTIONS.get(name, f"action {name}")


def action_path(action: Any) -> str:
    """``Origin->Destination`` from the action's JSON, ``unknown`` for what was not given."""
    data = _dict(action)
    origin, destination = data.get("Origin") or UNKNOWN, data.get("Destination") or UNKNOWN
    return f"{origin}->{destination}"


def action_words(action: Any) -> str:
    """``launch EC2->AutoScalingGroup``; ``terminate (root-volume replacement)
    AutoScalingGroup->AutoScalingGroup``; ``launch unknown->AutoScalingGroup`` for a lost event
    whose wait state does not say where the instance came from."""
    data = _dict(action)
    transition = _TRANSITIONS.get(str(data.get("LifecycleTransition")), "?")
    kind = action_kind(data)
    return f"{transition}{f' ({kind})' if kind else ''} {action_path(data)}"


def _hook_read_label(after: Mapping[str, Any]) -> str:
    """``hook read``, or ``hook read (root-volume replacement)`` for an action that is one."""
    kind = action_kind(after.get("action"))
    return f"hook read ({kind})" if kind else "hook read"


def _hook_read(after: Mapping[str, Any], label: str = "hook read") -> str:
    plan = _dict(after.get("plan"))
    decision = _dict(after.get("decision"))
    if not plan:
        return f"{label}: {decision_text(decision)} ({decision.get('reason', '')})"
    if after.get("configError"):  # the plan only carries the hook's deadlines: no check runs
        return (
            f"{label}: HeartbeatTimeout {plan.get('heartbeatTimeout')} s; configuration "
            f"invalid ({after['configError']}): no check runs; {decision_text(decision)}"
        )
    checks = ", ".join(str(_dict(c).get("name")) for c in plan.get("checks", [])) or "none"
    text = (
        f"{label}: HeartbeatTimeout {plan.get('heartbeatTimeout')} s, DefaultResult "
        f"{plan.get('defaultResult')}, poll {plan.get('pollSeconds')} s, checks {checks}; gives "
        f"up at {plan.get('giveUpAt')} ({plan.get('onTimeout')})"
    )
    if decision.get("next") in (Next.CONFIRM, Next.HOLD):
        text += f"; then {decision_text(decision)} ({decision.get('reason', '')})"
    return text


def _round(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> str:
    decision = _dict(after.get("decision"))
    rounds = _dict(after.get("progress")).get("rounds", "?")
    ran = before is None or _dict(before.get("progress")).get("rounds") != rounds
    if not ran:
        return f"no round run: {decision.get('reason', '')} -> {decision_text(decision)}"
    results = "; ".join(
        f"{c.get('name')} {c.get('status')} ({c.get('reason', '')})"
        for c in (_dict(c) for c in after.get("checks", []))
    )
    return f"round {rounds}: {results or 'no check'} -> {decision_text(decision)}"


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
