"""What a lifecycle action is, independent of where it came from (EventBridge, a reconciler, a CLI).

These types cross the Step Functions boundary as JSON, so each has ``to_json`` / ``from_json``
and the JSON keys are the ones an operator sees in the execution's input and output.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Transition(StrEnum):
    LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
    TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"

    @property
    def short(self) -> str:
        """``launch`` / ``terminate``: used in execution names and logs."""
        return "launch" if self is Transition.LAUNCHING else "terminate"


class LifecycleResult(StrEnum):
    CONTINUE = "CONTINUE"
    ABANDON = "ABANDON"


class InvalidAction(ValueError):
    """A lifecycle action that cannot be handled: the message says which field and why."""


# AWS constraints (PutLifecycleHook, EC2 instance ids, token = UUID). Checked here because every
# field arrives from an event and is untrusted. Each pattern describes a whole value: test it with
# ``fullmatch``. The patterns end in ``\Z``, not ``$`` (which also matches before a final newline:
# ``"i-0123456789abcdef0\n"`` would pass and fail later, at StartExecution), so that a caller using
# ``match`` is anchored too.
_HOOK_NAME = re.compile(r"[A-Za-z0-9\-_/]{1,255}\Z")
INSTANCE_ID = re.compile(r"i-[0-9a-f]{8,17}\Z")
_TOKEN = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)
_GROUP_NAME_MAX = 255  # Auto Scaling group names are at most 255 characters
_ORIGINS = frozenset({"EC2", "AutoScalingGroup", "WarmPool"})
# The event's "Action" names what an instance refresh does to the instance ("ReplaceRootVolume");
# kept as a word so that an Action AWS adds later is carried, not rejected.
_ACTION = re.compile(r"[A-Za-z]{1,64}\Z")
REPLACE_ROOT_VOLUME = "ReplaceRootVolume"
UNKNOWN = "unknown"


def _require(
    value: Any,
    field: str,
    pattern: re.Pattern[str] | None = None,
    max_len: int = 0,
    *,
    secret: bool = False,
) -> str:
    """``value`` if it is a non-empty string that ``pattern`` matches whole; else InvalidAction
    naming ``field``. A ``secret`` value (the token, a capability) is not quoted in the error,
    which is logged: a token with one character too many is still the token."""
    if not isinstance(value, str) or not value:
        raise InvalidAction(f"{field} is missing or not a string")
    if max_len and len(value) > max_len:
        raise InvalidAction(f"{field} is longer than {max_len} characters")
    if pattern is not None and not pattern.fullmatch(value):
        shown = f"({len(value)} characters)" if secret else repr(value[:64])
        raise InvalidAction(f"{field} {shown} is not a valid value")
    return value


RECONCILED = "reconciled"


def hook_digest(hook_name: str) -> str:
    """8 hex characters that tell a group's hooks apart in an execution name (names are short)."""
    return hashlib.sha256(hook_name.encode()).hexdigest()[:8]


def execution_prefix(transition: Transition, instance_id: str, hook_name: str) -> str:
    """What every execution for one (instance, hook, transition) wait starts with.

    The reconciler, which knows no token, recognises a running workflow by this prefix.
    """
    return f"{transition.short}-{instance_id}-{hook_digest(hook_name)}"


