"""The workflow definition as the benchmarks see it (standard library only: the report, the
layouts model and the definition tests import it without the emulator)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

DEFINITION = Path(__file__).resolve().parent.parent / "src" / "orchestrator" / "lifecycle.asl.json"


def digest() -> str:
    """Identifies the definition a result was measured with: the report refuses to mix runs of
    different definitions. It hashes what the definition does, not how it is written: its states
    and their fields, without ``Comment`` fields, key order or formatting, so that a reworded
    comment does not make every result stale."""
    behaviour = json.dumps(_without_comments(json.loads(DEFINITION.read_text())), sort_keys=True)
    return hashlib.sha256(behaviour.encode()).hexdigest()[:16]


def _without_comments(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_comments(v) for k, v in node.items() if k != "Comment"}
    if isinstance(node, list):
        return [_without_comments(v) for v in node]
    return node


def rounds_per_choice() -> tuple[int, int]:
    """Tasks (rounds) from the start to the first Choice, and from that Choice's ``wait`` back
    to it: read from the definition, not typed here."""
    states = json.loads(DEFINITION.read_text())

    def tasks_until_choice(name: str) -> tuple[int, str]:
        count = 0
        while states["States"][name]["Type"] != "Choice":
            count += states["States"][name]["Type"] == "Task"
            name = states["States"][name]["Next"]
        return count, name

    first, choice = tasks_until_choice(states["StartAt"])
    wait = next(
        c["Next"] for c in states["States"][choice]["Choices"] if c.get("StringEquals") == "wait"
    )
    loop, _ = tasks_until_choice(wait)
    return first, loop
