"""The generated parts of the docs are the code's, and the hand-written parts point at real things.

* each generated section equals what ``python -m docs_gen`` writes (stack parameters, metadata keys,
  checks reference, the workflow's state diagram);
* the state diagram has exactly the definition's transitions and stays within Mermaid's grammar;
* every alarm of the template has its runbook entry, and every runbook alarm entry its alarm;
* every relative link between the docs leads to a file and a heading that exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from docs_gen import architecture, configuration
from docs_gen.__main__ import all_sections
from docs_gen.sections import Section, regenerated, replaced
from tests.conftest import ROOT
from tests.docs.commands import documents

DEFINITION: dict[str, Any] = json.loads(
    (ROOT / "src" / "orchestrator" / "lifecycle.asl.json").read_text()
)


@pytest.mark.parametrize("document", sorted({s.document for s in all_sections()}))
def test_generated_sections_are_current(document: str) -> None:
    current, new = regenerated([s for s in all_sections() if s.document == document])[
        ROOT / document
    ]
    assert current == new, f"{document} is stale: run python -m docs_gen --write"


def test_a_document_without_its_markers_is_an_error() -> None:
    section = Section("docs/X.md", "x", lambda: "body\n")
    with pytest.raises(ValueError, match="lacks the markers"):
        replaced("no markers here", section)
    start, end = section.markers
    assert replaced(f"a\n{start}\nold\n{end}\nb", section) == f"a\n{start}\nbody\n{end}\nb"


def _diagram_edges(diagram: str) -> set[tuple[str, str]]:
    """The diagram's transitions, by state name: an id drawn with ``state "name" as Id`` is read
    back as its name."""
    declared = re.findall(r'^    state "([^"]+)" as (\w+)$', diagram, re.MULTILINE)
    names = {ident: name for name, ident in declared}
    edges = set()
    for line in diagram.splitlines():
        match = re.match(r"^    (\S+) --> (\S+?)(?:: (.*))?$", line)
        if match:
            source, target = match.group(1), match.group(2)
            edges.add((names.get(source, source), names.get(target, target)))
    return edges


def _definition_edges(definition: dict[str, Any]) -> set[tuple[str, str]]:
    """The definition's transitions, read independently of the generator."""
    edges = {("[*]", definition["StartAt"])}
    for name, state in definition["States"].items():
        targets = [state.get("Next"), state.get("Default")]
        targets += [rule["Next"] for rule in state.get("Choices", [])]
        targets += [catcher["Next"] for catcher in state.get("Catch", [])]
        if state["Type"] in ("Succeed", "Fail") or state.get("End"):
            targets.append("[*]")
        edges |= {(name, target) for target in targets if target}
    return edges


def test_state_diagram_has_exactly_the_definitions_transitions() -> None:
    diagram = architecture.state_diagram(DEFINITION)
    assert _diagram_edges(diagram) == _definition_edges(DEFINITION)
    assert all(name in diagram for name in DEFINITION["States"])


def test_every_state_is_drawn_with_its_own_id_and_its_name() -> None:
    """The definition's names have spaces, ``?`` and ``,``: each gets a word of its own as id
    (two states never share one) and is labelled with its name as the console shows it."""
    diagram = architecture.state_diagram(DEFINITION)
    declared = re.findall(r'^    state "([^"]+)" as (\w+)$', diagram, re.MULTILINE)
    ids = [ident for _, ident in declared]
    assert len(ids) == len(set(ids))
    words = {name for name in DEFINITION["States"] if re.fullmatch(r"\w+", name)}
    assert {name for name, _ in declared} == set(DEFINITION["States"]) - words


def test_state_diagram_stays_within_mermaids_grammar() -> None:
    """Mermaid's stateDiagram lexer: an id is a word; a label ends at ``:`` or ``;``; a line
    containing ``direction`` is read as a direction statement."""
    lines = architecture.state_diagram(DEFINITION).splitlines()
    assert lines[:2] == ["```mermaid", "stateDiagram-v2"]
    assert lines[-1] == "```"
    for line in lines[2:-1]:
        assert "direction" not in line
        assert re.match(
            r"^    ((\[\*\]|\w+) --> (\[\*\]|\w+)(: [^:;#\n]+)?"
            r"|classDef \w+ [^\n]+|class \w+(,\w+)* \w+|state \"[^\"]+\" as \w+)$",
            line,
        ), line


def test_state_ids_and_labels_are_made_safe() -> None:
    definition = {
        "StartAt": "Read the hook",
        "States": {
            "Read the hook": {"Type": "Task", "Next": "Is-it-done"},
            "Is-it-done": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.t", "StringEquals": "a:b;c", "Next": "Done"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    diagram = architecture.state_diagram(definition)
    assert 'state "Read the hook" as ReadTheHook' in diagram
    assert 'state "Is-it-done" as IsItDone' in diagram
    assert "ReadTheHook --> IsItDone" in diagram
    assert "IsItDone --> Done: t = b c or otherwise" in diagram
    assert 'state "Done"' not in diagram, "a name that is a word is its own id"


def test_names_that_would_share_an_id_are_refused() -> None:
    """``Run checks`` and ``Run, checks?`` run to the same word: drawing both as one state would
    hide a state and merge its transitions, so the generator refuses."""
    definition = {
        "StartAt": "Run checks",
        "States": {
            "Run checks": {"Type": "Pass", "Next": "Run, checks?"},
            "Run, checks?": {"Type": "Succeed"},
        },
    }
    with pytest.raises(ValueError, match="both be drawn as RunChecks"):
        architecture.state_diagram(definition)
    with pytest.raises(ValueError, match="no letter or digit"):
        architecture.state_id("?")


def test_parameters_table_lists_every_template_parameter() -> None:
    template = configuration.load_template()
    table = configuration.parameters_table(template)
    rows = re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)
    assert rows == list(template["Parameters"])


def test_every_alarm_has_a_runbook_entry() -> None:
    template = configuration.load_template()
    alarms = {
        name
        for name, resource in template["Resources"].items()
        if resource.get("Type") in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
    }
    runbook = (ROOT / "docs" / "RUNBOOK.md").read_text()
    entries = set(re.findall(r"^### (\w+Alarm)$", runbook, re.MULTILINE))
    assert alarms, "the template has no alarm?"
    assert entries == alarms, (
        f"runbook entries missing: {sorted(alarms - entries)}; "
        f"entries without an alarm: {sorted(entries - alarms)}"
    )


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    in_code = False
    for line in path.read_text().splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        match = re.match(r"^#{1,6} (.+)$", line)
        if match and not in_code:
            anchor = github_anchor(match.group(1))
            suffix, candidate = 0, anchor
            while candidate in found:
                suffix += 1
                candidate = f"{anchor}-{suffix}"
            found.add(candidate)
    return found


def test_github_anchor() -> None:
    assert github_anchor("Hook configuration: NotificationMetadata") == (
        "hook-configuration-notificationmetadata"
    )
    assert github_anchor("The first deploy: `sam deploy --guided`") == (
        "the-first-deploy-sam-deploy---guided"
    )


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_relative_links_resolve(path: Path) -> None:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.exists(), f"{path.name}: link to missing {target}"
        if anchor:
            assert anchor in anchors(linked), f"{path.name}: no heading for #{anchor} in {target}"
