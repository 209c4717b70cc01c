"""Which Auto Scaling groups this stack serves: named ones, or those carrying the serving tag.

With ``AutoScalingGroupNames`` set, the EventBridge rule only matches those groups and IAM only
lets the functions heartbeat and complete their actions. With it empty, the rule matches every
group's lifecycle events and IAM allows only groups tagged ``asg-lifecycle-orchestrator=<value>``:
an event of an untagged group is dropped before any workflow starts (a workflow for it could
neither heartbeat nor complete, and would end in errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SERVING_TAG = "asg-lifecycle-orchestrator"


@dataclass(frozen=True, slots=True)
class ServedGroups:
    names: frozenset[str]
    tag_value: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServedGroups:
        listed = env.get("SERVED_GROUP_NAMES", "").split(",")
        names = frozenset(name.strip() for name in listed if name.strip())
        return cls(names=names, tag_value=env.get("SERVED_GROUP_TAG_VALUE", "enabled"))

    @property
    def by_tag(self) -> bool:
        """Groups are recognised by their tag (no names given)."""
        return not self.names

    def serves(self, group_name: str, tag_value: str | None = None) -> bool:
        """Whether a group is served; ``tag_value`` is the group's serving tag (tag mode only)."""
        if self.by_tag:
            return tag_value == self.tag_value
        return group_name in self.names
