"""The operator CLI against the stack deployed on the emulator, paused at a virtual moment.

The CLI runs in-process through click's runner, with no ``--local``: it finds the stack with
DescribeStacks and makes the same boto3 calls it makes against AWS (moto answers them). The test
then plays on and asserts on what Auto Scaling and Step Functions recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from asg_lifecycle_cli.main import cli
from lifecycle_emulator import play
from lifecycle_emulator.faults import Faults
from lifecycle_emulator.local_aws import LocalAws
from lifecycle_emulator.scenarios import Scenario
from tests.flow.stack import doc, emulated, launch_hook, terminate_hook


@dataclass
class Paused:
    aws: LocalAws
    scenario: Scenario
    t0: float

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, ["--stack", self.aws.stack.name, *args], input=input)

    def waiting(self, hook: str = "web-launch") -> list[str]:
        """Instances whose action on ``hook`` is still active, in launch order."""
        return [r.instance_id for r in self.aws.autoscaling.actions(hook_name=hook, active=True)]

    def finish(self) -> play.Report:
        return play.finish(self.scenario, self.aws, self.t0)


def paused(
    document: dict[str, Any], at: float, lose: str | None = None, faults: Faults | None = None
) -> Iterator[Paused]:
    """The scenario played to ``at`` seconds; ``lose``: the lifecycle events whose
    LifecycleTransition ends so (``LAUNCHING``, ``TERMINATING``) are lost, as AWS's best-effort
    delivery may lose one; ``faults``: injected into the functions' calls meanwhile."""
    with emulated(document) as (aws, scenario):
        if faults is not None:
            faults.install(aws)
        if lose is not None:
            aws.autoscaling.drop_event = lambda event: str(
                event["detail"]["LifecycleTransition"]
            ).endswith(lose)
        try:
            t0 = play.begin(scenario, aws)
            aws.run(until=t0 + at)
            yield Paused(aws, scenario, t0)
        finally:
            if faults is not None:
                faults.uninstall()


# One instance ready after 30 s (done by the time the CLI runs), two never ready.
FLEET = doc(
    [launch_hook(heartbeat=300, pollSeconds=30, maxWaitSeconds=900), terminate_hook()],
    instances=[{"readyAfter": 30}, {"readyAfter": None}, {"readyAfter": None}],
    steps=[{"at": 0, "desired": 3}],
)


@pytest.fixture(autouse=True)
def _away_from_the_projects_samconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands run where no ``samconfig.toml`` names another stack (the project's names
    its default stack, which the CLI would warn about): tests that want one write their own."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fleet() -> Iterator[Paused]:
    """Three launches at 0; at 100 s one has completed, two are in flight."""
    yield from paused(FLEET, at=100)


paused_at = contextmanager(paused)


def lines_with(result: Result, *words: str) -> Sequence[str]:
    return [line for line in result.output.splitlines() if all(w in line for w in words)]
