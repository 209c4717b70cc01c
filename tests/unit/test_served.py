"""Which stack a served group belongs to (issue 19, item 4): the pure decisions."""

from __future__ import annotations

from asg_lifecycle.served import CLAIM_TAG, claimed_by_another, stack_identity


def test_the_stack_is_named_by_its_state_machine() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:prod-hooks-lifecycle"
    assert stack_identity({"STATE_MACHINE_ARN": arn}) == "prod-hooks"
    assert stack_identity({"STATE_MACHINE_ARN": "arn:aws:states:r:1:stateMachine:x"}) == "x"


def test_only_a_claim_by_another_stack_keeps_this_one_off() -> None:
    assert claimed_by_another(None, "a") is None, "unclaimed: this stack claims it"
    assert claimed_by_another("a", "a") is None
    why = claimed_by_another("b", "a")
    assert why is not None
    assert "claimed by stack 'b'" in why
    assert CLAIM_TAG in why
    assert "not by this stack 'a'" in why
    long_claim = claimed_by_another("z" * 300, "a")
    assert long_claim is not None
    assert len(long_claim) < 300, "a tag's value is cut in the reason"
