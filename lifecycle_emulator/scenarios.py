"""Scenarios: a group, its hooks, how its instances behave, and what scaling happens when.

A scenario is a JSON document (built-in ones live in ``scenarios/``; any file path works too):

    {
      "description": "...",
      "parameters": {"DefaultPollSeconds": "30"},          # template.yaml parameters
      "group": {"name": "web", "maxSize": 10, "targetGroup": {"deregistrationDelay": 300},
                "instanceLifecyclePolicy": "retain"},            # optional: retain | terminate
      "hooks": [{"name": "web-launch", "transition": "launch", "heartbeatTimeout": 300,
                 "defaultResult": "ABANDON", "metadata": {"maxWaitSeconds": 900}}],
      "instances": [{"readyAfter": 120}, {"readyAfter": null}],   # by launch order
      "defaultInstance": {"readyAfter": 90},
      "steps": [{"at": 0, "desired": 3}, {"at": 3600, "desired": 1},
                {"at": 4000, "terminate": [0], "ec2Terminate": [1], "unhealthy": [2]}],
      "expect": {"launch": {"CONTINUE": 3, "ABANDON": 1}, "terminate": {"CONTINUE": 2}},
      "horizon": 176400                                   # virtual seconds after the last step
    }

``readyAfter`` is seconds from launch until EC2 status checks pass, the instance answers its
target groups' health checks and its SSM agent is online (null: never); ``drainSeconds`` overrides
how long a terminating instance stays ``draining`` in its target groups (0-3600, as ELB's
deregistration delay; Auto Scaling waits it out before ``Terminating:Wait``); ``command`` says how
SSM commands run on it: ``{"seconds": 20, "exitCode": 0, "output": "ok"}``; ``signalsReady: true``
says its user data sends a custom event with PutEvents once it is ready (source
"asg-lifecycle-orchestrator", detail-type "Run checks now", detail ``{"instance-id": ...}``).

A step changes the desired capacity and/or ends instances, named by launch-order index:
``terminate`` (TerminateInstanceInAutoScalingGroup, decrementing the desired capacity),
``ec2Terminate`` (EC2 TerminateInstances: the group replaces the instance through its terminate
hooks) and ``unhealthy`` (SetInstanceHealth Unhealthy: replaced the same way).
``instanceLifecyclePolicy`` is the group's RetentionTriggers.TerminateHookAbandon.

Warm pools and instance refresh: ``group.warmPool`` is PutWarmPool's parameters
(``{"MinSize": 1, "MaxGroupPreparedCapacity": 2, "PoolState": "Stopped", "InstanceReusePolicy":
{"ReuseOnScaleIn": true}}``); a step may put new ones (``"warmPool": {...}``, the pool shrinks or
grows), delete the pool (``"deleteWarmPool": true``, or ``"force"`` for ForceDelete) or start an
instance refresh (``"instanceRefresh": {"strategy": "ReplaceRootVolume"}``: the only strategy
emulated; the group is then created with the mixed instances policy that strategy needs, and
may have no warm pool).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_emulator.fleet import InstanceBehaviour

BUILT_IN = Path(__file__).resolve().parent / "scenarios"
MAX_DELAY = 3600  # ELB deregistration delay: 0-3600 s
_POLICIES = ("retain", "terminate")
_ENDINGS = ("terminate", "ec2Terminate", "unhealthy")
_POOL_STEPS = ("warmPool", "deleteWarmPool", "instanceRefresh")
_POOL_KEYS = ("MinSize", "MaxGroupPreparedCapacity", "PoolState", "InstanceReusePolicy")
_POOL_STATES = ("Stopped", "Running", "Hibernated")
_STRATEGIES = ("ReplaceRootVolume",)  # StartInstanceRefresh strategies the emulator runs
_TRANSITIONS = {
    "launch": "autoscaling:EC2_INSTANCE_LAUNCHING",
    "terminate": "autoscaling:EC2_INSTANCE_TERMINATING",
}


class InvalidScenario(ValueError):
    """The scenario document cannot be run; the message says which field."""


@dataclass(frozen=True)
class Hook:
    name: str
    transition: str
    heartbeat_timeout: int = 3600
    default_result: str = "ABANDON"
    metadata: str | None = None


@dataclass(frozen=True)
class Step:
    at: float
    desired: int | None = None
    terminate: list[int] = field(default_factory=list)  # launch-order indexes to terminate
    ec2_terminate: list[int] = field(default_factory=list)  # ... to terminate through EC2
    unhealthy: list[int] = field(default_factory=list)  # ... to mark Unhealthy
    warm_pool: dict[str, Any] | None = None  # PutWarmPool parameters
    delete_warm_pool: str | None = None  # "wait" | "force" (DeleteWarmPool ForceDelete)
    instance_refresh: dict[str, Any] | None = None  # {"strategy": "ReplaceRootVolume"}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    parameters: dict[str, str]
    group_name: str
    max_size: int
    target_group: dict[str, Any] | None
    warm_pool: dict[str, Any] | None
    hooks: list[Hook]
    instances: list[InstanceBehaviour]
    default_instance: InstanceBehaviour
    steps: list[Step]
    expect: dict[str, dict[str, int]]
    horizon: float = 176_400.0  # seconds after the last step: 48 h global timeout + 1 h
    lifecycle_policy: str | None = None  # RetentionTriggers.TerminateHookAbandon

    @property
    def replaces_root_volumes(self) -> bool:
        """A step starts a ReplaceRootVolume refresh: the group needs a mixed instances policy."""
        return any(step.instance_refresh is not None for step in self.steps)

    def behaviour(self) -> Callable[[int], InstanceBehaviour]:
        """Behaviour by launch order; later instances get ``defaultInstance``."""
        return lambda i: self.instances[i] if i < len(self.instances) else self.default_instance


def available() -> dict[str, str]:
    """Built-in scenario names and their descriptions."""
    return {
        path.stem: json.loads(path.read_text()).get("description", "")
        for path in sorted(BUILT_IN.glob("*.json"))
    }


def load(name_or_path: str) -> Scenario:
    path = Path(name_or_path)
    if not path.exists():
        path = BUILT_IN / f"{name_or_path}.json"
    if not path.exists():
        raise InvalidScenario(
            f"no scenario {name_or_path!r}: give a file or one of {sorted(available())}"
        )
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidScenario(f"{path}: not valid JSON: {exc}") from exc
    return parse(doc, path.stem)


def parse(doc: Any, name: str = "scenario") -> Scenario:
    if not isinstance(doc, dict):
        raise InvalidScenario("a scenario is a JSON object")
    group = doc.get("group") or {}
    if not isinstance(group, dict):
        raise InvalidScenario('group: an object like {"name": "web", "maxSize": 10}')
    hooks = [_hook(h, i) for i, h in enumerate(doc.get("hooks") or [])]
    if not hooks:
        raise InvalidScenario("hooks: at least one lifecycle hook is needed")
    steps = sorted((_step(s, i) for i, s in enumerate(doc.get("steps") or [])), key=lambda s: s.at)
    if not steps:
        raise InvalidScenario("steps: at least one scaling step is needed")
    warm_pool = _warm_pool(group.get("warmPool"), "group.warmPool")
    if warm_pool is not None and any(s.instance_refresh for s in steps):
        raise InvalidScenario(
            "group.warmPool: an instance refresh with Strategy ReplaceRootVolume cannot run on a "
            "group that has a warm pool (Replace root volumes during instance refresh, "
            "Limitations)"
        )
    return Scenario(
        name=name,
        description=str(doc.get("description", "")),
        parameters={k: str(v) for k, v in (doc.get("parameters") or {}).items()},
        group_name=str(group.get("name", "web")),
        max_size=int(group.get("maxSize", 10)),
        target_group=_target_group(group.get("targetGroup")),
        warm_pool=warm_pool,
        hooks=hooks,
        instances=[_behaviour(b) for b in doc.get("instances") or []],
        default_instance=_behaviour(doc.get("defaultInstance") or {}),
        steps=steps,
        expect=doc.get("expect") or {},
        horizon=float(doc.get("horizon", 176_400)),
        lifecycle_policy=_policy(group.get("instanceLifecyclePolicy")),
    )


def _policy(raw: Any) -> str | None:
    if raw is None or raw in _POLICIES:
        return None if raw is None else str(raw)
    raise InvalidScenario(
        f"group.instanceLifecyclePolicy: {raw!r} is not one of {list(_POLICIES)} "
        "(RetentionTriggers.TerminateHookAbandon)"
    )


def _target_group(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidScenario('group.targetGroup: an object like {"deregistrationDelay": 300}')
    delay = raw.get("deregistrationDelay", 300)
    if not _is_number(delay) or not 0 <= delay <= MAX_DELAY:
        raise InvalidScenario(
            f"group.targetGroup.deregistrationDelay: {delay!r} is not 0-{MAX_DELAY} seconds"
        )
    return raw


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _indexes(raw: Any, key: str, index: int) -> list[int]:
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise InvalidScenario(
            f"steps[{index}].{key}: a list of launch-order indexes (0 = the first instance "
            f"launched), not {values!r}"
        )
    return list(values)


def _hook(raw: Any, index: int) -> Hook:
    if not isinstance(raw, dict) or raw.get("transition") not in _TRANSITIONS:
        raise InvalidScenario(f"hooks[{index}]: needs a name and transition launch|terminate")
    metadata = raw.get("metadata")
    if metadata is not None and not isinstance(metadata, str):
        metadata = json.dumps(metadata, separators=(",", ":"))
    return Hook(
        name=str(raw.get("name", f"hook-{index}")),
        transition=_TRANSITIONS[raw["transition"]],
        heartbeat_timeout=int(raw.get("heartbeatTimeout", 3600)),
        default_result=str(raw.get("defaultResult", "ABANDON")),
        metadata=metadata,
    )


def _step(raw: Any, index: int) -> Step:
    if not isinstance(raw, dict) or "at" not in raw or not _is_number(raw["at"]):
        raise InvalidScenario(
            f"steps[{index}]: needs 'at' (seconds) and 'desired' or one of {list(_ENDINGS)}"
        )
    unknown = sorted(set(raw) - {"at", "desired", *_ENDINGS, *_POOL_STEPS})
    if unknown:
        raise InvalidScenario(
            f"steps[{index}]: unknown {unknown}; a step has 'at', 'desired', "
            f"{list(_ENDINGS + _POOL_STEPS)}"
        )
    return Step(
        at=float(raw["at"]),
        desired=None if raw.get("desired") is None else int(raw["desired"]),
        terminate=_indexes(raw, "terminate", index),
        ec2_terminate=_indexes(raw, "ec2Terminate", index),
        unhealthy=_indexes(raw, "unhealthy", index),
        warm_pool=_warm_pool(raw.get("warmPool"), f"steps[{index}].warmPool"),
        delete_warm_pool=_delete_warm_pool(raw.get("deleteWarmPool"), index),
        instance_refresh=_instance_refresh(raw.get("instanceRefresh"), index),
    )


def _warm_pool(raw: Any, where: str) -> dict[str, Any] | None:
    """PutWarmPool's parameters, checked against the API Reference's ranges."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidScenario(f'{where}: an object like {{"MinSize": 1, "PoolState": "Stopped"}}')
    unknown = sorted(set(raw) - set(_POOL_KEYS))
    if unknown:
        raise InvalidScenario(f"{where}: unknown {unknown}; PutWarmPool takes {list(_POOL_KEYS)}")
    size = raw.get("MinSize", 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidScenario(f"{where}.MinSize: {size!r} is not a whole number >= 0")
    prepared = raw.get("MaxGroupPreparedCapacity", -1)
    if not isinstance(prepared, int) or isinstance(prepared, bool) or prepared < -1:
        raise InvalidScenario(
            f"{where}.MaxGroupPreparedCapacity: {prepared!r} is not a whole number >= -1"
        )
    if raw.get("PoolState", "Stopped") not in _POOL_STATES:
        raise InvalidScenario(
            f"{where}.PoolState: {raw['PoolState']!r} is not one of {list(_POOL_STATES)}"
        )
    reuse = raw.get("InstanceReusePolicy", {})
    if (
        not isinstance(reuse, dict)
        or set(reuse) - {"ReuseOnScaleIn"}
        or not isinstance(reuse.get("ReuseOnScaleIn", False), bool)
    ):
        raise InvalidScenario(
            f'{where}.InstanceReusePolicy: {reuse!r} is not like {{"ReuseOnScaleIn": true}}'
        )
    return dict(raw)


def _delete_warm_pool(raw: Any, index: int) -> str | None:
    if raw is None or raw is False:
        return None
    if raw is True or raw == "force":
        return "wait" if raw is True else "force"
    raise InvalidScenario(
        f'steps[{index}].deleteWarmPool: true (wait for the terminate hooks) or "force" '
        f"(ForceDelete), not {raw!r}"
    )


def _instance_refresh(raw: Any, index: int) -> dict[str, Any] | None:
    if raw is None:
        return None
    where = f"steps[{index}].instanceRefresh"
    if not isinstance(raw, dict) or set(raw) - {"strategy", "preferences"}:
        raise InvalidScenario(f'{where}: an object like {{"strategy": "ReplaceRootVolume"}}')
    if raw.get("strategy") not in _STRATEGIES:
        raise InvalidScenario(
            f"{where}.strategy: {raw.get('strategy')!r}; the emulator runs only "
            f"{list(_STRATEGIES)} (StartInstanceRefresh Strategy)"
        )
    if not isinstance(raw.get("preferences", {}), dict):
        raise InvalidScenario(f"{where}.preferences: StartInstanceRefresh Preferences, an object")
    return dict(raw)


def _behaviour(raw: Any) -> InstanceBehaviour:
    if not isinstance(raw, dict):
        raise InvalidScenario('an instance behaviour is an object like {"readyAfter": 90}')
    ready = raw.get("readyAfter", 90)
    drain = raw.get("drainSeconds")
    if drain is not None and (not _is_number(drain) or not 0 <= drain <= MAX_DELAY):
        raise InvalidScenario(
            f"drainSeconds: {drain!r} is not 0-{MAX_DELAY}: a target drains within its target "
            "group's deregistration delay, which ELB caps at 3600 seconds"
        )
    command = raw.get("command", {})
    if not isinstance(command, dict):
        raise InvalidScenario('"command" is an object like {"seconds": 20, "exitCode": 0}')
    signals = raw.get("signalsReady", False)
    if not isinstance(signals, bool):
        raise InvalidScenario(f"signalsReady: true or false, not {signals!r}")
    return InstanceBehaviour(
        ready_after=None if ready is None else float(ready),
        impaired=bool(raw.get("impaired", ready is None)),
        drain_seconds=None if drain is None else float(drain),
        command_seconds=float(command.get("seconds", 20)),
        command_exit=int(command.get("exitCode", 0)),
        command_output=str(command.get("output", "ok")),
        signals_ready=signals,
    )
