"""How one lifecycle hook wants its actions handled: checks, poll interval, maximum wait, results.

Sources, most specific first:
1. the hook's ``NotificationMetadata`` when it is a JSON object (set with PutLifecycleHook, so users
   tune a hook without redeploying), validated strictly: a typo must not silently change behaviour;
2. stack-wide defaults from the template's parameters (the functions' environment).

Metadata that is not JSON at all (plain text some other tool put there) is not ours and is ignored.

One hook serves every action of its transition, and some actions are not what the hook's top-level
keys were written for: a launch into the warm pool (the instance is stopped there, not put in
service) and an instance refresh replacing root volumes (the instance is not going away). A
``warmPool`` / ``replaceRootVolume`` block holds the keys that apply instead for those actions
(:func:`block_for`), each key it leaves out inherited from the top level.

What the safe result is (:func:`safe_result`) depends on the group's instance lifecycle policy:
with ``TerminateHookAbandon: retain`` an ABANDONed termination keeps the instance for an operator.

The keys, their bounds and where their defaults come from are data (:data:`METADATA_KEYS`): the
reader validates against it and ``docs/CONFIGURATION.md`` is generated from it
(``python -m docs_gen``), so the documented configuration is the enforced one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition
from asg_lifecycle.params import InvalidParams

ParamsValidator = Callable[[Mapping[str, Any]], dict[str, Any]]
"""A check's parameter validation: the params with defaults filled in, or InvalidParams."""

METADATA_MAX = 1023  # PutLifecycleHook: NotificationMetadata is at most 1023 characters
POLL_BOUNDS = (5, 3600)
# LaunchMaxPollSeconds / TerminateMaxPollSeconds: 0 is "no back-off" (a hook's own maxPollSeconds
# takes POLL_BOUNDS).
STACK_MAX_POLL_BOUNDS = (0, 3600)
MAX_WAIT_BOUNDS = (30, 172_800)

# The functions' environment variables holding the stack-wide defaults (template.yaml sets each
# from a stack parameter: the docs name the parameter by following that mapping).
ENV_POLL_SECONDS = "DEFAULT_POLL_SECONDS"
ENV_LAUNCH_MAX_WAIT = "LAUNCH_MAX_WAIT_SECONDS"
ENV_TERMINATE_MAX_WAIT = "TERMINATE_MAX_WAIT_SECONDS"
ENV_WAITING_NOTICE = "WAITING_NOTICE_SECONDS"  # WaitingNoticeSeconds
ENV_LAUNCH_MAX_POLL = "LAUNCH_MAX_POLL_SECONDS"
ENV_TERMINATE_MAX_POLL = "TERMINATE_MAX_POLL_SECONDS"
ENV_LAUNCH_CHECKS = "LAUNCH_CHECKS"
ENV_TERMINATE_CHECKS = "TERMINATE_CHECKS"
# What the checks may touch (:class:`StackLimits`), each from the stack parameter of that name,
# and where the stack runs.
ENV_SSM_DOCUMENTS = "SSM_COMMAND_DOCUMENTS"  # SsmCommandDocuments
ENV_CHECK_FUNCTIONS = "CUSTOM_CHECK_FUNCTION_ARNS"  # CustomCheckFunctionArns
ENV_ECS_CLUSTERS = "ECS_CLUSTER_NAMES"  # EcsClusterNames
ENV_PARAMETER_PATH = "READINESS_PARAMETER_PATH"  # ReadinessParameterPath
# ReadinessParameterPath's AllowedPattern in template.yaml (tests/unit tie the two).
PARAMETER_PATH = re.compile(r"/[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*/")
ENV_STACK_PARTITION = "STACK_PARTITION"
ENV_STACK_REGION = "STACK_REGION"
ENV_STACK_ACCOUNT = "STACK_ACCOUNT_ID"
# The check function's: whether ssm-command records the command's output (RecordCommandOutput).
ENV_RECORD_OUTPUT = "RECORD_COMMAND_OUTPUT"


class KeyKind(StrEnum):
    CHECKS = "checks"
    SECONDS = "seconds"
    RESULT = "result"
    BLOCK = "block"


