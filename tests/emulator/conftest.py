"""What the emulator's tests share: a moto account, the virtual clock, the installed lifecycle
emulator with the events it sent, and an Auto Scaling client with a launch configuration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lifecycle_emulator.autoscaling import LifecycleActions
from lifecycle_emulator.clock import VirtualClock

REGION = "us-east-1"
START = datetime(2026, 1, 1, tzinfo=UTC)
AMI = "ami-12c6146b"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def seen() -> list[dict[str, Any]]:
    """Events as the on_event observer saw them (also those then lost)."""
    return []


@pytest.fixture
def emulator(aws: None, clock: VirtualClock, seen: list[dict[str, Any]]) -> Iterator[Any]:
    with LifecycleActions(clock, on_event=seen.append) as emu:
        yield emu


@pytest.fixture
def asg(aws: None) -> Any:
    client = boto3.client("autoscaling", region_name=REGION)
    client.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId=AMI, InstanceType="t2.micro"
    )
    return client
