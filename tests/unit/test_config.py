"""How a hook's configuration is read, and what each kind of bad configuration gets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asg_lifecycle.checks.catalogue import CATALOGUE, allowed_for
from asg_lifecycle.config import (
    METADATA_KEYS,
    METADATA_MAX,
    CheckSpec,
    Defaults,
    InvalidConfig,
    KeyKind,
    MetadataKey,
    allowed_results,
    read_config,
    safe_result,
)
from asg_lifecycle.model import LifecycleResult, Transition

LAUNCH = Transition.LAUNCHING
TERMINATE = Transition.TERMINATING


def read(metadata: str | None, transition: Transition = LAUNCH, **defaults: Any) -> Any:
    return read_config(metadata, transition, Defaults(**defaults), allowed_for(transition))


def test_no_metadata_uses_stack_defaults_per_transition() -> None:
    launch = read(None)
    assert launch.checks == (CheckSpec("instance-status"),)
    assert (launch.poll_seconds, launch.max_wait_seconds) == (30, 1800)
    assert (launch.on_failure, launch.on_timeout) == (LifecycleResult.ABANDON,) * 2
    terminate = read(None, TERMINATE)
    assert terminate.checks == (CheckSpec("target-group-drain"),)
    assert terminate.max_wait_seconds == 21_600
    assert (terminate.on_failure, terminate.on_timeout) == (LifecycleResult.CONTINUE,) * 2


def test_plain_text_metadata_belongs_to_someone_else_and_is_ignored() -> None:
    assert read("drain-web") == read(None)


def test_json_metadata_overrides_defaults() -> None:
    config = read(
        json.dumps(
            {
                "checks": [{"name": "instance-status", "params": {}}],
                "pollSeconds": 10,
                "maxWaitSeconds": 600,
                "onTimeout": "ABANDON",
            }
        )
    )
    assert (config.poll_seconds, config.max_wait_seconds) == (10, 600)
    assert config.on_timeout is LifecycleResult.ABANDON
    assert config.on_failure is LifecycleResult.ABANDON
    terminate = read('{"onTimeout": "ABANDON"}', TERMINATE)
    assert terminate.on_timeout is LifecycleResult.ABANDON


def test_defaults_come_from_the_functions_environment() -> None:
    defaults = Defaults.from_env(
        {"DEFAULT_POLL_SECONDS": "12", "LAUNCH_MAX_WAIT_SECONDS": "120", "LAUNCH_CHECKS": ""}
    )
    assert (defaults.poll_seconds, defaults.launch_max_wait) == (12, 120)
    assert defaults.launch_checks == ()
    with pytest.raises(InvalidConfig, match="at least one check"):
        read_config(None, LAUNCH, defaults, allowed_for(LAUNCH))


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", None),  # a JSON list is not ours: plain metadata, ignored
        ('{"pollSecs": 10}', "unknown key"),
        ('{"checks": "instance-status"}', "must be a list"),
        ('{"checks": []}', "at least one check"),
        ('{"checks": ["no-such-check"]}', "unknown check"),
        ('{"checks": ["target-group-drain"]}', "unknown check"),  # a terminate check on launch
        ('{"checks": [{"name": "instance-status", "params": 3}]}', "params must be an object"),
        ('{"checks": [{"name": "instance-status", "extra": 1}]}', "unknown key"),
        ('{"checks": [7]}', "must be a name or an object"),
        ('{"pollSeconds": "10"}', "whole number"),
        ('{"pollSeconds": true}', "whole number"),
        ('{"pollSeconds": 1}', "between 5 and 3600"),
        ('{"maxWaitSeconds": 999999}', "between 30 and 172800"),
        ('{"onFailure": "RETRY"}', "CONTINUE or ABANDON"),
        ('{"onTimeout": "CONTINUE"}', "must be ABANDON for a launch hook"),
        ('{"onFailure": "CONTINUE"}', "must be ABANDON for a launch hook"),
    ],
)
def test_each_invalid_configuration_gets_a_clear_error(metadata: str, message: str | None) -> None:
    if message is None:
        assert read(metadata) == read(None)
        return
    with pytest.raises(InvalidConfig, match=message):
        read(metadata)


def test_oversized_metadata_is_rejected() -> None:
    padded = '{"pollSeconds": 10' + " " * METADATA_MAX + "}"
    with pytest.raises(InvalidConfig, match="longer than 1023"):
        read(padded)


@given(st.text(max_size=METADATA_MAX))
def test_any_metadata_text_gives_a_config_or_a_clear_error(metadata: str) -> None:
    try:
        config = read(metadata)
    except InvalidConfig as exc:
        error = str(exc)
        assert error, "an invalid configuration must say why"
        return
    assert config.checks
    assert 5 <= config.poll_seconds <= 3600


@given(
    st.dictionaries(
        st.sampled_from(["checks", "pollSeconds", "maxWaitSeconds", "onFailure", "onTimeout", "x"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.lists(st.text()),
    )
)
def test_any_json_object_gives_a_config_or_a_clear_error(doc: dict[str, Any]) -> None:
    try:
        config = read(json.dumps(doc))
    except InvalidConfig as exc:
        error = str(exc)
        assert error, "an invalid configuration must say why"
        return
    assert 5 <= config.poll_seconds <= 3600


# --- per-check parameters -------------------------------------------------------------------------
def test_metadata_of_exactly_1023_characters_is_read() -> None:
    doc = '{"pollSeconds": 10}'
    padded = doc[:-1] + " " * (METADATA_MAX - len(doc)) + "}"
    assert len(padded) == METADATA_MAX
    assert read(padded).poll_seconds == 10


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_checks_readme_example_is_a_valid_configuration(name: str) -> None:
    check = CATALOGUE[name]
    for transition in check.transitions:
        config = read(json.dumps({"checks": [check.example]}), transition)
        assert config.checks[0].name == name
        assert len(json.dumps({"checks": [check.example]})) < METADATA_MAX // 3, "compact examples"


def test_params_get_their_defaults_filled_in_when_the_config_is_read() -> None:
    config = read('{"checks": [{"name": "instance-tag", "params": {"key": "lifecycle"}}]}')
    assert config.checks == (CheckSpec("instance-tag", {"key": "lifecycle", "value": "ready"}),)


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (
            {"name": "instance-tag", "params": {}},
            r"checks\[0\] \(instance-tag\)\.params: key is required",
        ),
        ({"name": "instance-tag", "params": {"key": 5}}, "key must be a non-empty string"),
        ({"name": "instance-tag", "params": {"key": "k", "colour": "red"}}, "unknown parameter"),
        (
            {"name": "target-group-health", "params": {"register": "yes"}},
            "register must be true or false",
        ),
        ({"name": "ssm-command", "params": {}}, "no commands given for AWS-RunShellScript"),
        (
            {"name": "ssm-command", "params": {"commands": ["x"], "timeoutSeconds": 5}},
            "between 30 and 172800",
        ),
        (
            {"name": "ecs-container-instance", "params": {"cluster": 3}},
            "cluster must be a non-empty string",
        ),
        ({"name": "lambda", "params": {"function": ""}}, "function must be a non-empty string"),
        ({"name": "instance-status", "params": {"fast": True}}, "unknown parameter.*allowed: none"),
    ],
)
def test_each_bad_check_parameter_names_the_check_and_the_parameter(
    check: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidConfig, match=message):
        read(json.dumps({"checks": [check]}))


def test_stack_defaults_may_be_a_json_list_with_params() -> None:
    defaults = Defaults.from_env(
        {"LAUNCH_CHECKS": '[{"name": "ecs-container-instance", "params": {"cluster": "web"}}]'}
    )
    config = read_config(None, LAUNCH, defaults, allowed_for(LAUNCH))
    assert config.checks == (CheckSpec("ecs-container-instance", {"cluster": "web"}),)
    with pytest.raises(InvalidConfig, match="LAUNCH_CHECKS is not valid JSON"):
        Defaults.from_env({"LAUNCH_CHECKS": "[instance-status"})
    broken = Defaults.from_env({"LAUNCH_CHECKS": '[{"name": "lambda"}]'})
    with pytest.raises(InvalidConfig, match=r"\(lambda\)\.params: function is required"):
        read_config(None, LAUNCH, broken, allowed_for(LAUNCH))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(
    name=st.sampled_from(sorted(CATALOGUE)),
    params=st.dictionaries(
        st.sampled_from(sorted({p.name for c in CATALOGUE.values() for p in c.params} | {"other"})),
        _JSON,
        max_size=4,
    ),
)
def test_any_params_for_any_check_give_a_config_or_a_clear_error(
    name: str, params: dict[str, Any]
) -> None:
    transition = sorted(CATALOGUE[name].transitions)[0]
    metadata = json.dumps({"checks": [{"name": name, "params": params}]})
    try:
        config = read(metadata, transition)
    except InvalidConfig as exc:
        error = str(exc)
        assert error.startswith(("checks[0]", "NotificationMetadata")), error
        return
    (spec,) = config.checks
    assert set(spec.params) <= {p.name for p in CATALOGUE[name].params}


# --- the keys as data: docs/CONFIGURATION.md is generated from METADATA_KEYS --------------------
SECONDS_KEYS = [k for k in METADATA_KEYS if k.kind is KeyKind.SECONDS]
RESULT_KEYS = [k for k in METADATA_KEYS if k.kind is KeyKind.RESULT]


def key_id(key: MetadataKey) -> str:
    return key.name


def test_the_declared_keys_are_the_ones_the_reader_accepts() -> None:
    doc = {
        "checks": ["target-group-drain"],
        "pollSeconds": 10,
        "maxWaitSeconds": 60,
        "onFailure": "ABANDON",
        "onTimeout": "CONTINUE",
    }
    assert set(doc) == {k.name for k in METADATA_KEYS}
    assert read(json.dumps(doc), TERMINATE).to_json()["onTimeout"] == "CONTINUE"
    with pytest.raises(InvalidConfig, match="unknown key"):
        read(json.dumps({**doc, "maxWait": 60}), TERMINATE)


@pytest.mark.parametrize("key", SECONDS_KEYS, ids=key_id)
@pytest.mark.parametrize("transition", list(Transition))
def test_seconds_keys_are_bounded_by_their_declared_bounds(
    key: MetadataKey, transition: Transition
) -> None:
    assert key.bounds is not None
    low, high = key.bounds
    for value in (low, high):
        assert read(json.dumps({key.name: value}), transition).to_json()[key.name] == value
    for value in (low - 1, high + 1):
        with pytest.raises(InvalidConfig, match=key.name):
            read(json.dumps({key.name: value}), transition)


@pytest.mark.parametrize("key", [k for k in METADATA_KEYS if k.default_env], ids=key_id)
@pytest.mark.parametrize("transition", list(Transition))
def test_each_default_comes_from_its_declared_environment_variable(
    key: MetadataKey, transition: Transition
) -> None:
    """The docs name each default's stack parameter by following ``default_env`` through the
    template: the variable must be the one the reader really uses."""
    if key.kind is KeyKind.CHECKS:
        value: Any = "elb-health" if transition is LAUNCH else "elb-drain"
        expected: Any = [{"name": value, "params": {}}]
    else:
        assert key.bounds is not None
        value = expected = key.bounds[0] + 1
    defaults = Defaults.from_env({key.default_env[transition]: str(value)})
    config = read_config(None, transition, defaults, allowed_for(transition)).to_json()
    if key.kind is KeyKind.CHECKS:
        config[key.name] = [{**c, "params": {}} for c in config[key.name]]
    assert config[key.name] == expected


@pytest.mark.parametrize("key", RESULT_KEYS, ids=key_id)
@pytest.mark.parametrize("transition", list(Transition))
def test_result_keys_take_the_allowed_results_and_default_to_the_safe_one(
    key: MetadataKey, transition: Transition
) -> None:
    assert read(None, transition).to_json()[key.name] == safe_result(transition).value
    for result in LifecycleResult:
        metadata = json.dumps({key.name: result.value})
        if result in allowed_results(transition):
            assert read(metadata, transition).to_json()[key.name] == result.value
        else:
            with pytest.raises(InvalidConfig, match=f"{key.name} must be"):
                read(metadata, transition)
