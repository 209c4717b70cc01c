"""What each incoming event means, and what each kind of bad event gets (a clear InvalidEvent)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asg_lifecycle.events import Ignored, InvalidEvent, parse_event
from asg_lifecycle.model import LifecycleAction, Transition
from tests.conftest import load_event


def test_launch_event_becomes_an_action(launch_event: dict[str, Any]) -> None:
    action = parse_event(launch_event)
    assert isinstance(action, LifecycleAction)
    assert action.transition is Transition.LAUNCHING
    assert action.group_name == "web"
    assert action.instance_id == "i-0123456789abcdef0"
    assert action.started_at == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert (action.origin, action.destination) == ("EC2", "AutoScalingGroup")
    assert action.action_name is None


@pytest.mark.parametrize("field", ["Origin", "Destination"])
def test_an_origin_or_destination_the_event_leaves_out_is_unknown_not_guessed(
    launch_event: dict[str, Any], field: str
) -> None:
    """AWS sends Origin and Destination "if that information is available" (User Guide, "Warm
    pool example events"): a missing one stays unknown and is not filled in."""
    del launch_event["detail"][field]
    action = parse_event(launch_event)
    assert isinstance(action, LifecycleAction)
    assert getattr(action, field.lower()) is None
    assert "unknown" in action.path
    assert field not in action.to_json()
    assert LifecycleAction.from_json(action.to_json()) == action


def test_an_instance_refresh_action_is_carried_through(launch_event: dict[str, Any]) -> None:
    """User Guide, "Instance refresh example events": hooks of a root-volume replacement carry
    "Action": "ReplaceRootVolume"."""
    launch_event["detail"]["Action"] = "ReplaceRootVolume"
    action = parse_event(launch_event)
    assert isinstance(action, LifecycleAction)
    assert action.replaces_root_volume
    assert action.to_json()["Action"] == "ReplaceRootVolume"
    assert LifecycleAction.from_json(action.to_json()) == action


@pytest.mark.parametrize("value", ["Replace Root", "", 5, ["ReplaceRootVolume"], "x" * 65])
def test_an_action_that_is_not_a_word_is_rejected(launch_event: dict[str, Any], value: Any) -> None:
    launch_event["detail"]["Action"] = value
    with pytest.raises(InvalidEvent, match="Action"):
        parse_event(launch_event)


def test_terminate_event_becomes_a_terminate_action() -> None:
    action = parse_event(load_event("terminate.json"))
    assert isinstance(action, LifecycleAction)
    assert action.transition is Transition.TERMINATING
    assert action.execution_name.startswith("terminate-i-0123456789abcdef0-")
    assert action.execution_name.endswith("-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")


@pytest.mark.parametrize(
    ("name", "origin", "destination"),
    [
        ("warm-pool-launch-into-pool.json", "EC2", "WarmPool"),
        ("warm-pool-launch-into-group.json", "WarmPool", "AutoScalingGroup"),
    ],
)
def test_warm_pool_origin_and_destination_are_kept(
    name: str, origin: str, destination: str
) -> None:
    action = parse_event(load_event(name))
    assert isinstance(action, LifecycleAction)
    assert (action.origin, action.destination) == (origin, destination)
    assert action.into_warm_pool is (destination == "WarmPool")


def test_test_notification_is_ignored() -> None:
    assert parse_event(load_event("test-notification.json")) == Ignored(
        "Auto Scaling test notification"
    )


def test_execution_name_is_deterministic_and_within_step_functions_limit(
    launch_event: dict[str, Any],
) -> None:
    first, second = parse_event(launch_event), parse_event(copy.deepcopy(launch_event))
    assert isinstance(first, LifecycleAction)
    assert isinstance(second, LifecycleAction)
    assert first.execution_name == second.execution_name
    assert len(first.execution_name) <= 80
    assert first.token_prefix == "c3f1e4a2"


def _mutate(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    bad = copy.deepcopy(event)
    target = bad
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return bad


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("source",), "aws.ec2", "source"),
        (("detail-type",), "EC2 Instance Launch Successful", "detail-type"),
        (("detail",), "not an object", "detail"),
        (("detail", "EC2InstanceId"), KeyError, "EC2InstanceId"),
        (("detail", "EC2InstanceId"), "i-xyz; rm -rf /", "EC2InstanceId"),
        (("detail", "LifecycleActionToken"), "short", "LifecycleActionToken"),
        (("detail", "LifecycleHookName"), "bad name with spaces", "LifecycleHookName"),
        (("detail", "AutoScalingGroupName"), "x" * 256, "AutoScalingGroupName"),
        (
            ("detail", "LifecycleTransition"),
            "autoscaling:EC2_INSTANCE_TERMINATING",
            "does not match",
        ),
        (("detail", "Origin"), "Mars", "Origin"),
        (("time",), "yesterday", "time"),
        (("time",), KeyError, "time"),
        # A trailing newline: "$" matches before it, "fullmatch" does not (issue 19, item 6).
        (("detail", "EC2InstanceId"), "i-0123456789abcdef0\n", "EC2InstanceId"),
        (
            ("detail", "LifecycleActionToken"),
            "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f\n",
            "LifecycleActionToken",
        ),
        (("detail", "LifecycleHookName"), "web-launch\n", "LifecycleHookName"),
        (("detail", "Action"), "ReplaceRootVolume\n", "Action"),
        (("detail", "Origin"), "EC2\n", "Origin"),
        (("detail", "Destination"), "AutoScalingGroup\n", "Destination"),
        (("detail", "LifecycleTransition"), "autoscaling:EC2_INSTANCE_LAUNCHING\n", "does not"),
        (("detail-type",), "EC2 Instance-launch Lifecycle Action\n", "detail-type"),
        (("source",), "aws.autoscaling\n", "source"),
        (("time",), "2026-11-24T12:00:00Z\n", "time"),
    ],
)
def test_each_malformed_field_gets_a_clear_error(
    launch_event: dict[str, Any], path: tuple[str, ...], value: Any, message: str
) -> None:
    with pytest.raises(InvalidEvent, match=message):
        parse_event(_mutate(launch_event, path, value))


