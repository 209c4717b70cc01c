"""The Auto Scaling adapter's reading of a group's instance lifecycle policy: what each answer
DescribeAutoScalingGroups may give becomes."""

from __future__ import annotations

from typing import Any

import pytest

from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.config import OnAbandon


class _Groups:
    def __init__(self, groups: list[dict[str, Any]]) -> None:
        self.groups = groups
        self.asked: list[list[str]] = []

    def describe_auto_scaling_groups(self, AutoScalingGroupNames: list[str]) -> dict[str, Any]:
        self.asked.append(AutoScalingGroupNames)
        return {"AutoScalingGroups": self.groups}


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (
            [
                {
                    "InstanceLifecyclePolicy": {
                        "RetentionTriggers": {"TerminateHookAbandon": "retain"}
                    }
                }
            ],
            OnAbandon.RETAIN,
        ),
        (
            [
                {
                    "InstanceLifecyclePolicy": {
                        "RetentionTriggers": {"TerminateHookAbandon": "Retain"}
                    }
                }
            ],
            OnAbandon.RETAIN,
        ),
        (
            [
                {
                    "InstanceLifecyclePolicy": {
                        "RetentionTriggers": {"TerminateHookAbandon": "terminate"}
                    }
                }
            ],
            OnAbandon.TERMINATE,
        ),
        ([{"InstanceLifecyclePolicy": {"RetentionTriggers": {}}}], OnAbandon.TERMINATE),
        ([{"InstanceLifecyclePolicy": {}}], OnAbandon.TERMINATE),
        ([{"AutoScalingGroupName": "web"}], OnAbandon.TERMINATE),  # no policy: AWS's default
        ([], OnAbandon.TERMINATE),  # the group is gone: nothing to retain into
    ],
)
def test_the_groups_policy_is_retain_only_when_it_says_so(
    groups: list[dict[str, Any]], expected: OnAbandon
) -> None:
    client = _Groups(groups)
    assert autoscaling.on_abandon(client, "web") is expected
    assert client.asked == [["web"]]
