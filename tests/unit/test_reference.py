"""The README's checks reference is the catalogue's, so the docs cannot drift from the code."""

from __future__ import annotations

from asg_lifecycle import reference
from asg_lifecycle.checks import CATALOGUE
from tests.conftest import ROOT


def test_readme_reference_is_generated_from_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text()
    assert reference.replaced(readme) == readme, (
        "README.md is stale: run python -m asg_lifecycle.reference --write"
    )


def test_reference_documents_every_check_and_parameter() -> None:
    text = reference.render()
    for name, check in CATALOGUE.items():
        assert f"#### `{name}`" in text
        assert all(f"| `{p.name}` |" in text for p in check.params)
        assert all(f"`{action}`" in text for action in check.permissions)
