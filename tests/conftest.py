"""Shared test setup: fake AWS credentials so nothing can reach a real account."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

for _key, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "AsgLifecycleTests",
    "POWERTOOLS_SERVICE_NAME": "asg-lifecycle-tests",
}.items():
    os.environ.setdefault(_key, _value)


def load_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


@pytest.fixture
def launch_event() -> dict[str, Any]:
    return load_event("launch.json")
