"""How a hook's configuration is read, and what each kind of bad configuration gets."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asg_lifecycle.checks.catalogue import CATALOGUE, allowed_for, not_for_warm_pool
from asg_lifecycle.config import (
    LEAF_KEYS,
    METADATA_KEYS,
    METADATA_MAX,
    CheckSpec,
    Defaults,
    InvalidConfig,
    KeyKind,
    MetadataKey,
    OnAbandon,
    StackLimits,
    allowed_results,
    block_for,
    read_config,
    safe_result,
)
from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition

LAUNCH = Transition.LAUNCHING
TERMINATE = Transition.TERMINATING
# A stack allowing the shell document and one of its own, the functions and the cluster "web" the
# tests and the checks' examples name, and the default parameter path.
ACCOUNT = "123456789012"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:web-ready"
LIMITS = StackLimits(
    region="us-east-1",
    account=ACCOUNT,
    ssm_documents=frozenset({"AWS-RunShellScript", "MyHealthCheck"}),
    check_functions=(FUNCTION, f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:warm-cache-ready"),
    ecs_clusters=frozenset({"web"}),
    parameter_path="/asg-lifecycle/",
)


def read(
    metadata: str | None,
    transition: Transition = LAUNCH,
    *,
    action: LifecycleAction | None = None,
    on_abandon: OnAbandon = OnAbandon.TERMINATE,
    **defaults: Any,
) -> Any:
    return read_config(
        metadata,
        transition,
        Defaults(**defaults),
        allowed_for(transition, LIMITS),
        action=action,
        on_abandon=on_abandon,
        not_for_warm_pool=not_for_warm_pool(),
    )


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def an_action(
    transition: Transition = LAUNCH,
    destination: str | None = None,
    action_name: str | None = None,
    origin: str | None = None,
) -> LifecycleAction:
    return LifecycleAction(
        "web",
        "hook",
        "i-0123456789abcdef0",
        None,
        transition,
        T0,
        origin=origin,
        destination=destination,
        action_name=action_name,
    )


INTO_POOL = an_action(LAUNCH, "WarmPool", origin="EC2")
OUT_OF_POOL = an_action(LAUNCH, "AutoScalingGroup", origin="WarmPool")
WARM_IN = an_action(TERMINATE, "WarmPool", origin="AutoScalingGroup")  # ReuseOnScaleIn
ROOT_VOLUME_OUT = an_action(TERMINATE, action_name="ReplaceRootVolume")
ROOT_VOLUME_IN = an_action(LAUNCH, action_name="ReplaceRootVolume")


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
        read_config(None, LAUNCH, defaults, allowed_for(LAUNCH, LIMITS))


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


# --- strict reading (issue 19, item 7) ---------------------------------------------------------
@pytest.mark.parametrize(
    ("metadata", "key"),
    [
        ('{"pollSeconds": 3600, "pollSeconds": 5}', "pollSeconds"),
        ('{"onTimeout": "ABANDON", "onTimeout": "CONTINUE"}', "onTimeout"),
        ('{"warmPool": {"pollSeconds": 60, "pollSeconds": 5}}', "pollSeconds"),
        ('{"warmPool": {"pollSeconds": 60}, "warmPool": {}}', "warmPool"),
        (
            '{"checks": [{"name": "instance-status", "name": "ssm-command", "params": {}}]}',
            "name",
        ),
        (
            '{"checks": [{"name": "ssm-parameter",'
            ' "params": {"name": "/a/", "name": "/b/", "expect": "x"}}]}',
            "name",
        ),
        ('{"checks": [{"name": "instance-status", "params": {}, "params": {}}]}', "params"),
    ],
)
def test_a_key_given_twice_at_any_level_is_refused_naming_it(metadata: str, key: str) -> None:
    """Before: the last value won silently (``{"pollSeconds":3600,"pollSeconds":5}`` polled every
    5 s), and another JSON reader (a linter, a review tool) may keep the first."""
    for transition in (LAUNCH, TERMINATE):
        with pytest.raises(InvalidConfig, match=f"duplicate key '{key}'"):
            read(metadata, transition)


def test_the_same_key_in_different_objects_is_not_a_duplicate() -> None:
    config = read('{"pollSeconds": 60, "warmPool": {"pollSeconds": 10}}', action=INTO_POOL)
    assert config.poll_seconds == 10
    assert read('{"pollSeconds": 60, "warmPool": {"pollSeconds": 10}}').poll_seconds == 60


@pytest.mark.parametrize(
    "metadata",
    [
        '\ufeff{"pollSeconds": 10}',
        ' \ufeff{"pollSeconds": 10}',
        '\ufeff {"pollSeconds": 10}',
        '\ufeff\ufeff{"pollSeconds": 10}',
        "\ufeff{not json",
    ],
)
def test_a_json_object_after_a_byte_order_mark_is_refused(metadata: str) -> None:
    """Before: treated as plain text, "not ours", and every setting in it dropped silently."""
    with pytest.raises(InvalidConfig, match="byte-order mark"):
        read(metadata)


@pytest.mark.parametrize("metadata", ["drain-web", "\ufeffdrain-web", "[1, 2]", "\ufeff[1]", "  "])
def test_plain_text_even_after_a_bom_stays_someone_elses(metadata: str) -> None:
    assert read(metadata) == read(None)


@pytest.mark.parametrize(
    "metadata",
    [
        '{"pollSeconds": NaN}',
        '{"pollSeconds": Infinity}',
        '{"checks": ["instance-status"], "x": -Infinity}',
    ],
)
def test_nan_and_infinity_are_not_json(metadata: str) -> None:
    with pytest.raises(InvalidConfig, match="is not a JSON value"):
        read(metadata)


@given(
    st.dictionaries(
        st.sampled_from(["pollSeconds", "maxWaitSeconds", "onFailure", "onTimeout", "x"]),
        st.integers(5, 3600) | st.sampled_from(["ABANDON", "CONTINUE"]),
        min_size=1,
    ),
    st.data(),
)
def test_any_object_with_one_key_repeated_is_refused_naming_that_key(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(doc)))
    again = data.draw(st.integers(5, 3600) | st.sampled_from(["ABANDON", "CONTINUE"]))
    text = json.dumps(doc)[:-1] + f", {json.dumps(key)}: {json.dumps(again)}}}"
    with pytest.raises(InvalidConfig, match=f"duplicate key '{key}'"):
        read(text)


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
    config = read_config(None, LAUNCH, defaults, allowed_for(LAUNCH, LIMITS))
    assert config.checks == (CheckSpec("ecs-container-instance", {"cluster": "web"}),)
    with pytest.raises(InvalidConfig, match="LAUNCH_CHECKS is not valid JSON"):
        Defaults.from_env({"LAUNCH_CHECKS": "[instance-status"})
    broken = Defaults.from_env({"LAUNCH_CHECKS": '[{"name": "lambda"}]'})
    with pytest.raises(InvalidConfig, match=r"\(lambda\)\.params: function is required"):
        read_config(None, LAUNCH, broken, allowed_for(LAUNCH, LIMITS))


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
    doc: dict[str, Any] = {
        "checks": ["target-group-drain"],
        "pollSeconds": 10,
        "maxPollSeconds": 120,
        "maxWaitSeconds": 60,
        "onFailure": "ABANDON",
        "onTimeout": "CONTINUE",
        "warmPool": {"checks": ["target-group-drain"]},
        "replaceRootVolume": {"maxWaitSeconds": 30},
    }
    assert set(doc) == {k.name for k in METADATA_KEYS}
    assert read(json.dumps(doc), TERMINATE).to_json()["onTimeout"] == "CONTINUE"
    with pytest.raises(InvalidConfig, match="unknown key"):
        read(json.dumps({**doc, "maxWait": 60}), TERMINATE)


@pytest.mark.parametrize("key", LEAF_KEYS, ids=key_id)
def test_every_key_a_block_takes_is_a_top_level_key_and_no_block(key: MetadataKey) -> None:
    assert key.kind is not KeyKind.BLOCK
    value: Any = {"checks": ["elb-drain"], "onFailure": "ABANDON", "onTimeout": "ABANDON"}.get(
        key.name, 60
    )
    config = read(json.dumps({"warmPool": {key.name: value}}), TERMINATE, action=WARM_IN)
    assert config.block == "warmPool"


@pytest.mark.parametrize("key", SECONDS_KEYS, ids=key_id)
@pytest.mark.parametrize("transition", list(Transition))
def test_seconds_keys_are_bounded_by_their_declared_bounds(
    key: MetadataKey, transition: Transition
) -> None:
    assert key.bounds is not None
    low, high = key.bounds
    # maxPollSeconds is at least pollSeconds: the lowest poll, to try its lowest bound
    other = {"pollSeconds": low} if key.name == "maxPollSeconds" else {}
    for value in (low, high):
        doc = json.dumps({**other, key.name: value})
        assert read(doc, transition).to_json()[key.name] == value
    for value in (low - 1, high + 1):
        with pytest.raises(InvalidConfig, match=key.name):
            read(json.dumps({**other, key.name: value}), transition)


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
        if key.name == "maxPollSeconds":  # never below the poll (30 by default)
            value = expected = key.bounds[1] - 1
    defaults = Defaults.from_env({key.default_env[transition]: str(value)})
    config = read_config(None, transition, defaults, allowed_for(transition, LIMITS)).to_json()
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


# --- blocks per destination and per action (issue 18) --------------------------------------------
BLOCKS = json.dumps(
    {
        "checks": ["instance-status", "target-group-health"],
        "maxWaitSeconds": 900,
        "warmPool": {"checks": ["instance-status"], "maxWaitSeconds": 600},
    }
)


@pytest.mark.parametrize(
    ("action", "block", "checks", "max_wait", "poll"),
    [
        (None, None, ["instance-status", "target-group-health"], 900, 30),
        (an_action(), None, ["instance-status", "target-group-health"], 900, 30),
        (OUT_OF_POOL, None, ["instance-status", "target-group-health"], 900, 30),
        (INTO_POOL, "warmPool", ["instance-status"], 600, 30),
        # a launch's Action is the event's word alone: checked as any launch (or into the pool)
        (ROOT_VOLUME_IN, None, ["instance-status", "target-group-health"], 900, 30),
        (
            an_action(LAUNCH, "WarmPool", "ReplaceRootVolume"),
            "warmPool",
            ["instance-status"],
            600,
            30,
        ),
    ],
)
def test_the_block_for_the_action_applies_its_missing_keys_from_the_top_level(
    action: LifecycleAction | None,
    block: str | None,
    checks: list[str],
    max_wait: int,
    poll: int,
) -> None:
    config = read(BLOCKS, action=action)
    assert config.block == block
    assert [c.name for c in config.checks] == checks
    assert (config.max_wait_seconds, config.poll_seconds) == (max_wait, poll)


def test_a_root_volume_replacements_terminate_action_takes_its_block() -> None:
    metadata = '{"checks": ["target-group-drain"], "replaceRootVolume": {"pollSeconds": 10}}'
    config = read(metadata, TERMINATE, action=ROOT_VOLUME_OUT)
    assert (config.block, config.poll_seconds) == ("replaceRootVolume", 10)
    assert [c.name for c in config.checks] == ["target-group-drain"]
    assert read(metadata, TERMINATE, action=an_action(TERMINATE)).block is None


def test_a_replace_root_volume_block_on_a_launch_hook_is_an_invalid_configuration() -> None:
    """It would never apply (a launch's Action is the event's word alone): rejected rather than
    silently ignored, as an unknown key is."""
    with pytest.raises(InvalidConfig, match="replaceRootVolume applies to terminate hooks only"):
        read('{"replaceRootVolume": {"pollSeconds": 10}}', LAUNCH, action=ROOT_VOLUME_IN)


def test_an_action_without_its_block_takes_the_top_level_and_the_stack_defaults() -> None:
    assert read(None, action=INTO_POOL) == read(None)
    assert read('{"maxWaitSeconds": 60}', action=INTO_POOL).max_wait_seconds == 60
    assert read(None, TERMINATE, action=ROOT_VOLUME_OUT).checks == (
        CheckSpec("target-group-drain"),
    )


def test_a_warm_pool_terminate_takes_the_warm_pool_block() -> None:
    """ReuseOnScaleIn: the instance goes back to the pool (Destination WarmPool)."""
    metadata = '{"checks": ["target-group-drain"], "warmPool": {"checks": ["elb-drain"]}}'
    assert read(metadata, TERMINATE, action=WARM_IN).block == "warmPool"
    assert block_for(WARM_IN) == "warmPool"
    assert block_for(ROOT_VOLUME_OUT) == "replaceRootVolume"
    assert block_for(an_action(TERMINATE)) is None


def test_an_unknown_destination_takes_the_top_level() -> None:
    assert block_for(an_action(LAUNCH, None, None, origin="EC2")) is None
    assert read(BLOCKS, action=an_action(LAUNCH, None)).block is None


@pytest.mark.parametrize(
    ("metadata", "transition", "message"),
    [
        ('{"warmPool": []}', LAUNCH, "warmPool must be an object"),
        ('{"warmPool": {"pollSecs": 10}}', LAUNCH, r"warmPool: unknown key\(s\) \['pollSecs'\]"),
        (
            '{"warmPool": {"replaceRootVolume": {}}}',
            LAUNCH,
            "warmPool: unknown key.*no block inside a block",
        ),
        ('{"warmPool": {"checks": [7]}}', LAUNCH, r"warmPool\.checks\[0\] must be a name"),
        ('{"warmPool": {"checks": []}}', LAUNCH, "warmPool.checks: at least one check"),
        ('{"warmPool": {"checks": "x"}}', LAUNCH, "warmPool.checks must be a list"),
        (
            '{"warmPool": {"checks": ["elb-drain"]}}',
            LAUNCH,
            r"warmPool\.checks\[0\]: unknown check 'elb-drain'",
        ),
        (
            '{"replaceRootVolume": {"checks": [{"name": "lambda"}]}}',
            TERMINATE,
            r"replaceRootVolume\.checks\[0\] \(lambda\)\.params: function is required",
        ),
        ('{"warmPool": {"pollSeconds": 1}}', LAUNCH, "warmPool.pollSeconds must be between"),
        ('{"replaceRootVolume": {"maxWaitSeconds": "1"}}', TERMINATE, "replaceRootVolume.maxWait"),
        ('{"warmPool": {"onTimeout": "CONTINUE"}}', LAUNCH, "warmPool.onTimeout must be ABANDON"),
        ('{"replaceRootVolume": {"onFailure": "RETRY"}}', TERMINATE, "replaceRootVolume.onFail"),
        (
            '{"warmPool": {"checks": ["instance-status", "target-group-health"]}}',
            LAUNCH,
            r"warmPool\.checks\[1\]: target-group-health cannot run for an instance going into"
            " the warm pool",
        ),
        (
            '{"warmPool": {"checks": [{"name": "target-group-health"}]}}',
            LAUNCH,
            "target-group-health cannot run",
        ),
    ],
)
@pytest.mark.parametrize("action", [None, an_action(), INTO_POOL, ROOT_VOLUME_IN])
def test_each_bad_block_gets_a_clear_error_naming_the_block_whatever_the_action(
    metadata: str, transition: Transition, message: str, action: LifecycleAction | None
) -> None:
    """A hook's configuration is valid or not, not valid for some of its actions only."""
    if action is not None:
        action = an_action(transition, action.destination, action.action_name)
    with pytest.raises(InvalidConfig, match=message):
        read(metadata, transition, action=action)


