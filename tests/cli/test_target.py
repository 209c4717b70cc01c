"""Which account, Region and stack a state-changing command acts on (issue 19, item 10): named in
the confirmation (``complete``) or said first (``complete --yes``, ``extend``, ``resend``); a
``--stack`` that is not ``./samconfig.toml``'s, or a Region that is not its, is warned about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle_emulator.local_aws import ACCOUNT, REGION
from tests.cli.conftest import Paused

TARGET = f"account {ACCOUNT}, Region {REGION}, stack asg-lifecycle"


def test_the_completion_prompt_names_account_region_and_stack(fleet: Paused) -> None:
    instance = fleet.waiting()[0]
    result = fleet.cli("complete", instance, "--result", "ABANDON", input="n\n")
    assert result.exit_code == 1
    assert f"In {TARGET}: ABANDON {instance}" in result.output
    (record,) = fleet.aws.autoscaling.actions(instance_id=instance, hook_name="web-launch")
    assert record.active, "nothing sent on a no"


def test_commands_that_do_not_ask_say_where_they_act_first(fleet: Paused, tmp_path: Path) -> None:
    first, second = fleet.waiting()
    completed = fleet.cli("complete", first, "--result", "ABANDON", "--yes")
    assert completed.exit_code == 0, completed.output
    assert completed.stdout.splitlines()[0] == f"Acting on {TARGET}."
    extended = fleet.cli("extend", second)
    assert extended.exit_code == 0, extended.output
    assert extended.stdout.splitlines()[0] == f"Acting on {TARGET}."
    (record,) = fleet.aws.autoscaling.actions(instance_id=second, hook_name="web-launch")
    stored = tmp_path / "event.json"
    assert record.event is not None
    stored.write_text(json.dumps(record.event))
    fleet.aws.client("stepfunctions").stop_execution(
        executionArn=next(e["arn"] for e in fleet.aws.executions() if second in e["name"])
    )
    resent = fleet.cli("resend", str(stored))
    assert resent.exit_code == 0, resent.output
    assert f"Acting on {TARGET}." in resent.stdout


@pytest.mark.parametrize(
    ("samconfig", "warning"),
    [
        (
            'stack_name = "prod-hooks"',
            "Warning: acting on stack 'asg-lifecycle' (--stack or ASG_LIFECYCLE_STACK), not "
            "'prod-hooks', the stack_name in ./samconfig.toml.",
        ),
        (
            'stack_name = "asg-lifecycle"\nregion = "eu-west-1"',
            "Warning: ./samconfig.toml deploys stack 'asg-lifecycle' to Region eu-west-1; this "
            f"command acts on Region {REGION}",
        ),
        ('stack_name = "asg-lifecycle"', None),
        (None, None),
    ],
)
def test_a_stack_or_region_other_than_samconfigs_is_warned_about(
    fleet: Paused,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    samconfig: str | None,
    warning: str | None,
) -> None:
    if samconfig is not None:
        config = f"version = 0.1\n[default.global.parameters]\n{samconfig}\n"
        (tmp_path / "samconfig.toml").write_text(config)
    monkeypatch.chdir(tmp_path)
    result = fleet.cli("list")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning")]
    if warning is None:
        assert warnings == []
    else:
        assert len(warnings) == 1
        assert warnings[0].startswith(warning)
