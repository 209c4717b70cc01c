"""How one lifecycle hook wants its actions handled: checks, poll interval, maximum wait, results.

Sources, most specific first:
1. the hook's ``NotificationMetadata`` when it is a JSON object (set with PutLifecycleHook, so users
   tune a hook without redeploying), validated strictly: a typo must not silently change behaviour;
2. stack-wide defaults from the template's parameters (the functions' environment).

Metadata that is not JSON at all (plain text some other tool put there) is not ours and is ignored.

The keys, their bounds and where their defaults come from are data (:data:`METADATA_KEYS`): the
reader validates against it and ``docs/CONFIGURATION.md`` is generated from it
(``python -m docs_gen``), so the documented configuration is the enforced one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from asg_lifecycle.model import LifecycleResult, Transition
from asg_lifecycle.params import InvalidParams

ParamsValidator = Callable[[Mapping[str, Any]], dict[str, Any]]
"""A check's parameter validation: the params with defaults filled in, or InvalidParams."""

METADATA_MAX = 1023  # PutLifecycleHook: NotificationMetadata is at most 1023 characters
POLL_BOUNDS = (5, 3600)
MAX_WAIT_BOUNDS = (30, 172_800)

# The functions' environment variables holding the stack-wide defaults (template.yaml sets each
# from a stack parameter: the docs name the parameter by following that mapping).
ENV_POLL_SECONDS = "DEFAULT_POLL_SECONDS"
ENV_LAUNCH_MAX_WAIT = "LAUNCH_MAX_WAIT_SECONDS"
ENV_TERMINATE_MAX_WAIT = "TERMINATE_MAX_WAIT_SECONDS"
ENV_LAUNCH_CHECKS = "LAUNCH_CHECKS"
ENV_TERMINATE_CHECKS = "TERMINATE_CHECKS"


class KeyKind(StrEnum):
    CHECKS = "checks"
    SECONDS = "seconds"
    RESULT = "result"


@dataclass(frozen=True, slots=True)
class MetadataKey:
    """One key a hook's NotificationMetadata may hold, with what it means and its bounds.

    ``default_env`` names, per transition, the environment variable with the stack-wide default;
    a key without one (the results) defaults to :func:`safe_result` and takes
    :func:`allowed_results`.
    """

    name: str
    kind: KeyKind
    meaning: str
    bounds: tuple[int, int] | None = None
    default_env: Mapping[Transition, str] = field(default_factory=dict)


CHECKS = MetadataKey(
    "checks",
    KeyKind.CHECKS,
    "the checks each round runs, in order: a round stops at the first check that does not pass",
    default_env={
        Transition.LAUNCHING: ENV_LAUNCH_CHECKS,
        Transition.TERMINATING: ENV_TERMINATE_CHECKS,
    },
)
POLL_SECONDS = MetadataKey(
    "pollSeconds",
    KeyKind.SECONDS,
    "seconds between two rounds of checks, plus a per-action jitter of up to a tenth (a fleet's "
    "rounds do not fall in the same second); shorter near a heartbeat or the give-up time, "
    "longer when the wait would need more than 2,000 rounds (one execution's history)",
    POLL_BOUNDS,
    {Transition.LAUNCHING: ENV_POLL_SECONDS, Transition.TERMINATING: ENV_POLL_SECONDS},
)
MAX_WAIT_SECONDS = MetadataKey(
    "maxWaitSeconds",
    KeyKind.SECONDS,
    "checks not passed this long after the wait began: the action is completed with onTimeout",
    MAX_WAIT_BOUNDS,
    {Transition.LAUNCHING: ENV_LAUNCH_MAX_WAIT, Transition.TERMINATING: ENV_TERMINATE_MAX_WAIT},
)
ON_FAILURE = MetadataKey(
    "onFailure", KeyKind.RESULT, "the result sent when a check fails (a definitive answer)"
)
ON_TIMEOUT = MetadataKey(
    "onTimeout",
    KeyKind.RESULT,
    "the result sent when maxWaitSeconds is up, or the hook's global timeout is near",
)
METADATA_KEYS: tuple[MetadataKey, ...] = (
    CHECKS,
    POLL_SECONDS,
    MAX_WAIT_SECONDS,
    ON_FAILURE,
    ON_TIMEOUT,
)
_KEYS = frozenset(key.name for key in METADATA_KEYS)