def test_target_group_health_inherited_by_a_warm_pool_launch_is_not_an_error() -> None:
    """Top-level checks written before the group had a warm pool stay valid: the check is not
    run for a launch into the pool (tests/unit/checks), and is for the launch out of it."""
    config = read('{"checks": ["target-group-health"]}', action=INTO_POOL)
    assert config.checks[0].name == "target-group-health"
    assert (
        read(
            '{"checks": ["target-group-health"], "warmPool": {"pollSeconds": 10}}', action=INTO_POOL
        ).block
        == "warmPool"
    )


def test_blocks_fit_in_the_notification_metadata() -> None:
    """Both blocks and the top level, each with checks and every other key, in 1023 characters
    (a terminate hook's: only it may hold both)."""
    keys = {
        "pollSeconds": 30,
        "maxWaitSeconds": 900,
        "onFailure": "ABANDON",
        "onTimeout": "ABANDON",
    }
    keys["onFailure"] = keys["onTimeout"] = "CONTINUE"
    layer = {"checks": ["target-group-drain", {"name": "ecs-drain", "params": {"cluster": "web"}}]}
    doc = {**layer, **keys, "warmPool": {**layer, **keys}, "replaceRootVolume": {**layer, **keys}}
    text = json.dumps(doc)
    assert len(text) <= METADATA_MAX
    assert read(text, TERMINATE, action=WARM_IN).block == "warmPool"