def test_the_sample_malformed_event_is_rejected() -> None:
    with pytest.raises(InvalidEvent, match="EC2InstanceId"):
        parse_event(load_event("malformed.json"))


@pytest.mark.parametrize("raw", [None, [], "event", 42])
def test_non_object_events_are_rejected(raw: Any) -> None:
    with pytest.raises(InvalidEvent, match="not a JSON object"):
        parse_event(raw)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=20), children, max_size=6)
        ),
        max_leaves=20,
    )
)
def test_any_json_yields_an_action_ignored_or_invalid_event(raw: Any) -> None:
    try:
        result = parse_event(raw)
    except InvalidEvent as exc:
        error = str(exc)
        assert error, "a rejected event must say why"
        return
    assert isinstance(result, LifecycleAction | Ignored)


@given(st.dictionaries(st.sampled_from(list(load_event("launch.json")["detail"])), st.text()))
def test_a_broken_detail_field_is_named_in_the_error(overrides: dict[str, str]) -> None:
    """Any value in any field of a valid event: parsed, ignored, or rejected naming a field that
    was changed (never an unrelated one, never a crash)."""
    event = load_event("launch.json")
    event["detail"].update(overrides)
    try:
        result = parse_event(event)
    except InvalidEvent as exc:
        error = str(exc)
        assert any(key in error for key in overrides), (error, sorted(overrides))
        return
    if isinstance(result, LifecycleAction):
        assert result.instance_id == event["detail"]["EC2InstanceId"]
        assert result.token == event["detail"]["LifecycleActionToken"]


@pytest.mark.parametrize("field", ["Origin", "Destination"])
@pytest.mark.parametrize("value", [["EC2"], {"a": 1}, 5])
def test_an_origin_or_destination_that_is_not_a_string_is_rejected(field: str, value: Any) -> None:
    """(A list here once raised TypeError, unhashable, instead of a clear rejection.)"""
    event = load_event("launch.json")
    event["detail"][field] = value
    with pytest.raises(InvalidEvent, match=field):
        parse_event(event)


# Every field that becomes part of an execution's name or is checked against a fixed set, with the
# value the real event has: a valid value followed by any line ending or whitespace is rejected
# naming the field (before, "i-0123456789abcdef0\n" passed, failed at StartExecution with
# InvalidName, was retried and landed in the dead-letter queue).
VALID_FIELDS = {
    "EC2InstanceId": "i-0123456789abcdef0",
    "LifecycleActionToken": "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f",
    "LifecycleHookName": "web-launch",
    "Action": "ReplaceRootVolume",
    "Origin": "EC2",
    "Destination": "AutoScalingGroup",
}


@given(
    field=st.sampled_from(sorted(VALID_FIELDS)),
    suffix=st.text(alphabet="\n\r\t \x0b\x0c\x85\u2028\u2029", min_size=1, max_size=3),
)
def test_a_valid_field_with_a_trailing_newline_is_rejected_naming_it(
    field: str, suffix: str
) -> None:
    event = load_event("launch.json")
    event["detail"][field] = VALID_FIELDS[field] + suffix
    with pytest.raises(InvalidEvent, match=field):
        parse_event(event)


@given(field=st.sampled_from(sorted(VALID_FIELDS)), prefix=st.sampled_from(["\n", " ", "\t"]))
def test_a_valid_field_with_a_leading_newline_is_rejected_naming_it(
    field: str, prefix: str
) -> None:
    event = load_event("launch.json")
    event["detail"][field] = prefix + VALID_FIELDS[field]
    with pytest.raises(InvalidEvent, match=field):
        parse_event(event)


def test_the_valid_fields_alone_parse() -> None:
    """The values the two tests above extend are valid on their own."""
    event = load_event("launch.json")
    event["detail"].update(VALID_FIELDS)
    assert isinstance(parse_event(event), LifecycleAction)


def test_a_rejected_token_is_not_quoted_in_the_error() -> None:
    """The reason is logged: a token with a newline is still the token, a capability."""
    event = load_event("launch.json")
    token = event["detail"]["LifecycleActionToken"]
    event["detail"]["LifecycleActionToken"] = token + "\n"
    with pytest.raises(InvalidEvent, match="LifecycleActionToken") as caught:
        parse_event(event)
    assert token not in str(caught.value)
    assert token[:8] not in str(caught.value)