class InvalidConfig(ValueError):
    """The hook's configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class Defaults:
    """Stack-wide defaults, from the template parameters via the functions' environment."""

    poll_seconds: int = 30
    launch_max_wait: int = 1800
    terminate_max_wait: int = 21_600
    # Each entry as in NotificationMetadata's "checks": a name, or {"name", "params"}.
    launch_checks: tuple[Any, ...] = ("instance-status",)
    terminate_checks: tuple[Any, ...] = ("target-group-drain",)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Defaults:
        base = cls()

        def names(key: str, fallback: tuple[Any, ...]) -> tuple[Any, ...]:
            """Comma-separated names, or a JSON list like NotificationMetadata's "checks"."""
            raw = env.get(key)
            if raw is None:
                return fallback
            if raw.lstrip().startswith("["):
                try:
                    items = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise InvalidConfig(f"{key} is not valid JSON: {exc.msg}") from exc
                return tuple(_list(items))
            return tuple(n.strip() for n in raw.split(",") if n.strip())

        return cls(
            poll_seconds=_int_env(env, ENV_POLL_SECONDS, base.poll_seconds, POLL_BOUNDS),
            launch_max_wait=_int_env(
                env, ENV_LAUNCH_MAX_WAIT, base.launch_max_wait, MAX_WAIT_BOUNDS
            ),
            terminate_max_wait=_int_env(
                env, ENV_TERMINATE_MAX_WAIT, base.terminate_max_wait, MAX_WAIT_BOUNDS
            ),
            launch_checks=names(ENV_LAUNCH_CHECKS, base.launch_checks),
            terminate_checks=names(ENV_TERMINATE_CHECKS, base.terminate_checks),
        )


@dataclass(frozen=True, slots=True)
class ActionConfig:
    """The resolved configuration for one lifecycle action."""

    checks: tuple[CheckSpec, ...]
    poll_seconds: int
    max_wait_seconds: int
    on_failure: LifecycleResult
    on_timeout: LifecycleResult

    def to_json(self) -> dict[str, Any]:
        return {
            "checks": [c.to_json() for c in self.checks],
            "pollSeconds": self.poll_seconds,
            "maxWaitSeconds": self.max_wait_seconds,
            "onFailure": self.on_failure.value,
            "onTimeout": self.on_timeout.value,
        }


def safe_result(transition: Transition) -> LifecycleResult:
    """The result when we cannot say the instance is fine.

    Launch: ABANDON, never put an unverified instance in service. Terminate: CONTINUE, the instance
    goes either way and CONTINUE lets the group's other terminate hooks still run.
    """
    return (
        LifecycleResult.ABANDON if transition is Transition.LAUNCHING else LifecycleResult.CONTINUE
    )


def allowed_results(transition: Transition) -> tuple[LifecycleResult, ...]:
    """The results ``onFailure`` / ``onTimeout`` may name.

    Launch: ABANDON only. Only passing checks put a launching instance in service: not a failure,
    not a timeout.
    """
    if transition is Transition.LAUNCHING:
        return (LifecycleResult.ABANDON,)
    return (LifecycleResult.CONTINUE, LifecycleResult.ABANDON)


