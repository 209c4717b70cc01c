"""Which benchmark results the report accepts: those measured with a definition that behaves
as the current one (bench/definition.py's digest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import definition


def _digest_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asl: dict[str, object]) -> str:
    path = tmp_path / "lifecycle.asl.json"
    path.write_text(json.dumps(asl, indent=1))
    monkeypatch.setattr(definition, "DEFINITION", path)
    return definition.digest()


def test_a_reworded_comment_keeps_the_results_but_a_changed_state_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asl = json.loads(definition.DEFINITION.read_text())
    current = definition.digest()
    assert _digest_of(tmp_path, monkeypatch, asl) == current, "formatting is not behaviour"

    wait = next(name for name, state in asl["States"].items() if state["Type"] == "Wait")
    reworded = json.loads(json.dumps(asl))
    reworded["States"][wait]["Comment"] = "said otherwise"
    reworded["Comment"] = "so is this"
    assert _digest_of(tmp_path, monkeypatch, reworded) == current

    changed = json.loads(json.dumps(asl))
    changed["States"][wait]["Next"] = "Done"
    assert changed["States"][wait]["Next"] != asl["States"][wait]["Next"]
    assert _digest_of(tmp_path, monkeypatch, changed) != current
