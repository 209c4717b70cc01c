"""The checks reference in docs/CONFIGURATION.md is the catalogue's, so the docs cannot drift."""

from __future__ import annotations

from asg_lifecycle import reference
from asg_lifecycle.checks import CATALOGUE
from tests.conftest import ROOT


def test_configuration_reference_is_generated_from_the_catalogue() -> None:
    document = (ROOT / "docs" / "CONFIGURATION.md").read_text()
    assert reference.replaced(document) == document, (
        "docs/CONFIGURATION.md is stale: run python -m docs_gen --write"
    )


def test_reference_documents_every_check_and_parameter() -> None:
    text = reference.render()
    for name, check in CATALOGUE.items():
        assert f"#### `{name}`" in text
        assert all(f"| `{p.name}` |" in text for p in check.params)
        assert all(f"`{action}`" in text for action in check.permissions)
