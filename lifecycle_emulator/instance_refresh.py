"""Instance refresh that replaces root volumes, as EC2 Auto Scaling runs it (moto has no
instance refresh at all: StartInstanceRefresh raises ``NotImplementedError``).

AWS pages (EC2 Auto Scaling User Guide unless named otherwise):

* "Replace root volumes during instance refresh": the instance is not terminated; it goes
  ``ReplacingRootVolume`` -> ``ReplacingRootVolume:Wait`` (terminate hooks) ->
  ``ReplacingRootVolume:Proceed`` -> ``RootVolumeReplaced``; "Use lifecycle hooks with replace root
  volume": a terminate hook pauses it at ``ReplacingRootVolume:Wait``, a launch hook "when it
  reaches the ``Pending:Wait`` state" after the replacement, and the notifications "contain an
  ``Action`` field with value ``ReplaceRootVolume``". Requirements: the group uses a mixed
  instances policy, the refresh's DesiredConfiguration has a mixed instances policy whose
  overrides all give an ``ImageId``; limitations: not for a group with a warm pool, and no warm
  pool may be added while such a refresh is active. "If root volume replacement fails for an
  instance, Auto Scaling marks that instance for termination and replaces it."
* "How lifecycle hooks work" (root volume replacement transitions): the instance is deregistered
  from its load balancer when it enters ``ReplacingRootVolume``; after the replacement it enters
  ``Pending``, ``Pending:Wait``, ``Pending:Proceed`` and ``InService``, registered again before.
* "Instance refresh example events": both lifecycle events carry Origin and Destination
  ``AutoScalingGroup`` and ``"Action": "ReplaceRootVolume"``.
* API Reference StartInstanceRefresh (``Strategy`` ``Rolling`` | ``ReplaceRootVolume``; error
  ``InstanceRefreshInProgress``), DescribeInstanceRefreshes (``Status``,
  ``PercentageComplete``, ``InstancesToUpdate``), PutWarmPool (``InstanceRefreshInProgress``).

Emulated plainly: one instance at a time (MinHealthyPercentage, InstanceWarmup, checkpoints,
skip matching, rollback and CancelInstanceRefresh are left out); the instances refreshed are
those ``InService`` when the refresh starts; the root volume is replaced by rebooting the EC2
instance (its status checks start over, see ``fleet.Fleet``), the image itself is not changed.
The ``Rolling`` strategy is not emulated (it is refused). Inferred where AWS is silent: ABANDON
of the terminate hook lets the replacement go on like CONTINUE (as for terminating instances);
ABANDON of the launch hook afterwards terminates and replaces the instance (the launch-hook rule)
and the refresh goes on with the next instance.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
from moto.core.responses import ActionResult

from lifecycle_emulator.lifecycle_events import LAUNCHING, TERMINATING
from lifecycle_emulator.warm_pool import deregister_from_target_groups

if TYPE_CHECKING:
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup, InstanceState
    from moto.autoscaling.responses import AutoScalingResponse

    from lifecycle_emulator.autoscaling import LifecycleActions

REPLACE_ROOT_VOLUME = "ReplaceRootVolume"
ACTIVE = frozenset({"Pending", "InProgress", "Cancelling"})
# While its root volume is replaced the instance stays in the group and counts toward capacity.
REPLACING_STATES = frozenset(
    {"ReplacingRootVolume", "ReplacingRootVolume:Wait", "ReplacingRootVolume:Proceed"}
)


class InstanceRefreshInProgress(AutoscalingClientError):
    code = "InstanceRefreshInProgress"

    def __init__(self) -> None:
        # API Reference StartInstanceRefresh / PutWarmPool, Errors.
        super().__init__(
            "The request failed because an active instance refresh or rollback for the "
            "specified Auto Scaling group was found."
        )


@dataclass
class Refresh:
    """One instance refresh and its progress (DescribeInstanceRefreshes)."""

    refresh_id: str
    account_id: str
    region: str
    group_name: str
    strategy: str
    started_at: float
    to_update: list[str]  # instance ids not started yet
    total: int
    preferences: dict[str, Any] = field(default_factory=dict)
    desired_configuration: dict[str, Any] = field(default_factory=dict)
    status: str = "InProgress"
    status_reason: str | None = None
    ended_at: float | None = None
    current: str | None = None  # the instance whose root volume is being replaced
    done: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def describe(self) -> dict[str, Any]:
        percentage = 100 if self.total == 0 else 100 * len(self.done) // self.total
        out: dict[str, Any] = {
            "InstanceRefreshId": self.refresh_id,
            "AutoScalingGroupName": self.group_name,
            "Status": self.status,
            "StartTime": datetime.fromtimestamp(self.started_at, tz=UTC),
            "PercentageComplete": percentage,
            "InstancesToUpdate": len(self.to_update) + (self.current is not None),
            "Strategy": self.strategy,
            "Preferences": self.preferences,
        }
        if self.desired_configuration:
            out["DesiredConfiguration"] = self.desired_configuration
        if self.status_reason:
            out["StatusReason"] = self.status_reason
        if self.ended_at is not None:
            out["EndTime"] = datetime.fromtimestamp(self.ended_at, tz=UTC)
        return out


class InstanceRefreshes:
    """StartInstanceRefresh / DescribeInstanceRefreshes for the ReplaceRootVolume strategy."""

    def __init__(self, emu: LifecycleActions) -> None:
        self.emu = emu
        self.refreshes: list[Refresh] = []

    def active(self, backend: AutoScalingBackend, group_name: str) -> Refresh | None:
        return next(
            (
                r
                for r in self.refreshes
                if r.active
                and (r.account_id, r.region) == (backend.account_id, backend.region_name)
                and r.group_name == group_name
            ),
            None,
        )

    # --- API --------------------------------------------------------------------------------------
    def api_start(self, resp: AutoScalingResponse) -> ActionResult:
        backend = resp.autoscaling_backend
        params = resp._get_params()
        name = str(params.get("AutoScalingGroupName") or "")
        strategy = params.get("Strategy") or "Rolling"
        with self.emu._lock:
            group = backend.autoscaling_groups.get(name)
            if group is None:
                raise ValidationError(
                    f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found"
                )
            if strategy != REPLACE_ROOT_VOLUME:
                raise ValidationError(
                    f"Strategy {strategy}: this emulator runs only Strategy=ReplaceRootVolume"
                )
            if self.active(backend, name) is not None:
                raise InstanceRefreshInProgress()
            desired = params.get("DesiredConfiguration") or {}
            _check_replace_root_volume(group, desired)
            refresh = Refresh(
                refresh_id=str(uuid.uuid4()),
                account_id=backend.account_id,
                region=backend.region_name,
                group_name=name,
                strategy=strategy,
                started_at=self.emu.clock.time(),
                to_update=[s.instance_id for s in group.active_instances()],
                total=len(group.active_instances()),
                preferences=params.get("Preferences") or {},
                desired_configuration=desired,
            )
            self.refreshes.append(refresh)
            self._next(refresh)
        return ActionResult({"InstanceRefreshId": refresh.refresh_id})

    def api_describe(self, resp: AutoScalingResponse) -> ActionResult:
        backend = resp.autoscaling_backend
        params = resp._get_params()
        name = params.get("AutoScalingGroupName")
        ids = params.get("InstanceRefreshIds") or []
        found = [
            r.describe()
            for r in reversed(self.refreshes)  # the most recent first
            if (r.account_id, r.region) == (backend.account_id, backend.region_name)
            and r.group_name == name
            and (not ids or r.refresh_id in ids)
        ]
        return ActionResult({"InstanceRefreshes": found})

    # --- one instance after the other -------------------------------------------------------------
    def _group(self, refresh: Refresh) -> FakeAutoScalingGroup | None:
        from moto.autoscaling.models import autoscaling_backends  # noqa: PLC0415

        backend = autoscaling_backends[refresh.account_id][refresh.region]
        return backend.autoscaling_groups.get(refresh.group_name)

    def _next(self, refresh: Refresh) -> None:
        refresh.current = None
        group = self._group(refresh)
        if group is None:
            self._end(refresh, "Cancelled", "The Auto Scaling group was deleted.")
            return
        while refresh.to_update:
            instance_id = refresh.to_update.pop(0)
            state = next(
                (s for s in group.active_instances() if s.instance_id == instance_id), None
            )
            if state is None:  # gone meanwhile (terminated, scaled in, ...): nothing to replace
                refresh.done.append(instance_id)
                continue
            refresh.current = instance_id
            self._begin(refresh, group, state)
            return
        self._end(refresh, "Successful", None)

    def _end(self, refresh: Refresh, status: str, reason: str | None) -> None:
        refresh.status, refresh.status_reason = status, reason
        refresh.ended_at = self.emu.clock.time()

    def _moved_on(self, refresh: Refresh, instance_id: str) -> None:
        refresh.done.append(instance_id)
        self._next(refresh)

    def _gone(self, refresh: Refresh, instance_id: str) -> None:
        """The instance went away mid-replacement (its actions ended without a result): go on a
        moment later, once whatever removed it (a group deletion, say) has finished."""

        def go_on() -> None:
            with self.emu._lock:
                self._moved_on(refresh, instance_id)

        self.emu.clock.call_at(self.emu.clock.time(), go_on)

    def _begin(self, refresh: Refresh, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        """``ReplacingRootVolume``: out of its load balancers, then the terminate hooks."""
        emu = self.emu
        state.lifecycle_state = "ReplacingRootVolume"
        deregister_from_target_groups(group, state.instance_id)
        hooks = emu._hooks(group, TERMINATING)
        if not hooks:
            self._replace(refresh, group, state)
            return
        state.lifecycle_state = "ReplacingRootVolume:Wait"

        def after_terminate_hooks(outcome: str | None) -> None:
            if outcome is None:
                self._gone(refresh, state.instance_id)
            else:  # CONTINUE or ABANDON: the replacement goes on
                self._replace(refresh, group, state)

        emu._start_transition(
            group,
            state,
            transition=TERMINATING,
            origin="AutoScalingGroup",
            destination="AutoScalingGroup",
            hooks=hooks,
            action=REPLACE_ROOT_VOLUME,
            on_done=after_terminate_hooks,
        )

    def _replace(self, refresh: Refresh, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        """The root volume is replaced (the EC2 instance reboots), then the launch hooks."""
        emu = self.emu
        state.lifecycle_state = "ReplacingRootVolume:Proceed"
        group.autoscaling_backend.ec2_backend.reboot_instances([state.instance_id])
        state.lifecycle_state = "RootVolumeReplaced"
        hooks = emu._hooks(group, LAUNCHING)
        if not hooks:
            self._replaced(refresh, group, state, "CONTINUE")
            return
        state.lifecycle_state = "Pending:Wait"

        def after_launch_hooks(outcome: str | None) -> None:
            if outcome is None:
                self._gone(refresh, state.instance_id)
            else:
                self._replaced(refresh, group, state, outcome)

        emu._start_transition(
            group,
            state,
            transition=LAUNCHING,
            origin="AutoScalingGroup",
            destination="AutoScalingGroup",
            hooks=hooks,
            action=REPLACE_ROOT_VOLUME,
            on_done=after_launch_hooks,
        )

    def _replaced(
        self, refresh: Refresh, group: FakeAutoScalingGroup, state: InstanceState, outcome: str
    ) -> None:
        """CONTINUE: back in service (registered again); ABANDON: terminated and replaced."""
        if outcome == "CONTINUE":
            state.lifecycle_state = "InService"
            self.emu._update_load_balancers(group)
        else:
            self.emu._terminate_now(group, state)
        self._moved_on(refresh, state.instance_id)


def _check_replace_root_volume(group: FakeAutoScalingGroup, desired: dict[str, Any]) -> None:
    """The requirements and limitations of "Replace root volumes during instance refresh"."""
    if getattr(group, "warm_pool", None) is not None:
        raise ValidationError(
            "An instance refresh with Strategy ReplaceRootVolume cannot run on a group that has "
            "a warm pool"
        )
    if not group.mixed_instances_policy:
        raise ValidationError(
            "An instance refresh with Strategy ReplaceRootVolume needs a group that uses a "
            "mixed instances policy"
        )
    policy = desired.get("MixedInstancesPolicy") or {}
    overrides = (policy.get("LaunchTemplate") or {}).get("Overrides") or []
    if not overrides or any(not o.get("ImageId") for o in overrides):
        raise ValidationError(
            "An instance refresh with Strategy ReplaceRootVolume needs a DesiredConfiguration "
            "with a mixed instances policy whose overrides all specify an ImageId"
        )
