"""``docs/CONFIGURATION.md``: stack parameters, hook metadata keys and checks, from their sources.

* the stack parameters from ``template.yaml`` (name, type, default, constraints, description);
* the NotificationMetadata keys from :data:`asg_lifecycle.config.METADATA_KEYS`, each default
  named by the stack parameter the template maps to the environment variable the reader uses;
* the checks reference from the catalogue (:func:`docs_gen.checks.render`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

from asg_lifecycle.config import (
    LEAF_KEYS,
    METADATA_KEYS,
    METADATA_MAX,
    KeyKind,
    MetadataKey,
    OnAbandon,
    allowed_results,
    safe_result,
)
from asg_lifecycle.model import Transition
from docs_gen import checks
from docs_gen.sections import ROOT, Section

DOCUMENT = "docs/CONFIGURATION.md"
TEMPLATE = ROOT / "template.yaml"
TRANSITIONS = (Transition.LAUNCHING, Transition.TERMINATING)
DASH = "\N{EN DASH}"  # ranges, as the prose writes them


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as data (``!Ref`` and friends decoded); a template cfn-lint cannot read is an
    error here rather than a half-empty table."""
    template, problems = decode_str(path.read_text())
    if problems or template is None:
        raise ValueError(f"{path} cannot be read: {problems}")
    return dict(template)


def cell(text: str) -> str:
    """One Markdown table cell: one line, pipes escaped (also inside code spans, as GFM wants)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(parameter: Mapping[str, Any]) -> str:
    if "Default" not in parameter:
        return "required"
    value = str(parameter["Default"])
    return f"`{value}`" if value else "empty"


def _allowed(parameter: Mapping[str, Any]) -> str:
    parts: list[str] = []
    if "AllowedValues" in parameter:
        parts.append(", ".join(f"`{v}`" for v in parameter["AllowedValues"]))
    parts += _range(parameter.get("MinValue"), parameter.get("MaxValue"), "")
    parts += _range(parameter.get("MinLength"), parameter.get("MaxLength"), " characters")
    if "AllowedPattern" in parameter:
        parts.append(f"pattern `{parameter['AllowedPattern']}`")
    return "; ".join(parts) or "-"


def _range(low: Any, high: Any, unit: str) -> list[str]:
    if low is not None and high is not None:
        return [f"{low}{DASH}{high}{unit}"]
    if low is not None:
        return [f"≥ {low}{unit}"]
    if high is not None:
        return [f"≤ {high}{unit}"]
    return []


def parameters_table(template: Mapping[str, Any]) -> str:
    """Every stack parameter, in the template's order."""
    lines = [
        "| Parameter | Type | Default | Allowed | Description |",
        "|---|---|---|---|---|",
    ]
    for name, parameter in template.get("Parameters", {}).items():
        lines.append(
            f"| `{name}` | {parameter.get('Type', '')} | {cell(_default(parameter))}"
            f" | {cell(_allowed(parameter))} | {cell(parameter.get('Description', '-'))} |"
        )
    return "\n".join(lines) + "\n"


def parameter_for_env(template: Mapping[str, Any], variable: str) -> str:
    """The stack parameter the template passes to the functions as ``variable``.

    A variable the reader uses but no function receives from a parameter is a template bug:
    the stack-wide default could not be changed, so this raises.
    """
    environments = [template.get("Globals", {}).get("Function", {}).get("Environment", {})]
    environments += [
        resource.get("Properties", {}).get("Environment", {})
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]
    for environment in environments:
        value = environment.get("Variables", {}).get(variable)
        if isinstance(value, Mapping) and isinstance(value.get("Ref"), str):
            return str(value["Ref"])
    raise ValueError(f"no function gets {variable} from a stack parameter in template.yaml")


def _key_type(key: MetadataKey) -> str:
    if key.kind is KeyKind.CHECKS:
        return 'list: check names, or `{"name": ..., "params": {...}}` (see [Checks](#checks))'
    if key.kind is KeyKind.SECONDS:
        if key.bounds is None:
            raise ValueError(f"{key.name} has no bounds")
        return f"whole seconds, {key.bounds[0]}{DASH}{key.bounds[1]}"
    if key.kind is KeyKind.BLOCK:
        names = ", ".join(f"`{k.name}`" for k in LEAF_KEYS)
        return f"object: any of {names} (no block inside a block)"
    return "; ".join(
        f"{t.short}: " + " or ".join(f"`{r.value}`" for r in allowed_results(t))
        for t in TRANSITIONS
    )


def _key_default(template: Mapping[str, Any], key: MetadataKey, transition: Transition) -> str:
    if key.kind is KeyKind.BLOCK:
        return "none: each key left out is the top level's (or its default)"
    if key.kind is KeyKind.RESULT:
        default = f"`{safe_result(transition).value}`"
        retained = safe_result(transition, OnAbandon.RETAIN)
        if retained is not safe_result(transition):
            default += (
                f"; `{retained.value}` when the group's instance lifecycle policy retains"
                " (`TerminateHookAbandon: retain`), except for a root-volume replacement"
            )
        return default
    name = parameter_for_env(template, key.default_env[transition])
    default = template["Parameters"][name].get("Default", "")
    return f"stack parameter `{name}` (`{default}`)"


def metadata_table(template: Mapping[str, Any]) -> str:
    """The NotificationMetadata keys: what each means, its bounds, its default per transition."""
    lines = [
        f"A JSON object of at most {METADATA_MAX} characters; every key is optional, and a key "
        "not listed here is an error.",
        "",
        "| Key | Type and bounds | Launch default | Terminate default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for key in METADATA_KEYS:
        defaults = [cell(_key_default(template, key, t)) for t in TRANSITIONS]
        lines.append(
            f"| `{key.name}` | {cell(_key_type(key))} | {defaults[0]} | {defaults[1]}"
            f" | {cell(key.meaning)} |"
        )
    return "\n".join(lines) + "\n"


def example_metadata() -> str:
    """A metadata document naming every key, valid for a terminate hook (only it may hold every
    block; the docs test reads it)."""
    doc = {
        "checks": ["target-group-drain"],
        "pollSeconds": 30,
        "maxPollSeconds": 120,
        "maxWaitSeconds": 900,
        "onFailure": "CONTINUE",
        "onTimeout": "CONTINUE",
        "warmPool": {"maxWaitSeconds": 600},
        "replaceRootVolume": {"pollSeconds": 15},
    }
    missing = {k.name for k in METADATA_KEYS} - set(doc)
    if missing:
        raise ValueError(f"the example lacks {sorted(missing)}")
    return "```json\n" + json.dumps(doc) + "\n```\n"


def sections(template_path: Path = TEMPLATE) -> list[Section]:
    def parameters() -> str:
        return parameters_table(load_template(template_path))

    def metadata() -> str:
        return metadata_table(load_template(template_path)) + "\n" + example_metadata()

    return [
        Section(DOCUMENT, "stack-parameters", parameters),
        Section(DOCUMENT, "hook-metadata", metadata),
        Section(DOCUMENT, "checks-reference", checks.render),
    ]