@dataclass(frozen=True, slots=True)
class LifecycleAction:
    """One instance held in a wait state by one hook.

    ``token`` is the action's LifecycleActionToken from its event. The reconciler, which finds an
    action whose event never arrived, knows no token (Auto Scaling's API does not list them):
    ``token`` is then ``None`` and the action is addressed by ``instance_id`` (which
    RecordLifecycleActionHeartbeat and CompleteLifecycleAction accept instead of a token).
    """

    group_name: str
    hook_name: str
    instance_id: str
    token: str | None
    transition: Transition
    started_at: datetime
    # Where the instance comes from and goes to (EC2, AutoScalingGroup, WarmPool). AWS sends them
    # "if that information is available": None when the event did not say, never guessed.
    origin: str | None = None
    destination: str | None = None
    # The event's "Action" ("ReplaceRootVolume" for an instance refresh that replaces root
    # volumes: the instance comes back), None for a real launch or termination.
    action_name: str | None = None

    @property
    def token_prefix(self) -> str:
        """Enough of the token to correlate logs; the whole token is a capability and stays out."""
        return self.token[:8] if self.token else RECONCILED

    @property
    def reconciled(self) -> bool:
        return self.token is None

    @property
    def execution_name(self) -> str:
        """Deterministic per action, so a duplicate delivery cannot start a second workflow.

        ``terminate-i-0123456789abcdef0-<hook digest>-<36-char token>``: at most 75 of the 80
        characters allowed. A reconciled action has ``r<YYYYmmddHHMM>`` of the reconcile run that
        found it instead of the token, so two deliveries of the same scheduled run start one
        workflow.
        """
        prefix = execution_prefix(self.transition, self.instance_id, self.hook_name)
        if self.token is None:
            return f"{prefix}-r{self.started_at.astimezone(UTC):%Y%m%d%H%M}"
        return f"{prefix}-{self.token}"

    @property
    def into_warm_pool(self) -> bool:
        return self.destination == "WarmPool"

    @property
    def replaces_root_volume(self) -> bool:
        """An instance refresh replacing the root volume: the instance is not going away."""
        return self.action_name == REPLACE_ROOT_VOLUME

    @property
    def path(self) -> str:
        """``Origin->Destination`` as an operator reads it, ``unknown`` for what AWS left out."""
        return f"{self.origin or UNKNOWN}->{self.destination or UNKNOWN}"

    def to_json(self) -> dict[str, str]:
        data = {
            "AutoScalingGroupName": self.group_name,
            "LifecycleHookName": self.hook_name,
            "EC2InstanceId": self.instance_id,
            "LifecycleTransition": self.transition.value,
            "StartedAt": format_time(self.started_at),
        }
        for key, value in (
            ("Origin", self.origin),
            ("Destination", self.destination),
            ("Action", self.action_name),
        ):
            if value is not None:
                data[key] = value
        if self.token is None:
            data["Reconciled"] = "true"
        else:
            data["LifecycleActionToken"] = self.token
        return data

    @classmethod
    def from_json(cls, data: Any) -> LifecycleAction:
        """Validate the fields of an action (as AWS names them) and build it.

        The token may be missing only from an action the reconciler started (``"Reconciled":
        "true"``); events never carry that key (:mod:`asg_lifecycle.events` rejects it).
        """
        if not isinstance(data, dict):
            raise InvalidAction("the lifecycle action must be a JSON object")
        transition = data.get("LifecycleTransition")
        if transition not in {t.value for t in Transition}:
            raise InvalidAction(f"LifecycleTransition {str(transition)[:64]!r} is not supported")
        origin, destination = data.get("Origin"), data.get("Destination")
        for name, value in (("Origin", origin), ("Destination", destination)):
            if value is not None and (not isinstance(value, str) or value not in _ORIGINS):
                raise InvalidAction(f"{name} {str(value)[:64]!r} is not one of {sorted(_ORIGINS)}")
        action_name = data.get("Action")
        if action_name is not None:
            _require(action_name, "Action", _ACTION)
        return cls(
            group_name=_require(
                data.get("AutoScalingGroupName"), "AutoScalingGroupName", max_len=_GROUP_NAME_MAX
            ),
            hook_name=_require(data.get("LifecycleHookName"), "LifecycleHookName", _HOOK_NAME),
            instance_id=_require(data.get("EC2InstanceId"), "EC2InstanceId", INSTANCE_ID),
            token=(
                None
                if data.get("Reconciled") == "true" and "LifecycleActionToken" not in data
                else _require(
                    data.get("LifecycleActionToken"), "LifecycleActionToken", _TOKEN, secret=True
                )
            ),
            transition=Transition(transition),
            started_at=parse_time(data.get("StartedAt"), "StartedAt"),
            origin=origin,
            destination=destination,
            action_name=action_name,
        )


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, the form EventBridge and Step Functions use."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any, field: str = "timestamp") -> datetime:
    if not isinstance(text, str):
        raise InvalidAction(f"{field} is missing or not an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidAction(f"{field} {text[:40]!r} is not an ISO 8601 timestamp") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_TOKEN_IN_TEXT = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def without_token(text: str) -> str:
    """``text`` (an execution's name or ARN) with each token in it cut to its 8-character prefix,
    as :attr:`LifecycleAction.token_prefix` cuts it.

    A whole token is a capability to complete its action: it stays out of logs and of what an
    operator pastes into a ticket. What is left of an execution's name is still a prefix of it,
    which the console's search (and ``asg-lifecycle show``) finds. Tokens are UUIDs: only
    execution names and ARNs go through here, not the other UUIDs logged (event or request ids).
    """
    return _TOKEN_IN_TEXT.sub(lambda match: match.group(0)[:8], text)
