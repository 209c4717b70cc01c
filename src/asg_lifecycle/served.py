"""Which Auto Scaling groups this stack serves: named ones, or those carrying the serving tag;
and which stack a served group belongs to, when two stacks would serve it.

With ``AutoScalingGroupNames`` set, the EventBridge rule only matches those groups and IAM only
lets the functions heartbeat and complete their actions. With it empty, the rule matches every
group's lifecycle events and IAM allows only groups tagged ``asg-lifecycle-orchestrator=<value>``:
an event of an untagged group is dropped before any workflow starts (a workflow for it could
neither heartbeat nor complete, and would end in errors).

**Two stacks on one group** (both in tag mode with the default ``enabled``, or both naming it)
would each start a workflow for every action, and whichever decided first would win. So each
stack claims the groups it serves: the hook read of a served group's action reads the group's
claim tag (:data:`CLAIM_TAG`, the same DescribeTags call as the serving tag); a group without one
is claimed for this stack (CreateOrUpdateTags, allowed by IAM for that one key, with this
stack's name as the only value, on the served groups only); a group claimed by another stack is
not acted on (``not-waiting``, the reason naming the other stack; ``ActionsNotWaiting`` and its
alarm). The claim is never overwritten: moving a group to another stack is an operator's
DeleteTags (docs/RUNBOOK.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SERVING_TAG = "asg-lifecycle-orchestrator"
CLAIM_TAG = "asg-lifecycle-orchestrator:stack"
# The state machine is named "<stack>-lifecycle" (template.yaml): its ARN names the stack.
_STATE_MACHINE_SUFFIX = "-lifecycle"


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


def stack_identity(env: Mapping[str, str]) -> str:
    """This stack's name, the value of its claims: from ``STATE_MACHINE_ARN``
    (``arn:…:stateMachine:<stack>-lifecycle``)."""
    name = env.get("STATE_MACHINE_ARN", "").rsplit(":", 1)[-1]
    return name.removesuffix(_STATE_MACHINE_SUFFIX) or name


def claimed_by_another(claim: str | None, own: str) -> str | None:
    """Why a served group is not this stack's to act on (another stack claimed it), or None:
    unclaimed (this stack claims it now) or claimed by this stack."""
    if claim is None or claim == own:
        return None
    return (
        f"group claimed by stack {claim[:128]!r} (tag {CLAIM_TAG}), not by this stack "
        f"{own!r}: two stacks serve it, and the other one acts"
    )


def group_tags(client: Any, group_name: str) -> dict[str, str]:
    """The group's serving tag and claim tag (those it has), in one DescribeTags call."""
    tags = client.describe_tags(
        Filters=[
            {"Name": "auto-scaling-group", "Values": [group_name]},
            {"Name": "key", "Values": [SERVING_TAG, CLAIM_TAG]},
        ]
    )["Tags"]
    return {
        str(t["Key"]): str(t["Value"])
        for t in tags
        if t.get("Key") in (SERVING_TAG, CLAIM_TAG) and t.get("ResourceId") in (None, group_name)
    }


def claim_group(client: Any, group_name: str, own: str) -> None:
    """Tag the group as this stack's (not propagated to its instances)."""
    client.create_or_update_tags(
        Tags=[
            {
                "ResourceId": group_name,
                "ResourceType": "auto-scaling-group",
                "Key": CLAIM_TAG,
                "Value": own,
                "PropagateAtLaunch": False,
            }
        ]
    )
