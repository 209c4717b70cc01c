"""Every command in a ``sh`` block of README.md and docs/*.md is accounted for: docs cannot rot.

Commands that can run here run: the emulator's ``list`` and a short scenario, the docs generator
(in check mode), ``asg-lifecycle --local`` lines through the operator CLI. Those that need AWS,
Docker or the whole build are checked offline against what they name: ``aws`` operations and flags
against botocore's service models (and a hook's metadata against the configuration parser), ``sam``
subcommands and flags (and, with ``.venv-sam``, against the SAM CLI's own help), ``make`` targets,
files and template resources, ``asg-lifecycle`` commands against the CLI's interface. A program
this file does not know fails the test: a doc that needs a new kind of command teaches it here.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import click
import pytest
from botocore import xform_name
from click.testing import CliRunner

from asg_lifecycle.checks.catalogue import CATALOGUE, allowed_for
from asg_lifecycle.config import Defaults, InvalidConfig, StackLimits, read_config
from asg_lifecycle.model import LifecycleResult, Transition
from asg_lifecycle.policy import HEARTBEAT_TIMEOUT_MAX, HEARTBEAT_TIMEOUT_MIN
from asg_lifecycle.reconcile import SETTLE_SECONDS
from asg_lifecycle_cli.main import cli
from docs_gen.configuration import load_template
from lifecycle_emulator import scenarios
from tests.conftest import ROOT
from tests.docs.commands import DocCommand, all_commands, options, positionals

COMMANDS = all_commands()
TEMPLATE = load_template()
# What the docs' examples assume the stack's parameters allow (a reader deploys with these):
# the shell documents, the example function and cluster, the template's default parameter path.
DOC_LIMITS = StackLimits(
    region="us-east-1",
    account="123456789012",
    ssm_documents=frozenset({"AWS-RunShellScript", "AWS-RunPowerShellScript"}),
    check_functions=("arn:aws:lambda:us-east-1:123456789012:function:warm-cache-ready",),
    ecs_clusters=frozenset({"web"}),
    parameter_path=TEMPLATE["Parameters"]["ReadinessParameterPath"]["Default"],
)

# --- asg-lifecycle: the operator CLI's interface, as the docs state it ------------------------
CLI_GROUP_OPTIONS = frozenset({"--stack", "--region", "--profile", "--local", "--at"})
CLI_COMMANDS: dict[str, frozenset[str]] = {
    "list": frozenset({"--group", "--json"}),
    "show": frozenset({"--hook", "--json"}),
    "extend": frozenset({"--hook"}),
    "complete": frozenset({"--result", "--hook", "--reason", "--yes"}),
    "signal": frozenset(),
    "resend": frozenset({"--from-dlq", "--max", "--dry-run"}),
}
CLI_VALUE_OPTIONS = frozenset({"--group", "--hook", "--result", "--reason", "--max"})

# --- sam: the subcommands and flags the docs use (checked against the SAM CLI's help below) ------
SAM_COMMANDS: dict[tuple[str, ...], frozenset[str]] = {
    ("build",): frozenset({"--use-container", "--cached", "--parallel", "--build-dir"}),
    ("deploy",): frozenset(
        {
            "--guided",
            "--parameter-overrides",
            "--config-env",
            "--stack-name",
            "--region",
            "--template-file",
            "--capabilities",
        }
    ),
    ("delete",): frozenset({"--stack-name", "--region", "--config-env", "--no-prompts"}),
    ("local", "invoke"): frozenset({"-e", "--event", "--env-vars"}),
    ("validate",): frozenset({"--lint"}),
    ("package",): frozenset({"--s3-bucket", "--region", "--output-template-file"}),
    ("publish",): frozenset({"--template", "--region"}),
}
SAM_VERSION = ("--version",)

# --- aws: options of the AWS CLI itself, valid with every operation ----------------------------
AWS_GLOBAL_OPTIONS = frozenset(
    {
        "--region",
        "--profile",
        "--output",
        "--query",
        "--no-cli-pager",
        "--cli-binary-format",
        "--endpoint-url",
        "--debug",
    }
)
AWS_PAGINATION_OPTIONS = frozenset({"--max-items", "--starting-token", "--page-size"})
# AWS CLI names that differ from botocore's service names.
AWS_SERVICE_NAMES = {"s3api": "s3", "configservice": "config"}

# Emulator scenarios short enough to play in a doc test (each costs seconds).
PLAYED_SCENARIOS = frozenset({"warm-pool"})
# Modules whose ``--write`` rewrites generated docs: run in check mode instead.
GENERATORS = frozenset({"docs_gen"})
PYTHONS = frozenset({"python", "python3", ".venv/bin/python"})


def command_id(command: DocCommand) -> str:
    return str(command)


# --- running -----------------------------------------------------------------------------------
@functools.cache
def run_emulator(args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """``asg-lifecycle-local`` in a fresh interpreter (moto's state stays out of this process);
    once per distinct command, however many docs show it."""
    return subprocess.run(
        [sys.executable, "-m", "lifecycle_emulator.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
    )


def run_operator_cli(args: tuple[str, ...]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return int(result.exit_code), str(result.output)


# --- validators --------------------------------------------------------------------------------
def check_make(command: DocCommand) -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+):(?!=)", makefile, re.MULTILINE))
    variables = set(re.findall(r"^([A-Z_][A-Z0-9_]*)\s*[?:]?=", makefile, re.MULTILINE))
    for arg in command.argv[1:]:
        if "=" in arg:
            assert arg.partition("=")[0] in variables, f"the Makefile has no variable in {arg}"
        else:
            assert arg in targets, f"the Makefile has no target {arg!r}"


def check_emulator(command: DocCommand) -> None:
    args = command.argv[1:]
    source = (ROOT / "lifecycle_emulator" / "cli.py").read_text()
    for flag in options(args):
        assert f'"{flag}"' in source, f"asg-lifecycle-local has no option {flag}"
    assert args, "asg-lifecycle-local needs a command"
    if args[0] == "list":
        result = run_emulator(args)
        assert result.returncode == 0, result.stderr
        assert all(name in result.stdout for name in scenarios.available())
        return
    assert args[0] == "run", f"asg-lifecycle-local has no command {args[0]!r}"
    (scenario,) = positionals(args[1:], frozenset({"--limit"}))
    path = ROOT / scenario
    if scenario.endswith(".json"):
        assert path.is_file(), f"no scenario file {scenario}"
        name = path.stem
    else:
        assert scenario in scenarios.available(), f"no built-in scenario {scenario!r}"
        name = scenario
    if name in PLAYED_SCENARIOS:
        result = run_emulator(args)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def check_operator_cli(command: DocCommand) -> None:
    args = command.argv[1:]
    group = options(args[: _first_positional(args)])
    assert set(group) <= CLI_GROUP_OPTIONS, f"unknown asg-lifecycle options {set(group)}"
    rest = args[_first_positional(args) :]
    assert rest, "asg-lifecycle needs a command"
    name, sub_args = rest[0], rest[1:]
    assert name in CLI_COMMANDS, f"asg-lifecycle has no command {name!r}"
    flags = set(options(sub_args))
    assert flags <= CLI_COMMANDS[name], (
        f"asg-lifecycle {name}: unknown {flags - CLI_COMMANDS[name]}"
    )
    if name == "complete":
        assert options(sub_args).get("--result", [""])[0] in {r.value for r in LifecycleResult}
    if name in ("show", "extend", "complete", "signal"):
        assert positionals(sub_args, CLI_VALUE_OPTIONS), f"asg-lifecycle {name} needs an instance"
    # the interface above is the CLI's
    assert isinstance(cli, click.Group)
    assert name in cli.commands, f"the CLI has no command {name!r}"
    known = {opt for p in cli.commands[name].params for opt in (*p.opts, *p.secondary_opts)}
    assert flags <= known, f"the CLI's {name} lacks {flags - known}"
    top = {opt for p in cli.params for opt in (*p.opts, *p.secondary_opts)}
    assert set(group) <= top, f"the CLI lacks {set(group) - top}"
    if "--local" in group:
        (scenario,) = group["--local"]
        assert scenario in scenarios.available(), f"no built-in scenario {scenario!r}"
        assert "--at" in group, "--local needs --at"
        code, output = run_operator_cli(args)
        assert code == 0, output


def _first_positional(args: tuple[str, ...]) -> int:
    """Where the group's options end: options of the group all take a value."""
    index = 0
    while index < len(args) and args[index].startswith("--"):
        index += 1 if "=" in args[index] else 2
    return index


@functools.cache
def _botocore() -> Any:
    return botocore.session.get_session()


def check_aws(command: DocCommand) -> None:
    args = command.argv[1:]
    start = _first_positional(args)
    assert set(options(args[:start])) <= AWS_GLOBAL_OPTIONS
    service, operation, *rest = args[start:]
    session = _botocore()
    service_name = AWS_SERVICE_NAMES.get(service, service)
    assert service_name in session.get_available_services(), f"aws has no service {service!r}"
    model = session.get_service_model(service_name)
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    assert operation in operations, f"aws {service} has no operation {operation!r}"
    shape = model.operation_model(operations[operation]).input_shape
    members = dict(shape.members) if shape is not None else {}
    kebab = {xform_name(name, "-"): name for name in members}
    given = options(tuple(rest))
    for flag in given:
        name = flag[2:]
        boolean_off = name.startswith("no-") and name[3:] in kebab
        assert (
            flag in AWS_GLOBAL_OPTIONS
            or flag in AWS_PAGINATION_OPTIONS
            or name in kebab
            or (boolean_off and members[kebab[name[3:]]].type_name == "boolean")
        ), f"aws {service} {operation} has no option {flag}"
    required = {xform_name(m, "-") for m in (shape.required_members if shape else [])}
    # a required boolean is given by its --no- form too (aws: --x | --no-x)
    stated = set(given) | {"--" + f[5:] for f in given if f.startswith("--no-")}
    missing = {f"--{r}" for r in required} - stated
    assert not missing, f"aws {service} {operation} needs {sorted(missing)}"
    if (service, operation) == ("autoscaling", "put-lifecycle-hook"):
        check_hook(given)


def check_hook(given: dict[str, list[str]]) -> None:
    """A hook the docs tell people to put: a valid transition, result, timeout and metadata, and a
    HeartbeatTimeout that lets the reconciler rescue a lost event (the docs' own advice)."""
    transition = Transition(given["--lifecycle-transition"][0])
    if "--default-result" in given:
        LifecycleResult(given["--default-result"][0])
    if "--heartbeat-timeout" in given:
        timeout = int(given["--heartbeat-timeout"][0])
        assert HEARTBEAT_TIMEOUT_MIN <= timeout <= HEARTBEAT_TIMEOUT_MAX
        reconcile = int(TEMPLATE["Parameters"]["ReconcileMinutes"]["Default"]) * 60
        assert timeout > reconcile + SETTLE_SECONDS * 3 // 2, (
            "HeartbeatTimeout shorter than ReconcileMinutes + 90 s: a lost event's hook expires"
            " before the reconciler acts"
        )
    if "--notification-metadata" in given:
        (metadata,) = given["--notification-metadata"]
        try:
            read_config(metadata, transition, Defaults(), allowed_for(transition, DOC_LIMITS))
        except InvalidConfig as exc:
            pytest.fail(f"--notification-metadata {metadata}: {exc}")