# --- the safe result under the group's instance lifecycle policy ---------------------------------
@pytest.mark.parametrize(
    ("transition", "on_abandon", "root_volume", "safe"),
    [
        (LAUNCH, OnAbandon.TERMINATE, False, LifecycleResult.ABANDON),
        (LAUNCH, OnAbandon.RETAIN, False, LifecycleResult.ABANDON),
        (LAUNCH, OnAbandon.RETAIN, True, LifecycleResult.ABANDON),
        (TERMINATE, OnAbandon.TERMINATE, False, LifecycleResult.CONTINUE),
        (TERMINATE, OnAbandon.RETAIN, False, LifecycleResult.ABANDON),
        (TERMINATE, OnAbandon.TERMINATE, True, LifecycleResult.CONTINUE),
        (TERMINATE, OnAbandon.RETAIN, True, LifecycleResult.CONTINUE),
    ],
)
def test_the_safe_result_per_transition_policy_and_root_volume_replacement(
    transition: Transition, on_abandon: OnAbandon, root_volume: bool, safe: LifecycleResult
) -> None:
    assert safe_result(transition, on_abandon, replaces_root_volume=root_volume) is safe


def test_under_retain_a_terminate_hook_defaults_to_abandon_and_may_still_choose_continue() -> None:
    retained = read(None, TERMINATE, action=an_action(TERMINATE), on_abandon=OnAbandon.RETAIN)
    assert (retained.on_failure, retained.on_timeout) == (LifecycleResult.ABANDON,) * 2
    warm = read(None, TERMINATE, action=WARM_IN, on_abandon=OnAbandon.RETAIN)
    assert warm.on_timeout is LifecycleResult.ABANDON  # back to the pool: still a shutdown
    chosen = read('{"onTimeout": "CONTINUE"}', TERMINATE, on_abandon=OnAbandon.RETAIN)
    assert (chosen.on_failure, chosen.on_timeout) == (
        LifecycleResult.ABANDON,
        LifecycleResult.CONTINUE,
    )
    root = read(None, TERMINATE, action=ROOT_VOLUME_OUT, on_abandon=OnAbandon.RETAIN)
    assert (root.on_failure, root.on_timeout) == (LifecycleResult.CONTINUE,) * 2
    assert read(None, TERMINATE).on_timeout is LifecycleResult.CONTINUE  # no policy: as before


