"""Which stack an operator means, and what it is made of (its CloudFormation outputs).

The name comes from ``--stack``, else ``ASG_LIFECYCLE_STACK``, else the ``stack_name`` of the
``samconfig.toml`` the stack was deployed with (so that, in the project's directory, the commands
need no flag at all).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from asg_lifecycle.served import SERVING_TAG, ServedGroups
from asg_lifecycle_cli.errors import OperatorError, StackNotFound


@dataclass(frozen=True, slots=True)
class Stack:
    name: str
    state_machine_arn: str
    start_function: str
    dead_letter_queue_url: str | None
    # The ServedGroups output (:func:`served_groups` reads it, only for the commands that need it);
    # None: a stack deployed before that output.
    served_groups_output: str | None = None


def name_from_samconfig(path: Path) -> str | None:
    """``stack_name`` of the default environment (``global`` or ``deploy`` parameters)."""
    return _default_parameter(path, "stack_name")


def _default_parameter(path: Path, key: str) -> str | None:
    if not path.is_file():
        return None
    try:
        config = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise OperatorError(f"{path} is not valid TOML: {exc}") from exc
    default = config.get("default", {})
    for command in ("deploy", "global"):
        value = default.get(command, {}).get("parameters", {}).get(key)
        if isinstance(value, str) and value:
            return value
    return None


def region_from_samconfig(path: Path) -> str | None:
    """``region`` of the default environment's ``deploy`` or ``global`` parameters, if set."""
    return _default_parameter(path, "region")


def from_outputs(name: str, outputs: Mapping[str, str]) -> Stack:
    """The resources the commands need, from the stack's outputs (template.yaml ``Outputs``)."""
    missing = [k for k in ("StateMachineArn", "StartFunctionName") if k not in outputs]
    if missing:
        raise OperatorError(
            f"stack {name!r} has no output {', '.join(missing)}: is it this project's stack?"
        )
    return Stack(
        name=name,
        state_machine_arn=outputs["StateMachineArn"],
        start_function=outputs["StartFunctionName"],
        dead_letter_queue_url=outputs.get("DeadLetterQueueUrl"),
        served_groups_output=outputs.get("ServedGroups"),
    )


def served_groups(output: str) -> ServedGroups:
    """The ``ServedGroups`` output: group names, comma-separated, or ``tag:<key>=<value>``."""
    tagged = f"tag:{SERVING_TAG}="
    if output.startswith(tagged):
        return ServedGroups(names=frozenset(), tag_value=output.removeprefix(tagged))
    names = frozenset(name.strip() for name in output.split(",") if name.strip())
    if not names:
        raise OperatorError(f"the stack's ServedGroups output {output!r} names no group")
    return ServedGroups(names=names, tag_value="")


def describe(cloudformation: Any, name: str) -> Stack:
    """DescribeStacks: the stack's outputs (one call)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc.response.get("Error", {}).get("Message", "")):
            raise StackNotFound(name, cloudformation.meta.region_name) from exc
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return from_outputs(name, outputs)
