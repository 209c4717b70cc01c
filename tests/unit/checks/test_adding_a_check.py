"""Adding a check: its module is all the rest of the code needs (with its test beside it), and
the one edit outside it, CheckFunction's IAM statement, is printed by the permissions test.

A sample check is written into a temporary directory made part of the checks package, as a new
file in ``src/asg_lifecycle/checks/`` would be, and nothing else changes: discovery registers it,
its parameters are validated and documented from its declaration, a round runs it, and the
permissions test names the statement template.yaml lacks, which, pasted where it says, is all the
template needs. Nothing in the repository is written (template.yaml is patched in memory).

A check on resources the stack must name (a document, a cluster, a function) needs more: a stack
parameter and what goes with it (docs/CONFIGURATION.md, "Writing a check").
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str

from asg_lifecycle import checks
from asg_lifecycle.checks import catalogue
from asg_lifecycle.checks.base import Check, run_round
from asg_lifecycle.checks.catalogue import CATALOGUE as PACKAGE
from asg_lifecycle.config import CheckSpec, Defaults, InvalidConfig, StackLimits, read_config
from asg_lifecycle.model import Transition
from asg_lifecycle.policy import Verdict
from docs_gen.checks import render
from tests.conftest import ROOT
from tests.unit.checks.conftest import Account
from tests.unit.test_template_permissions import (
    granted_on_anything,
    lacking_statements,
    misplaced_grants,
    unscopable,
)

MODULE = "asg_lifecycle.checks.console_ready"
SAMPLE = '''"""Launch check (a sample): the instance's console output shows an agreed marker.

The instance's boot script prints the marker when it is done (``echo app-up > /dev/console``);
EC2 keeps the latest output. An instance not running yet waits; one shutting down fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from asg_lifecycle.checks.base import Answer, Check, CheckContext, failed, passed, waiting
from asg_lifecycle.model import Transition
from asg_lifecycle.params import Kind, Param


class ConsoleReadyCheck(Check):
    name: ClassVar[str] = "console-ready"
    transitions: ClassVar[frozenset[Transition]] = frozenset({Transition.LAUNCHING})
    summary: ClassVar[str] = "The instance's console output shows an agreed marker."
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "marker",
            Kind.STRING,
            "the text the boot script prints when it is done",
            default="app-up",
            max_length=64,
        ),
    )
    example: ClassVar[dict[str, Any]] = {"name": "console-ready", "params": {"marker": "ok"}}
    permissions: ClassVar[tuple[str, ...]] = ("ec2:DescribeInstances", "ec2:GetConsoleOutput")
    resources: ClassVar[Mapping[str, str]] = {
        "ec2:GetConsoleOutput": (
            '!Sub "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*"'
        )
    }

    def evaluate(self, ctx: CheckContext) -> Answer:
        ec2 = ctx.client("ec2")
        instance_id = ctx.action.instance_id
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        state = reservations[0]["Instances"][0]["State"]["Name"]
        if state in ("shutting-down", "terminated", "stopping", "stopped"):
            return failed(f"the instance is {state}")
        if state != "running":
            return waiting(f"the instance is {state}")
        output = ec2.get_console_output(InstanceId=instance_id, Latest=True).get("Output", "")
        if ctx.params["marker"] in output:
            return passed(f"the console shows {ctx.params['marker']!r}")
        return waiting(f"the console does not show {ctx.params['marker']!r} yet")