def check_sam(command: DocCommand) -> None:
    args = command.argv[1:]
    if args == SAM_VERSION:
        return
    for words in sorted(SAM_COMMANDS, key=len, reverse=True):
        if args[: len(words)] == words:
            break
    else:
        pytest.fail(f"sam {' '.join(args[:2])}: teach SAM_COMMANDS first")
    rest = args[len(words) :]
    flags = set(options(rest))
    assert flags <= SAM_COMMANDS[words], f"sam {' '.join(words)}: unknown {flags}"
    if words == ("local", "invoke"):
        (function,) = positionals(rest, frozenset({"-e", "--event", "--env-vars"}))
        resource = TEMPLATE["Resources"].get(function, {})
        assert resource.get("Type") == "AWS::Serverless::Function", f"no function {function}"
        for flag in ("-e", "--event", "--env-vars"):
            for value in options(rest).get(flag, []):
                assert (ROOT / value).is_file(), f"{flag} {value}: no such file"
    if words == ("package",):
        # the packaged template is what SAR and StackSets take: written to a file, with the
        # artifacts in a bucket of one's own (the SAM-managed bucket's policy is not the user's)
        assert {"--output-template-file", "--s3-bucket"} <= flags, (
            "sam package needs --output-template-file and --s3-bucket"
        )
    if words == ("publish",):
        assert "--template" in flags, "sam publish needs the packaged template (--template)"


