"""The EventBridge events other AWS services send about an instance (``service_events.py`` for
their shapes, ``service_sources.py`` for when), as a rule's SQS target receives them, and the
instance's own "ready" signal (``InstanceBehaviour.signals_ready``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lifecycle_emulator.clock import VirtualClock
from lifecycle_emulator.fleet import Fleet, InstanceBehaviour
from lifecycle_emulator.scenarios import InvalidScenario, parse
from lifecycle_emulator.service_sources import ServiceEvents
from tests.emulator.conftest import AMI, REGION, START

ACCOUNT = "123456789012"
T0 = START.timestamp()


@pytest.fixture
def fleet(aws: None, clock: VirtualClock) -> Iterator[Fleet]:
    fleet = Fleet(clock, lambda i: InstanceBehaviour(ready_after=60, command_seconds=20))
    fleet.install()
    yield fleet
    fleet.uninstall()


@pytest.fixture
def services(aws: None, clock: VirtualClock, fleet: Fleet) -> Iterator[ServiceEvents]:
    events = ServiceEvents(clock, fleet, account_id=ACCOUNT, region=REGION).install()
    yield events
    events.uninstall()


class Bus:
    """A rule on the default bus whose target is an SQS queue: what it received."""

    def __init__(self, pattern: dict[str, Any], name: str = "seen") -> None:
        self.sqs = boto3.client("sqs", region_name=REGION)
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        self.url = url
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
        target = {"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}
        events.put_targets(Rule=name, Targets=[target])

    def received(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


def _instance(behaviour: InstanceBehaviour | None = None, fleet: Fleet | None = None) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    (instance,) = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"]
    instance_id = str(instance["InstanceId"])
    if behaviour is not None and fleet is not None:
        fleet.set_behaviour(instance_id, behaviour)
    return instance_id


def _envelope(event: dict[str, Any], detail_type: str, source: str, at: float) -> None:
    """The envelope of every AWS service event (EventBridge User Guide, "AWS service event
    metadata"): version "0", an id, detail-type, source, account, time (whole seconds), region,
    resources, detail."""
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["version"] == "0"
    assert event["detail-type"] == detail_type
    assert event["source"] == source
    assert (event["account"], event["region"]) == (ACCOUNT, REGION)
    moment = START.fromtimestamp(at, START.tzinfo)
    assert event["time"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- EC2 tags -------------------------------------------------------------------------------------
def test_tag_changes_on_an_instance_send_tag_change_on_resource(
    services: ServiceEvents, clock: VirtualClock
) -> None:
    """Tagging AWS Resources User Guide, "Tag Change on Resource" events (EventBridge events
    reference, "Tags events"): source ``aws.tag``; ``resources`` the instance's ARN;
    ``detail``: ``changed-tag-keys`` (added, changed or deleted), ``service`` "ec2",
    ``resource-type`` "instance", ``version`` (one more at each change) and ``tags``: all the
    tags it has now. A call that changes nothing sends nothing."""
    bus = Bus({"source": ["aws.tag"]})
    ec2 = boto3.client("ec2", region_name=REGION)
    instance_id = _instance()
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "a", "Value": "1"}])
    clock.advance(10)
    ec2.create_tags(
        Resources=[instance_id], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "b", "Value": "2"}])  # no change
    clock.advance(10)
    ec2.delete_tags(Resources=[instance_id], Tags=[{"Key": "a"}])
    clock.run()

    first, second, third = bus.received()
    for event, at in ((first, T0), (second, T0 + 10), (third, T0 + 20)):
        _envelope(event, "Tag Change on Resource", "aws.tag", at)
        assert event["resources"] == [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"]
    assert first["detail"] == {
        "changed-tag-keys": ["a"],
        "service": "ec2",
        "resource-type": "instance",
        "version": 1,
        "tags": {"a": "1"},
    }
    assert second["detail"]["changed-tag-keys"] == ["b"]
    assert second["detail"]["tags"] == {"a": "1", "b": "2"}
    assert (third["detail"]["changed-tag-keys"], third["detail"]["tags"]) == (["a"], {"b": "2"})
    assert [e["detail"]["version"] for e in (first, second, third)] == [1, 2, 3]


def test_tags_on_other_resources_send_no_instance_event(services: ServiceEvents) -> None:
    """Only an instance's tag changes are modelled (``resource-type`` "instance")."""
    ec2 = boto3.client("ec2", region_name=REGION)
    group = ec2.create_security_group(GroupName="g", Description="g")["GroupId"]
    ec2.create_tags(Resources=[group], Tags=[{"Key": "a", "Value": "1"}])
    assert services.sent == []


# --- Parameter Store ------------------------------------------------------------------------------
def test_parameter_store_changes_send_parameter_store_change(
    services: ServiceEvents, clock: VirtualClock
) -> None:
    """Systems Manager User Guide, "Amazon EventBridge event examples for Systems Manager",
    Parameter Store events: source ``aws.ssm``, detail-type ``Parameter Store Change``,
    ``resources`` the parameter's ARN, ``detail`` ``operation`` Create | Update | Delete,
    ``name``, ``type``, ``description``."""
    bus = Bus({"source": ["aws.ssm"], "detail-type": ["Parameter Store Change"]})
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/app/ready", Value="no", Type="String", Description="readiness")
    ssm.put_parameter(Name="/app/ready", Value="yes", Type="String", Overwrite=True)
    ssm.put_parameter(Name="plain", Value="x", Type="StringList")
    ssm.delete_parameter(Name="/app/ready")
    ssm.delete_parameters(Names=["plain", "missing"])
    clock.run()

    received = bus.received()
    for event in received:
        _envelope(event, "Parameter Store Change", "aws.ssm", T0)
    assert [e["resources"] for e in received] == [
        [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/ready"],
        [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/ready"],
        [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/plain"],
        [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/ready"],
        [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/plain"],
    ]
    described = "readiness"
    assert [e["detail"] for e in received] == [
        {"operation": "Create", "name": "/app/ready", "type": "String", "description": described},
        {"operation": "Update", "name": "/app/ready", "type": "String", "description": described},
        {"operation": "Create", "name": "plain", "type": "StringList"},
        {"operation": "Delete", "name": "/app/ready", "type": "String", "description": described},
        {"operation": "Delete", "name": "plain", "type": "StringList"},
    ]


def test_a_refused_put_parameter_sends_nothing(services: ServiceEvents) -> None:
    """PutParameter on an existing name without Overwrite fails (ParameterAlreadyExists):
    nothing changed, no event."""
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="p", Value="1", Type="String")
    with pytest.raises(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(Name="p", Value="2", Type="String")
    assert [e["detail"]["operation"] for e in services.sent] == ["Create"]


# --- Run Command ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("exit_code", "status"), [(0, "Success"), (2, "Failed")])
def test_a_command_invocation_sends_its_status_changes_when_they_happen(
    services: ServiceEvents, fleet: Fleet, clock: VirtualClock, exit_code: int, status: str
) -> None:
    """Systems Manager User Guide, "Amazon EventBridge event examples for Systems Manager",
    "Run Command Invocation Status-change Notification": source ``aws.ssm``; ``resources`` the
    instance's ARN; ``detail`` ``command-id``, ``document-name``, ``instance-id``,
    ``requested-date-time``, ``status``. The command runs 20 s on the instance (its
    behaviour): ``InProgress`` when sent, then ``Success`` / ``Failed`` 20 s later, the instant
    GetCommandInvocation reports it."""
    behaviour = InstanceBehaviour(ready_after=60, command_seconds=20, command_exit=exit_code)
    instance_id = _instance(behaviour, fleet)
    bus = Bus({"source": ["aws.ssm"], "detail-type": [{"prefix": "EC2 Command Invocation"}]})
    clock.advance(60)
    ssm = boto3.client("ssm", region_name=REGION)
    command = ssm.send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["true"]},
    )["Command"]
    clock.advance(19)
    invocation = ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance_id)
    assert invocation["Status"] == "InProgress"
    clock.run()

    sent, ended = bus.received()
    _envelope(sent, "EC2 Command Invocation Status-change Notification", "aws.ssm", T0 + 60)
    _envelope(ended, "EC2 Command Invocation Status-change Notification", "aws.ssm", T0 + 80)
    assert ended["resources"] == [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"]
    assert ended["detail"] == {
        "command-id": command["CommandId"],
        "document-name": "AWS-RunShellScript",
        "instance-id": instance_id,
        "requested-date-time": "2026-01-01T00:01:00.000Z",
        "status": status,
    }
    assert sent["detail"]["status"] == "InProgress"
    invocation = ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance_id)
    assert invocation["Status"] == status


# --- ECS ------------------------------------------------------------------------------------------
def test_ecs_sends_task_and_container_instance_state_changes(
    services: ServiceEvents, clock: VirtualClock
) -> None:
    """Amazon ECS Developer Guide, "Amazon ECS events" (a task or container instance whose
    state changes sends an event; "when a task is started on a container instance, a task state
    change event is triggered for the new task. A container instance state change event is
    triggered to account for the change in available resources"), "Amazon ECS task state
    change events" and "Amazon ECS container instance state change events" (the detail
    resembles DescribeTasks' Task / DescribeContainerInstances' ContainerInstance; the first
    registration and a deregistration send one too)."""
    bus = Bus({"source": ["aws.ecs"]})
    ecs = boto3.client("ecs", region_name=REGION)
    cluster = ecs.create_cluster(clusterName="web")["cluster"]["clusterArn"]
    instance_id = _instance()
    document = json.dumps({"instanceId": instance_id, "region": REGION})
    container = ecs.register_container_instance(cluster="web", instanceIdentityDocument=document)[
        "containerInstance"
    ]["containerInstanceArn"]
    ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "app", "memory": 64}]
    )
    clock.advance(10)
    (task,) = ecs.start_task(cluster="web", taskDefinition="app", containerInstances=[container])[
        "tasks"
    ]
    clock.advance(10)
    ecs.update_container_instances_state(
        cluster="web", containerInstances=[container], status="DRAINING"
    )
    clock.advance(10)
    ecs.stop_task(cluster="web", task=task["taskArn"], reason="drained")
    clock.advance(10)
    ecs.deregister_container_instance(cluster="web", containerInstance=container)
    clock.run()

    received = bus.received()
    kinds = [
        (
            e["detail-type"],
            e["detail"].get("lastStatus") or e["detail"]["status"],
            e["detail"].get("runningTasksCount"),
        )
        for e in received
    ]
    assert kinds == [
        ("ECS Container Instance State Change", "ACTIVE", 0),
        ("ECS Task State Change", "RUNNING", None),
        ("ECS Container Instance State Change", "ACTIVE", 1),
        ("ECS Container Instance State Change", "DRAINING", 1),
        ("ECS Task State Change", "STOPPED", None),
        ("ECS Container Instance State Change", "DRAINING", 0),
        ("ECS Container Instance State Change", "INACTIVE", 0),
    ]
    stopped = received[4]
    _envelope(stopped, "ECS Task State Change", "aws.ecs", T0 + 30)
    assert stopped["resources"] == [task["taskArn"]]
    assert {
        key: stopped["detail"][key]
        for key in ("clusterArn", "containerInstanceArn", "taskArn", "lastStatus", "desiredStatus")
    } == {
        "clusterArn": cluster,
        "containerInstanceArn": container,
        "taskArn": task["taskArn"],
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
    }
    assert stopped["detail"]["stoppedReason"] == "drained"
    drained = received[5]
    _envelope(drained, "ECS Container Instance State Change", "aws.ecs", T0 + 30)
    assert drained["resources"] == [container]
    assert {
        key: drained["detail"][key]
        for key in ("clusterArn", "containerInstanceArn", "ec2InstanceId", "status")
    } == {
        "clusterArn": cluster,
        "containerInstanceArn": container,
        "ec2InstanceId": instance_id,
        "status": "DRAINING",
    }
    versions = [e["detail"]["version"] for e in received if e["resources"] == [container]]
    assert versions == [1, 2, 3, 4, 5], "the container instance's version, one more each change"
    assert received[6]["detail"]["agentConnected"] is False


