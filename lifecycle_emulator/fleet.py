"""How the emulated instances and load balancers behave over virtual time.

moto reports every running instance's status checks ``ok`` at once and keeps a terminated target
``draining`` forever. Real fleets do neither: status checks start ``initializing`` and pass a few
minutes after launch (or never, for a broken instance), and a deregistered target drains for the
target group's deregistration delay. Scenarios choose each instance's behaviour here.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lifecycle_emulator.clock import VirtualClock


@dataclass(frozen=True)
class InstanceBehaviour:
    """``ready_after``: seconds after launch until both status checks are ``ok``; None = never."""

    ready_after: float | None = 90.0
    impaired: bool = False  # while not ready: ``impaired`` instead of ``initializing``
    drain_seconds: float | None = None  # overrides the target group's deregistration delay


HEALTHY = InstanceBehaviour()
NEVER_READY = InstanceBehaviour(ready_after=None, impaired=True)


class Fleet:
    """Assigns a behaviour to each instance the first time EC2 or ELB is asked about it."""

    def __init__(
        self,
        clock: VirtualClock,
        behaviours: Iterator[InstanceBehaviour] | Callable[[int], InstanceBehaviour] | None = None,
    ) -> None:
        self.clock = clock
        if behaviours is None:
            behaviours = itertools.repeat(HEALTHY)
        self._next: Callable[[int], InstanceBehaviour] = (
            behaviours if callable(behaviours) else functools.partial(_next_of, behaviours)
        )
        self.launched_at: dict[str, float] = {}
        self.behaviour: dict[str, InstanceBehaviour] = {}
        self.deregistered_at: dict[tuple[str, str], float] = {}
        self._undo: list[Callable[[], None]] = []

    def adopt(self, instance_id: str) -> InstanceBehaviour:
        """Record the instance's launch (now, on first sight) and its behaviour."""
        if instance_id not in self.behaviour:
            self.launched_at[instance_id] = self.clock.time()
            self.behaviour[instance_id] = self._next(len(self.behaviour))
        return self.behaviour[instance_id]

    def set_behaviour(self, instance_id: str, behaviour: InstanceBehaviour) -> None:
        self.adopt(instance_id)
        self.behaviour[instance_id] = behaviour

    def is_ready(self, instance_id: str) -> bool:
        behaviour = self.adopt(instance_id)
        if behaviour.ready_after is None:
            return False
        return self.clock.time() >= self.launched_at[instance_id] + behaviour.ready_after

    # --- patches ------------------------------------------------------------------------------
    def install(self) -> None:
        from moto.ec2.models.instances import Instance, InstanceBackend  # noqa: PLC0415
        from moto.elbv2.models import ELBv2Backend, FakeTargetGroup  # noqa: PLC0415

        fleet = self

        def status(instance: Any) -> dict[str, Any]:
            if instance.state_code != 16:  # not running
                return {"Status": "not-applicable"}
            if fleet.is_ready(instance.id):
                return {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]}
            impaired = fleet.behaviour[instance.id].impaired
            name = "impaired" if impaired else "initializing"
            detail = "failed" if impaired else "initializing"
            return {"Status": name, "Details": [{"Name": "reachability", "Status": detail}]}

        original_run: Any = InstanceBackend.run_instances

        def run_instances(backend: Any, *args: Any, **kwargs: Any) -> Any:
            """Behaviours go to instances in launch order, whether or not a hook sees them."""
            reservation = original_run(backend, *args, **kwargs)
            for instance in reservation.instances:
                fleet.adopt(instance.id)
            return reservation

        original_deregister = FakeTargetGroup.deregister
        original_terminated = FakeTargetGroup.deregister_terminated_instances
        original_health = FakeTargetGroup.health_for

        def deregister(group: Any, targets: list[dict[str, Any]]) -> None:
            original_deregister(group, targets)
            for target in targets:
                fleet.deregistered_at[(group.arn, target["Id"])] = fleet.clock.time()

        def deregister_terminated(group: Any, instance_ids: list[str]) -> None:
            for instance_id in instance_ids:
                if instance_id in group.targets:
                    fleet.deregistered_at.setdefault((group.arn, instance_id), fleet.clock.time())
            original_terminated(group, instance_ids)

        def health_for(group: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
            health = original_health(group, target, ec2_backend)
            since = fleet.deregistered_at.get((group.arn, target["Id"]))
            if since is None or target["Id"] in group.targets:
                return health
            delay = fleet.drain_seconds(group, target["Id"])
            draining = fleet.clock.time() < since + delay
            health.status = "draining" if draining else "unused"
            health.reason = (
                "Target.DeregistrationInProgress" if draining else "Target.NotRegistered"
            )
            health.description = (
                "Target deregistration is in progress"
                if draining
                else "Target is not registered to the target group"
            )
            return health

        original_describe = ELBv2Backend.describe_target_health

        def describe_target_health(
            backend: Any, target_group_arn: str, targets: list[dict[str, Any]]
        ) -> list[Any]:
            # AWS lists draining targets too when no target is named; moto only registered ones.
            health = original_describe(backend, target_group_arn, targets)
            if targets:
                return health
            group = backend.target_groups[target_group_arn]
            draining = [
                health_for(group, {"Id": instance_id}, backend.ec2_backend)
                for (arn, instance_id) in fleet.deregistered_at
                if arn == target_group_arn and instance_id not in group.targets
            ]
            return [*health, *(h for h in draining if h.status == "draining")]

        for owner, attr, value in (
            (ELBv2Backend, "describe_target_health", describe_target_health),
            (InstanceBackend, "run_instances", run_instances),
            (Instance, "instance_status", property(status)),
            (Instance, "system_status", property(status)),
            (FakeTargetGroup, "deregister", deregister),
            (FakeTargetGroup, "deregister_terminated_instances", deregister_terminated),
            (FakeTargetGroup, "health_for", health_for),
        ):
            saved = owner.__dict__[attr]
            setattr(owner, attr, value)
            self._undo.append(functools.partial(setattr, owner, attr, saved))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def drain_seconds(self, group: Any, instance_id: str) -> float:
        behaviour = self.behaviour.get(instance_id)
        if behaviour is not None and behaviour.drain_seconds is not None:
            return behaviour.drain_seconds
        attributes = getattr(group, "attributes", {}) or {}
        return float(attributes.get("deregistration_delay.timeout_seconds", 300))


def _next_of(behaviours: Iterator[InstanceBehaviour], _index: int) -> InstanceBehaviour:
    """The next scripted behaviour; healthy once the script runs out."""
    return next(behaviours, HEALTHY)
