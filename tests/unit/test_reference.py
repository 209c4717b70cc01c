"""The checks reference (docs/CONFIGURATION.md, kept current by tests/docs) covers every check."""

from __future__ import annotations

from asg_lifecycle.checks.catalogue import CATALOGUE
from docs_gen.checks import render


def test_reference_documents_every_check_and_parameter() -> None:
    text = render()
    for name, check in CATALOGUE.items():
        assert f"#### `{name}`" in text
        assert all(f"| `{p.name}` |" in text for p in check.params)
        assert all(f"`{action}`" in text for action in check.permissions)