# --- what the stack allows (issue 19): refused when the hook is read, before any round --------
def _checks(*checks: Any) -> str:
    return json.dumps({"checks": list(checks)})


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (  # the attack: a same-named document shared from an account the hook's author controls
            {
                "name": "ssm-command",
                "params": {"document": "arn:aws:ssm:us-east-1:999999999999:document/MyHealthCheck"},
            },
            r"names account 999999999999, Region us-east-1: only this stack's account"
            r" 123456789012 in us-east-1 is allowed: a document shared from another account",
        ),
        (  # this account's document, in another Region
            {
                "name": "ssm-command",
                "params": {"document": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:document/MyHealthCheck"},
            },
            r"names account 123456789012, Region eu-west-1",
        ),
        (
            {"name": "ssm-command", "params": {"document": "OtherDocument"}},
            r"document 'OtherDocument' is not one of the stack's SsmCommandDocuments"
            r" \(AWS-RunShellScript, MyHealthCheck\)",
        ),
        (
            {"name": "lambda", "params": {"function": "other-function"}},
            r"function 'other-function' is not one of the stack's CustomCheckFunctionArns",
        ),
        (  # the granted function's name, in another account
            {
                "name": "lambda",
                "params": {"function": "arn:aws:lambda:us-east-1:999999999999:function:web-ready"},
            },
            r"is not one of the stack's CustomCheckFunctionArns",
        ),
        (
            {"name": "ecs-container-instance", "params": {"cluster": "payments"}},
            r"cluster 'payments' is not one of the stack's EcsClusterNames \(web\)",
        ),
        (
            {"name": "ssm-parameter", "params": {"name": "/prod/db/{instanceId}"}},
            r"name '/prod/db/\{instanceId\}' is not under the stack's ReadinessParameterPath"
            r" '/asg-lifecycle/'",
        ),
    ],
    ids=[
        "document-of-another-account",
        "document-of-another-region",
        "document-not-granted",
        "function-not-granted",
        "function-of-another-account",
        "cluster-not-granted",
        "parameter-outside-the-path",
    ],
)
def test_a_parameter_outside_the_stacks_allow_lists_is_an_invalid_configuration(
    check: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidConfig, match=r"checks\[0\] \(" + check["name"] + r"\)\.params: "):
        read(_checks(check))
    with pytest.raises(InvalidConfig, match=message):
        read(_checks(check))