def read_config(
    metadata: str | None,
    transition: Transition,
    defaults: Defaults,
    checks_allowed: Mapping[str, ParamsValidator],
) -> ActionConfig:
    """Resolve the action's configuration, or raise :class:`InvalidConfig`.

    ``checks_allowed`` names the checks that may run for this transition, each with its
    parameter validation: every check's parameters are checked here, before the first round.
    """
    default_checks = (
        defaults.launch_checks if transition is Transition.LAUNCHING else defaults.terminate_checks
    )
    doc = _metadata_object(metadata)
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise InvalidConfig(f"unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
    raw_checks = doc.get(CHECKS.name, list(default_checks))
    checks = tuple(_check_spec(item, i, checks_allowed) for i, item in enumerate(_list(raw_checks)))
    if not checks:
        raise InvalidConfig("checks: at least one check is required")
    safe = safe_result(transition)
    max_wait_default = (
        defaults.launch_max_wait
        if transition is Transition.LAUNCHING
        else defaults.terminate_max_wait
    )
    return ActionConfig(
        checks=checks,
        poll_seconds=_bounded(doc, POLL_SECONDS.name, defaults.poll_seconds, POLL_BOUNDS),
        max_wait_seconds=_bounded(doc, MAX_WAIT_SECONDS.name, max_wait_default, MAX_WAIT_BOUNDS),
        on_failure=_result(doc, ON_FAILURE.name, safe, transition),
        on_timeout=_result(doc, ON_TIMEOUT.name, safe, transition),
    )


def _metadata_object(metadata: str | None) -> dict[str, Any]:
    if metadata is None or not metadata.strip():
        return {}
    if len(metadata) > METADATA_MAX:
        raise InvalidConfig(f"NotificationMetadata is longer than {METADATA_MAX} characters")
    text = metadata.strip()
    if not text.startswith("{"):
        return {}  # plain-text metadata belongs to someone else
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidConfig(
            f"NotificationMetadata is not valid JSON: {exc.msg} at {exc.pos}"
        ) from exc
    if not isinstance(doc, dict):
        raise InvalidConfig("NotificationMetadata must be a JSON object")
    return doc


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidConfig("checks must be a list of check names or {name, params} objects")
    return value


def _check_spec(item: Any, index: int, allowed: Mapping[str, ParamsValidator]) -> CheckSpec:
    name: Any
    params: Any
    if isinstance(item, str):
        name, params = item, {}
    elif isinstance(item, dict):
        extra = sorted(set(item) - {"name", "params"})
        if extra:
            raise InvalidConfig(f"checks[{index}]: unknown key(s) {extra}")
        name, params = item.get("name"), item.get("params", {})
        if not isinstance(params, dict):
            raise InvalidConfig(f"checks[{index}].params must be an object")
    else:
        raise InvalidConfig(f"checks[{index}] must be a name or an object")
    if not isinstance(name, str) or name not in allowed:
        raise InvalidConfig(
            f"checks[{index}]: unknown check {str(name)[:64]!r} for this transition;"
            f" known: {sorted(allowed)}"
        )
    try:
        resolved = allowed[name](params)
    except InvalidParams as exc:
        raise InvalidConfig(f"checks[{index}] ({name}).params: {exc}") from exc
    return CheckSpec(name, resolved)


def _bounded(doc: Mapping[str, Any], key: str, default: int, bounds: tuple[int, int]) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(f"{key} must be a whole number of seconds")
    low, high = bounds
    if not low <= value <= high:
        raise InvalidConfig(f"{key} must be between {low} and {high} seconds, got {value}")
    return value


def _result(
    doc: Mapping[str, Any], key: str, default: LifecycleResult, transition: Transition
) -> LifecycleResult:
    value = doc.get(key, default.value)
    try:
        result = LifecycleResult(value)
    except ValueError as exc:
        raise InvalidConfig(f"{key} must be CONTINUE or ABANDON, got {str(value)[:32]!r}") from exc
    allowed = allowed_results(transition)
    if result not in allowed:
        names = " or ".join(r.value for r in allowed)
        raise InvalidConfig(f"{key} must be {names} for a {transition.short} hook")
    return result


def _int_env(env: Mapping[str, str], key: str, default: int, bounds: tuple[int, int]) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return _bounded({key: int(raw)}, key, default, bounds)
    except ValueError as exc:
        raise InvalidConfig(f"environment {key}={raw[:32]!r}: {exc}") from exc
