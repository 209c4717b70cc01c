"""The SSM documents CheckFunction may run (issue 19): only the ones ``SsmCommandDocuments`` names,
and of those only this account's and AWS-owned ones (no account in their ARN) in the stack's
Region, never a same-named document shared from another account.

template.yaml is resolved for a stack's parameters (its conditions, ``Fn::If``, ``Fn::Sub``,
``Fn::Join``, ``Fn::Split``) and CheckFunction's statements are evaluated for ``ssm:SendCommand``
the way IAM evaluates resources: allowed when an Allow statement's resource matches and no Deny
statement's does (a Deny's ``NotResource``: when none of it matches).
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from cfnlint.decode import decode_str

from tests.conftest import ROOT

ACCOUNT = "123456789012"
REGION = "us-east-1"
_NO_VALUE = object()


def _resolved_statements(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    template, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors, errors
    assert template is not None
    params: dict[str, Any] = {
        name: spec.get("Default") for name, spec in template["Parameters"].items()
    }
    params.update(parameters)
    for name, spec in template["Parameters"].items():
        if spec["Type"] == "CommaDelimitedList" and isinstance(params[name], str):
            params[name] = params[name].split(",")
    params |= {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    conditions: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in map(value, node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return _NO_VALUE if arg == "AWS::NoValue" else params[arg]
            if key == "Fn::If":
                return value(arg[1] if conditions[arg[0]] else arg[2])
            if key == "Fn::Equals":
                return value(arg[0]) == value(arg[1])
            if key == "Fn::Not":
                return not value(arg[0])
            if key == "Fn::And":
                return all(value(a) for a in arg)
            if key == "Condition":
                return conditions[arg]
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in value(arg[1]))
            if key == "Fn::Split":
                return str(value(arg[1])).split(arg[0])
            if key == "Fn::Sub":
                text = str(arg)
                for name, given in params.items():
                    text = text.replace("${" + name + "}", str(given))
                assert "${" not in text, text
                return text
        return {k: v for k, v in ((k, value(v)) for k, v in node.items()) if v is not _NO_VALUE}

    for name, expression in template["Conditions"].items():
        conditions[name] = bool(value(expression))
    function = template["Resources"]["CheckFunction"]["Properties"]
    policies = value(function["Policies"])
    return [statement for policy in policies for statement in policy["Statement"]]


def _matches(patterns: Any, arn: str) -> bool:
    listed = [patterns] if isinstance(patterns, str) else patterns
    return any(fnmatch.fnmatchcase(arn, pattern) for pattern in listed)


def _may_send_command_to(statements: list[dict[str, Any]], arn: str) -> bool:
    def sends(statement: dict[str, Any]) -> bool:
        actions = statement["Action"]
        return "ssm:SendCommand" in ([actions] if isinstance(actions, str) else actions)

    allowed = any(
        _matches(s["Resource"], arn)
        for s in statements
        if s["Effect"] == "Allow" and sends(s) and "Resource" in s
    )
    denied = any(
        _matches(s["Resource"], arn) if "Resource" in s else not _matches(s["NotResource"], arn)
        for s in statements
        if s["Effect"] == "Deny" and sends(s)
    )
    return allowed and not denied


def _document(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:ssm:{region}:{account}:document/{name}"


@pytest.mark.parametrize("groups", ["", "web"], ids=["tag-mode", "named-mode"])
@pytest.mark.parametrize(
    ("arn", "allowed"),
    [
        (_document("MyHealthCheck"), True),  # this account's, granted by name
        (_document("AWS-RunShellScript", account=""), True),  # AWS-owned: no account
        (_document("MyHealthCheck", account="999999999999"), False),  # the attack
        (_document("AWS-RunShellScript", account="999999999999"), False),
        (_document("MyHealthCheck", region="eu-west-1"), False),
        (_document("MyHealthCheck", account="", region="eu-west-1"), False),
        ("arn:aws-cn:ssm:us-east-1:123456789012:document/MyHealthCheck", False),
        (_document("OtherDocument"), False),  # not granted
        (_document("AWS-RunPowerShellScript", account=""), False),  # AWS-owned, not granted
        (f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0", True),
        (f"arn:aws:ec2:{REGION}:999999999999:instance/i-0123456789abcdef0", False),
    ],
)
def test_send_command_reaches_only_granted_documents_of_this_account_or_aws(
    groups: str, arn: str, allowed: bool
) -> None:
    statements = _resolved_statements(
        {
            "SsmCommandDocuments": "AWS-RunShellScript,MyHealthCheck",
            "AutoScalingGroupNames": groups,
        }
    )
    assert _may_send_command_to(statements, arn) is allowed


def test_without_documents_no_command_is_sent() -> None:
    statements = _resolved_statements({})
    assert not any("ssm:SendCommand" in str(s["Action"]) for s in statements)
    assert not _may_send_command_to(statements, _document("AWS-RunShellScript", account=""))


def test_the_deny_names_only_this_accounts_documents_aws_owned_ones_and_its_instances() -> None:
    """What the Allow cannot pin (a Join's delimiter takes no account), the Deny does."""
    statements = _resolved_statements({"SsmCommandDocuments": "MyHealthCheck"})
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Action"] == "ssm:SendCommand"
    assert sorted(deny["NotResource"]) == sorted(
        [
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/*",
            f"arn:aws:ssm:{REGION}::document/*",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*",
        ]
    )
