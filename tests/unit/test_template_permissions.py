"""Each function may call what its code calls and nothing more (the checks' function: what the
catalogue's checks call; only the heartbeat and completion functions may heartbeat or complete,
and only on the served groups), and nothing is unscoped that can be scoped (template.yaml read as
data, the way CloudFormation reads it)."""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.decode import decode_str

from asg_lifecycle.checks.catalogue import CATALOGUE
from tests.conftest import ROOT

# Actions the template grants on "*" because AWS offers no resource-level scoping for them.
UNSCOPABLE = {
    "autoscaling:DescribeAutoScalingGroups",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeTags",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeInstanceHealth",
    "ssm:GetCommandInvocation",
    "autoscaling:DescribeLifecycleHooks",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeTags",
    "autoscaling:DescribeWarmPool",
}
LIFECYCLE = {"autoscaling:RecordLifecycleActionHeartbeat", "autoscaling:CompleteLifecycleAction"}
# SendTaskSuccess takes no resource (Service Authorization Reference, "Actions, resources, and
# condition keys for AWS Step Functions"): the task token is the capability. SignalFunction only
# has tokens its own workflows wrote to its own table.
SIGNAL_UNSCOPABLE = {"states:SendTaskSuccess"}


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


def _template() -> dict[str, Any]:
    template, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors, errors
    assert template is not None
    return template


def _policy_statements(logical_id: str) -> list[dict[str, Any]]:
    """A function's inline statements, or a managed policy's."""
    resource = _template()["Resources"][logical_id]["Properties"]
    return _statements(resource.get("Policies", resource.get("PolicyDocument")))


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_every_action_a_check_calls_is_granted_to_the_checks_function_and_nothing_else() -> None:
    granted = _function_actions(_template(), "CheckFunction")
    needed = {a for check in CATALOGUE.values() for a in check.permissions}
    assert needed - granted == set(), "add these to CheckFunction's policies"
    assert granted - needed == set(), "granted but no check calls it"
    assert not granted & LIFECYCLE, "a check never heartbeats or completes"


@pytest.mark.parametrize(
    "logical_id",
    [
        "ReadHookFunction",
        "CheckFunction",
        "HeartbeatFunction",
        "CompleteFunction",
        "ReconcileFunction",
        "SignalFunction",
    ],
)
def test_only_unscopable_actions_are_granted_on_every_resource(logical_id: str) -> None:
    for statement in _policy_statements(logical_id):
        if statement.get("Resource") == "*" and "Condition" not in statement:
            assert _actions(statement) <= UNSCOPABLE | SIGNAL_UNSCOPABLE, statement


def _function_actions(template: dict[str, Any], logical_id: str) -> set[str]:
    """Every action a function's role gets: inline statements and SAM policy templates by name."""
    granted: set[str] = set()
    for policy in template["Resources"][logical_id]["Properties"]["Policies"]:
        if isinstance(policy, dict) and "StepFunctionsExecutionPolicy" in policy:
            granted.add("states:StartExecution")
        elif isinstance(policy, dict) and set(policy) == {"Ref"}:  # a managed policy of the stack
            granted |= set().union(*(_actions(s) for s in _policy_statements(policy["Ref"])))
        else:
            granted |= set().union(*(_actions(s) for s in _statements(policy)))
    return granted


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("StartFunction", {"states:StartExecution", "autoscaling:DescribeTags"}),
        (
            "ReadHookFunction",
            {
                "autoscaling:DescribeTags",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLifecycleHooks",
                "autoscaling:DescribeAutoScalingGroups",  # a terminate hook's group's policy
                "autoscaling:CreateOrUpdateTags",  # ClaimPolicy: its claim on a served group
                "states:ListExecutions",
            },
        ),
        (
            "HeartbeatFunction",
            {
                "autoscaling:RecordLifecycleActionHeartbeat",
                "autoscaling:DescribeAutoScalingInstances",
            },
        ),
        (
            "CompleteFunction",
            {"autoscaling:CompleteLifecycleAction", "autoscaling:DescribeAutoScalingInstances"},
        ),
        (
            "ReconcileFunction",
            {
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeLifecycleHooks",
                "autoscaling:DescribeWarmPool",
                "states:ListExecutions",
                "states:StartExecution",
            },
        ),
        ("SignalFunction", {"dynamodb:Query", "states:SendTaskSuccess"}),
    ],
)
def test_each_function_gets_exactly_what_it_calls(function: str, expected: set[str]) -> None:
    assert _function_actions(_template(), function) == expected