def test_an_ecs_drain_cluster_outside_the_allow_list_is_refused_too() -> None:
    drain = {
        "name": "ecs-drain",
        "params": {"cluster": "arn:aws:ecs:us-east-1:999999999999:cluster/web"},
    }
    with pytest.raises(InvalidConfig, match=r"names account 999999999999"):
        read(_checks(drain), TERMINATE)


@pytest.mark.parametrize(
    "params",
    [
        {"commands": ["true"]},  # AWS-RunShellScript, by name
        {"commands": ["true"], "document": "arn:aws:ssm:us-east-1::document/AWS-RunShellScript"},
        {"document": "MyHealthCheck"},
        {"document": f"arn:aws:ssm:us-east-1:{ACCOUNT}:document/MyHealthCheck"},
    ],
    ids=["aws-owned-name", "aws-owned-arn", "own-name", "own-arn"],
)
def test_a_granted_document_is_accepted_by_name_or_by_its_own_arn(params: dict[str, Any]) -> None:
    config = read(_checks({"name": "ssm-command", "params": params}))
    assert config.checks[0].params["document"] == params.get("document", "AWS-RunShellScript")


@pytest.mark.parametrize(
    "function",
    ["web-ready", "web-ready:live", f"{ACCOUNT}:function:web-ready", FUNCTION, f"{FUNCTION}:7"],
)
def test_a_granted_function_is_accepted_as_name_partial_or_full_arn_with_a_qualifier(
    function: str,
) -> None:
    config = read(_checks({"name": "lambda", "params": {"function": function}}))
    assert config.checks[0].params["function"] == function


