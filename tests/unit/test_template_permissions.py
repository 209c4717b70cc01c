"""Each function may call what its code calls and nothing more (the checks' function: what the
catalogue's checks call, where each check says IAM scopes it; only the heartbeat and completion
functions may heartbeat or complete, and only on the served groups), and nothing is unscoped that
can be scoped (template.yaml read as data, the way CloudFormation reads it).

When a check calls an action CheckFunction's policy lacks, the test prints the statement to paste
into template.yaml, built from the check's ``permissions`` and ``resources``
(:func:`lacking_statements`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml, decode_str

from asg_lifecycle.checks.base import Check
from asg_lifecycle.checks.catalogue import CATALOGUE
from tests.conftest import ROOT

# Actions the template grants the functions other than CheckFunction on "*" because AWS offers no
# resource-level scoping for them. CheckFunction's are the checks' own: each action a check does
# not scope in its ``resources`` (make test's parliament lint fails a scopable one on "*").
UNSCOPABLE = {
    "autoscaling:DescribeAutoScalingGroups",
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
    decoded: dict[str, Any] = template
    return decoded


def _policy_statements(logical_id: str) -> list[dict[str, Any]]:
    """A function's inline statements, or a managed policy's."""
    resource = _template()["Resources"][logical_id]["Properties"]
    return _statements(resource.get("Policies", resource.get("PolicyDocument")))


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement.get("Resource", [])
    return list(resource) if isinstance(resource, list) else [resource]


def declared_resources(check: type[Check], action: str) -> list[Any]:
    """Where ``check`` says IAM scopes ``action``, as CloudFormation reads it (``"*"``: not
    scoped, :attr:`Check.resources`)."""
    text = check.resources.get(action)
    if text is None:
        return ["*"]
    resource = cfn_yaml.loads(f"Resource: {text}\n")["Resource"]
    return list(resource) if isinstance(resource, list) else [resource]


def _sid(sid: str, taken: set[str]) -> str:
    """``sid``, made unique among the policy's (``taken``, which it joins)."""
    while sid in taken:
        sid += "Check"
    taken.add(sid)
    return sid


def lacking_statements(template: dict[str, Any], catalogue: Mapping[str, type[Check]]) -> str:
    """The statements CheckFunction's policy lacks for what the catalogue's checks call, as the
    YAML to paste as the first items of its ``Policies: - Statement:`` list in template.yaml
    ("" when it lacks none): one statement per check and Resource, with the check's name as Sid,
    the actions it lacks and the Resource the check declares (:attr:`Check.resources`)."""
    granted = _function_actions(template, "CheckFunction")
    policies = template["Resources"]["CheckFunction"]["Properties"]["Policies"]
    taken = {str(s["Sid"]) for s in _statements(policies) if "Sid" in s}
    lines: list[str] = []
    for name, check in catalogue.items():
        by_resource: dict[str, list[str]] = {}
        for action in check.permissions:
            if action not in granted:
                by_resource.setdefault(check.resources.get(action, '"*"'), []).append(action)
        base = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name))
        for index, (resource, actions) in enumerate(by_resource.items(), 1):
            sid = _sid(base + (str(index) if len(by_resource) > 1 else ""), taken)
            why = (
                "AWS offers no resource-level scoping for these actions"
                if resource == '"*"'
                else f"{name}'s resources"
            )
            lines += [
                f"            - Sid: {sid} # check {name} ({check.__module__})",
                "              Effect: Allow",
                "              Action:",
                *(f"                - {action}" for action in actions),
                f"              Resource: {resource} # {why}",
            ]
    return "\n".join(lines) + "\n" if lines else ""


def test_every_action_a_check_calls_is_granted_to_the_checks_function_and_nothing_else() -> None:
    template = _template()
    lacking = lacking_statements(template, CATALOGUE)
    if lacking:
        pytest.fail(
            "CheckFunction's policy lacks actions a check calls. Paste this into template.yaml as"
            " the first items of CheckFunction's `Policies: - Statement:` list:\n\n" + lacking,
            pytrace=False,
        )
    granted = _function_actions(template, "CheckFunction")
    needed = {a for check in CATALOGUE.values() for a in check.permissions}
    assert granted - needed == set(), "granted but no check calls it"
    assert not granted & LIFECYCLE, "a check never heartbeats or completes"


def misplaced_grants(template: dict[str, Any], check: type[Check]) -> list[str]:
    """Where CheckFunction's policy grants ``check``'s actions otherwise than the check says: a
    Resource it declares that no statement grants the action on, a scoped action granted on "*",
    an action it does not scope granted on a resource (one not granted at all is
    :func:`lacking_statements`')."""
    policies = template["Resources"]["CheckFunction"]["Properties"]["Policies"]
    allowed = [s for s in _statements(policies) if s["Effect"] == "Allow"]
    problems = []
    for action in check.permissions:
        where = [r for s in allowed if action in _actions(s) for r in _resources(s)]
        if not where:
            continue
        declared = declared_resources(check, action)
        if declared == ["*"]:
            if where != ["*"] * len(where):
                problems.append(f"{action} is granted on a resource: the check declares none")
        elif "*" in where:
            problems.append(f"{action} is granted on '*': the check scopes it")
        else:
            problems += [
                f"{action}: the template does not grant {resource}"
                for resource in declared
                if resource not in where
            ]
    return problems


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_each_action_of_a_check_is_granted_where_the_check_says(name: str) -> None:
    """Every Resource the check declares for an action is one CheckFunction's policy grants it
    on, and an action the check does not scope is granted on "*" only."""
    assert misplaced_grants(_template(), CATALOGUE[name]) == []


def unscopable(logical_id: str, catalogue: Mapping[str, type[Check]] = CATALOGUE) -> set[str]:
    """What ``logical_id`` may be granted on "*" with no condition: for CheckFunction, each
    action a check of ``catalogue`` does not scope."""
    if logical_id == "CheckFunction":
        return {
            action
            for check in catalogue.values()
            for action in check.permissions
            if action not in check.resources
        }
    return UNSCOPABLE | SIGNAL_UNSCOPABLE


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
    granted = granted_on_anything(_template(), logical_id)
    assert granted <= unscopable(logical_id), granted - unscopable(logical_id)


def granted_on_anything(template: dict[str, Any], logical_id: str) -> set[str]:
    """The actions a function's inline statements or managed policies grant on "*" with no
    condition."""
    resource = template["Resources"][logical_id]["Properties"]
    statements = _statements(resource.get("Policies", resource.get("PolicyDocument")))
    return {
        action
        for statement in statements
        if statement.get("Resource") == "*" and "Condition" not in statement
        for action in _actions(statement)
    }


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