def check_python(command: DocCommand) -> None:
    args = command.argv[1:]
    if args == ("--version",):
        return
    assert args[:1] == ("-m",), "only python -m MODULE is known"
    module, rest = args[1], args[2:]
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"no module {module}"
    assert spec.origin is not None, f"{module} is not a file"
    if module in GENERATORS and "--write" in rest:
        main: Callable[[list[str]], int] = importlib.import_module(f"{module}.__main__").main
        assert main([]) == 0, f"{module}: the docs are stale (python -m {module} --write)"
        return
    origin = Path(spec.origin)
    if origin.name == "__init__.py":
        origin = origin.with_name("__main__.py")
    source = origin.read_text()
    for flag in options(rest):
        assert f'"{flag}"' in source, f"{module} has no option {flag}"


def check_python313(command: DocCommand) -> None:
    assert command.argv[1:] == ("--version",), "only python3.13 --version is known"


def check_pytest(command: DocCommand) -> None:
    for arg in command.argv[1:]:
        if not arg.startswith("-"):
            assert (ROOT / arg.partition("::")[0]).exists(), f"no test path {arg}"


def check_export(command: DocCommand) -> None:
    for arg in command.argv[1:]:
        assert re.match(r"^[A-Z_][A-Z0-9_]*=", arg), f"export {arg}: not NAME=value"


