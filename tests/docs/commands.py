"""The shell commands the docs show: every line of every ``sh`` block of README.md and docs/*.md.

A command is what an operator copies and runs, so each must be right: tests/docs/test_commands.py
runs those that can run here and checks the others offline against what they name (AWS operations,
SAM subcommands, make targets, files, template resources, the operator CLI).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

SHELL_FENCES = frozenset({"sh", "bash", "shell", "console", "zsh"})
CONTROL = frozenset({"&&", "||", ";"})
UNSUPPORTED = frozenset({"|", "&", ">", ">>", "<", "(", ")"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def documents(root: Path = ROOT) -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


@dataclass(frozen=True, slots=True)
class DocCommand:
    """One simple command of a doc, as the shell would split it."""

    document: str
    line: int
    argv: tuple[str, ...]
    env: tuple[str, ...] = ()  # NAME=value assignments before the command
    error: str = ""  # why the line could not be read as simple commands

    @property
    def program(self) -> str:
        return self.argv[0]

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: {shlex.join(self.argv)}"


def fenced_blocks(text: str, languages: frozenset[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number of the block's first line, its lines) of each fenced block in ``languages``
    (indented fences inside lists too)."""
    block: list[str] | None = None
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if block is None:
            if stripped.startswith("```") and stripped[3:].strip().lower() in languages:
                block, start = [], number + 1
            continue
        if stripped.startswith("```"):
            yield start, block
            block = None
            continue
        block.append(raw)
    if block is not None:
        raise ValueError(f"unclosed ``` block starting at line {start}")


def logical_lines(start: int, lines: list[str]) -> Iterator[tuple[int, str]]:
    """Lines with their backslash continuations joined, each with the number of its first line."""
    pending: list[str] = []
    first = start
    for offset, line in enumerate(lines):
        if not pending:
            first = start + offset
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        yield first, " ".join(part.strip() for part in pending)
        pending = []
    if pending:
        yield first, " ".join(part.strip() for part in pending)


def split_commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line (``&&``, ``||`` and ``;`` separate them; a comment
    ends the line). A pipe, a redirection or a subshell is refused: the test cannot vouch for it."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in CONTROL:
            commands.append([])
        elif token in UNSUPPORTED:
            raise ValueError(f"{token!r} in {line!r}: teach tests/docs/test_commands.py first")
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def commands_of(path: Path, root: Path = ROOT) -> list[DocCommand]:
    found: list[DocCommand] = []
    name = str(path.relative_to(root))
    for start, lines in fenced_blocks(path.read_text(), SHELL_FENCES):
        for number, line in logical_lines(start, lines):
            try:
                simple = split_commands(line)
            except ValueError as exc:  # reported by the test of this line, not at collection
                found.append(DocCommand(name, number, (line,), error=str(exc)))
                continue
            for words in simple:
                env = tuple(_leading_assignments(words))
                found.append(DocCommand(name, number, tuple(words[len(env) :]), env))
    return found


def _leading_assignments(words: list[str]) -> Iterator[str]:
    for word in words:
        if not _ASSIGNMENT.match(word):
            return
        yield word


def all_commands(root: Path = ROOT) -> list[DocCommand]:
    return [command for path in documents(root) for command in commands_of(path, root)]


def options(args: tuple[str, ...]) -> dict[str, list[str]]:
    """``--flag value...`` pairs of an argument list: each flag with the words up to the next
    flag (an AWS CLI list takes several). ``--flag=value`` counts as the flag with its value."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for arg in args:
        if arg.startswith("-") and len(arg) > 1 and not arg[1:2].isdigit():
            flag, _, value = arg.partition("=")
            current = found.setdefault(flag, [])
            if value:
                current.append(value)
        elif current is not None:
            current.append(arg)
    return found


def positionals(args: tuple[str, ...], value_flags: frozenset[str]) -> list[str]:
    """The arguments that are neither flags nor the value of a flag in ``value_flags``."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg.partition("=")[0] in value_flags and "=" not in arg
            continue
        out.append(arg)
    return out
