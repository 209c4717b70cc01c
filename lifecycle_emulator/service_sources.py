"""When the emulated AWS services send their EventBridge events (shapes in ``service_events.py``).

moto's EC2, Systems Manager and ECS put nothing on EventBridge. Here, layered on moto:

* EC2 ``CreateTags`` / ``DeleteTags`` that change an instance's tags: ``Tag Change on Resource``.
* Parameter Store ``PutParameter`` / ``DeleteParameter(s)``: ``Parameter Store Change``.
* Run Command: ``EC2 Command Invocation Status-change Notification`` when an invocation is sent
  (``InProgress``, as GetCommandInvocation then reports it) and when it ends, at the virtual
  instant the fleet's behaviour ends it (``sent + command_seconds``, ``Success`` or ``Failed``).
* An instance whose user data signals readiness (``InstanceBehaviour.signals_ready``): its
  ``PutEvents`` entry (``service_events.ready_signal_entry``), once it is ready.
* ECS: ``ECS Task State Change`` when a task starts or stops, and ``ECS Container Instance State
  Change`` when a container instance registers, deregisters, changes status or its running task
  count (StartTask, RunTask, StopTask, UpdateContainerInstancesState, ...).

Delivery is best-effort like AWS's: ``drop_event`` loses an event, ``delivery_delay`` delays
them (virtual seconds); ``on_event`` sees every event sent, lost or not. Each event goes to every
enabled rule of the default bus whose pattern matches; a Lambda target is invoked asynchronously
by the emulator's runtime, an SQS target receives the event as its body.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from lifecycle_emulator import service_events as shapes
from lifecycle_emulator.clock import VirtualClock
from lifecycle_emulator.fleet import Fleet
from lifecycle_emulator.lifecycle_events import for_moto_rules, iso_time

log = logging.getLogger(__name__)

EventObserver = Callable[[dict[str, Any]], None]
EventFilter = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class ServiceDeliveryError:
    at: float
    detail_type: str
    rule: str
    target_id: str | None
    error: str


class ServiceEvents:
    """Sends the services' events; install after the :class:`Fleet` (it wraps SendCommand)."""

    def __init__(
        self,
        clock: VirtualClock,
        fleet: Fleet | None = None,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        *,
        on_event: EventObserver | None = None,
        drop_event: EventFilter | None = None,
        delivery_delay: float = 0.0,
    ) -> None:
        self.clock = clock
        self.fleet = fleet
        self.account_id = account_id
        self.region = region
        self.on_event = on_event
        self.drop_event = drop_event
        self.delivery_delay = delivery_delay
        self.sent: list[dict[str, Any]] = []  # every event sent (also those then lost)
        self.delivery_errors: list[ServiceDeliveryError] = []
        self._undo: list[Callable[[], None]] = []
        self._versions: dict[str, int] = {}  # resource -> its last version in an event
        self._ecs_tasks: dict[str, tuple[Any, ...]] = {}
        self._ecs_instances: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._created: dict[str, float] = {}

    # --- installing ---------------------------------------------------------------------------
    def install(self) -> ServiceEvents:
        if self.fleet is not None:
            self.fleet.put_events = self.put_events
            self._undo.append(functools.partial(setattr, self.fleet, "put_events", None))
        self._patch_tags()
        self._patch_parameters()
        self._patch_commands()
        self._patch_ecs()
        return self

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _set(self, owner: Any, attr: str, value: Any) -> None:
        original = owner.__dict__[attr] if attr in owner.__dict__ else getattr(owner, attr)
        setattr(owner, attr, value)
        self._undo.append(functools.partial(setattr, owner, attr, original))

    # --- sending --------------------------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> None:
        """Put ``event`` (a :mod:`service_events` shape) on its account's default bus."""
        self.sent.append(event)
        if self.on_event is not None:
            try:
                self.on_event(copy.deepcopy(event))
            except Exception as exc:  # an observer's bug must not stop the service
                self._failed(event, "on_event", None, exc)
        if self.drop_event is not None and self.drop_event(event):
            return
        at = self.clock.time()
        self.clock.call_at(at + self.delivery_delay, functools.partial(self._deliver, event, at))

    def put_events(self, entry: dict[str, str], account_id: str, region: str) -> None:
        """A ``PutEvents`` entry on the default bus (an instance's own signal), delivered like
        the services' events."""
        at = self.clock.time()
        self.send(shapes.put_events_event(entry, account_id=account_id, region=region, at=at))

    def _deliver(self, event: dict[str, Any], at: float) -> None:
        from moto.events.models import events_backends  # noqa: PLC0415

        bus = events_backends[event["account"]][event["region"]].event_buses["default"]
        for rule in list(bus.rules.values()):
            if rule.state == "DISABLED":
                continue
            internal = for_moto_rules(event, at, with_ingestion_time=False)
            try:
                matches = bool(rule.event_pattern.matches_event(cast("Any", internal)))
            except Exception as exc:
                self._failed(event, rule.name, None, exc)
                continue
            if matches:
                for target in list(rule.targets):
                    self._deliver_to_target(event, at, rule, target)

    def _deliver_to_target(
        self, event: dict[str, Any], at: float, rule: Any, target: dict[str, Any]
    ) -> None:
        """As ``autoscaling.py`` delivers: SQS and Lambda targets get the event exactly as
        built; other targets (and transformed input) go through moto."""
        transformed = bool(target.get("InputTransformer"))
        arn = str(target.get("Arn", ""))
        try:
            if not transformed and ":sqs:" in arn:
                from moto.sqs.models import sqs_backends  # noqa: PLC0415

                _, _, _, region, account, queue = arn.split(":", 5)
                group = (target.get("SqsParameters") or {}).get("MessageGroupId")
                sqs_backends[account][region].send_message(
                    queue_name=queue, message_body=json.dumps(event), group_id=group
                )
                return
            internal = for_moto_rules(event, at, with_ingestion_time=transformed)
            if not transformed and ":lambda:" in arn:
                internal["time"] = event["time"]
            single = copy.copy(rule)
            single.targets = [target]
            single.send_to_targets(cast("Any", internal), transform_input=transformed)
        except Exception as exc:
            self._failed(event, rule.name, target.get("Id"), exc)

    def _failed(self, event: dict[str, Any], rule: str, target: str | None, exc: Exception) -> None:
        code = getattr(exc, "code", type(exc).__name__)
        error = ServiceDeliveryError(
            self.clock.time(), event["detail-type"], rule, target, f"{code}: {exc}"
        )
        self.delivery_errors.append(error)
        log.warning("service event delivery failed: %s", error)

    def _version(self, resource: str) -> int:
        self._versions[resource] = self._versions.get(resource, 0) + 1
        return self._versions[resource]

    # --- EC2 tags -------------------------------------------------------------------------------
    def _patch_tags(self) -> None:
        """CreateTags / DeleteTags API calls (not tags applied by a launch)."""
        from moto.ec2.responses.tags import TagResponse  # noqa: PLC0415

        def wrap(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
            def handler(response: Any) -> Any:
                backend = response.ec2_backend
                ids = [r for r in response._get_param("Resources", []) if r.startswith("i-")]
                before = {i: dict(backend.tags.get(i, {})) for i in ids}
                result = original(response)
                for instance_id in ids:
                    after = dict(backend.tags.get(instance_id, {}))
                    self._tags_changed(backend, instance_id, before[instance_id], after)
                return result

            return handler

        self._set(TagResponse, "create_tags", wrap(TagResponse.create_tags))
        self._set(TagResponse, "delete_tags", wrap(TagResponse.delete_tags))

    def _tags_changed(
        self, backend: Any, instance_id: str, before: dict[str, str], after: dict[str, str]
    ) -> None:
        keys = list(dict.fromkeys([*before, *after]))
        changed = [k for k in keys if before.get(k) != after.get(k)]
        if not changed:
            return  # nothing changed: no event
        self.send(
            shapes.tag_change_event(
                account_id=backend.account_id,
                region=backend.region_name,
                at=self.clock.time(),
                instance_id=instance_id,
                changed_keys=changed,
                tags=after,
                version=self._version(f"tags:{instance_id}"),
            )
        )

    # --- Parameter Store ------------------------------------------------------------------------
    def _patch_parameters(self) -> None:
        from moto.ssm.models import SimpleSystemManagerBackend as Ssm  # noqa: PLC0415

        put, delete, delete_many = Ssm.put_parameter, Ssm.delete_parameter, Ssm.delete_parameters
        signature = inspect.signature(put)

        def put_parameter(backend: Any, *args: Any, **kwargs: Any) -> Any:
            name = signature.bind(backend, *args, **kwargs).arguments["name"]
            existed = _parameter(backend, name) is not None
            result = put(backend, *args, **kwargs)
            self._parameter_changed(backend, "Update" if existed else "Create", name, result)
            return result

        def delete_parameter(backend: Any, name: str) -> Any:
            before = _parameter(backend, name)
            result = delete(backend, name)
            self._parameter_changed(backend, "Delete", name, before)
            return result

        def delete_parameters(backend: Any, names: list[str]) -> Any:
            before = {name: _parameter(backend, name) for name in names}
            deleted = delete_many(backend, names)
            for name in deleted:
                self._parameter_changed(backend, "Delete", name, before.get(name))
            return deleted

        self._set(Ssm, "put_parameter", put_parameter)
        self._set(Ssm, "delete_parameter", delete_parameter)
        self._set(Ssm, "delete_parameters", delete_parameters)

    def _parameter_changed(self, backend: Any, operation: str, name: str, parameter: Any) -> None:
        if parameter is None:
            return
        self.send(
            shapes.parameter_change_event(
                account_id=backend.account_id,
                region=backend.region_name,
                at=self.clock.time(),
                operation=operation,
                name=parameter.name,
                parameter_type=parameter.parameter_type,
                description=parameter.description,
            )
        )

    # --- Run Command ----------------------------------------------------------------------------
    def _patch_commands(self) -> None:
        from moto.ssm.models import SimpleSystemManagerBackend as Ssm  # noqa: PLC0415

        send_command = Ssm.send_command  # the fleet's (commands take time), when installed

        def send(backend: Any, *args: Any, **kwargs: Any) -> Any:
            command = send_command(backend, *args, **kwargs)
            sent = self.clock.time()
            for instance_id in sorted(command.instance_ids):
                self._invocation_status(backend, command, instance_id, sent)
                behaviour = self.fleet.behaviour.get(instance_id) if self.fleet else None
                ends = sent + (behaviour.command_seconds if behaviour is not None else 0.0)
                ended = functools.partial(
                    self._invocation_status, backend, command, instance_id, sent
                )
                if ends > sent:
                    self.clock.call_at(ends, ended)
            return command

        self._set(Ssm, "send_command", send)

    def _invocation_status(self, backend: Any, command: Any, instance_id: str, sent: float) -> None:
        """The invocation's status as GetCommandInvocation reports it now."""
        status = str(command.get_invocation(instance_id, None).get("Status", "Success"))
        self.send(
            shapes.command_invocation_event(
                account_id=backend.account_id,
                region=backend.region_name,
                at=self.clock.time(),
                command_id=command.command_id,
                document_name=command.document_name,
                instance_id=instance_id,
                requested_at=sent,
                status=status,
            )
        )

    # --- ECS ------------------------------------------------------------------------------------
    def _patch_ecs(self) -> None:
        from moto.ecs.models import EC2ContainerServiceBackend as Ecs  # noqa: PLC0415

        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            def method(backend: Any, *args: Any, **kwargs: Any) -> Any:
                result = original(backend, *args, **kwargs)
                self._ecs_changed(backend)
                return result

            return method

        for name in (
            "run_task",
            "start_task",
            "stop_task",
            "register_container_instance",
            "deregister_container_instance",
            "update_container_instances_state",
        ):
            self._set(Ecs, name, wrap(getattr(Ecs, name)))

    def _ecs_changed(self, backend: Any) -> None:
        """Events for every task and container instance whose state differs from last time."""
        at = self.clock.time()
        account, region = backend.account_id, backend.region_name
        for cluster_tasks in list(backend.tasks.values()):
            for task in list(cluster_tasks.values()):
                state = (task.last_status, task.desired_status)
                if self._ecs_tasks.get(task.task_arn) == state:
                    continue
                self._ecs_tasks[task.task_arn] = state
                self._created.setdefault(task.task_arn, at)
                detail = self._task_detail(task, at)
                self.send(
                    shapes.ecs_task_event(account_id=account, region=region, at=at, task=detail)
                )
        present: set[str] = set()
        for cluster_name, instances in list(backend.container_instances.items()):
            if cluster_name == "orphaned":  # moto's place for force-deregistered instances
                continue
            cluster = backend.clusters.get(cluster_name)
            for instance in list(instances.values()):
                arn = instance.container_instance_arn
                present.add(arn)
                detail = self._container_instance_detail(instance, cluster)
                state = _container_instance_state(detail)
                seen = self._ecs_instances.get(arn)
                if seen is not None and seen[0] == state:
                    continue
                self._ecs_instances[arn] = (state, detail)
                self._send_container_instance(account, region, at, detail)
        ours = f":ecs:{region}:{account}:"  # this backend's container instances only
        for arn in [a for a in self._ecs_instances if ours in a and a not in present]:
            state, detail = self._ecs_instances.pop(arn)
            if state[0] == "INACTIVE":
                continue
            # deregistered: AWS reports it INACTIVE, its agent disconnected
            self._send_container_instance(
                account, region, at, dict(detail, status="INACTIVE", agentConnected=False)
            )

    def _send_container_instance(
        self, account: str, region: str, at: float, detail: dict[str, Any]
    ) -> None:
        arn = detail["containerInstanceArn"]
        detail = dict(detail, version=self._version(arn), updatedAt=_millis(at))
        self.send(
            shapes.ecs_container_instance_event(
                account_id=account, region=region, at=at, container_instance=detail
            )
        )

    def _task_detail(self, task: Any, at: float) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "clusterArn": task.cluster_arn,
            "containerInstanceArn": task.container_instance_arn,
            "taskArn": task.task_arn,
            "taskDefinitionArn": task.task_definition_arn,
            "lastStatus": task.last_status,
            "desiredStatus": task.desired_status,
            "group": task.group,
            "launchType": task.launch_type or "EC2",
            "createdAt": _millis(self._created[task.task_arn]),
            "updatedAt": _millis(at),
            "version": self._version(task.task_arn),
        }
        if task.started_by:
            detail["startedBy"] = task.started_by
        if task.desired_status == "STOPPED" and task.stopped_reason:
            detail["stoppedReason"] = task.stopped_reason
        return detail

    @staticmethod
    def _container_instance_detail(instance: Any, cluster: Any) -> dict[str, Any]:
        return {
            "agentConnected": bool(instance.agent_connected),
            "attributes": [{"name": k, "value": v} for k, v in instance.attributes.items()],
            "clusterArn": getattr(cluster, "arn", None),
            "containerInstanceArn": instance.container_instance_arn,
            "ec2InstanceId": instance.ec2_instance_id,
            "registeredResources": copy.deepcopy(instance.registered_resources),
            "remainingResources": copy.deepcopy(instance.remaining_resources),
            "runningTasksCount": instance.running_tasks_count,
            "pendingTasksCount": instance.pending_tasks_count,
            "status": instance.status,
            "versionInfo": dict(instance.version_info),
        }


def _container_instance_state(detail: dict[str, Any]) -> tuple[Any, ...]:
    """What a state change event is sent for (resources follow the running tasks)."""
    return (
        detail["status"],
        detail["agentConnected"],
        detail["runningTasksCount"],
        detail["pendingTasksCount"],
    )


def _parameter(backend: Any, name: str) -> Any:
    try:
        return backend.get_parameter(name)
    except Exception:  # an invalid name: PutParameter itself answers it
        return None


_millis = iso_time  # ``updatedAt`` / ``createdAt``: milliseconds, as DescribeTasks has them