'''
# What the permissions test prints for it, word for word: a statement per Resource, each with the
# check's name as Sid.
STATEMENT = (
    "            - Sid: ConsoleReady1 # check console-ready (asg_lifecycle.checks.console_ready)\n"
    "              Effect: Allow\n"
    "              Action:\n"
    "                - ec2:DescribeInstances\n"
    '              Resource: "*" # AWS offers no resource-level scoping for these actions\n'
    "            - Sid: ConsoleReady2 # check console-ready (asg_lifecycle.checks.console_ready)\n"
    "              Effect: Allow\n"
    "              Action:\n"
    "                - ec2:GetConsoleOutput\n"
    '              Resource: !Sub "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}'
    ":instance/*\" # console-ready's resources\n"
)


@pytest.fixture
def added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, type[Check]]]:
    """The catalogue once ``console_ready.py`` is one of the package's modules (it is the
    package's catalogue for the test: the docs and the configuration read it)."""
    (tmp_path / "console_ready.py").write_text(SAMPLE)
    monkeypatch.setattr(checks, "__path__", [*checks.__path__, str(tmp_path)])
    importlib.invalidate_caches()
    discovered = catalogue.discover()
    monkeypatch.setattr(catalogue, "CATALOGUE", discovered)
    yield discovered
    sys.modules.pop(MODULE, None)


def test_its_module_alone_registers_it(added: dict[str, type[Check]]) -> None:
    assert added["console-ready"].__module__ == MODULE
    assert added == dict(sorted({**PACKAGE, "console-ready": added["console-ready"]}.items()))
    assert "console-ready" in catalogue.allowed_for(Transition.LAUNCHING, StackLimits())
    assert "console-ready" not in catalogue.allowed_for(Transition.TERMINATING, StackLimits())


def test_its_parameters_are_validated_from_its_declaration(added: dict[str, type[Check]]) -> None:
    def read(params: dict[str, Any]) -> tuple[CheckSpec, ...]:
        metadata = json.dumps({"checks": [{"name": "console-ready", "params": params}]})
        allowed = catalogue.allowed_for(Transition.LAUNCHING, StackLimits())
        return read_config(metadata, Transition.LAUNCHING, Defaults(), allowed).checks

    assert read({}) == (CheckSpec("console-ready", {"marker": "app-up"}),)
    with pytest.raises(InvalidConfig, match=r"\(console-ready\)\.params: marker must be"):
        read({"marker": 7})
    with pytest.raises(InvalidConfig, match="unknown parameter"):
        read({"markr": "app-up"})


def test_the_checks_reference_documents_it(added: dict[str, type[Check]]) -> None:
    text = render()
    entry = text[text.index("#### `console-ready` (launch)") :].split("\n#### ")[0]
    assert '| `marker` | string | `"app-up"` | the text the boot script prints' in entry
    assert 'Example: `{"name":"console-ready","params":{"marker":"ok"}}`' in entry
    assert "IAM: `ec2:DescribeInstances`, `ec2:GetConsoleOutput`" in entry
    assert "Local emulation" not in entry, "moto plays it: no note"


def test_a_round_runs_it(added: dict[str, type[Check]], aws: Account) -> None:
    """moto's console output starts with ``Linux version``."""
    spec = CheckSpec("console-ready", {"marker": "Linux version"})
    (result,) = run_round([spec], catalogue.CATALOGUE, aws.action(), aws.client)
    assert result.status is Verdict.PASS, result.reason
    spec = CheckSpec("console-ready", {"marker": "app-up"})
    (result,) = run_round([spec], catalogue.CATALOGUE, aws.action(), aws.client)
    assert result.status is Verdict.WAIT, result.reason


def pasted(text: str, statements: str) -> str:
    """template.yaml's text with ``statements`` where the permissions test says to paste them:
    the first items of CheckFunction's ``Policies: - Statement:`` list."""
    anchor = "        - Statement:\n"
    at = text.index(anchor, text.index("\n  CheckFunction:\n")) + len(anchor)
    return text[:at] + statements + text[at:]


def test_the_permissions_test_prints_the_statement_the_template_lacks(
    added: dict[str, type[Check]],
) -> None:
    text = (ROOT / "template.yaml").read_text()
    template, errors = decode_str(text)
    assert not errors
    assert lacking_statements(template, added) == STATEMENT
    assert lacking_statements(template, PACKAGE) == "", "the package's checks are all granted"

    fixed, errors = decode_str(pasted(text, STATEMENT))
    assert not errors, errors
    assert lacking_statements(fixed, added) == ""
    assert misplaced_grants(fixed, added["console-ready"]) == []
    assert granted_on_anything(fixed, "CheckFunction") <= unscopable("CheckFunction", added)


def test_a_name_already_taken_is_refused_when_the_catalogue_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery cannot pick one of two checks silently: two modules naming one check is an
    error at import, naming both modules."""
    taken = SAMPLE.replace('"console-ready"', '"instance-status"')
    (tmp_path / "console_ready.py").write_text(taken)
    monkeypatch.setattr(checks, "__path__", [*checks.__path__, str(tmp_path)])
    importlib.invalidate_caches()
    try:
        with pytest.raises(TypeError, match=r"instance_status and asg_lifecycle\.checks\.console"):
            catalogue.discover()
    finally:
        sys.modules.pop(MODULE, None)