VALIDATORS: dict[str, Callable[[DocCommand], None]] = {
    "make": check_make,
    "asg-lifecycle-local": check_emulator,
    "asg-lifecycle": check_operator_cli,
    "aws": check_aws,
    "sam": check_sam,
    **dict.fromkeys(PYTHONS, check_python),
    "python3.13": check_python313,
    ".venv/bin/pytest": check_pytest,
    "export": check_export,
}


def check(command: DocCommand) -> None:
    """Run or check one doc command; fails the test with what is wrong."""
    if command.error:
        pytest.fail(f"{command.document}:{command.line}: {command.error}")
    validator = VALIDATORS.get(command.program)
    if validator is None:
        pytest.fail(f"{command}: unknown program: teach tests/docs/test_commands.py")
    validator(command)


@pytest.mark.parametrize("command", COMMANDS, ids=command_id)
def test_doc_command(command: DocCommand) -> None:
    check(command)


def test_the_docs_show_commands_of_every_kind() -> None:
    """The parser finds the docs' commands (an empty list would pass every test above)."""
    programs = {c.program for c in COMMANDS}
    assert {"make", "aws", "sam", "asg-lifecycle", "asg-lifecycle-local"} <= programs
    assert any(c.argv[:2] == ("asg-lifecycle", "--local") for c in COMMANDS)


