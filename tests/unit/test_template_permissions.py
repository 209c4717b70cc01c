"""The RunChecks function may call what the catalogue's checks call, and nothing is unscoped
that can be scoped (template.yaml read as data, the way CloudFormation reads it)."""

from __future__ import annotations

from typing import Any

from cfnlint.decode import decode_str

from asg_lifecycle.checks import CATALOGUE
from tests.conftest import ROOT

# Actions the template grants on "*" because AWS offers no resource-level scoping for them.
UNSCOPABLE = {
    "autoscaling:DescribeAutoScalingGroups",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeTags",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeInstanceHealth",
    "ssm:GetCommandInvocation",
}


def _statements(node: Any) -> list[dict[str, Any]]:
    """Every statement in a policy list, through Fn::If branches."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "Effect" in node and "Action" in node:
            return [node]
        for value in node.values():
            found += _statements(value)
    elif isinstance(node, list):
        for item in node:
            found += _statements(item)
    return found


def _run_checks_statements() -> list[dict[str, Any]]:
    template, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors, errors
    assert template is not None
    return _statements(template["Resources"]["RunChecksFunction"]["Properties"]["Policies"])


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_every_action_a_check_calls_is_granted_to_the_checks_function() -> None:
    granted = set().union(*(_actions(s) for s in _run_checks_statements()))
    needed = {a for check in CATALOGUE.values() for a in check.permissions}
    assert needed - granted == set(), "add these to RunChecksFunction's policies"
    assert granted - needed == set(), "granted but no check calls it"


def test_only_unscopable_actions_are_granted_on_every_resource() -> None:
    for statement in _run_checks_statements():
        if statement.get("Resource") == "*" and "Condition" not in statement:
            assert _actions(statement) <= UNSCOPABLE, statement
