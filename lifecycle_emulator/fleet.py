"""How the emulated instances and load balancers behave over virtual time.

moto reports every running instance's status checks ``ok`` at once, every registered target
``healthy`` at once, every SSM command ``Success`` at once, and keeps a terminated target
``draining`` forever. Real fleets do none of that: status checks start ``initializing`` and pass a
few minutes after launch (or never, for a broken instance); a target is ``initial`` until the
application answers its health check (``unhealthy`` if it never does); the SSM agent registers once
the instance has booted and a command runs for a while and exits with a code; a deregistered target
drains for the target group's deregistration delay. Scenarios choose each instance's behaviour here.
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
    # overrides the target group's deregistration delay for this target (capped at 3600 s)
    drain_seconds: float | None = None
    command_seconds: float = 20.0  # how long an SSM command runs on the instance
    command_exit: int = 0  # its exit code (non-zero: Failed)
    command_output: str = "ok"  # its standard output (standard error when it fails)
    # Its user data signals readiness: once ready (``ready_after`` after each boot) it sends
    # PutEvents on the default bus: ``service_events.ready_signal_entry`` (source
    # "asg-lifecycle-orchestrator", detail-type "Run checks now", detail {"instance-id": id}).
    signals_ready: bool = False


HEALTHY = InstanceBehaviour()
MAX_DRAIN_SECONDS = 3600.0  # ELB: deregistration_delay.timeout_seconds is 0-3600
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
        # When EC2 last (re)started the instance: its launch, a start after a warm pool kept it
        # stopped, a reboot (root volume replaced). Status checks start over from there.
        self.booted_at: dict[str, float] = {}
        self.behaviour: dict[str, InstanceBehaviour] = {}
        self.deregistered_at: dict[tuple[str, str], float] = {}
        self.ready_signals: list[tuple[float, str]] = []  # (when, instance id) sent
        # How an instance's PutEvents reaches EventBridge: (entry, account, region); set by
        # service_sources.ServiceEvents (delivered like the services' events).
        self.put_events: Callable[[dict[str, str], str, str], None] | None = None
        self._undo: list[Callable[[], None]] = []

    def adopt(self, instance_id: str) -> InstanceBehaviour:
        """Record the instance's launch (now, on first sight) and its behaviour."""
        if instance_id not in self.behaviour:
            self.launched_at[instance_id] = self.clock.time()
            self.booted_at[instance_id] = self.clock.time()
            self.behaviour[instance_id] = self._next(len(self.behaviour))
        return self.behaviour[instance_id]

    def set_behaviour(self, instance_id: str, behaviour: InstanceBehaviour) -> None:
        self.adopt(instance_id)
        self.behaviour[instance_id] = behaviour

    def is_ready(self, instance_id: str) -> bool:
        behaviour = self.adopt(instance_id)
        if behaviour.ready_after is None:
            return False
        return self.clock.time() >= self.booted_at[instance_id] + behaviour.ready_after

    def booted(self, instance_id: str) -> None:
        """EC2 started or rebooted the instance: ``initializing`` again for ``ready_after``."""
        self.adopt(instance_id)
        self.booted_at[instance_id] = self.clock.time()

    def _signal_when_ready(self, instance: Any) -> None:
        """An instance whose user data signals readiness sends its event once ready, if it is
        still running then and has not booted again meanwhile."""
        behaviour = self.behaviour[instance.id]
        if not behaviour.signals_ready or behaviour.ready_after is None:
            return
        boot = self.booted_at[instance.id]
        backend = instance.ec2_backend

        def signal() -> None:
            from lifecycle_emulator.service_events import ready_signal_entry  # noqa: PLC0415

            if self.booted_at.get(instance.id) != boot or instance.state_code != 16:
                return
            entry = ready_signal_entry(instance.id)
            if self.put_events is not None:
                self.put_events(entry, backend.account_id, backend.region_name)
            else:  # no emulated EventBridge delivery installed: moto's own PutEvents
                from moto.events.models import events_backends  # noqa: PLC0415

                events = events_backends[backend.account_id][backend.region_name]
                events.put_events([dict(entry, Time=self.clock.time())])
            self.ready_signals.append((self.clock.time(), instance.id))

        self.clock.call_at(boot + behaviour.ready_after, signal)

    # --- patches ------------------------------------------------------------------------------
    def install(self) -> None:
        self._freeze_ecs_tasks()
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
                fleet._signal_when_ready(instance)
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
            if target["Id"] in group.targets:
                if health.status == "healthy" and not fleet.is_ready(target["Id"]):
                    # the application is not answering its health check yet (or ever)
                    broken = fleet.behaviour[target["Id"]].ready_after is None
                    health.status = "unhealthy" if broken else "initial"
                    health.reason = (
                        "Target.FailedHealthChecks" if broken else "Elb.RegistrationInProgress"
                    )
                    health.description = (
                        "Health checks failed" if broken else "Target registration is in progress"
                    )
                return health
            if since is None:
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
            *self._ssm_patches(),
            *self._boot_patches(),
            (ELBv2Backend, "describe_target_health", describe_target_health),
            (InstanceBackend, "run_instances", run_instances),
            (Instance, "instance_status", property(status)),
            (Instance, "system_status", property(status)),
            (FakeTargetGroup, "deregister", deregister),
            (FakeTargetGroup, "deregister_terminated_instances", deregister_terminated),
            (FakeTargetGroup, "health_for", health_for),
            # How long a target drains here: Auto Scaling waits for it before Terminating:Wait.
            (FakeTargetGroup, "drain_seconds_for", _drain_method(fleet)),
        ):
            self._patch(owner, attr, value)

    def _patch(self, owner: Any, attr: str, value: Any) -> None:
        if attr in owner.__dict__:
            self._undo.append(functools.partial(setattr, owner, attr, owner.__dict__[attr]))
        else:
            self._undo.append(functools.partial(delattr, owner, attr))
        setattr(owner, attr, value)

    def _boot_patches(self) -> list[tuple[Any, str, Any]]:
        """EC2 starting a stopped instance (leaving a Stopped warm pool) or rebooting it (its
        root volume replaced): it boots again, status checks ``initializing`` until ready."""
        from moto.ec2.models.instances import Instance  # noqa: PLC0415

        original_start, original_reboot = Instance.start, Instance.reboot

        def start(instance: Any) -> Any:
            previous = original_start(instance)
            if previous.code != 16:  # it was not running
                self.booted(instance.id)
                self._signal_when_ready(instance)
            return previous

        def reboot(instance: Any) -> None:
            original_reboot(instance)
            self.booted(instance.id)
            self._signal_when_ready(instance)

        return [(Instance, "start", start), (Instance, "reboot", reboot)]

    def _ssm_patches(self) -> list[tuple[Any, str, Any]]:
        """Run Command: the agent is online once the instance is ready; commands take time."""
        from moto.ssm.exceptions import SSMException  # noqa: PLC0415
        from moto.ssm.models import Command, SimpleSystemManagerBackend  # noqa: PLC0415

        original_send = SimpleSystemManagerBackend.send_command
        original_invocation = Command.get_invocation
        sent_at: dict[str, float] = {}

        def send_command(backend: Any, *args: Any, **kwargs: Any) -> Any:
            """SendCommand to an instance whose SSM agent is not online yet: InvalidInstanceId."""
            instance_ids = kwargs.get("instance_ids") or (args[3] if len(args) > 3 else [])
            offline = [i for i in instance_ids if i in self.behaviour and not self.is_ready(i)]
            if offline:
                raise SSMException(
                    "InvalidInstanceId",
                    f"Instances [[{', '.join(offline)}]] not in a valid state for account "
                    f"{backend.account_id}",
                )
            command = original_send(backend, *args, **kwargs)
            sent_at[command.command_id] = self.clock.time()
            return command

        def get_invocation(command: Any, instance_id: str, plugin_name: str | None) -> Any:
            invocation = dict(original_invocation(command, instance_id, plugin_name))
            behaviour = self.behaviour.get(instance_id)
            started = sent_at.get(command.command_id)
            if behaviour is None or started is None:
                return invocation
            if self.clock.time() < started + behaviour.command_seconds:
                status, code, out, err = "InProgress", -1, "", ""
            elif behaviour.command_exit == 0:
                status, code, out, err = "Success", 0, behaviour.command_output, ""
            else:
                status, code, out, err = (
                    "Failed",
                    behaviour.command_exit,
                    "",
                    behaviour.command_output,
                )
            invocation.update(
                Status=status,
                StatusDetails=status,
                ResponseCode=code,
                StandardOutputContent=out,
                StandardErrorContent=err,
            )
            return invocation

        return [
            (SimpleSystemManagerBackend, "send_command", send_command),
            (Command, "get_invocation", get_invocation),
        ]

    def _freeze_ecs_tasks(self) -> None:
        """moto moves an ECS task one status down each time it is described; real tasks run
        until they are stopped (or exit)."""
        from moto.moto_api import state_manager  # noqa: PLC0415

        state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
        self._undo.append(functools.partial(state_manager.unset_transition, "ecs::task"))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def drain_seconds(self, group: Any, instance_id: str) -> float:
        """The target's drain: its behaviour's ``drain_seconds`` or the target group's
        deregistration delay, at most 3600 s (the longest delay ELB allows)."""
        behaviour = self.behaviour.get(instance_id)
        if behaviour is not None and behaviour.drain_seconds is not None:
            return min(behaviour.drain_seconds, MAX_DRAIN_SECONDS)
        attributes = getattr(group, "attributes", {}) or {}
        delay = float(attributes.get("deregistration_delay.timeout_seconds", 300))
        return min(delay, MAX_DRAIN_SECONDS)


def _drain_method(fleet: Fleet) -> Callable[[Any, str], float]:
    """``target_group.drain_seconds_for(instance_id)``: how long that target drains here."""

    def drain_seconds_for(group: Any, instance_id: str) -> float:
        return fleet.drain_seconds(group, instance_id)

    return drain_seconds_for


def _next_of(behaviours: Iterator[InstanceBehaviour], _index: int) -> InstanceBehaviour:
    """The next scripted behaviour; healthy once the script runs out."""
    return next(behaviours, HEALTHY)
