"""The workflow definition as the benchmarks see it (standard library only: the report imports it
without the emulator)."""

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
