"""What the emulator adds to moto for the workflow's notifications, each rule from its AWS page."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from lifecycle_emulator.runtime import _publish_to_topic


def test_an_sns_topic_target_gets_the_input_transformers_text() -> None:
    """EventBridge User Guide, "Amazon SNS topics as targets" and "Input transformation": the
    target receives what the InputTransformer makes of the event (moto's EventBridge delivers
    to no SNS target); a topic that does not exist loses the event."""
    with mock_aws():
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic = sns.create_topic(Name="lifecycle")["TopicArn"]
        url = sqs.create_queue(QueueName="copy")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        event = {
            "detail-type": "Lifecycle Action Ended",
            "detail": {"instanceId": "i-1"},
            "ingestion-time": "2026-01-01T00:00:00Z",  # moto's parser reads it
        }
        target = {
            "Arn": topic,
            "InputTransformer": {
                "InputPathsMap": {"what": "$.detail-type", "instance": "$.detail.instanceId"},
                "InputTemplate": '"<what>: instance <instance>"',
            },
        }
        _publish_to_topic(target, event)
        _publish_to_topic({"Arn": topic}, event)  # no transformer: the event itself
        _publish_to_topic({"Arn": topic.replace("lifecycle", "gone")}, event)
        bodies = [
            m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        ]
    assert "Lifecycle Action Ended: instance i-1" in bodies[0]
    assert json.loads(bodies[1]) == event
    assert len(bodies) == 2


def test_the_sdk_integration_names_eventbridge_as_aws_does() -> None:
    """Step Functions Developer Guide, "Add EventBridge events with Step Functions": the AWS SDK
    integration is ``arn:aws:states:::aws-sdk:eventbridge:putEvents``; moto's interpreter knows
    only boto's ``events``, so the emulator maps the one to the other."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: PLC0415
        state_task_service,
    )

    from lifecycle_emulator.local_aws import LocalAws  # noqa: PLC0415

    owner = state_task_service.StateTaskService
    assert "eventbridge" not in owner._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES, "moto alone"
    with LocalAws():
        assert owner._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES["eventbridge"] == "events"
    assert "eventbridge" not in owner._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES, "undone after"
