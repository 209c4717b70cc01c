"""``docs/ARCHITECTURE.md``: the workflow's states as a Mermaid state diagram, from the ASL file.

Mermaid's state-diagram grammar constrains what is written: a state id is a word (``\\w+``), so
a state whose ASL name has spaces or punctuation (``Complete, heartbeat or wait?``) is drawn by an
id made of its words (``CompleteHeartbeatOrWait``) and labelled with its name; a transition label
runs to the end of its line and may not contain ``:`` or ``;``. ASL values such as
``autoscaling:EC2_INSTANCE_TERMINATING`` are therefore shown from their last ``:`` on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from docs_gen.sections import ROOT, Section

DOCUMENT = "docs/ARCHITECTURE.md"
DEFINITION = ROOT / "src" / "orchestrator" / "lifecycle.asl.json"
END = "[*]"

# Each ASL state type's look in the diagram (classDef names must be words).
STYLES = {
    "Task": ("taskState", "fill:#dbeafe,stroke:#1d4ed8,color:#000"),
    "Choice": ("choiceState", "fill:#fef3c7,stroke:#b45309,color:#000"),
    "Wait": ("waitState", "fill:#e5e7eb,stroke:#4b5563,color:#000"),
    "Pass": ("passState", "fill:#f3e8ff,stroke:#7e22ce,color:#000"),
    "Succeed": ("succeedState", "fill:#dcfce7,stroke:#15803d,color:#000"),
    "Fail": ("failState", "fill:#fee2e2,stroke:#b91c1c,color:#000"),
}

_COMPARISONS = {
    "StringEquals": "=",
    "NumericEquals": "=",
    "BooleanEquals": "=",
    "NumericLessThan": "<",
    "NumericLessThanEquals": "<=",
    "NumericGreaterThan": ">",
    "NumericGreaterThanEquals": ">=",
}


def state_id(name: str) -> str:
    """A Mermaid state id for an ASL state name: its words run together, each capitalised
    (``Complete, heartbeat or wait?`` is ``CompleteHeartbeatOrWait``). ASL names may hold spaces
    and punctuation; a Mermaid id is one word. The diagram shows the name itself beside the id
    (``state "name" as Id``)."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    ident = "".join(word[:1].upper() + word[1:] for word in words)
    if not ident:
        raise ValueError(f"state {name!r} has no letter or digit to name it by")
    return f"S{ident}" if ident[0].isdigit() else ident


def state_ids(names: Iterable[str]) -> dict[str, str]:
    """Each state's Mermaid id; two names that run to the same id are an error (the diagram
    would merge two states into one)."""
    ids: dict[str, str] = {}
    for name in names:
        ident = state_id(name)
        other = next((n for n, i in ids.items() if i == ident), None)
        if other is not None:
            raise ValueError(f"states {other!r} and {name!r} would both be drawn as {ident}")
        if '"' in name:
            raise ValueError(f"state {name!r}: a Mermaid state description cannot hold a quote")
        ids[name] = ident
    return ids


def label_text(text: str) -> str:
    """What a transition label may hold: no ``:`` / ``;`` (they end a label) on one line."""
    return " ".join(re.sub(r"[:;#]", " ", text).split())


def _value(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text.rsplit(":", 1)[-1]


def condition(rule: Mapping[str, Any]) -> str:
    """A Choice rule as a short readable condition (``decision.next = wait``)."""
    if "And" in rule:
        return " and ".join(condition(r) for r in rule["And"])
    if "Or" in rule:
        return " or ".join(f"({condition(r)})" for r in rule["Or"])
    if "Not" in rule:
        return f"not ({condition(rule['Not'])})"
    variable = str(rule.get("Variable", "")).removeprefix("$.")
    for operator, value in rule.items():
        if operator in ("Variable", "Next"):
            continue
        if operator == "IsPresent":
            return f"{variable} {'present' if value else 'absent'}"
        if operator in _COMPARISONS:
            return f"{variable} {_COMPARISONS[operator]} {_value(value)}"
        return f"{variable} {operator} {_value(value)}"
    raise ValueError(f"Choice rule without a comparison: {dict(rule)}")


def _merge(labels: list[str]) -> str:
    """One label for several conditions between the same two states: ``x = a, b or c`` when they
    compare the same variable with ``=``."""
    labels = [label for label in labels if label]
    if not labels:
        return ""
    split = [label.partition(" = ") for label in labels]
    subjects = {subject for subject, sep, _ in split if sep}
    if len(labels) > 1 and len(subjects) == 1 and all(sep for _, sep, _ in split):
        values = [value for _, _, value in split]
        return f"{subjects.pop()} = {', '.join(values[:-1])} or {values[-1]}"
    return " or ".join(labels)


def transitions(definition: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(from, to) -> the labels of every way from one state to the other, in definition order."""
    edges: dict[tuple[str, str], list[str]] = {}

    def add(source: str, target: str, label: str = "") -> None:
        edges.setdefault((source, target), []).append(label)

    add(END, definition["StartAt"])
    for name, state in definition["States"].items():
        kind = state.get("Type")
        if kind not in STYLES:
            raise ValueError(f"state {name}: type {kind} is not drawn yet (teach docs_gen)")
        if kind == "Choice":
            for rule in state["Choices"]:
                add(name, rule["Next"], condition(rule))
            if "Default" in state:
                add(name, state["Default"], "otherwise")
        elif kind in ("Succeed", "Fail") or state.get("End"):
            add(name, END)
        else:
            add(name, state["Next"])
        for catcher in state.get("Catch", []):
            add(name, catcher["Next"], "error " + ", ".join(catcher["ErrorEquals"]))
    return edges


def state_diagram(definition: Mapping[str, Any]) -> str:
    """The workflow as ``stateDiagram-v2``: every state, every Next, Choice rule, Default and
    Catch; states coloured by type."""
    lines = ["```mermaid", "stateDiagram-v2"]
    states: Mapping[str, Any] = definition["States"]
    ids = {**state_ids(states), END: END}
    for name, ident in ids.items():
        if name not in (ident, END):
            lines.append(f'    state "{name}" as {ident}')
    for (source, target), labels in transitions(definition).items():
        if target not in ids:
            raise ValueError(f"state {source!r} goes to {target!r}, which is not a state")
        arrow = f"    {ids[source]} --> {ids[target]}"
        label = label_text(_merge(labels))
        lines.append(f"{arrow}: {label}" if label else arrow)
    for kind, (css_class, style) in STYLES.items():
        members = [ids[n] for n, s in states.items() if s.get("Type") == kind]
        if members:
            lines.append(f"    classDef {css_class} {style}")
            lines.append(f"    class {','.join(members)} {css_class}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def states_table(definition: Mapping[str, Any]) -> str:
    """Each state, its type and its ``Comment`` (a Fail state: its error and cause), in
    definition order."""
    lines = ["| State | Type | What it does |", "|---|---|---|"]
    for name, state in definition["States"].items():
        text = state.get("Comment", "")
        if state["Type"] == "Fail" and not text:
            text = f"`{state.get('Error', '')}`: {state.get('Cause', '')}"
        comment = " ".join(str(text).split()).replace("|", "\\|")
        lines.append(f"| `{name}` | {state['Type']} | {comment or '-'} |")
    return "\n".join(lines) + "\n"


def load_definition(path: Path = DEFINITION) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def sections(definition_path: Path = DEFINITION) -> list[Section]:
    def workflow() -> str:
        definition = load_definition(definition_path)
        return state_diagram(definition) + "\n" + states_table(definition)

    return [Section(DOCUMENT, "workflow-states", workflow)]