# --- best-effort delivery -------------------------------------------------------------------------
def test_delivery_may_be_delayed_or_lost(services: ServiceEvents, clock: VirtualClock) -> None:
    """EventBridge delivers AWS service events best-effort (EventBridge User Guide, "Events from
    AWS services": "on a best effort basis"): the seams delay them (virtual seconds) or lose
    some; ``on_event`` sees every event sent either way."""
    seen: list[dict[str, Any]] = []
    services.on_event = seen.append
    services.delivery_delay = 30
    services.drop_event = lambda event: event["detail"]["name"] == "lost"
    bus = Bus({"source": ["aws.ssm"]})
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="kept", Value="1", Type="String")
    ssm.put_parameter(Name="lost", Value="1", Type="String")
    clock.advance(29)
    assert bus.received() == []
    clock.run()

    assert [e["detail"]["name"] for e in bus.received()] == ["kept"]
    assert [e["detail"]["name"] for e in seen] == ["kept", "lost"]
    assert clock.time() == T0 + 30


# --- the instance's own signal --------------------------------------------------------------------
def test_an_instance_that_signals_readiness_puts_its_event_once_ready(
    services: ServiceEvents, fleet: Fleet, clock: VirtualClock
) -> None:
    """An instance whose user data signals readiness sends, with PutEvents on the default bus
    (EventBridge User Guide, "Sending events with PutEvents"), a custom event once its status
    checks pass (``ready_after`` after boot); EventBridge adds the envelope. One that never
    gets ready, or does not signal, sends nothing."""
    bus = Bus({"source": ["asg-lifecycle-orchestrator"]})
    behaviours = iter(
        [
            InstanceBehaviour(ready_after=45, signals_ready=True),
            InstanceBehaviour(ready_after=None, signals_ready=True),
            InstanceBehaviour(ready_after=45),
        ]
    )
    fleet._next = lambda _i: next(behaviours)
    ready, never, silent = (_instance() for _ in range(3))
    clock.run()

    (event,) = bus.received()
    assert (event["source"], event["detail-type"]) == (
        "asg-lifecycle-orchestrator",
        "Run checks now",
    )
    assert event["detail"] == {"instance-id": ready}
    _envelope(event, "Run checks now", "asg-lifecycle-orchestrator", T0 + 45)
    assert event["resources"] == []
    assert fleet.ready_signals == [(T0 + 45, ready)]
    assert fleet.behaviour[never].signals_ready
    assert not fleet.behaviour[silent].signals_ready


def test_the_scenario_key_signals_ready() -> None:
    """A scenario's instance behaviour sets it with ``"signalsReady": true``."""
    document = {
        "group": {"name": "web", "maxSize": 2},
        "hooks": [{"name": "web-launch", "transition": "launch"}],
        "instances": [{"readyAfter": 30, "signalsReady": True}],
        "steps": [{"at": 0, "desired": 1}],
    }
    scenario = parse(document, "signals")
    assert scenario.instances[0].signals_ready is True
    assert scenario.default_instance.signals_ready is False
    document["instances"] = [{"signalsReady": "yes"}]
    with pytest.raises(InvalidScenario, match="signalsReady"):
        parse(document, "signals")
