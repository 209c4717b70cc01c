"""tools/resolve_template.py: the template as each serving mode deploys it, for the linters
(`make template` runs checkov and parliament on what it writes). Named mode's policies name the
served groups' ARNs; tag mode's carry the serving tag's condition; the features' statements appear
only when their parameters turn them on; nothing conditional is left for a linter to skip."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tools import resolve_template as rt

GROUP_ARN = "arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/"
TAG_KEY = "autoscaling:ResourceTag/asg-lifecycle-orchestrator"


@cache
def _resolved(mode: str) -> dict[str, Any]:
    given = rt.MODES[mode]
    return rt.resolve(rt.translate(given), rt.parameter_values(rt._declared(), given))


@cache
def _documents(mode: str) -> dict[str, dict[str, Any]]:
    return rt.policy_documents(_resolved(mode))


def _statements(mode: str, prefix: str) -> list[dict[str, Any]]:
    """The statements of every policy document whose key starts with ``prefix``."""
    found = [
        s
        for key, document in _documents(mode).items()
        if key.startswith(prefix)
        for s in document["Statement"]
    ]
    assert found, f"{prefix}: no policy in {sorted(_documents(mode))}"
    return found


def _with_action(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    def actions(s: dict[str, Any]) -> list[str]:
        return [s["Action"]] if isinstance(s["Action"], str) else s["Action"]

    return [s for s in statements if action in actions(s)]


def _intrinsics(node: Any) -> list[str]:
    if isinstance(node, list):
        return [k for n in node for k in _intrinsics(n)]
    if isinstance(node, dict):
        here = [k for k in node if k in {"Fn::If", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"}]
        if len(node) == 1 and isinstance(node.get("Condition"), str):  # not a policy's Condition
            here.append("Condition")
        return here + [k for v in node.values() for k in _intrinsics(v)]
    return []


@pytest.mark.parametrize(
    ("policy", "action"),
    [
        ("HeartbeatPolicy", "autoscaling:RecordLifecycleActionHeartbeat"),
        ("CompletePolicy", "autoscaling:CompleteLifecycleAction"),
    ],
)
def test_named_mode_grants_the_lifecycle_calls_on_the_named_groups_only(
    policy: str, action: str
) -> None:
    (statement,) = _statements("named", policy)
    assert statement["Action"] == action
    assert statement["Resource"] == [GROUP_ARN + "web", GROUP_ARN + "api"]
    assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": rt.REGION}}
    assert TAG_KEY not in json.dumps(_documents("named"))


@pytest.mark.parametrize(
    ("policy", "action"),
    [
        ("HeartbeatPolicy", "autoscaling:RecordLifecycleActionHeartbeat"),
        ("CompletePolicy", "autoscaling:CompleteLifecycleAction"),
    ],
)
@pytest.mark.parametrize("mode", ["tag", "defaults"])
def test_tag_mode_grants_the_lifecycle_calls_on_tagged_groups_only(
    mode: str, policy: str, action: str
) -> None:
    (statement,) = _statements(mode, policy)
    assert statement["Action"] == action
    assert statement["Resource"] == (
        f"arn:aws:autoscaling:{rt.REGION}:{rt.ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*"
    )
    assert statement["Condition"] == {"StringEquals": {TAG_KEY: "enabled"}}


def _to_instances(mode: str) -> list[dict[str, Any]]:
    statements = _with_action(_statements(mode, "CheckFunctionRole"), "ssm:SendCommand")
    return [s for s in statements if s["Effect"] == "Allow" and ":instance/" in json.dumps(s)]


def test_ssm_commands_reach_the_named_groups_instances_or_any_in_tag_mode() -> None:
    (named,) = _to_instances("named")
    assert named["Resource"] == f"arn:aws:ec2:{rt.REGION}:{rt.ACCOUNT}:instance/*"
    assert named["Condition"] == {
        "StringEquals": {"ssm:resourceTag/aws:autoscaling:groupName": ["web", "api"]}
    }
    (tagged,) = _to_instances("tag")
    assert "ssm:resourceTag/aws:autoscaling:groupName" not in json.dumps(tagged)


@pytest.mark.parametrize(
    "action",
    [
        "ssm:SendCommand",
        "ecs:ListContainerInstances",
        "ecs:UpdateContainerInstancesState",
        "lambda:InvokeFunction",
    ],
)
def test_features_statements_appear_only_when_their_parameters_turn_them_on(action: str) -> None:
    assert _with_action(_statements("named", "CheckFunctionRole"), action)
    assert _with_action(_statements("tag", "CheckFunctionRole"), action)
    assert not _with_action(_statements("defaults", "CheckFunctionRole"), action)


def test_the_state_machine_may_write_traces_only_when_tracing_is_active() -> None:
    assert _with_action(_statements("named", "LifecycleStateMachineRole"), "xray:PutTraceSegments")
    assert not _with_action(
        _statements("defaults", "LifecycleStateMachineRole"), "xray:PutTraceSegments"
    )


@pytest.mark.parametrize("mode", sorted(rt.MODES))
def test_nothing_conditional_is_left_and_every_policy_names_real_arns(mode: str) -> None:
    resolved = _resolved(mode)
    assert "Conditions" not in resolved
    assert "Parameters" not in resolved
    assert _intrinsics(resolved) == []
    for key, document in _documents(mode).items():
        assert rt.known(document), key
        for statement in document["Statement"]:
            resources = statement.get("Resource", statement.get("NotResource"))
            for resource in [resources] if isinstance(resources, str) else resources:
                assert resource == "*" or resource.startswith("arn:"), (key, resource)


def test_the_reconcilers_failures_may_go_to_the_dead_letter_queue() -> None:
    """Its EventInvokeConfig's OnFailure destination: SAM grants the role SendMessage on it."""
    queue = f"arn:aws:sqs:{rt.REGION}:{rt.ACCOUNT}:{rt.STACK}-LifecycleEventDeadLetterQueue"
    for mode in rt.MODES:
        statements = _statements(mode, "ReconcileFunctionRole")
        (send,) = _with_action(statements, "sqs:SendMessage")
        assert send["Resource"] == queue


def test_it_writes_each_modes_template_and_policies(tmp_path: Path) -> None:
    written = rt.write(tmp_path, {"named": rt.MODES["named"]})
    template = tmp_path / "named" / "template.json"
    assert template in written
    assert json.loads(template.read_text())["Resources"]
    policies = sorted(p.name for p in written if p.parent.name == "policies")
    assert "HeartbeatPolicy.policy.json" in policies
    assert any(p.startswith("LifecycleStateMachineRole.") for p in policies)
