"""Lint every resolved IAM policy document with parliament; fail on any finding not excused.

Runs in its own virtual environment (.venv-parliament, from requirements-parliament.txt), on what
``tools/resolve_template.py`` wrote:

    python tools/lint_policies.py .aws-sam/resolved

Every finding of parliament and its community auditors (privilege escalation, permissions
management, credentials exposure, ...) at severity LOW or above fails the run, unless
``tools/lint_exceptions.yaml`` excuses it, with its reason. An exception that excuses
nothing fails the run too: it is stale, remove it.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXCEPTIONS = Path(__file__).resolve().parent / "lint_exceptions.yaml"
SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


@dataclass(frozen=True)
class Excuse:
    issue: str
    policy: str  # glob on "<resource>.<policy name>"
    detail: str  # a substring of the finding's detail or location ("" for any)
    reason: str


@dataclass(frozen=True)
class Found:
    mode: str
    policy: str
    issue: str
    severity: str
    text: str  # detail and location, as JSON

    def __str__(self) -> str:
        return f"{self.severity} {self.issue} [{self.mode}] {self.policy}: {self.text}"


def load_excuses(path: Path = EXCEPTIONS) -> list[Excuse]:
    entries = (yaml.safe_load(path.read_text()) or {}).get("parliament") or []
    excuses = []
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path}: an exception without its reason: {entry}")
        excuses.append(
            Excuse(entry["issue"], entry["policy"], entry.get("detail", ""), entry["reason"])
        )
    return excuses


def _plain(value: Any) -> Any:
    """A value parliament reports, as JSON can hold it (it keeps jsoncfg nodes in some: calling
    one gives its value)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if callable(value):
        try:
            return _plain(value())
        except TypeError:
            return str(value)
    return value


def _text(value: Any) -> str:
    return json.dumps(_plain(value), default=str, sort_keys=True)


def findings(root: Path) -> list[Found]:
    from parliament import (  # noqa: PLC0415 - in .venv-parliament only
        analyze_policy_string,
        config,
        enhance_finding,
        override_config,
    )

    override_config(
        Path(sys.modules["parliament"].__file__ or "").parent
        / "community_auditors"
        / "config_override.yaml"
    )
    found: list[Found] = []
    for path in sorted(root.glob("*/policies/*.json")):
        mode, policy = path.parent.parent.name, path.stem
        analysed = analyze_policy_string(
            path.read_text(), str(path), include_community_auditors=True, config=config
        )
        for raw in analysed.findings:
            finding = enhance_finding(raw)
            if SEVERITIES.index(finding.severity) < SEVERITIES.index("LOW"):
                continue
            location = finding.location
            if isinstance(location, dict):
                location = {k: v for k, v in location.items() if k != "filepath"}
            text = f"{_text(finding.detail)} at {_text(location)}"
            found.append(Found(mode, policy, finding.issue, finding.severity, text))
    return found


def excused(found: Found, excuse: Excuse) -> bool:
    return (
        found.issue == excuse.issue
        and fnmatch.fnmatchcase(found.policy, excuse.policy)
        and excuse.detail in found.text
    )


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(".aws-sam/resolved")
    policies = sorted(root.glob("*/policies/*.json"))
    if not policies:
        print(f"no policy documents under {root}: run tools/resolve_template.py first")
        return 2
    excuses = load_excuses()
    found = findings(root)
    failing = [f for f in found if not any(excused(f, e) for e in excuses)]
    stale = [e for e in excuses if not any(excused(f, e) for f in found)]
    for f in failing:
        print(f"parliament: {f}")
    for e in stale:
        print(f"parliament: stale exception (excuses nothing): {e.issue} {e.policy} {e.detail!r}")
    print(
        f"parliament: {len(policies)} policy documents, {len(found)} findings, "
        f"{len(found) - len(failing)} excused ({EXCEPTIONS.name}), {len(failing)} failing"
    )
    return 1 if failing or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
