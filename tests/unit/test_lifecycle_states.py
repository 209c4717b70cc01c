"""Where a result takes an instance (for a completion whose answer was lost), per the User Guide's
"How lifecycle hooks work", "Warm pool instance lifecycle", "Manage retained instances" and
"Instance refresh example events"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asg_lifecycle.lifecycle_states import where_result_takes
from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition

LAUNCH, TERMINATE = Transition.LAUNCHING, Transition.TERMINATING
CONTINUE, ABANDON = LifecycleResult.CONTINUE, LifecycleResult.ABANDON


def act(
    transition: Transition, destination: str | None, action_name: str | None = None
) -> LifecycleAction:
    return LifecycleAction(
        "web",
        "hook",
        "i-0123456789abcdef0",
        None,
        transition,
        datetime(2026, 1, 1, tzinfo=UTC),
        destination=destination,
        action_name=action_name,
    )


@pytest.mark.parametrize(
    ("action", "result", "shown", "taken"),
    [
        (act(LAUNCH, "AutoScalingGroup"), CONTINUE, "InService", True),
        (act(LAUNCH, "AutoScalingGroup"), CONTINUE, "Warmed:Pending:Proceed", False),
        (act(LAUNCH, "WarmPool"), CONTINUE, "Warmed:Stopped", True),
        (act(LAUNCH, "WarmPool"), CONTINUE, "InService", False),
        (act(LAUNCH, None), CONTINUE, "Warmed:Running", True),  # unknown: either way in
        (act(LAUNCH, "AutoScalingGroup"), ABANDON, None, True),  # terminated, in no group
        (act(LAUNCH, "AutoScalingGroup"), ABANDON, "InService", False),
        (act(TERMINATE, "EC2"), CONTINUE, "Terminating:Proceed", True),
        (act(TERMINATE, "EC2"), CONTINUE, "Terminating:Retained", False),
        (act(TERMINATE, "EC2"), ABANDON, "Terminating:Retained", True),  # retain policy
        (act(TERMINATE, "WarmPool"), CONTINUE, "Warmed:Pending:Proceed", True),  # ReuseOnScaleIn
        (act(TERMINATE, "WarmPool"), ABANDON, "Warmed:Pending:Retained", True),
        (act(TERMINATE, "AutoScalingGroup", "ReplaceRootVolume"), CONTINUE, "Pending:Wait", True),
        (act(TERMINATE, "AutoScalingGroup", "ReplaceRootVolume"), ABANDON, "InService", False),
    ],
)
def test_where_a_result_takes_the_instance(
    action: LifecycleAction, result: LifecycleResult, shown: str | None, taken: bool
) -> None:
    assert (shown in where_result_takes(action, result)) is taken
