"""Scenarios: a group, its hooks, how its instances behave, and what scaling happens when.

A scenario is a JSON document (built-in ones live in ``scenarios/``; any file path works too):

    {
      "description": "...",
      "parameters": {"DefaultPollSeconds": "30"},          # template.yaml parameters
      "group": {"name": "web", "maxSize": 10, "targetGroup": {"deregistrationDelay": 300}},
      "hooks": [{"name": "web-launch", "transition": "launch", "heartbeatTimeout": 300,
                 "defaultResult": "ABANDON", "metadata": {"maxWaitSeconds": 900}}],
      "instances": [{"readyAfter": 120}, {"readyAfter": null}],   # by launch order
      "defaultInstance": {"readyAfter": 90},
      "steps": [{"at": 0, "desired": 3}, {"at": 3600, "desired": 1}],
      "expect": {"launch": {"CONTINUE": 3, "ABANDON": 1}, "terminate": {"CONTINUE": 2}},
      "horizon": 176400                                   # virtual seconds after the last step
    }

``readyAfter`` is seconds from launch until EC2 status checks pass, the instance answers its
target groups' health checks and its SSM agent is online (null: never); ``drainSeconds`` overrides
how long a terminating instance stays ``draining`` in its target groups; ``command`` says how SSM
commands run on it: ``{"seconds": 20, "exitCode": 0, "output": "ok"}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_emulator.fleet import InstanceBehaviour

BUILT_IN = Path(__file__).resolve().parent / "scenarios"
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
    hooks = [_hook(h, i) for i, h in enumerate(doc.get("hooks") or [])]
    if not hooks:
        raise InvalidScenario("hooks: at least one lifecycle hook is needed")
    steps = sorted((_step(s, i) for i, s in enumerate(doc.get("steps") or [])), key=lambda s: s.at)
    if not steps:
        raise InvalidScenario("steps: at least one scaling step is needed")
    return Scenario(
        name=name,
        description=str(doc.get("description", "")),
        parameters={k: str(v) for k, v in (doc.get("parameters") or {}).items()},
        group_name=str(group.get("name", "web")),
        max_size=int(group.get("maxSize", 10)),
        target_group=group.get("targetGroup"),
        warm_pool=group.get("warmPool"),
        hooks=hooks,
        instances=[_behaviour(b) for b in doc.get("instances") or []],
        default_instance=_behaviour(doc.get("defaultInstance") or {}),
        steps=steps,
        expect=doc.get("expect") or {},
        horizon=float(doc.get("horizon", 176_400)),
    )


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
    if not isinstance(raw, dict) or "at" not in raw:
        raise InvalidScenario(f"steps[{index}]: needs 'at' (seconds) and 'desired' or 'terminate'")
    return Step(
        at=float(raw["at"]),
        desired=None if raw.get("desired") is None else int(raw["desired"]),
        terminate=[int(i) for i in raw.get("terminate", [])],
    )


def _behaviour(raw: Any) -> InstanceBehaviour:
    if not isinstance(raw, dict):
        raise InvalidScenario('an instance behaviour is an object like {"readyAfter": 90}')
    ready = raw.get("readyAfter", 90)
    drain = raw.get("drainSeconds")
    command = raw.get("command", {})
    if not isinstance(command, dict):
        raise InvalidScenario('"command" is an object like {"seconds": 20, "exitCode": 0}')
    return InstanceBehaviour(
        ready_after=None if ready is None else float(ready),
        impaired=bool(raw.get("impaired", ready is None)),
        drain_seconds=None if drain is None else float(drain),
        command_seconds=float(command.get("seconds", 20)),
        command_exit=int(command.get("exitCode", 0)),
        command_output=str(command.get("output", "ok")),
    )
