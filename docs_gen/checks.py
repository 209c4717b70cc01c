"""The checks reference, rendered from the check catalogue (``docs/CONFIGURATION.md``'s
``checks-reference`` section): each check's transitions, summary, parameters, an example, the IAM
actions it needs and, when the local emulation does not play it through whole flows, how it does
(:attr:`~asg_lifecycle.checks.base.Check.emulation`)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from asg_lifecycle.checks import catalogue as checks_catalogue
from asg_lifecycle.checks.base import Check
from asg_lifecycle.model import Transition
from asg_lifecycle.params import Param


def _default(param: Param) -> str:
    if param.required:
        return "required"
    if param.default is None:
        return "-"
    return f"`{json.dumps(param.default)}`"


def _bounds(param: Param) -> str:
    if param.bounds is not None:
        return f" ({param.bounds[0]}-{param.bounds[1]})"
    if param.choices:
        return " (" + ", ".join(f"`{c}`" for c in param.choices) + ")"
    return ""


def render(catalogue: Mapping[str, type[Check]] | None = None) -> str:
    """The reference of ``catalogue``; None: the package's (``catalogue.CATALOGUE``)."""
    checks = checks_catalogue.CATALOGUE if catalogue is None else catalogue
    lines: list[str] = []
    for name in sorted(checks):
        check = checks[name]
        transitions = " and ".join(
            t.short
            for t in (Transition.LAUNCHING, Transition.TERMINATING)
            if t in check.transitions
        )
        if not check.for_warm_pool:
            transitions += "; not run for the warm pool"
        lines += [f"#### `{name}` ({transitions})", "", check.summary, ""]
        if check.params:
            lines += ["| parameter | type | default | meaning |", "|---|---|---|---|"]
            lines += [
                f"| `{p.name}` | {p.kind.value}{_bounds(p)} | {_default(p)} | {p.doc} |"
                for p in check.params
            ]
            lines.append("")
        lines += [
            "Example: `" + json.dumps(check.example, separators=(",", ":")) + "`",
            "",
            "IAM: " + ", ".join(f"`{a}`" for a in check.permissions),
            "",
        ]
        if check.emulation:
            lines += [f"Local emulation: {check.emulation}", ""]
    return "\n".join(lines).rstrip() + "\n"