def test_a_stack_that_allows_nothing_refuses_every_such_check_with_the_parameter_named() -> None:
    nothing = StackLimits.from_env({})
    cases = {
        "ssm-command": ({"commands": ["true"]}, "SsmCommandDocuments (none: it is empty)"),
        "lambda": ({"function": "web-ready"}, "CustomCheckFunctionArns (none: it is empty)"),
        "ecs-container-instance": ({"cluster": "web"}, "EcsClusterNames (none: it is empty)"),
        "ssm-parameter": ({"name": "/asg-lifecycle/x"}, "no ReadinessParameterPath"),
    }
    for name, (params, message) in cases.items():
        with pytest.raises(InvalidConfig, match=re.escape(message)):
            read_config(
                _checks({"name": name, "params": params}),
                LAUNCH,
                Defaults(),
                allowed_for(LAUNCH, nothing),
            )


def test_stack_limits_come_from_the_environment_the_template_sets() -> None:
    limits = StackLimits.from_env(
        {
            "SSM_COMMAND_DOCUMENTS": "AWS-RunShellScript, MyHealthCheck",
            "CUSTOM_CHECK_FUNCTION_ARNS": ",".join(LIMITS.check_functions),
            "ECS_CLUSTER_NAMES": "web,",
            "READINESS_PARAMETER_PATH": "/asg-lifecycle/",
            "STACK_PARTITION": "aws",
            "STACK_REGION": "us-east-1",
            "STACK_ACCOUNT_ID": ACCOUNT,
        }
    )
    assert limits == LIMITS