class OnAbandon(StrEnum):
    """The group's instance lifecycle policy, ``RetentionTriggers.TerminateHookAbandon``: what an
    ABANDONed terminate action (or one timed out with DefaultResult ABANDON) does to the instance.

    ``retain``: it stays, in ``Terminating:Retained`` (``Warmed:*:Retained`` from the warm pool),
    out of the group's capacity, until someone calls TerminateInstanceInAutoScalingGroup.
    ``terminate`` (AWS's default, and a group without a policy): it is terminated either way.
    """

    RETAIN = "retain"
    TERMINATE = "terminate"


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
    "seconds between the first rounds of checks, plus a per-action jitter of up to a tenth (a "
    "fleet's rounds do not fall in the same second); shorter near a heartbeat or the give-up "
    "time, longer when the wait would need more than 1,500 rounds (one execution's history)",
    POLL_BOUNDS,
    {Transition.LAUNCHING: ENV_POLL_SECONDS, Transition.TERMINATING: ENV_POLL_SECONDS},
)
MAX_POLL_SECONDS = MetadataKey(
    "maxPollSeconds",
    KeyKind.SECONDS,
    "the longest wait between two rounds: while the checks keep waiting, rounds back off from "
    "pollSeconds towards it (each wait half the time waited so far); pollSeconds or less: no "
    "back-off (the stack default 0: none). A signal runs the checks at once whatever the wait",
    POLL_BOUNDS,
    {Transition.LAUNCHING: ENV_LAUNCH_MAX_POLL, Transition.TERMINATING: ENV_TERMINATE_MAX_POLL},
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
WARM_POOL = MetadataKey(
    "warmPool",
    KeyKind.BLOCK,
    "applies instead of the top-level keys to an action whose destination is the warm pool: a "
    "launch into the pool (EC2 to WarmPool; the instance is stopped there, not put in service) "
    "and a scale-in that returns an instance to it (ReuseOnScaleIn)",
)
REPLACE_ROOT_VOLUME = MetadataKey(
    "replaceRootVolume",
    KeyKind.BLOCK,
    "applies instead of the top-level keys (and of warmPool) to the terminate action of an "
    "instance refresh replacing root volumes (the instance waits in ReplacingRootVolume:Wait): "
    "it is not a termination, the instance comes back through the launch hooks, which run the "
    "top-level launch checks as for any launch",
)
LEAF_KEYS: tuple[MetadataKey, ...] = (
    CHECKS,
    POLL_SECONDS,
    MAX_POLL_SECONDS,
    MAX_WAIT_SECONDS,
    ON_FAILURE,
    ON_TIMEOUT,
)
BLOCK_KEYS: tuple[MetadataKey, ...] = (WARM_POOL, REPLACE_ROOT_VOLUME)
METADATA_KEYS: tuple[MetadataKey, ...] = LEAF_KEYS + BLOCK_KEYS
_KEYS = frozenset(key.name for key in METADATA_KEYS)
_LEAF_KEYS = frozenset(key.name for key in LEAF_KEYS)


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
    # Launches keep their poll unless told (a launch waits for an instance to be ready: latency
    # matters); terminations back off to 5 minutes (a drain or a shutdown script needs none).
    # 0: no back-off (rounds every pollSeconds).
    launch_max_poll: int = 0
    terminate_max_poll: int = 300
    # An action still waiting this long gets its one "waiting long" notification (0: none).
    waiting_notice_seconds: int = 1800
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
            launch_max_poll=_int_env(
                env, ENV_LAUNCH_MAX_POLL, base.launch_max_poll, STACK_MAX_POLL_BOUNDS
            ),
            terminate_max_poll=_int_env(
                env, ENV_TERMINATE_MAX_POLL, base.terminate_max_poll, STACK_MAX_POLL_BOUNDS
            ),
            waiting_notice_seconds=_int_env(
                env, ENV_WAITING_NOTICE, base.waiting_notice_seconds, (0, 172_800)
            ),
            launch_checks=names(ENV_LAUNCH_CHECKS, base.launch_checks),
            terminate_checks=names(ENV_TERMINATE_CHECKS, base.terminate_checks),
        )