@pytest.mark.tooling
def test_sam_flags_exist_in_the_sam_cli() -> None:
    """SAM_COMMANDS against the real SAM CLI (``.venv-sam``, which ``make test`` creates first)."""
    sam = ROOT / ".venv-sam" / "bin" / "sam"
    if not sam.exists():
        pytest.skip("no .venv-sam (make template creates it)")
    for words, flags in SAM_COMMANDS.items():
        result = subprocess.run(
            [str(sam), *words, "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        )
        assert result.returncode == 0, result.stderr
        known = set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", result.stdout))
        assert flags <= known, f"sam {' '.join(words)} lacks {flags - known}"


def test_the_checks_reference_examples_are_within_the_documented_limits() -> None:
    """The reference's example of each check (generated from the catalogue) is valid for a stack
    whose parameters allow what the docs name."""
    for check in CATALOGUE.values():
        check.validate_params(check.example.get("params", {}), limits=DOC_LIMITS)


def test_documented_metadata_examples_are_valid() -> None:
    """Every ``json`` block that is a hook's metadata (only metadata keys) reads as a valid
    configuration for a transition its checks allow."""
    from asg_lifecycle.config import METADATA_KEYS  # noqa: PLC0415
    from tests.docs.commands import documents, fenced_blocks  # noqa: PLC0415

    keys = {k.name for k in METADATA_KEYS}
    checked = 0
    for path in documents():
        for start, lines in fenced_blocks(path.read_text(), frozenset({"json"})):
            doc = json.loads("\n".join(lines))
            if not isinstance(doc, dict) or not set(doc) <= keys:
                continue
            errors = []
            for transition in Transition:
                try:
                    read_config(
                        json.dumps(doc), transition, Defaults(), allowed_for(transition, DOC_LIMITS)
                    )
                    break
                except InvalidConfig as exc:
                    errors.append(str(exc))
            else:
                pytest.fail(f"{path.name}:{start}: {errors}")
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    "line",
    [
        "make tests",
        "make run SCENARIOS=x",
        "aws autoscaling put-lifecycle-hooks --auto-scaling-group-name web",
        "aws autoscaling put-lifecycle-hook --auto-scaling-group-name web --lifecycle-hook-name h"
        " --lifecycle-transition autoscaling:EC2_INSTANCE_LAUNCHING --heartbeat 600",
        "aws autoscaling put-lifecycle-hook --lifecycle-hook-name h"
        " --lifecycle-transition autoscaling:EC2_INSTANCE_LAUNCHING",
        "aws autoscaling put-lifecycle-hook --auto-scaling-group-name web --lifecycle-hook-name h"
        " --lifecycle-transition autoscaling:EC2_INSTANCE_LAUNCHING"
        """ --notification-metadata '{"pollSecs": 10}'""",
        "aws autoscaling put-lifecycle-hook --auto-scaling-group-name web --lifecycle-hook-name h"
        " --lifecycle-transition autoscaling:EC2_INSTANCE_LAUNCHING --heartbeat-timeout 300",
        "aws autoscaling put-lifecycle-hook --auto-scaling-group-name web --lifecycle-hook-name h"
        """ --lifecycle-transition autoscaling:EC2_INSTANCE_LAUNCHING"""
        """ --notification-metadata '{"onTimeout": "CONTINUE"}'""",
        "aws autoscale describe-auto-scaling-groups",
        "sam deploy --guidde",
        "sam package",
        "sam package --s3-bucket my-bucket",
        "sam publish --region us-east-1",
        "sam local invoke NoSuchFunction -e events/launch.json",
        "sam local invoke StartFunction -e events/no-such-event.json",
        "asg-lifecycle stop i-0123456789abcdef0",
        "asg-lifecycle show",
        "asg-lifecycle complete i-0123456789abcdef0 --result RETRY",
        "asg-lifecycle list --instance i-0123456789abcdef0",
        "asg-lifecycle signal",
        "asg-lifecycle signal i-0123456789abcdef0 --yes",
        "asg-lifecycle --local no-such-scenario --at 60 list",
        "asg-lifecycle-local run no-such-scenario",
        "asg-lifecycle-local run mixed-fleet --quiet",
        "python -m no_such_module",
        ".venv/bin/python -m bench.scale --instance 100",
        ".venv/bin/pytest tests/no_such_dir",
        "terraform apply",
    ],
)
def test_a_wrong_command_fails_its_check(line: str) -> None:
    """The validators can fail: each of these wrong commands is caught, offline."""
    from tests.docs.commands import split_commands  # noqa: PLC0415

    (words,) = split_commands(line)
    command = DocCommand("test", 1, tuple(words))
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        check(command)