# --- maxPollSeconds ---------------------------------------------------------------------------


def test_terminations_back_off_to_five_minutes_by_default_launches_keep_their_poll() -> None:
    """Stack defaults (LaunchMaxPollSeconds 0: none, TerminateMaxPollSeconds 300): a launch
    waits for an instance to be ready (latency matters), a drain does not."""
    assert read(None, LAUNCH).longest_poll == 30
    assert read('{"pollSeconds": 10}', LAUNCH).longest_poll == 10, "a launch keeps its poll"
    assert read(None, TERMINATE).longest_poll == 300
    assert read('{"pollSeconds": 600}', TERMINATE).longest_poll == 600, "never below the poll"
    assert Defaults.from_env({"LAUNCH_MAX_POLL_SECONDS": "0"}).launch_max_poll == 0
    env = {"LAUNCH_MAX_POLL_SECONDS": "120", "TERMINATE_MAX_POLL_SECONDS": "30"}
    defaults = Defaults.from_env(env)
    assert (defaults.launch_max_poll, defaults.terminate_max_poll) == (120, 30)
    assert read(None, LAUNCH, launch_max_poll=120).longest_poll == 120
    assert read(None, TERMINATE, terminate_max_poll=30).longest_poll == 30


def test_a_max_poll_at_or_below_the_poll_means_no_back_off_wherever_it_is_set() -> None:
    """As the key's meaning says; a block that changes only the poll is not blamed for the
    top level's maxPollSeconds. Out of its bounds it is refused, naming where."""
    assert read('{"pollSeconds": 60, "maxPollSeconds": 600}', LAUNCH).longest_poll == 600
    assert read('{"pollSeconds": 60, "maxPollSeconds": 20}', LAUNCH).longest_poll == 60
    rrv = an_action(TERMINATE, "AutoScalingGroup", action_name="ReplaceRootVolume")
    doc = '{"maxPollSeconds": 60, "replaceRootVolume": {"pollSeconds": 120}}'
    assert read(doc, TERMINATE, action=rrv).longest_poll == 120
    with pytest.raises(InvalidConfig, match="maxPollSeconds must be between 5 and 3600"):
        read('{"maxPollSeconds": 7200}', TERMINATE)
    with pytest.raises(InvalidConfig, match=r"warmPool\.maxPollSeconds"):
        read('{"warmPool": {"maxPollSeconds": 1}}', TERMINATE, action=WARM_IN)