@dataclass(frozen=True, slots=True)
class StackLimits:
    """What the stack's parameters let the checks touch, and where the stack runs.

    The template grants the check function exactly these (``SsmCommandDocuments``,
    ``CustomCheckFunctionArns``, ``EcsClusterNames``, ``ReadinessParameterPath``) and passes
    them to the functions that read a hook's configuration, so a check naming anything else is
    an invalid configuration, refused with a clear error before any round, rather than
    AccessDenied at run time and an action held until ``maxWaitSeconds``.

    ``partition``, ``region`` and ``account`` are the stack's own: an ARN in a check's
    parameters must name them (a document shared from another account is never run).
    Nothing is allowed unless the environment says so: an instance built without arguments
    refuses every document, function, cluster and parameter.
    """

    partition: str = "aws"
    region: str = ""
    account: str = ""
    ssm_documents: frozenset[str] = frozenset()
    check_functions: tuple[str, ...] = ()
    ecs_clusters: frozenset[str] = frozenset()
    parameter_path: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StackLimits:
        def items(key: str) -> tuple[str, ...]:
            return tuple(i.strip() for i in env.get(key, "").split(",") if i.strip())

        path = env.get(ENV_PARAMETER_PATH, "").strip()
        if not PARAMETER_PATH.fullmatch(path):  # the template's AllowedPattern: anything else
            path = ""  # ("/" alone, no trailing "/") would reach sibling paths: allow none
        return cls(
            partition=env.get(ENV_STACK_PARTITION, "").strip() or "aws",
            region=env.get(ENV_STACK_REGION, "").strip(),
            account=env.get(ENV_STACK_ACCOUNT, "").strip(),
            ssm_documents=frozenset(items(ENV_SSM_DOCUMENTS)),
            check_functions=items(ENV_CHECK_FUNCTIONS),
            ecs_clusters=frozenset(items(ENV_ECS_CLUSTERS)),
            parameter_path=path or None,
        )

    def arn_problem(self, arn: str, service: str, *, aws_owned: bool = False) -> str:
        """Why ``arn`` is not one of this stack's partition, Region and account (``aws_owned``:
        or an AWS-owned resource's, which has no account), or "" when it is."""
        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != service:
            return f"is not an {service} ARN"
        _, partition, _, region, account, _ = parts
        accounts = {self.account, ""} if aws_owned else {self.account}
        if (partition, region) == (self.partition, self.region) and account in accounts:
            return ""
        where = f"account {account or '(AWS-owned)'}, Region {region or '(none)'}"
        return (
            f"names {where}: only this stack's account {self.account or '(unknown)'}"
            f" in {self.region or '(unknown Region)'} is allowed"
        )


def records_command_output(env: Mapping[str, str]) -> bool:
    """Whether the stack records a command's output in its check's details (the stack parameter
    ``RecordCommandOutput``): only when it says ``Enabled``. Details reach the log and the
    execution history, and a script may print a secret, so anything else records none."""
    return env.get(ENV_RECORD_OUTPUT, "").strip() == "Enabled"


@dataclass(frozen=True, slots=True)
class ActionConfig:
    """The resolved configuration for one lifecycle action; ``block``: the metadata block it was
    read from (``warmPool``, ``replaceRootVolume``), None for the top level."""

    checks: tuple[CheckSpec, ...]
    poll_seconds: int
    max_wait_seconds: int
    on_failure: LifecycleResult
    on_timeout: LifecycleResult
    block: str | None = None
    max_poll_seconds: int = 0  # at least poll_seconds (0: the same, no back-off)
    waiting_notice_seconds: int = 0  # the stack's WaitingNoticeSeconds (0: no such notice)

    @property
    def longest_poll(self) -> int:
        """The longest wait between two rounds (rounds back off up to it)."""
        return max(self.poll_seconds, self.max_poll_seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            "checks": [c.to_json() for c in self.checks],
            "pollSeconds": self.poll_seconds,
            "maxPollSeconds": self.longest_poll,
            "maxWaitSeconds": self.max_wait_seconds,
            "onFailure": self.on_failure.value,
            "onTimeout": self.on_timeout.value,
        }


