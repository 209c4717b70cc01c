"""Warm pools as EC2 Auto Scaling runs them, for groups the lifecycle-action emulator manages.

AWS pages (EC2 Auto Scaling User Guide unless named otherwise):

* "Use lifecycle hooks with a warm pool": a launch hook pauses a new instance at
  ``Warmed:Pending:Wait`` and again at ``Pending:Wait`` when it restarts for the group; "if you
  specify an instance reuse policy to return instances to the warm pool on scale in instead of
  terminating them, then an instance that is returning to the warm pool pauses ... at the
  ``Warmed:Pending:Wait`` state for the ``EC2_INSTANCE_TERMINATING`` lifecycle action" (launch
  hooks are not named for that path, so they do not run). "As soon as an instance finishes
  launching into the warm pool, Amazon EC2 Auto Scaling stops or hibernates the instance."
* "Warm pool example events": the scale-in event of an instance returning to the pool is an
  ``EC2 Instance-terminate Lifecycle Action`` with Origin ``AutoScalingGroup`` and Destination
  ``WarmPool``.
* "Warm pools" (core concepts): the pool holds max(MinSize, MaxGroupPreparedCapacity - desired)
  instances, MaxGroupPreparedCapacity defaulting to the group's MaxSize; Stopped, Running or
  Hibernated. API Reference PutWarmPool / WarmPoolConfiguration / InstanceReusePolicy
  (``ReuseOnScaleIn``: "whether instances in the Auto Scaling group can be returned to the warm
  pool on scale in"); DeleteWarmPool (``ForceDelete``: "deleted along with all of its associated
  instances, without waiting for all instances to be terminated. This parameter also deletes any
  outstanding lifecycle actions"); WarmPoolConfiguration ``Status`` ``PendingDelete``.
* "Warm pool instance lifecycle" / botocore's ``LifecycleState``: an instance leaving the pool to
  be terminated passes ``Warmed:Terminating`` -> ``Warmed:Terminating:Wait`` (terminate hooks) ->
  ``Warmed:Terminating:Proceed`` -> ``Warmed:Terminated``.
* "View health check status": a warm instance found unhealthy is terminated and replaced; custom
  health checks (SetInstanceHealth) are supported.

Inferred where AWS is silent (kept apart so that they are easy to revisit): ABANDON of the
terminate hook of an instance returning to the pool lets it enter the pool like CONTINUE does
(for terminating instances "both abandon and continue allow the instance to" go on; ABANDON
stops the other hooks); a terminate action of an instance leaving the pool for termination
carries Origin ``WarmPool`` and Destination ``EC2`` (the event pages show no example); when the
pool shrinks, the oldest warmed instances leave first (AWS names no order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.autoscaling.exceptions import ValidationError

from lifecycle_emulator.lifecycle_events import TERMINATING

if TYPE_CHECKING:
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup, InstanceState

    from lifecycle_emulator.autoscaling import LifecycleActions

PENDING_DELETE = "PendingDelete"
# The pool states an instance settles in (PutWarmPool PoolState); EC2 stops the first two.
STOPPED_STATES = frozenset({"Stopped", "Hibernated"})
RETURNING = "Warmed:Pending:Wait"
LEAVING = "Warmed:Terminating:Wait"


class WarmPools:
    """The warm-pool part of the emulator; ``emu`` holds the pool instances (``emu._warm``)."""

    def __init__(self, emu: LifecycleActions) -> None:
        self.emu = emu

    # --- configuration ----------------------------------------------------------------------------
    @staticmethod
    def pool(group: FakeAutoScalingGroup) -> Any | None:
        return getattr(group, "warm_pool", None)

    def deleting(self, group: FakeAutoScalingGroup) -> bool:
        return getattr(self.pool(group), "status", None) == PENDING_DELETE

    def reuse_on_scale_in(self, group: FakeAutoScalingGroup) -> bool:
        """PutWarmPool ``InstanceReusePolicy={"ReuseOnScaleIn": true}`` (moto stores it)."""
        pool = self.pool(group)
        if pool is None or self.deleting(group):
            return False
        policy = getattr(pool, "instance_reuse_policy", None) or {}
        return bool(policy.get("ReuseOnScaleIn"))

    def target_size(self, group: FakeAutoScalingGroup) -> int:
        """max(MinSize, MaxGroupPreparedCapacity - DesiredCapacity); 0 while the pool is deleted."""
        pool = self.pool(group)
        if pool is None or self.deleting(group):
            return 0
        prepared = pool.max_group_prepared_capacity
        if prepared is None or int(prepared) < 0:
            prepared = group.max_size or 0
        return max(int(pool.min_size or 0), int(prepared) - int(group.desired_capacity or 0))

    # --- keeping the pool at its size -------------------------------------------------------------
    def refill(self, group: FakeAutoScalingGroup) -> None:
        """Launch the missing warm instances, send the surplus out through Warmed:Terminating:Wait.

        New warm instances go through the launch hooks with Origin EC2 and Destination WarmPool.
        Instances still on their way in (``Warmed:Pending:Wait``) count toward the pool; a surplus
        is taken from warmed instances only (the others are taken once they settle).
        """
        emu = self.emu
        if self.pool(group) is None or not emu._hooks(group):
            return
        key = emu._key(group)
        warm = emu._warm.setdefault(key, [])
        staying = [s for s in warm if not s.lifecycle_state.startswith("Warmed:Terminating")]
        target = self.target_size(group)
        if len(staying) > target:
            settled = [s for s in staying if emu._is_ready_warm(s)]
            for state in settled[: len(staying) - target]:
                self.begin_leaving(group, state)
        elif len(staying) < target:
            self._launch_into_pool(group, target - len(staying))
        if self.deleting(group) and not warm:  # the last instance is gone: so is the pool
            emu._warm.pop(key, None)
            group.warm_pool = None

    def _launch_into_pool(self, group: FakeAutoScalingGroup, count: int) -> None:
        emu = self.emu
        warm = emu._warm.setdefault(emu._key(group), [])
        before = {id(s) for s in group.instance_states}
        emu._original("replace_autoscaling_group_instances")(
            group, count, group.get_propagated_tags()
        )
        new = [s for s in group.instance_states if id(s) not in before]
        group.instance_states = [s for s in group.instance_states if id(s) in before]
        for state in new:
            warm.append(state)
            emu._begin_launch(group, state, origin="EC2", destination="WarmPool")

    # --- instances moving in and out --------------------------------------------------------------
    def enter_pool(self, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        """After its hooks: ``Warmed:<PoolState>``; EC2 stops the instance of a Stopped or
        Hibernated pool (moto has no hibernation: stopped), a Running pool's keeps running."""
        pool = self.pool(group)
        pool_state = pool.pool_state if pool is not None else "Stopped"
        state.lifecycle_state = f"Warmed:{pool_state}"
        if pool_state in STOPPED_STATES and state.instance.is_running():
            group.autoscaling_backend.ec2_backend.stop_instances([state.instance_id])

    def leave_for_group(self, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        """Scale out from the pool: EC2 starts a stopped instance again before ``Pending:Wait``
        (its status checks start over: see ``fleet.Fleet``)."""
        if not state.instance.is_running():
            group.autoscaling_backend.ec2_backend.start_instances([state.instance_id])

    def return_to_pool(self, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        """Scale in with ReuseOnScaleIn: terminate hooks at ``Warmed:Pending:Wait`` (Origin
        AutoScalingGroup, Destination WarmPool), then into the pool; nothing is terminated."""
        emu = self.emu
        if state in group.instance_states:
            group.instance_states.remove(state)
        emu._warm.setdefault(emu._key(group), []).append(state)
        deregister_from_target_groups(group, state.instance_id)
        hooks = emu._hooks(group, TERMINATING)
        if not hooks:
            self.enter_pool(group, state)
            return
        state.lifecycle_state = RETURNING

        def returned(outcome: str | None) -> None:
            if outcome is not None:  # CONTINUE or ABANDON: into the pool either way
                self.enter_pool(group, state)

        emu._start_transition(
            group,
            state,
            transition=TERMINATING,
            origin="AutoScalingGroup",
            destination="WarmPool",
            hooks=hooks,
            on_done=returned,
        )

    def begin_leaving(self, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        """A warm instance to be terminated (pool shrinking, deleted, or unhealthy): terminate
        hooks at ``Warmed:Terminating:Wait`` (Origin WarmPool, Destination EC2), then terminated."""
        emu = self.emu
        hooks = emu._hooks(group, TERMINATING)
        if not hooks:
            emu._terminate_now(group, state)
            return
        state.lifecycle_state = LEAVING

        def left(outcome: str | None) -> None:
            if outcome is not None:
                emu._terminate_now(group, state)

        emu._start_transition(
            group,
            state,
            transition=TERMINATING,
            origin="WarmPool",
            destination="EC2",
            hooks=hooks,
            on_done=left,
        )

    # --- API --------------------------------------------------------------------------------------
    def delete(self, backend: AutoScalingBackend, group_name: str, force: bool) -> None:
        """DeleteWarmPool: ``PendingDelete`` while every warm instance leaves through
        Warmed:Terminating:Wait; with ForceDelete at once, outstanding actions deleted."""
        emu = self.emu
        group = backend.autoscaling_groups.get(group_name)
        if group is None:
            raise ValidationError(
                f"AutoScalingGroup name not found - AutoScalingGroup '{group_name}' not found"
            )
        if force or not emu._manages(group) or self.pool(group) is None:
            for state in emu._warm.pop(emu._key(group), []):
                emu._end_transition_silently(state.instance_id, "warm-pool-deleted")
                backend.ec2_backend.terminate_instances([state.instance_id])
            backend.delete_warm_pool(group_name)
            return
        self.pool(group).status = PENDING_DELETE  # type: ignore[union-attr]
        self.refill(group)

    def set_health(self, group: FakeAutoScalingGroup, state: InstanceState, health: str) -> None:
        """SetInstanceHealth on a warm instance: found unhealthy, it leaves through
        Warmed:Terminating:Wait and is replaced (the pool refills). Its health is not checked
        before its launch hooks finish ("View health check status")."""
        if health != "Unhealthy" or not self.emu._is_ready_warm(state):
            return
        state.health_status = health
        self.begin_leaving(group, state)
        self.emu._reconcile(group)

    def find(self, backend: AutoScalingBackend, instance_id: str) -> tuple[Any, Any] | None:
        """(group, state) of a warm-pool instance, or None."""
        for group in backend.autoscaling_groups.values():
            for state in self.emu._warm.get(self.emu._key(group), []):
                if state.instance_id == instance_id:
                    return group, state
        return None


def deregister_from_target_groups(group: FakeAutoScalingGroup, instance_id: str) -> None:
    """Take the instance out of the group's target groups (where it is registered)."""
    elbv2 = group.autoscaling_backend.elbv2_backend
    for arn in group.target_group_arns or []:
        target_group = elbv2.target_groups.get(arn)
        if target_group is not None and instance_id in target_group.targets:
            elbv2.deregister_targets(arn, [{"Id": instance_id}])
