"""EC2 Auto Scaling lifecycle actions, added in-process on top of moto 5.2.5.

moto stores lifecycle hooks but never uses them: instances go straight to ``InService``, no token
or event exists, and ``RecordLifecycleActionHeartbeat`` / ``CompleteLifecycleAction`` raise
``NotImplementedError``. :class:`LifecycleActions` patches moto's Auto Scaling model, backend and
response classes (inside ``moto.mock_aws()``) so that a group *with lifecycle hooks* behaves as the
AWS documentation describes. Groups without hooks keep moto's behaviour untouched.

AWS rules followed (EC2 Auto Scaling User Guide "Lifecycle hooks", API Reference for
PutLifecycleHook, RecordLifecycleActionHeartbeat, CompleteLifecycleAction, DeleteLifecycleHook,
"Amazon EC2 Auto Scaling event reference", "Warm pool example events", "Use lifecycle hooks with a
warm pool"):

* A launching instance waits in ``Pending:Wait`` (``Warmed:Pending:Wait`` on its way into a warm
  pool), a terminating one in ``Terminating:Wait``; each matching hook gets its own action, token
  (a UUID) and EventBridge event.
* A heartbeat restarts the full HeartbeatTimeout; nothing extends an action past the global
  timeout, min(100 x HeartbeatTimeout, 48 h). On either timeout the hook's DefaultResult applies.
* Launch: CONTINUE puts the instance into service once every launch hook has said CONTINUE;
  ABANDON (from any hook) "indicates that your custom actions were unsuccessful, and that we can
  terminate and replace the instance" -- the other launch actions of that instance end with it.
* Terminate: "both abandon and continue allow the instance to terminate. However, abandon stops
  any remaining actions, such as other lifecycle hooks, and continue allows any other lifecycle
  hooks to complete." All hooks of one transition start together (AWS defines no order).
* DeleteLifecycleHook: "If there are any outstanding lifecycle actions, they are completed first
  (ABANDON for launching instances, CONTINUE for terminating instances)."
* A heartbeat or completion for an action that is not active fails with ``ValidationError``
  "No active Lifecycle Action found with token <token>" / "... with instance ID <id>".
* Terminate order ("How lifecycle hooks work", steps 4-5): the instance is first deregistered
  from the group's target groups / Classic Load Balancers and waits out the deregistration delay
  (the longest of them, 0-3600 s; a :class:`~lifecycle_emulator.fleet.Fleet` may set a target's
  own drain) in ``Terminating`` (not counted toward desired capacity); only then
  ``Terminating:Wait`` and the event. Without load balancers there is no delay.
* Terminations not caused by scale-in ("Health checks for instances in an Auto Scaling group";
  lifecycle hooks Considerations): an ``InService`` instance terminated through EC2
  TerminateInstances (no longer running: an immediate failure) or marked Unhealthy with
  SetInstanceHealth is replaced at once (desired capacity unchanged) and goes through the same
  terminate timeline. EC2 has already terminated such an instance while its hooks wait ("when a
  Spot Instance terminates, you must still complete the lifecycle action"). An instance
  terminated through EC2 while in a wait state keeps its actions; once they end it is replaced
  (a launch CONTINUE finds it not running: unhealthy, terminate hooks).
* Instance lifecycle policy ("Configure instance retention", "Manage retained instances", API
  InstanceLifecyclePolicy / RetentionTriggers): kept from Create/UpdateAutoScalingGroup and
  described; with ``TerminateHookAbandon: retain`` an abandoned terminate action (ABANDON, or a
  heartbeat/global timeout with DefaultResult ABANDON) leaves the instance in ``X:Retained``
  instead of ``X:Wait`` (``Terminating:Retained``; warm-pool ``Warmed:*:Retained``), running and
  not counted; TerminateInstanceInAutoScalingGroup terminates it without its hooks again.
* DescribeAutoScalingGroups takes at most 50 AutoScalingGroupNames (API Reference); more is a
  ``ValidationError``.
* Event ``time`` carries milliseconds (AWS's example events); ``omit_path`` leaves Origin and
  Destination out, as AWS may ("if that information is available").
* Warm pools (:mod:`lifecycle_emulator.warm_pool`, its docstring cites the pages): the pool holds
  max(MinSize, MaxGroupPreparedCapacity - desired); an instance entering a Stopped or Hibernated
  pool is stopped in EC2 after its hooks, and started again before ``Pending:Wait`` when it leaves
  for the group; with ``InstanceReusePolicy.ReuseOnScaleIn`` a scale-in sends the instance back
  into the pool through the terminate hooks at ``Warmed:Pending:Wait`` (Origin AutoScalingGroup,
  Destination WarmPool; no launch hooks); an instance leaving the pool to be terminated (the pool
  shrinks, DeleteWarmPool without ForceDelete, SetInstanceHealth Unhealthy) passes
  ``Warmed:Terminating:Wait`` with the terminate hooks.
* Instance refresh with ``Strategy=ReplaceRootVolume`` (:mod:`lifecycle_emulator.instance_refresh`;
  moto has none): one instance at a time, terminate hooks at ``ReplacingRootVolume:Wait``, the
  root volume replaced (the EC2 instance reboots), launch hooks at ``Pending:Wait``, both events
  with ``"Action": "ReplaceRootVolume"`` and Origin/Destination AutoScalingGroup;
  DescribeInstanceRefreshes reports progress.

Time comes only from the :class:`~lifecycle_emulator.clock.VirtualClock`; timeouts and event
deliveries are clock timers, so ``clock.advance(...)`` plays them out (``clock.advance(0)``
delivers the events of actions that just started).

Left out (not emulated): terminate hooks for an abandoned launch (it is terminated at once);
periodic health checks (an instance is found unhealthy the moment EC2 terminates it or
SetInstanceHealth says so; impaired status checks, EC2 stop, ELB health checks and
ShouldRespectGracePeriod are not acted on); the time EC2 takes to shut an instance down (moto
reports it ``terminated`` at once); ``time`` in whole seconds for transformed input and targets
other than SQS and Lambda (moto formats it);
the deregistration delay before an instance returns to a warm pool or has its root volume
replaced (it is deregistered at once); instance refresh other than ReplaceRootVolume (Rolling is
refused), its MinHealthyPercentage, warmup, checkpoints, rollback and cancellation; the SNS/SQS
``NotificationTargetARN`` notifications and their test message; AWS termination policies (the
oldest unprotected ``InService`` instance goes, as in moto); WeightedCapacity of
mixed-instances groups that have hooks (one instance = one unit); the "Launch/Terminate
Successful" events, scaling activities and cooldowns; DeleteAutoScalingGroup's refusal while
instances remain (moto deletes; outstanding actions end as with ForceDelete). Error texts other
than "No active Lifecycle Action found ..." are this emulator's wording (group-not-found follows
moto's). A warm pool is only emulated for groups that have lifecycle hooks.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import (
    AutoScalingBackend,
    FakeAutoScalingGroup,
    InstanceState,
    LifecycleHook,
    TerminateInstanceActivity,
)
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.events.models import Rule, events_backends
from moto.moto_api._internal import mock_random

from lifecycle_emulator.clock import VirtualClock
from lifecycle_emulator.instance_refresh import (
    REPLACING_STATES,
    InstanceRefreshes,
    InstanceRefreshInProgress,
)
from lifecycle_emulator.lifecycle_events import (
    LAUNCHING,
    TERMINATING,
    for_moto_rules,
    lifecycle_action_event,
    lifecycle_detail,
)
from lifecycle_emulator.warm_pool import WarmPools

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
CONTINUE = "CONTINUE"
ABANDON = "ABANDON"
MAX_GLOBAL_TIMEOUT = 172_800  # 48 hours
DEFAULT_HEARTBEAT_TIMEOUT = 3600
MAX_DEREGISTRATION_DELAY = 3600.0  # ELB's deregistration delay / connection draining: 0-3600 s
MAX_GROUP_NAMES = 50  # DescribeAutoScalingGroups AutoScalingGroupNames: 50 by default
MAX_RECORDS = 100  # ... or up to MaxRecords (at most 100)
RETAIN, TERMINATE = "retain", "terminate"  # RetentionTriggers.TerminateHookAbandon

# States that count toward desired capacity (Standby, Terminating* and Warmed* do not; an
# instance whose root volume is being replaced stays in the group).
CAPACITY_STATES = frozenset(
    {
        "Pending",
        "Pending:Wait",
        "Pending:Proceed",
        "InService",
        *REPLACING_STATES,
        "RootVolumeReplaced",
    }
)
HEARTBEAT = "RecordLifecycleActionHeartbeat"
COMPLETE = "CompleteLifecycleAction"

EventObserver = Callable[[dict[str, Any]], None]
EventFilter = Callable[[dict[str, Any]], bool]
BeforeCall = Callable[[str, dict[str, Any]], None]


@dataclass
class ApiCallRecord:
    """One RecordLifecycleActionHeartbeat / CompleteLifecycleAction call, accepted or not."""

    at: float
    operation: str
    group_name: str
    hook_name: str
    token: str | None
    instance_id: str | None
    result: str | None = None
    outcome: str = "accepted"  # or "rejected"
    error: str | None = None  # "<Code>: <message>" when rejected


@dataclass
class LifecycleActionRecord:
    """One lifecycle action (one hook x one instance x one transition), for assertions."""

    token: str
    account_id: str
    region: str
    group_name: str
    hook_name: str
    instance_id: str
    transition: str
    origin: str
    destination: str
    heartbeat_timeout: int
    default_result: str
    started_at: float
    global_deadline: float
    deadline: float  # when the heartbeat timeout fires next (never after global_deadline)
    heartbeats: list[float] = field(default_factory=list)
    calls: list[ApiCallRecord] = field(default_factory=list)
    event: dict[str, Any] | None = None  # the AWS-shaped event, also when it was dropped
    event_dropped: bool = False
    event_sent_at: float | None = None
    ended_at: float | None = None
    # completed | heartbeat-timeout | global-timeout | hook-deleted | abandoned-by-other-hook
    # | instance-terminated | group-deleted
    end_reason: str | None = None
    result: str | None = None  # CONTINUE / ABANDON; None when the action just stopped existing
    action: str | None = None  # the event's "Action" (ReplaceRootVolume), else None

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass
class DeliveryError:
    """A rule, target or observer that raised while an event was delivered (never swallowed)."""

    at: float
    token: str
    rule: str
    target_id: str | None
    error: str


@dataclass
class _InstanceTransition:
    """One instance going through all hooks of one transition."""

    group: FakeAutoScalingGroup
    state: InstanceState
    transition: str
    origin: str
    destination: str
    tokens: list[str] = field(default_factory=list)
    action: str | None = None  # "ReplaceRootVolume" during an instance refresh
    # Set by warm_pool.py / instance_refresh.py: what happens once the hooks are done (the
    # outcome, or None when the actions ended without one because the instance went away).
    on_done: Callable[[str | None], None] | None = None


@dataclass
class Deregistration:
    """A terminating instance deregistered from its load balancers before its terminate hooks
    (for the timeline: AWS's order is deregister, drain, then ``Terminating:Wait``)."""

    at: float
    group_name: str
    instance_id: str
    delay: float  # the deregistration delay waited out in ``Terminating`` (0: none)


@dataclass
class _Deregistering:
    """A terminating instance waiting out its load balancers' deregistration delay."""

    group: FakeAutoScalingGroup
    state: InstanceState
    until: float
    timer: Any


def _send_to_queue(arn: str, target: dict[str, Any], event: dict[str, Any]) -> None:
    """EventBridge -> SQS target: the message body is the event as Auto Scaling built it."""
    from moto.sqs.models import sqs_backends  # noqa: PLC0415

    _, _, _, region, account, queue_name = arn.split(":", 5)
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    sqs_backends[account][region].send_message(
        queue_name=queue_name, message_body=json.dumps(event), group_id=group_id
    )


def _describe_error(exc: BaseException) -> str:
    code = getattr(exc, "code", type(exc).__name__)
    message = getattr(exc, "message", None) or str(exc)
    return f"{code}: {message}"


def _as_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A plain function (so it binds as a method on moto's class) that calls ``fn``."""

    def method(obj: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(obj, *args, **kwargs)

    method.__name__ = getattr(fn, "__name__", "method").lstrip("_")
    return method


class LifecycleActions:
    """The lifecycle-action part of EC2 Auto Scaling, layered on moto.

    ``on_event`` sees every event as it is sent (also one that is then lost, and once when it is
    delivered twice); ``drop_event`` returning True loses an event (the
    action still exists, as when AWS's best-effort delivery fails); ``before_call`` runs before
    each heartbeat/complete call and may raise (for example a moto ``ServiceException`` with code
    ``Throttling``) to inject faults; ``delivery_delay`` delays events in virtual seconds.
    """

    _installed: ClassVar[LifecycleActions | None] = None

    def __init__(
        self,
        clock: VirtualClock,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        *,
        on_event: EventObserver | None = None,
        drop_event: EventFilter | None = None,
        before_call: BeforeCall | None = None,
        delivery_delay: float = 0.0,
        omit_path: bool = False,
    ) -> None:
        self.clock = clock
        self.account_id = account_id
        self.region = region
        self.on_event = on_event
        self.drop_event = drop_event
        self.before_call = before_call
        self.delivery_delay = delivery_delay
        # Events leave out Origin and Destination ("if that information is available"); may be
        # set on an installed emulator too.
        self.omit_path = omit_path
        self.records: list[LifecycleActionRecord] = []
        self.calls: list[ApiCallRecord] = []
        self.delivery_errors: list[DeliveryError] = []
        self.deregistrations: list[Deregistration] = []
        self._by_token: dict[str, LifecycleActionRecord] = {}
        self._timers: dict[str, Any] = {}
        self._transitions: dict[str, _InstanceTransition] = {}
        self._deregistering: dict[str, _Deregistering] = {}
        self._warm: dict[tuple[str, str, str], list[InstanceState]] = {}
        self._deleting: set[tuple[str, str, str]] = set()
        self.warm_pools = WarmPools(self)  # warm_pool.py
        self.refreshes = InstanceRefreshes(self)  # instance_refresh.py
        self._lock = threading.RLock()
        self._saved: list[tuple[type, str, Any]] = []
        self._originals: dict[str, Any] = {}

    # --- installing -------------------------------------------------------------------------------
    def install(self) -> LifecycleActions:
        """Patch moto's Auto Scaling classes; only one emulator may be installed at a time."""
        if LifecycleActions._installed is not None:
            raise RuntimeError("a LifecycleActions emulator is already installed")
        LifecycleActions._installed = self
        patches = self._patches()
        assert len({name for _, name, _ in patches}) == len(patches), "patched names must be unique"
        for cls, name, wrapper in patches:
            self._saved.append((cls, name, cls.__dict__.get(name)))
            self._originals[name] = getattr(cls, name, None)
            setattr(cls, name, wrapper)
        return self

    def uninstall(self) -> None:
        """Restore moto and cancel pending timers, so a shared clock fires nothing of ours."""
        for cls, name, saved in reversed(self._saved):
            if saved is None:
                delattr(cls, name)
            else:
                setattr(cls, name, saved)
        self._saved.clear()
        for entry in self._timers.values():
            VirtualClock.cancel(entry)
        self._timers.clear()
        for leaving in self._deregistering.values():
            VirtualClock.cancel(leaving.timer)
        self._deregistering.clear()
        if LifecycleActions._installed is self:
            LifecycleActions._installed = None

    def __enter__(self) -> LifecycleActions:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()

    @contextmanager
    def installed(self) -> Iterator[LifecycleActions]:
        with self:
            yield self

    # --- queries ----------------------------------------------------------------------------------
    def actions(
        self,
        *,
        group_name: str | None = None,
        instance_id: str | None = None,
        hook_name: str | None = None,
        active: bool | None = None,
    ) -> list[LifecycleActionRecord]:
        """Action records in start order, filtered by the given fields."""
        return [
            r
            for r in self.records
            if (group_name is None or r.group_name == group_name)
            and (instance_id is None or r.instance_id == instance_id)
            and (hook_name is None or r.hook_name == hook_name)
            and (active is None or r.active == active)
        ]

    def warm_instances(self, group_name: str, account_id: str = "", region: str = "") -> list[Any]:
        """Instances in the group's warm pool (moto itself keeps none)."""
        key = (account_id or self.account_id, region or self.region, group_name)
        return list(self._warm.get(key, []))

    # --- patches ----------------------------------------------------------------------------------
    def _patches(self) -> list[tuple[type, str, Callable[..., Any]]]:
        """(class, attribute, replacement): each replacement takes the moto object first."""
        group, backend, response = FakeAutoScalingGroup, AutoScalingBackend, AutoScalingResponse
        table: list[tuple[type, str, Callable[..., Any]]] = [
            (group, "set_desired_capacity", self._set_desired_capacity),
            (group, "replace_autoscaling_group_instances", self._replace_instances),
            (backend, "terminate_instance", self._terminate_instance),
            (backend, "notify_terminate_instances", self._notify_terminate_instances),
            (backend, "set_instance_health", self._set_instance_health),
            (backend, "delete_lifecycle_hook", self._delete_lifecycle_hook),
            (backend, "delete_auto_scaling_group", self._delete_auto_scaling_group),
            (backend, "describe_auto_scaling_instances", self._describe_auto_scaling_instances),
            (backend, "put_warm_pool", self._put_warm_pool),
            (backend, "update_attached_target_groups", self._update_attached_target_groups),
            (response, "delete_warm_pool", self._api_delete_warm_pool),
            (response, "start_instance_refresh", self.refreshes.api_start),
            (response, "describe_instance_refreshes", self.refreshes.api_describe),
            (response, "put_lifecycle_hook", self._api_put_lifecycle_hook),
            (response, "create_auto_scaling_group", self._api_create_auto_scaling_group),
            (response, "update_auto_scaling_group", self._api_update_auto_scaling_group),
            (response, "describe_auto_scaling_groups", self._api_describe_auto_scaling_groups),
            (response, "describe_warm_pool", self._api_describe_warm_pool),
            (response, "record_lifecycle_action_heartbeat", self._api_heartbeat),
            (response, "complete_lifecycle_action", self._api_complete),
        ]
        return [(cls, name, _as_method(fn)) for cls, name, fn in table]

    def _original(self, name: str) -> Callable[..., Any]:
        fn: Callable[..., Any] = self._originals[name]
        return fn

    def _set_desired_capacity(self, group: FakeAutoScalingGroup, capacity: int | None) -> None:
        with self._lock:
            if not self._manages(group):
                self._original("set_desired_capacity")(group, capacity)
                return
            group.desired_capacity = group.min_size if capacity is None else capacity
            self._reconcile(group)

    def _replace_instances(
        self, group: FakeAutoScalingGroup, count: int, tags: dict[str, str]
    ) -> None:
        """Every launch of a managed group, replacements included, goes through launch hooks."""
        with self._lock:
            before = {id(s) for s in group.instance_states}
            self._original("replace_autoscaling_group_instances")(group, count, tags)
            if self._manages(group):
                for state in [s for s in group.instance_states if id(s) not in before]:
                    self._begin_launch(group, state, origin="EC2", destination="AutoScalingGroup")

    def _notify_terminate_instances(
        self, backend: AutoScalingBackend, instance_ids: list[str]
    ) -> None:
        """EC2 TerminateInstances on instances of a group with hooks: the group notices.

        An ``InService`` instance that is no longer running is unhealthy at once and replaced
        ("Health checks": any EC2 state other than running "is treated as an immediate
        failure"): it goes ``Terminating``, through the deregistration delay and the terminate
        hooks, while its replacement launches. EC2 terminates the instance itself at once (moto
        reports it ``terminated``): the hooks run for an instance that is already gone, as they do
        for an interrupted Spot Instance ("when a Spot Instance terminates, you must still
        complete the lifecycle action", lifecycle hooks Considerations). An instance in a wait
        state keeps its actions (Auto Scaling health-checks ``InService`` instances only; the
        grace period starts after the launch hooks) and is replaced once they end. A retained
        instance leaves the group. (Warm-pool instances: their actions stop existing.)
        """
        with self._lock:
            unmanaged: list[str] = []
            for (account, region, _), warm in self._warm.items():
                if (account, region) == (backend.account_id, backend.region_name):
                    for state in [s for s in warm if s.instance_id in instance_ids]:
                        self._end_transition_silently(state.instance_id, "instance-terminated")
                        warm.remove(state)
            for instance_id in instance_ids:
                found = self._find_instance(backend, instance_id)
                if found is None or not self._manages(found[0]):
                    unmanaged.append(instance_id)
                    continue
                group, state = found
                if state.lifecycle_state == "InService":
                    state.health_status = "Unhealthy"
                    self._begin_termination(group, state)
                elif state.lifecycle_state.endswith(":Retained"):
                    group.instance_states.remove(state)
            self._original("notify_terminate_instances")(backend, unmanaged)
            for group in list(backend.autoscaling_groups.values()):
                if self._manages(group):
                    self._reconcile(group)

    def _set_instance_health(
        self, backend: AutoScalingBackend, instance_id: str, health_status: str
    ) -> None:
        """SetInstanceHealth Unhealthy on an ``InService`` instance: it is replaced at once.

        "Health checks": an instance marked unhealthy with set-instance-health is replaced
        immediately; it terminates (``Terminating``, deregistration delay, terminate hooks) while
        a new instance launches. (ShouldRespectGracePeriod is not emulated.)
        """
        with self._lock:
            warm = self.warm_pools.find(backend, instance_id)
            if warm is not None:  # a warm-pool instance (moto knows none): warm_pool.py
                self.warm_pools.set_health(*warm, health_status)
                return
            self._original("set_instance_health")(backend, instance_id, health_status)
            found = self._find_instance(backend, instance_id)
            if found is None or not self._manages(found[0]) or health_status != "Unhealthy":
                return
            group, state = found
            if state.lifecycle_state == "InService":
                self._begin_termination(group, state)
                self._reconcile(group)

    @staticmethod
    def _find_instance(
        backend: AutoScalingBackend, instance_id: str
    ) -> tuple[FakeAutoScalingGroup, InstanceState] | None:
        for group in backend.autoscaling_groups.values():
            for state in group.instance_states:
                if state.instance_id == instance_id:
                    return group, state
        return None

    def _delete_lifecycle_hook(self, backend: AutoScalingBackend, as_name: str, name: str) -> None:
        """DeleteLifecycleHook completes outstanding actions first.

        ABANDON for launching instances, CONTINUE for terminating ones. The hook is removed
        before that, so a replacement launched by the ABANDON does not wait for it.
        """
        with self._lock:
            self._original("delete_lifecycle_hook")(backend, as_name, name)
            for record in self.actions(group_name=as_name, hook_name=name, active=True):
                if (record.account_id, record.region) != (backend.account_id, backend.region_name):
                    continue
                if record.active:  # an earlier ABANDON may have ended it meanwhile
                    result = ABANDON if record.transition == LAUNCHING else CONTINUE
                    self._end_action(record, result, "hook-deleted")

    def _delete_auto_scaling_group(self, backend: AutoScalingBackend, group_name: str) -> None:
        """Outstanding actions go with the group (as with ForceDelete); moto removes instances."""
        with self._lock:
            key = (backend.account_id, backend.region_name, group_name)
            group = backend.autoscaling_groups.get(group_name)
            if group is not None:
                for instance_id, moving in list(self._transitions.items()):
                    if moving.group is group:
                        self._end_transition_silently(instance_id, "group-deleted")
                for instance_id, leaving in list(self._deregistering.items()):
                    if leaving.group is group:
                        self._end_transition_silently(instance_id, "group-deleted")
                for state in group.instance_states:
                    state.lifecycle_state = "InService"  # so moto's scale-to-zero takes them all
                for state in self._warm.pop(key, []):
                    backend.ec2_backend.terminate_instances([state.instance_id])
            self._deleting.add(key)
            try:
                self._original("delete_auto_scaling_group")(backend, group_name)
            finally:
                self._deleting.discard(key)

    def _describe_auto_scaling_instances(
        self, backend: AutoScalingBackend, instance_ids: list[str]
    ) -> list[InstanceState]:
        """AWS lists warm-pool instances here too (LifecycleState Warmed:*)."""
        states: list[InstanceState] = self._original("describe_auto_scaling_instances")(
            backend, instance_ids
        )
        for (account, region, _), warm in list(self._warm.items()):
            if (account, region) == (backend.account_id, backend.region_name):
                states += [s for s in warm if not instance_ids or s.instance_id in instance_ids]
        return states

    def _put_warm_pool(
        self, backend: AutoScalingBackend, group_name: str, *args: Any, **kwargs: Any
    ) -> None:
        with self._lock:
            if self.refreshes.active(backend, group_name) is not None:
                raise InstanceRefreshInProgress()  # "Replace root volumes": no warm pool added
            self._original("put_warm_pool")(backend, group_name, *args, **kwargs)
            group = backend.autoscaling_groups[group_name]
            if self._manages(group):
                self._refill_warm_pool(group)

    def _api_delete_warm_pool(self, resp: AutoScalingResponse) -> EmptyResult:
        """DeleteWarmPool: the warm instances leave through their terminate hooks first
        (Warmed:Terminating:Wait, the pool PendingDelete); ForceDelete: at once (warm_pool.py)."""
        name = resp._get_param("AutoScalingGroupName")
        force = str(resp._get_param("ForceDelete")).lower() == "true"
        with self._lock:
            self.warm_pools.delete(resp.autoscaling_backend, name, force)
        return EmptyResult()

    def _api_put_lifecycle_hook(self, resp: AutoScalingResponse) -> EmptyResult:
        keys = (
            "LifecycleHookName",
            "LifecycleTransition",
            "HeartbeatTimeout",
            "DefaultResult",
            "NotificationMetadata",
        )
        spec = {key: resp._get_param(key) for key in keys}
        with self._lock:
            self._put_hook(resp.autoscaling_backend, resp._get_param("AutoScalingGroupName"), spec)
        return EmptyResult()

    def _api_create_auto_scaling_group(self, resp: AutoScalingResponse) -> Any:
        """LifecycleHookSpecificationList: the hooks exist before the first instances launch.

        InstanceLifecyclePolicy (which moto ignores) is kept on the group and described.
        """
        backend = resp.autoscaling_backend
        name = resp._get_param("AutoScalingGroupName")
        specs = resp._get_param("LifecycleHookSpecificationList", []) or []
        policy = self._lifecycle_policy(resp)
        with self._lock:
            for spec in specs:
                self._put_hook(backend, name, spec)
            try:
                result = self._original("create_auto_scaling_group")(resp)
            except Exception:
                for spec in specs:
                    backend.lifecycle_hooks.pop(f"{name}_{spec['LifecycleHookName']}", None)
                raise
            if policy is not None:
                backend.autoscaling_groups[name].instance_lifecycle_policy = policy  # type: ignore[attr-defined]
            return result

    def _api_update_auto_scaling_group(self, resp: AutoScalingResponse) -> Any:
        """UpdateAutoScalingGroup, keeping (or replacing) the group's InstanceLifecyclePolicy."""
        policy = self._lifecycle_policy(resp)
        with self._lock:
            result = self._original("update_auto_scaling_group")(resp)
            if policy is not None:
                group = resp.autoscaling_backend.autoscaling_groups[
                    resp._get_param("AutoScalingGroupName")
                ]
                group.instance_lifecycle_policy = policy  # type: ignore[attr-defined]
            return result

    @staticmethod
    def _lifecycle_policy(resp: AutoScalingResponse) -> dict[str, Any] | None:
        """InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon: retain | terminate."""
        policy = resp._get_param("InstanceLifecyclePolicy")
        if policy is None:
            return None
        triggers = (policy or {}).get("RetentionTriggers") or {}
        action = triggers.get("TerminateHookAbandon")
        if action is not None and action not in (RETAIN, TERMINATE):
            raise ValidationError(
                f"1 validation error detected: Value '{action}' at "
                "'instanceLifecyclePolicy.retentionTriggers.terminateHookAbandon' failed to "
                "satisfy constraint: Member must satisfy enum value set: [retain, terminate]"
            )
        return {"RetentionTriggers": dict(triggers)} if triggers else {}

    def _api_describe_auto_scaling_groups(self, resp: AutoScalingResponse) -> Any:
        """AutoScalingGroupNames: "By default, you can only specify up to 50 names. You can
        optionally increase this limit using the MaxRecords property" (API Reference, and
        botocore's model of it; MaxRecords is at most 100)."""
        names = resp._get_param("AutoScalingGroupNames", []) or []
        max_records = resp._get_int_param("MaxRecords") or 0
        limit = max(MAX_GROUP_NAMES, min(max_records, MAX_RECORDS))
        if len(names) > limit:
            raise ValidationError(
                f"1 validation error detected: Value '[{', '.join(names)}]' at "
                "'autoScalingGroupNames' failed to satisfy constraint: Member must have length "
                f"less than or equal to {limit}"
            )
        return self._original("describe_auto_scaling_groups")(resp)

    def _api_describe_warm_pool(self, resp: AutoScalingResponse) -> ActionResult:
        backend = resp.autoscaling_backend
        name = resp._get_param("AutoScalingGroupName")
        pool = backend.describe_warm_pool(group_name=name)
        instances = self.warm_instances(name, backend.account_id, backend.region_name)
        return ActionResult({"WarmPoolConfiguration": pool, "Instances": instances})

    def _api_heartbeat(self, resp: AutoScalingResponse) -> EmptyResult:
        self._api_call(resp, HEARTBEAT)
        return EmptyResult()

    def _api_complete(self, resp: AutoScalingResponse) -> EmptyResult:
        self._api_call(resp, COMPLETE)
        return EmptyResult()

    # --- hooks ------------------------------------------------------------------------------------
    @staticmethod
    def _key(group: FakeAutoScalingGroup) -> tuple[str, str, str]:
        return (group.account_id, group.region, group.name)

    @staticmethod
    def _hooks(group: FakeAutoScalingGroup, transition: str | None = None) -> list[LifecycleHook]:
        """The group's hooks in creation order (AWS runs all hooks of a transition together)."""
        return [
            hook
            for hook in group.autoscaling_backend.lifecycle_hooks.values()
            if hook.auto_scaling_group_name == group.name
            and (transition is None or hook.lifecycle_transition == transition)
        ]

    def _manages(self, group: FakeAutoScalingGroup) -> bool:
        """Groups with hooks (or with actions still running) are ours; others stay pure moto."""
        if self._key(group) in self._deleting:
            return False
        return (
            bool(self._hooks(group))
            or any(t.group is group for t in self._transitions.values())
            or any(d.group is group for d in self._deregistering.values())
        )

    @staticmethod
    def _put_hook(backend: AutoScalingBackend, group_name: str, spec: dict[str, Any]) -> None:
        """PutLifecycleHook that keeps NotificationMetadata and, on update, unspecified fields.

        moto drops NotificationMetadata and replaces the whole hook; AWS keeps the current
        values of parameters an update leaves out, and reports GlobalTimeout as
        min(100 x HeartbeatTimeout, 172800).
        """
        name = spec["LifecycleHookName"]
        old = backend.lifecycle_hooks.get(f"{group_name}_{name}")

        def pick(key: str, attr: str, default: Any) -> Any:
            if spec.get(key) is not None:
                return spec[key]
            return getattr(old, attr, default) if old is not None else default

        timeout = int(pick("HeartbeatTimeout", "heartbeat_timeout", DEFAULT_HEARTBEAT_TIMEOUT))
        hook = backend.create_lifecycle_hook(
            name=name,
            as_name=group_name,
            transition=pick("LifecycleTransition", "lifecycle_transition", None),
            timeout=timeout,
            result=pick("DefaultResult", "default_result", ABANDON),
        )
        hook.notification_metadata = pick("NotificationMetadata", "notification_metadata", None)  # type: ignore[attr-defined]
        hook.global_timeout = min(100 * timeout, MAX_GLOBAL_TIMEOUT)

    # --- capacity ---------------------------------------------------------------------------------
    def _reconcile(self, group: FakeAutoScalingGroup) -> None:
        """Bring the instances counting toward capacity to the desired capacity, then the pool."""
        counted = [s for s in group.instance_states if s.lifecycle_state in CAPACITY_STATES]
        delta = (group.desired_capacity or 0) - len(counted)
        if delta > 0:
            self._scale_out(group, delta)
        elif delta < 0:
            self._scale_in(group, -delta)
        self._refill_warm_pool(group)
        self._update_load_balancers(group)

    def _scale_out(self, group: FakeAutoScalingGroup, count: int) -> None:
        """Take ready warm-pool instances first (AWS does), launch the rest from EC2."""
        warm = self._warm.get(self._key(group), [])
        for state in [s for s in warm if self._is_ready_warm(s)][:count]:
            warm.remove(state)
            group.instance_states.append(state)
            self.warm_pools.leave_for_group(group, state)  # EC2 starts a stopped one first
            self._begin_launch(group, state, origin="WarmPool", destination="AutoScalingGroup")
            count -= 1
        if count > 0:
            group.replace_autoscaling_group_instances(count, group.get_propagated_tags())

    def _scale_in(self, group: FakeAutoScalingGroup, count: int) -> None:
        """Terminate unprotected InService instances, oldest first (moto's order).

        Instances still in Pending:Wait are not chosen; once they reach InService the next
        reconcile removes any surplus.
        """
        victims = [
            s
            for s in group.instance_states
            if s.lifecycle_state == "InService" and not s.protected_from_scale_in
        ][:count]
        reuse = self.warm_pools.reuse_on_scale_in(group)
        for state in victims:
            if reuse:  # InstanceReusePolicy.ReuseOnScaleIn: back into the warm pool
                self.warm_pools.return_to_pool(group, state)
            else:
                self._begin_termination(group, state)

    def _refill_warm_pool(self, group: FakeAutoScalingGroup) -> None:
        """Keep max(MinSize, MaxGroupPreparedCapacity - DesiredCapacity) instances warm: new
        ones through the launch hooks (EC2 -> WarmPool), a surplus out through
        Warmed:Terminating:Wait (warm_pool.py)."""
        self.warm_pools.refill(group)

    def _is_ready_warm(self, state: InstanceState) -> bool:
        return state.lifecycle_state in {"Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated"}

    def _update_attached_target_groups(self, backend: AutoScalingBackend, group_name: str) -> None:
        """Register only ``InService`` instances with the group's target groups.

        AWS registers an instance after its launch hooks complete and deregisters it when it starts
        terminating; an instance in ``Pending:Wait``, ``Terminating:Wait`` or a warm pool is never
        (re-)registered. moto registers every instance of the group whenever the group changes,
        which would put a draining instance back into service while its terminate hook waits.
        """
        group = backend.autoscaling_groups.get(group_name)
        if group is None or not self._manages(group):
            self._original("update_attached_target_groups")(backend, group_name)
            return
        if not group.target_group_arns:
            return
        in_service = [s.instance.id for s in group.active_instances()]
        for target_group in backend.elbv2_backend.describe_target_groups(
            target_group_arns=group.target_group_arns, load_balancer_arn=None, names=None
        ):
            registered = set(target_group.targets)
            targets = [
                {"Id": i, "Port": target_group.port} for i in in_service if i not in registered
            ]
            if targets:
                backend.elbv2_backend.register_targets(target_group.arn, targets)

    def _update_load_balancers(self, group: FakeAutoScalingGroup) -> None:
        backend = group.autoscaling_backend
        if group.name in backend.autoscaling_groups:
            backend.update_attached_elbs(group.name)
            backend.update_attached_target_groups(group.name)

    # --- transitions ------------------------------------------------------------------------------
    def _begin_launch(
        self, group: FakeAutoScalingGroup, state: InstanceState, *, origin: str, destination: str
    ) -> None:
        into_pool = destination == "WarmPool"
        hooks = self._hooks(group, LAUNCHING)
        if not hooks:
            if into_pool:
                self.warm_pools.enter_pool(group, state)
            else:
                state.lifecycle_state = "InService"
            return
        state.lifecycle_state = "Warmed:Pending:Wait" if into_pool else "Pending:Wait"
        self._start_transition(
            group, state, transition=LAUNCHING, origin=origin, destination=destination, hooks=hooks
        )

    def _begin_termination(self, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        """Deregister from the load balancers, wait out the delay, then the terminate hooks.

        "How lifecycle hooks work": the terminating instance "is first deregistered from the load
        balancer"; with connection draining (deregistration delay) it waits for the existing
        connections to drain "before completing the deregistration process", and only then does
        the lifecycle hook put it into ``Terminating:Wait``. Meanwhile it is ``Terminating`` (not
        counted toward desired capacity). The delay is the longest of its target groups' (and
        Classic Load Balancers' connection-draining timeouts), at most 3600 s.
        """
        delay = self._deregister(group, state.instance_id)
        if group.target_group_arns or group.load_balancer_names:
            self.deregistrations.append(
                Deregistration(self.clock.time(), group.name, state.instance_id, delay)
            )
        if delay <= 0:
            self._enter_terminating_wait(group, state)
            return
        state.lifecycle_state = "Terminating"
        instance_id = state.instance_id
        until = self.clock.time() + delay
        timer = self.clock.call_at(until, lambda: self._deregistered(instance_id))
        self._deregistering[instance_id] = _Deregistering(group, state, until, timer)

    def _deregistered(self, instance_id: str) -> None:
        """The deregistration delay is over: the terminate hooks (or termination) come next."""
        with self._lock:
            leaving = self._deregistering.pop(instance_id, None)
            if leaving is None:
                return
            group, state = leaving.group, leaving.state
            backend = group.autoscaling_backend
            if backend.autoscaling_groups.get(group.name) is not group:
                return
            if state not in group.instance_states:
                return
            self._enter_terminating_wait(group, state)
            if self._manages(group):
                self._reconcile(group)

    def _deregister(self, group: FakeAutoScalingGroup, instance_id: str) -> float:
        """Deregister the instance from the group's load balancers; returns the delay (s)."""
        backend = group.autoscaling_backend
        delays = [0.0]
        if group.target_group_arns:
            try:
                target_groups = backend.elbv2_backend.describe_target_groups(
                    target_group_arns=group.target_group_arns, load_balancer_arn=None, names=None
                )
            except Exception:  # a target group deleted before its Auto Scaling group
                target_groups = []
            for target_group in target_groups:
                if instance_id in target_group.targets:
                    delays.append(self._target_group_delay(target_group, instance_id))
                    target_group.deregister([{"Id": instance_id}])
        if group.load_balancer_names:
            try:
                elbs = backend.elb_backend.describe_load_balancers(names=group.load_balancer_names)
            except Exception:
                elbs = []
            for elb in elbs:
                if instance_id in elb.instance_ids:
                    # moto keeps the attribute as given (Enabled/Timeout) or as its default
                    draining = elb.attributes.get("connection_draining") or {}
                    if draining.get("Enabled", draining.get("enabled")):
                        delays.append(float(draining.get("Timeout", draining.get("timeout", 300))))
                    backend.elb_backend.deregister_instances(
                        elb.name, [instance_id], from_autoscaling=True
                    )
        return min(max(delays), MAX_DEREGISTRATION_DELAY)

    @staticmethod
    def _target_group_delay(target_group: Any, instance_id: str) -> float:
        """The target group's deregistration delay (a Fleet may say how long a target drains)."""
        per_target = getattr(target_group, "drain_seconds_for", None)
        if per_target is not None:
            return float(per_target(instance_id))
        attributes = getattr(target_group, "attributes", {}) or {}
        return float(attributes.get("deregistration_delay.timeout_seconds", 300))

    def _enter_terminating_wait(self, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        hooks = self._hooks(group, TERMINATING)
        if not hooks:
            self._terminate_now(group, state)
            return
        state.lifecycle_state = "Terminating:Wait"
        self._start_transition(
            group,
            state,
            transition=TERMINATING,
            origin="AutoScalingGroup",
            destination="EC2",
            hooks=hooks,
        )

    def _start_transition(
        self,
        group: FakeAutoScalingGroup,
        state: InstanceState,
        *,
        transition: str,
        origin: str,
        destination: str,
        hooks: list[LifecycleHook],
        action: str | None = None,
        on_done: Callable[[str | None], None] | None = None,
    ) -> None:
        moving = _InstanceTransition(
            group, state, transition, origin, destination, action=action, on_done=on_done
        )
        self._transitions[state.instance_id] = moving
        for hook in hooks:
            moving.tokens.append(self._start_action(moving, hook).token)

    def _start_action(
        self, moving: _InstanceTransition, hook: LifecycleHook
    ) -> LifecycleActionRecord:
        now = self.clock.time()
        heartbeat_timeout = int(hook.heartbeat_timeout)
        global_deadline = now + min(100 * heartbeat_timeout, MAX_GLOBAL_TIMEOUT)
        group = moving.group
        record = LifecycleActionRecord(
            token=str(mock_random.uuid4()),
            account_id=group.account_id,
            region=group.region,
            group_name=group.name,
            hook_name=hook.name,
            instance_id=moving.state.instance_id,
            transition=moving.transition,
            origin=moving.origin,
            destination=moving.destination,
            action=moving.action,
            heartbeat_timeout=heartbeat_timeout,
            default_result=hook.default_result,
            started_at=now,
            global_deadline=global_deadline,
            deadline=min(now + heartbeat_timeout, global_deadline),
        )
        self.records.append(record)
        self._by_token[record.token] = record
        self._arm_timer(record)
        self._send_event(record, group.arn, getattr(hook, "notification_metadata", None))
        return record

    def _arm_timer(self, record: LifecycleActionRecord) -> None:
        old = self._timers.pop(record.token, None)
        if old is not None:
            VirtualClock.cancel(old)
        token = record.token
        self._timers[token] = self.clock.call_at(record.deadline, lambda: self._on_timeout(token))

    def _on_timeout(self, token: str) -> None:
        """DefaultResult applies when the heartbeat timeout or the global timeout passes."""
        with self._lock:
            record = self._by_token[token]
            self._timers.pop(token, None)
            if not record.active:
                return
            timed_out_globally = self.clock.time() >= record.global_deadline
            reason = "global-timeout" if timed_out_globally else "heartbeat-timeout"
            self._end_action(record, record.default_result, reason)

    def _end_action(self, record: LifecycleActionRecord, result: str | None, reason: str) -> None:
        self._close(record, result, reason)
        moving = self._transitions.get(record.instance_id)
        if moving is None or record.token not in moving.tokens:
            return
        if result == ABANDON:
            for token in moving.tokens:
                other = self._by_token[token]
                if other.active:
                    self._close(other, None, "abandoned-by-other-hook")
            self._finish_transition(moving, ABANDON)
        elif all(not self._by_token[t].active for t in moving.tokens):
            self._finish_transition(moving, CONTINUE)

    def _close(self, record: LifecycleActionRecord, result: str | None, reason: str) -> None:
        timer = self._timers.pop(record.token, None)
        if timer is not None:
            VirtualClock.cancel(timer)
        record.ended_at = self.clock.time()
        record.end_reason = reason
        record.result = result

    def _finish_transition(self, moving: _InstanceTransition, outcome: str) -> None:
        """Move the instance on once all its actions for this transition have ended."""
        self._transitions.pop(moving.state.instance_id, None)
        group, state = moving.group, moving.state
        retained = moving.transition == TERMINATING and outcome == ABANDON and self._retains(group)
        if moving.on_done is not None and not (retained and moving.action is None):
            moving.on_done(outcome)  # warm_pool.py / instance_refresh.py move the instance on
        elif moving.transition == LAUNCHING and outcome == CONTINUE:
            into_pool = moving.destination == "WarmPool"
            if into_pool:
                self.warm_pools.enter_pool(group, state)
            else:
                state.lifecycle_state = "InService"
            if not into_pool and not self._running(state):
                # terminated through EC2 while it waited: unhealthy at once, replaced
                state.health_status = "Unhealthy"
                self._begin_termination(group, state)
        elif retained:
            # "Configure instance retention": an abandoned terminate action (CompleteLifecycle-
            # Action ABANDON, or a timeout with DefaultResult ABANDON) leaves the instance
            # retained: X:Wait -> X:Retained (Terminating:Retained, Warmed:Terminating:Retained,
            # Warmed:Pending:Retained), not counted toward desired capacity.
            wait = state.lifecycle_state
            if wait.endswith(":Wait"):
                state.lifecycle_state = wait[: -len(":Wait")] + ":Retained"
            else:
                self._terminate_now(group, state)
        else:  # any terminate result, or an abandoned launch: terminate (and replace)
            self._terminate_now(group, state)
        if group.name in group.autoscaling_backend.autoscaling_groups and self._manages(group):
            self._reconcile(group)

    @staticmethod
    def _retains(group: FakeAutoScalingGroup) -> bool:
        policy = getattr(group, "instance_lifecycle_policy", None) or {}
        triggers = policy.get("RetentionTriggers") or {}
        return bool(triggers.get("TerminateHookAbandon") == RETAIN)

    @staticmethod
    def _running(state: InstanceState) -> bool:
        return str(getattr(state.instance, "state", "running")) in ("pending", "running")

    def _terminate_now(self, group: FakeAutoScalingGroup, state: InstanceState) -> None:
        if state in group.instance_states:
            group.instance_states.remove(state)
        warm = self._warm.get(self._key(group), [])
        if state in warm:
            warm.remove(state)
        group.autoscaling_backend.ec2_backend.terminate_instances([state.instance_id])
        self._update_load_balancers(group)

    def _end_transition_silently(self, instance_id: str, reason: str) -> None:
        """End an instance's actions without a result: the instance itself is going away."""
        leaving = self._deregistering.pop(instance_id, None)
        if leaving is not None:
            VirtualClock.cancel(leaving.timer)
        moving = self._transitions.pop(instance_id, None)
        if moving is None:
            return
        for token in moving.tokens:
            record = self._by_token[token]
            if record.active:
                self._close(record, None, reason)
        if moving.on_done is not None:
            moving.on_done(None)

    # --- operations that end or skip actions ------------------------------------------------------
    def _terminate_instance(
        self, backend: AutoScalingBackend, instance_id: str, should_decrement: bool
    ) -> Any:
        """TerminateInstanceInAutoScalingGroup: Terminating:Wait first when terminate hooks exist.

        Without ShouldDecrementDesiredCapacity the replacement launches at once, because a
        terminating instance no longer counts toward desired capacity.
        """
        with self._lock:
            return self._request_termination(backend, instance_id, should_decrement)

    def _request_termination(
        self, backend: AutoScalingBackend, instance_id: str, should_decrement: bool
    ) -> Any:
        group = next(
            (
                g
                for g in backend.autoscaling_groups.values()
                if any(s.instance_id == instance_id for s in g.instance_states)
            ),
            None,
        )
        if group is None or not self._manages(group):
            self._end_transition_silently(instance_id, "instance-terminated")
            return self._original("terminate_instance")(backend, instance_id, should_decrement)
        state = next(s for s in group.instance_states if s.instance_id == instance_id)
        original_size = group.desired_capacity
        activity = TerminateInstanceActivity(state.instance, original_size or 0)
        if state.lifecycle_state.endswith(":Retained"):
            # "Manage retained instances": a retained instance stays until you call
            # TerminateInstanceInAutoScalingGroup, which terminates it. It has been through its
            # terminate hooks already (Terminating:Wait -> Terminating:Proceed -> Retained), so
            # they do not run again; it never counted toward desired capacity, so
            # ShouldDecrementDesiredCapacity changes nothing.
            self._terminate_now(group, state)
            self._reconcile(group)
            return activity
        if should_decrement:
            group.desired_capacity = (group.desired_capacity or 0) - 1
        if state.lifecycle_state not in ("Terminating", "Terminating:Wait"):
            # a second request for a terminating instance changes nothing
            self._end_transition_silently(instance_id, "instance-terminated")
            self._begin_termination(group, state)
        self._reconcile(group)
        return activity

    # --- API --------------------------------------------------------------------------------------
    def _api_call(self, resp: AutoScalingResponse, operation: str) -> None:
        """RecordLifecycleActionHeartbeat / CompleteLifecycleAction, every call recorded."""
        backend = resp.autoscaling_backend
        params: dict[str, Any] = {
            key: resp._get_param(key)
            for key in (
                "AutoScalingGroupName",
                "LifecycleHookName",
                "LifecycleActionToken",
                "InstanceId",
                "LifecycleActionResult",
            )
        }
        with self._lock:
            call = ApiCallRecord(
                at=self.clock.time(),
                operation=operation,
                group_name=params["AutoScalingGroupName"],
                hook_name=params["LifecycleHookName"],
                token=params["LifecycleActionToken"],
                instance_id=params["InstanceId"],
                result=params["LifecycleActionResult"] if operation == COMPLETE else None,
            )
            self.calls.append(call)
            try:
                self._apply_call(backend, operation, params, call)
            except Exception as exc:
                call.outcome, call.error = "rejected", _describe_error(exc)
                raise

    def _apply_call(
        self,
        backend: AutoScalingBackend,
        operation: str,
        params: dict[str, Any],
        call: ApiCallRecord,
    ) -> None:
        if self.before_call is not None:  # fault-injection seam: may raise (e.g. Throttling)
            self._attach_call(backend, call)
            self.before_call(operation, dict(params))
        group_name = call.group_name
        if group_name not in backend.autoscaling_groups:
            raise ValidationError(
                f"AutoScalingGroup name not found - AutoScalingGroup '{group_name}' not found"
            )
        if operation == COMPLETE and call.result not in (CONTINUE, ABANDON):
            raise ValidationError("LifecycleActionResult must be CONTINUE or ABANDON")
        if not call.token and not call.instance_id:
            raise ValidationError("Either LifecycleActionToken or InstanceId must be specified")
        record = self._attach_call(backend, call)
        if record is None or not record.active or not self._matches(record, backend, call):
            if call.token:
                raise ValidationError(f"No active Lifecycle Action found with token {call.token}")
            raise ValidationError(
                f"No active Lifecycle Action found with instance ID {call.instance_id}"
            )
        if operation == HEARTBEAT:
            self._heartbeat(record)
        else:
            self._end_action(record, call.result, "completed")

    def _heartbeat(self, record: LifecycleActionRecord) -> None:
        """Restart the full HeartbeatTimeout from now, capped at the global timeout."""
        now = self.clock.time()
        record.heartbeats.append(now)
        record.deadline = min(now + record.heartbeat_timeout, record.global_deadline)
        self._arm_timer(record)

    @staticmethod
    def _matches(
        record: LifecycleActionRecord, backend: AutoScalingBackend, call: ApiCallRecord
    ) -> bool:
        return (
            (record.account_id, record.region) == (backend.account_id, backend.region_name)
            and record.group_name == call.group_name
            and record.hook_name == call.hook_name
            and (
                record.token == call.token if call.token else record.instance_id == call.instance_id
            )
        )

    def _attach_call(
        self, backend: AutoScalingBackend, call: ApiCallRecord
    ) -> LifecycleActionRecord | None:
        """Find the action a call is about (active or not) and log the call on it once."""
        record: LifecycleActionRecord | None
        if call.token:
            record = self._by_token.get(call.token)
        else:
            candidates = [r for r in self.records if self._matches(r, backend, call)]
            active = [r for r in candidates if r.active]
            latest = active or candidates
            record = latest[-1] if latest else None
        if record is not None and not any(c is call for c in record.calls):
            record.calls.append(call)
        return record

    # --- events -----------------------------------------------------------------------------------
    def _send_event(
        self, record: LifecycleActionRecord, group_arn: str, notification_metadata: str | None
    ) -> None:
        detail = lifecycle_detail(
            token=record.token,
            group_name=record.group_name,
            hook_name=record.hook_name,
            instance_id=record.instance_id,
            transition=record.transition,
            origin=None if self.omit_path else record.origin,
            destination=None if self.omit_path else record.destination,
            notification_metadata=notification_metadata,
            action=record.action,
        )
        event = lifecycle_action_event(
            account_id=record.account_id,
            region=record.region,
            at=record.started_at,
            group_arn=group_arn,
            detail=detail,
        )
        record.event = event
        observer = self.on_event
        if observer is not None:  # Auto Scaling's own side effects happen, delivered or not
            self._guarded(record, "on_event", None, lambda: observer(copy.deepcopy(event)))
        if self.drop_event is not None and self.drop_event(event):
            record.event_dropped = True
            return
        self.clock.call_at(record.started_at + self.delivery_delay, lambda: self._deliver(record))

    def _deliver(self, record: LifecycleActionRecord) -> None:
        """Hand the event to every enabled rule of the default bus; one failure stops nothing."""
        event = record.event
        assert event is not None
        record.event_sent_at = self.clock.time()
        bus = events_backends[record.account_id][record.region].event_buses["default"]
        for rule in list(bus.rules.values()):
            if rule.state != "DISABLED" and self._rule_matches(record, rule):
                for target in list(rule.targets):
                    self._deliver_to_target(record, rule, target)

    def _rule_matches(self, record: LifecycleActionRecord, rule: Rule) -> bool:
        assert record.event is not None
        internal = for_moto_rules(record.event, record.started_at, with_ingestion_time=False)
        try:
            return bool(rule.event_pattern.matches_event(cast("EventMessageType", internal)))
        except Exception as exc:
            self._delivery_failed(record, rule.name, None, exc)
            return False

    def _deliver_to_target(
        self, record: LifecycleActionRecord, rule: Rule, target: dict[str, Any]
    ) -> None:
        """One target at a time, so a target moto cannot handle does not starve the others.

        Targets without an input transformer get the event untransformed: moto's default
        template would drop ``account``. SQS and Lambda targets get it exactly as built, ``time``
        with its milliseconds (moto would rewrite ``time`` in whole seconds: it does so for the
        other targets and for transformed input).
        """
        assert record.event is not None
        event = record.event
        transformed = bool(target.get("InputTransformer"))
        arn = str(target.get("Arn", ""))
        internal = for_moto_rules(event, record.started_at, with_ingestion_time=transformed)
        if not transformed and ":lambda:" in arn:
            internal["time"] = event["time"]  # the local runtime hands a string time on as is
        single = copy.copy(rule)
        single.targets = [target]

        def send() -> None:
            if not transformed and ":sqs:" in arn:
                _send_to_queue(arn, target, event)
            else:
                single.send_to_targets(
                    cast("EventMessageType", internal), transform_input=transformed
                )

        self._guarded(record, rule.name, target.get("Id"), send)

    def _guarded(
        self, record: LifecycleActionRecord, rule: str, target_id: str | None, fn: Callable[[], Any]
    ) -> None:
        try:
            fn()
        except Exception as exc:
            self._delivery_failed(record, rule, target_id, exc)

    def _delivery_failed(
        self, record: LifecycleActionRecord, rule: str, target_id: str | None, exc: Exception
    ) -> None:
        """Recorded and logged, never swallowed silently; delivery to the others goes on."""
        error = DeliveryError(
            self.clock.time(), record.token, rule, target_id, _describe_error(exc)
        )
        self.delivery_errors.append(error)
        log.warning("lifecycle event delivery failed: %s", error)