def safe_result(
    transition: Transition,
    on_abandon: OnAbandon = OnAbandon.TERMINATE,
    *,
    replaces_root_volume: bool = False,
) -> LifecycleResult:
    """The result when we cannot say the instance is fine: the default of ``onFailure`` and
    ``onTimeout``, and what an invalid configuration holds.

    Launch: ABANDON, never put an unverified instance in service.

    Terminate, under the group's default policy (``terminate``): CONTINUE. The instance goes
    either way, and CONTINUE lets the group's other terminate hooks still run.

    Terminate under ``TerminateHookAbandon: retain``: ABANDON, so the instance is retained for an
    operator. The group's owner chose retain because a shutdown that was not seen to finish needs
    a human; a check that failed, a drain that did not end in time or a configuration that could
    not be read is exactly that, and CONTINUE would terminate the instance the policy is there to
    keep. The hook's DefaultResult does not change this: it is what Auto Scaling does when nobody
    answers (it is often CONTINUE, set before the policy), not what the group's owner wants when
    the answer is "not verified".

    A root-volume replacement is not a termination (the instance comes back through the launch
    hooks, which verify it after the new volume): CONTINUE under either policy.
    """
    if transition is Transition.LAUNCHING:
        return LifecycleResult.ABANDON
    if on_abandon is OnAbandon.RETAIN and not replaces_root_volume:
        return LifecycleResult.ABANDON
    return LifecycleResult.CONTINUE


def allowed_results(transition: Transition) -> tuple[LifecycleResult, ...]:
    """The results ``onFailure`` / ``onTimeout`` may name.

    Launch: ABANDON only. Only passing checks put a launching instance in service: not a failure,
    not a timeout.
    """
    if transition is Transition.LAUNCHING:
        return (LifecycleResult.ABANDON,)
    return (LifecycleResult.CONTINUE, LifecycleResult.ABANDON)


def block_for(action: LifecycleAction) -> str | None:
    """The metadata block that applies to ``action`` instead of the top level, if any.

    ``replaceRootVolume`` for the terminate action of an instance refresh replacing root volumes
    (first: what happens to the instance matters more than where it is; only Auto Scaling's view,
    ``ReplacingRootVolume:Wait``, says so, while a launch's ``Action`` is the event's word alone,
    so a launch after a replacement is checked as any launch), ``warmPool`` for an action whose
    destination is the warm pool; None otherwise, and for a destination nobody knows (the top
    level is the configuration of the group's own instances: the one that checks the most).
    """
    if action.replaces_root_volume and action.transition is Transition.TERMINATING:
        return REPLACE_ROOT_VOLUME.name
    if action.into_warm_pool:
        return WARM_POOL.name
    return None


