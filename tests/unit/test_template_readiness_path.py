"""ReadinessParameterPath cannot widen the ssm-parameter check's policy (issue 19, item 9).

The CheckFunction may ``ssm:GetParameter`` on ``parameter${ReadinessParameterPath}*``: a path of
``/`` alone granted every parameter of the account and Region, and a path without its trailing
slash (``/app``) also its siblings (``/app-secrets/db-password``). The template's AllowedPattern
now refuses both at deploy time (template.yaml read as data, the way CloudFormation reads it; the
pattern applied to the whole value, as CloudFormation does).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from cfnlint.decode import decode_str

from tests.conftest import ROOT


def _template() -> dict[str, Any]:
    template, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors, errors
    assert template is not None
    found: dict[str, Any] = template
    return found


PARAMETER = _template()["Parameters"]["ReadinessParameterPath"]
PATTERN = re.compile(PARAMETER["AllowedPattern"])


def _with_sid(node: Any, sid: str) -> list[dict[str, Any]]:
    """The statements named ``sid`` anywhere in a policy list (through Fn::If branches)."""
    if isinstance(node, dict):
        if node.get("Sid") == sid:
            return [node]
        return [found for value in node.values() for found in _with_sid(value, sid)]
    if isinstance(node, list):
        return [found for item in node for found in _with_sid(item, sid)]
    return []


def _allowed(value: str) -> bool:
    return PATTERN.fullmatch(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "/asg-lifecycle/",
        "/app/",
        "/app/ready/",
        "/a.b_c-d/E9/",
        "/team/web/readiness/",
    ],
)
def test_a_path_that_starts_and_ends_with_a_slash_is_allowed(value: str) -> None:
    assert _allowed(value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("/", "every parameter of the account and Region"),
        ("", "every parameter (parameter*)"),
        ("/app", "also /app-secrets/... and /application/..."),
        ("/app/ready", "also /app/ready-to-leak"),
        ("app/", "not a path"),
        ("//", "an empty level"),
        ("/app//", "an empty level"),
        ("//app/", "an empty level"),
        ("/app/*/", "a wildcard in the policy's resource"),
        ("/app/?/", "a wildcard in the policy's resource"),
        ("/app /", "a space"),
        ("/app/\n", "a trailing newline"),
        ("/app/\n/", "a newline"),
        ("/app/${AWS::AccountId}/", "a substitution"),
    ],
)
def test_a_path_that_would_widen_the_policy_is_refused(value: str, why: str) -> None:
    assert not _allowed(value), why


def test_the_default_is_allowed_and_the_refusal_is_explained() -> None:
    assert _allowed(PARAMETER["Default"])
    explained = " ".join(PARAMETER["ConstraintDescription"].split())
    assert 'starts and ends with "/"' in explained
    assert 'not "/" alone' in explained


def test_the_policy_grants_only_below_the_path() -> None:
    """What the pattern protects: the one statement that uses the path appends ``*`` to it."""
    (statement,) = _with_sid(
        _template()["Resources"]["CheckFunction"]["Properties"]["Policies"], "ReadinessParameters"
    )
    assert statement["Action"] == "ssm:GetParameter"
    assert statement["Resource"]["Fn::Sub"].endswith(":parameter${ReadinessParameterPath}*")


@pytest.mark.parametrize("path", ["/asg-lifecycle/", "/app/", "/app/ready/"])
@pytest.mark.parametrize(
    "sibling", ["{stem}-secrets/db-password", "{stem}2/x", "{stem}.old/x", "{stem}x"]
)
def test_no_allowed_path_grants_a_sibling(path: str, sibling: str) -> None:
    """``parameter<path>*`` as IAM matches it (``*``: any characters) never reaches a parameter
    beside the path, only ones below it."""
    grant = re.compile(re.escape(path) + ".*", re.DOTALL)
    stem = path.rstrip("/")
    assert grant.fullmatch(f"{path}ready")
    assert not grant.fullmatch(sibling.format(stem=stem))


def test_the_functions_take_the_path_only_as_the_template_allows_it() -> None:
    """The handlers read the path from their environment (StackLimits): one the template would
    refuse (a stack deployed before the pattern, an environment edited by hand) allows no
    readiness parameter rather than sibling paths."""
    from asg_lifecycle.config import ENV_PARAMETER_PATH, PARAMETER_PATH, StackLimits  # noqa: PLC0415

    assert PARAMETER_PATH.pattern == PARAMETER["AllowedPattern"].removeprefix("^").removesuffix("$")
    for path, kept in (("/asg-lifecycle/", True), ("/", False), ("/app", False), ("", False)):
        limits = StackLimits.from_env({ENV_PARAMETER_PATH: path})
        assert (limits.parameter_path == path) is kept, path
        assert kept or limits.parameter_path is None
