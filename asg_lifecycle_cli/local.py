"""``--local SCENARIO --at SECONDS``: the commands against the embedded emulator, no AWS account.

The scenario (``asg-lifecycle-local list``) is played on the emulator up to ``SECONDS`` of virtual
time; the command then runs against it exactly as against AWS (same boto3 calls: moto answers
them in-process), and a command that changed something plays the scenario on to its end and
prints each action's outcome, so its effect can be seen.
"""

from __future__ import annotations

import time
from typing import Any

import click

from asg_lifecycle_cli.errors import OperatorError


class LocalSession:
    def __init__(self, scenario_name: str, at: float) -> None:
        try:
            from lifecycle_emulator import play, scenarios  # noqa: PLC0415 - dev extras only
            from lifecycle_emulator.local_aws import LocalAws  # noqa: PLC0415
        except ImportError as exc:
            raise OperatorError(
                f"--local needs the development extras (pip install -e '.[dev]'): {exc}"
            ) from exc
        try:
            self._scenario = scenarios.load(scenario_name)
        except scenarios.InvalidScenario as exc:
            raise click.BadParameter(str(exc), param_hint="--local") from exc
        self._play = play
        self._aws: Any = LocalAws(
            self._scenario.parameters, start=play.T0, behaviours=self._scenario.behaviour()
        )
        self._aws.__enter__()
        try:
            self._t0 = play.begin(self._scenario, self._aws)
            self._aws.run(until=self._t0 + at)
        except BaseException:
            self.close()
            raise

    @property
    def stack_name(self) -> str:
        return str(self._aws.stack.name)

    def play_on(self) -> str:
        """Play to the scenario's end; each action's outcome."""
        started = time.monotonic()
        report = self._play.finish(self._scenario, self._aws, self._t0)
        report.wall_seconds = time.monotonic() - started
        return str(self._play.render(report, timeline=False))

    def close(self) -> None:
        self._aws.__exit__(None, None, None)