def read_config(
    metadata: str | None,
    transition: Transition,
    defaults: Defaults,
    checks_allowed: Mapping[str, ParamsValidator],
    *,
    action: LifecycleAction | None = None,
    on_abandon: OnAbandon = OnAbandon.TERMINATE,
    not_for_warm_pool: Collection[str] = (),
) -> ActionConfig:
    """Resolve the action's configuration, or raise :class:`InvalidConfig`.

    ``checks_allowed`` names the checks that may run for this transition, each with its
    parameter validation: every check's parameters are checked here, before the first round.
    ``action`` chooses the block that applies (:func:`block_for`; without it, the top level);
    ``on_abandon`` (the group's policy) the safe result; ``not_for_warm_pool`` names the checks a
    ``warmPool`` block may not name (they would put a pool instance in service: see
    :attr:`asg_lifecycle.checks.base.Check.for_warm_pool`).

    The whole metadata is validated, every block too, whichever applies to this action: a
    hook's configuration is valid or not, not valid for some of its actions only.
    """
    doc = _metadata_object(metadata)
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise InvalidConfig(f"unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
    if transition is Transition.LAUNCHING and REPLACE_ROOT_VOLUME.name in doc:
        raise InvalidConfig(
            f"{REPLACE_ROOT_VOLUME.name} applies to terminate hooks only: the launch after a "
            "root-volume replacement runs the launch hook's top-level checks"
        )
    top = {key: value for key, value in doc.items() if key in _LEAF_KEYS}
    replaces_root_volume = action is not None and action.replaces_root_volume
    safe = safe_result(transition, on_abandon, replaces_root_volume=replaces_root_volume)
    resolve = _Resolver(transition, defaults, checks_allowed, safe)
    config = resolve(top, None)
    chosen = block_for(action) if action is not None else None
    for key in BLOCK_KEYS:
        if key.name not in doc:
            continue
        block = _block(doc[key.name], key.name)
        if key is WARM_POOL:
            _not_for_warm_pool(block, not_for_warm_pool)
        resolved = resolve({**top, **block}, key.name)
        if key.name == chosen:
            config = resolved
    return config


@dataclass(frozen=True, slots=True)
class _Resolver:
    """Resolves one layer (the top level, or a block over it) against the defaults."""

    transition: Transition
    defaults: Defaults
    checks_allowed: Mapping[str, ParamsValidator]
    safe: LifecycleResult

    def __call__(self, layer: Mapping[str, Any], block: str | None) -> ActionConfig:
        """``layer``: the keys in force (a block's over the top level's). The inherited keys
        were read at the top level first, so an error here is the block's own: it is named."""
        at = f"{block}." if block else ""
        launching = self.transition is Transition.LAUNCHING
        defaults = self.defaults
        default_checks = defaults.launch_checks if launching else defaults.terminate_checks
        raw_checks = layer.get(CHECKS.name, list(default_checks))
        checks = tuple(
            _check_spec(item, i, self.checks_allowed, at)
            for i, item in enumerate(_list(raw_checks, at))
        )
        if not checks:
            raise InvalidConfig(f"{at}checks: at least one check is required")
        max_wait_default = defaults.launch_max_wait if launching else defaults.terminate_max_wait
        poll = _bounded(layer, POLL_SECONDS.name, defaults.poll_seconds, POLL_BOUNDS, at)
        max_poll = defaults.launch_max_poll if launching else defaults.terminate_max_poll
        if MAX_POLL_SECONDS.name in layer:  # at most pollSeconds: no back-off, as documented
            max_poll = _bounded(layer, MAX_POLL_SECONDS.name, poll, POLL_BOUNDS, at)
        return ActionConfig(
            checks=checks,
            poll_seconds=poll,
            max_poll_seconds=max(poll, max_poll),
            waiting_notice_seconds=defaults.waiting_notice_seconds,
            max_wait_seconds=_bounded(
                layer, MAX_WAIT_SECONDS.name, max_wait_default, MAX_WAIT_BOUNDS, at
            ),
            on_failure=_result(layer, ON_FAILURE.name, self.safe, self.transition, at),
            on_timeout=_result(layer, ON_TIMEOUT.name, self.safe, self.transition, at),
            block=block,
        )


def _block(value: Any, name: str) -> dict[str, Any]:
    """A block's own keys: an object of top-level keys, no block in it."""
    if not isinstance(value, dict):
        raise InvalidConfig(f"{name} must be an object of the keys {sorted(_LEAF_KEYS)}")
    unknown = sorted(set(value) - _LEAF_KEYS)
    if unknown:
        raise InvalidConfig(
            f"{name}: unknown key(s) {unknown}; a block takes {sorted(_LEAF_KEYS)}"
            " (no block inside a block)"
        )
    return value


def _not_for_warm_pool(block: Mapping[str, Any], names: Collection[str]) -> None:
    """A check a warmPool block names must be able to run for an instance going into the pool."""
    items = block.get(CHECKS.name)
    if not isinstance(items, list):
        return  # not a list: the block's resolution says so
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name in names:
            raise InvalidConfig(
                f"{WARM_POOL.name}.checks[{index}]: {name} cannot run for an instance going into"
                " the warm pool (it would put it in service); it runs when the instance leaves"
                " the pool"
            )


_BOM = "\ufeff"


def _metadata_object(metadata: str | None) -> dict[str, Any]:
    """The metadata's JSON object; ``{}`` for no metadata or plain text (someone else's).

    Read strictly, since what the JSON parser would let pass changes behaviour silently: a key
    given twice (the parser keeps the last: ``{"pollSeconds": 3600, "pollSeconds": 5}`` polls
    every 5 s), at any level, is refused naming the key; so are a byte-order mark before the
    object (an editor's, on an object its author meant as configuration: skipping it as plain
    text would drop every setting) and NaN / Infinity (not JSON; no key takes them).
    """
    if metadata is None or not metadata.strip():
        return {}
    if len(metadata) > METADATA_MAX:
        raise InvalidConfig(f"NotificationMetadata is longer than {METADATA_MAX} characters")
    text = metadata.strip()
    if text.startswith(_BOM):
        if text.lstrip(_BOM).lstrip().startswith("{"):
            raise InvalidConfig(
                "NotificationMetadata starts with a byte-order mark (U+FEFF) before its JSON"
                " object: save it without the BOM"
            )
        return {}  # plain text after a BOM is still someone else's
    if not text.startswith("{"):
        return {}  # plain-text metadata belongs to someone else
    try:
        doc = json.loads(
            text, object_pairs_hook=_object_without_duplicates, parse_constant=_no_constant
        )
    except json.JSONDecodeError as exc:
        raise InvalidConfig(
            f"NotificationMetadata is not valid JSON: {exc.msg} at {exc.pos}"
        ) from exc
    except RecursionError as exc:
        raise InvalidConfig("NotificationMetadata is nested too deeply") from exc
    if not isinstance(doc, dict):
        raise InvalidConfig("NotificationMetadata must be a JSON object")
    return doc


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object (any level: the top, a block, a check's params), each key once."""
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise InvalidConfig(
                f"NotificationMetadata: duplicate key {key[:64]!r} in one object (JSON readers"
                " disagree on which value wins): give it once"
            )
        doc[key] = value
    return doc


def _no_constant(name: str) -> Any:
    raise InvalidConfig(f"NotificationMetadata: {name} is not a JSON value")


def _list(value: Any, at: str = "") -> list[Any]:
    if not isinstance(value, list):
        raise InvalidConfig(f"{at}checks must be a list of check names or {{name, params}} objects")
    return value


def _check_spec(
    item: Any, index: int, allowed: Mapping[str, ParamsValidator], at: str = ""
) -> CheckSpec:
    where = f"{at}checks[{index}]"
    name: Any
    params: Any
    if isinstance(item, str):
        name, params = item, {}
    elif isinstance(item, dict):
        extra = sorted(set(item) - {"name", "params"})
        if extra:
            raise InvalidConfig(f"{where}: unknown key(s) {extra}")
        name, params = item.get("name"), item.get("params", {})
        if not isinstance(params, dict):
            raise InvalidConfig(f"{where}.params must be an object")
    else:
        raise InvalidConfig(f"{where} must be a name or an object")
    if not isinstance(name, str) or name not in allowed:
        raise InvalidConfig(
            f"{where}: unknown check {str(name)[:64]!r} for this transition;"
            f" known: {sorted(allowed)}"
        )
    try:
        resolved = allowed[name](params)
    except InvalidParams as exc:
        raise InvalidConfig(f"{where} ({name}).params: {exc}") from exc
    return CheckSpec(name, resolved)


def _bounded(
    doc: Mapping[str, Any], key: str, default: int, bounds: tuple[int, int], at: str = ""
) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(f"{at}{key} must be a whole number of seconds")
    low, high = bounds
    if not low <= value <= high:
        raise InvalidConfig(f"{at}{key} must be between {low} and {high} seconds, got {value}")
    return value


def _result(
    doc: Mapping[str, Any],
    key: str,
    default: LifecycleResult,
    transition: Transition,
    at: str = "",
) -> LifecycleResult:
    value = doc.get(key, default.value)
    try:
        result = LifecycleResult(value)
    except ValueError as exc:
        raise InvalidConfig(
            f"{at}{key} must be CONTINUE or ABANDON, got {str(value)[:32]!r}"
        ) from exc
    allowed = allowed_results(transition)
    if result not in allowed:
        names = " or ".join(r.value for r in allowed)
        raise InvalidConfig(f"{at}{key} must be {names} for a {transition.short} hook")
    return result


def _int_env(env: Mapping[str, str], key: str, default: int, bounds: tuple[int, int]) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return _bounded({key: int(raw)}, key, default, bounds)
    except ValueError as exc:
        raise InvalidConfig(f"environment {key}={raw[:32]!r}: {exc}") from exc