@pytest.mark.parametrize(
    ("policy", "action"),
    [
        ("HeartbeatPolicy", "autoscaling:RecordLifecycleActionHeartbeat"),
        ("CompletePolicy", "autoscaling:CompleteLifecycleAction"),
    ],
)
def test_lifecycle_calls_are_scoped_to_the_served_groups(policy: str, action: str) -> None:
    """Each call in its own policy: the named groups' ARNs (named mode), or any group carrying
    the serving tag (tag mode); ``Fn::If`` picks one of the two by the stack's parameters."""
    (choice,) = _template()["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]
    assert choice["Fn::If"][0] == "ServesNamedGroups"
    statements = _policy_statements(policy)
    assert len(statements) == 2, "one for named groups, one for tagged groups"
    named, tagged = statements
    for statement in statements:
        assert _actions(statement) == {action}
    assert named["Condition"] == {"StringEquals": {"aws:RequestedRegion": {"Ref": "AWS::Region"}}}
    assert "autoScalingGroupName/" in str(named["Resource"])
    assert tagged["Condition"]["StringEquals"] == {
        "autoscaling:ResourceTag/asg-lifecycle-orchestrator": {"Ref": "ServedGroupTagValue"}
    }


def test_a_claim_is_scoped_to_the_served_groups_its_key_and_the_stacks_name() -> None:
    """ReadHookFunction may write one tag, asg-lifecycle-orchestrator:stack, with this stack's
    name as its value, on the served groups only (issue 19, item 4)."""
    (choice,) = _template()["Resources"]["ClaimPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert choice["Fn::If"][0] == "ServesNamedGroups"
    named, tagged = _policy_statements("ClaimPolicy")
    claim = {
        "aws:RequestTag/asg-lifecycle-orchestrator:stack": {"Ref": "AWS::StackName"},
    }
    only_the_claim = {"aws:TagKeys": ["asg-lifecycle-orchestrator:stack"]}
    for statement in (named, tagged):
        assert _actions(statement) == {"autoscaling:CreateOrUpdateTags"}
        assert statement["Condition"]["ForAllValues:StringEquals"] == only_the_claim
    assert named["Condition"]["StringEquals"] == {
        "aws:RequestedRegion": {"Ref": "AWS::Region"},
        **claim,
    }
    assert "autoScalingGroupName/" in str(named["Resource"])
    assert tagged["Condition"]["StringEquals"] == {
        "autoscaling:ResourceTag/asg-lifecycle-orchestrator": {"Ref": "ServedGroupTagValue"},
        **claim,
    }


@pytest.mark.parametrize(
    ("minutes", "expression"), [("1", "rate(1 minute)"), ("5", "rate(5 minutes)")]
)
def test_the_reconcile_schedule_is_a_valid_rate_for_every_period(
    minutes: str, expression: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EventBridge rejects ``rate(1 minutes)``: one minute takes the singular."""
    from lifecycle_emulator.template import load_stack  # noqa: PLC0415

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    stack = load_stack({"ReconcileMinutes": minutes}, region="us-east-1", account="123456789012")
    assert [r.schedule for r in stack.rules.values() if r.schedule] == [expression]


def test_the_signal_table_is_written_by_the_workflow_and_read_by_the_signal_only() -> None:
    """PutItem for the state machine (a round's wait), Query for SignalFunction, both on the
    table's ARN; no other grant names the table."""
    template = _template()
    machine = _statements(template["Resources"]["LifecycleStateMachine"]["Properties"]["Policies"])
    (put,) = [s for s in machine if "dynamodb:PutItem" in _actions(s)]
    assert _actions(put) == {"dynamodb:PutItem"}
    assert put["Resource"] == {"Fn::GetAtt": ["SignalTable", "Arn"]}
    (query,) = [s for s in _policy_statements("SignalFunction") if "dynamodb:Query" in _actions(s)]
    assert query["Resource"] == {"Fn::GetAtt": ["SignalTable", "Arn"]}
    table = template["Resources"]["SignalTable"]["Properties"]
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
