"""The start function on any input: every rejection is answered and logged, nothing raises.

No AWS: inputs that are not a well-formed lifecycle event never reach a client.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_event
from tests.unit.conftest import Context


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "test")
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:x")
    from handlers import start  # noqa: PLC0415

    return start.handler


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=5)
    ),
    max_leaves=15,
)


def _log_lines(output: str) -> list[dict[str, Any]]:
    lines = []
    for line in output.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "level" in data:
            lines.append(data)
    return lines


FIXTURES = [HealthCheck.function_scoped_fixture]


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES)
@given(raw=JSON)
def test_any_input_is_rejected_with_a_logged_reason(
    handler: Any, raw: Any, logs: io.StringIO
) -> None:
    logs.seek(0)
    logs.truncate()
    answer = handler(raw, Context())
    assert answer["status"] in {"rejected", "ignored"}
    assert answer["reason"]
    if answer["status"] == "rejected":
        (error,) = [line for line in _log_lines(logs.getvalue()) if line["level"] == "ERROR"]
        assert error["message"] == "Rejected event"
        assert error["reason"] == answer["reason"]


DETAIL_FIELDS = sorted(set(load_event("launch.json")["detail"]) - {"NotificationMetadata"})


@settings(max_examples=100, deadline=None, suppress_health_check=FIXTURES)
@given(
    field=st.sampled_from(DETAIL_FIELDS),
    value=JSON.filter(lambda v: bool(v) and not isinstance(v, str)),
)
def test_a_bad_field_of_a_real_event_is_rejected_naming_it(
    handler: Any, field: str, value: Any, logs: io.StringIO
) -> None:
    """Any non-string value in any field of a real event (never a valid one; empty values of
    Origin/Destination mean their defaults): rejected, naming the field; the token never appears
    whole in the logs."""
    logs.seek(0)
    logs.truncate()
    event = load_event("launch.json")
    token = event["detail"]["LifecycleActionToken"]
    event["detail"][field] = value
    answer = handler(event, Context())
    assert answer["status"] == "rejected"
    assert field in answer["reason"]
    assert token not in logs.getvalue(), "the whole token is a capability: never logged"


NEWLINE_FIELDS = {
    "EC2InstanceId": "i-0123456789abcdef0\n",
    "LifecycleActionToken": "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f\n",
    "LifecycleHookName": "web-launch\n",
}


@pytest.mark.parametrize(("field", "value"), sorted(NEWLINE_FIELDS.items()))
def test_a_field_with_a_trailing_newline_is_rejected_before_step_functions(
    handler: Any, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO, field: str, value: str
) -> None:
    """Issue 19, item 6: such an event once passed validation, failed at StartExecution
    (InvalidName: the value is part of the execution's name), was retried by Lambda and landed in
    the dead-letter queue. Now it is answered "rejected" naming the field, logged once, and no
    AWS client is made."""
    from handlers import start  # noqa: PLC0415

    def no_aws(*_: Any, **__: Any) -> Any:
        raise AssertionError("a rejected event must not reach AWS")

    monkeypatch.setattr(start, "start_workflow", no_aws)
    monkeypatch.setattr(start, "client", no_aws)
    logs.seek(0)
    logs.truncate()
    event = load_event("launch.json")
    token = event["detail"]["LifecycleActionToken"]
    event["detail"][field] = value
    answer = handler(event, Context())
    assert answer["status"] == "rejected"
    assert field in answer["reason"]
    (error,) = [line for line in _log_lines(logs.getvalue()) if line["level"] == "ERROR"]
    assert error["message"] == "Rejected event"
    assert field in error["reason"]
    assert token not in logs.getvalue(), "the whole token is a capability: never logged"
