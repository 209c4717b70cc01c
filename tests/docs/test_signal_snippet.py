"""The user-data snippet docs/CONFIGURATION.md gives instances to signal "Run checks now": run in
bash with ``curl`` and ``aws`` stubbed, it must send the event SignalFunction reads."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from asg_lifecycle import signals
from tests.conftest import ROOT
from tests.docs.commands import fenced_blocks

STUBS = """
curl() {
  case "$*" in *api/token*) echo the-token ;; *instance-id*) echo i-0123456789abcdef0 ;; esac
}
aws() { printf '%s\\n' "$@" > "$ARGS"; }
"""


def _snippet() -> str:
    text = (ROOT / "docs" / "CONFIGURATION.md").read_text()
    (block,) = [
        b for _, b in fenced_blocks(text, frozenset({"text"})) if "put-events" in "".join(b)
    ]
    return "\n".join(block)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_user_data_snippet_sends_the_instances_signal(tmp_path: Path) -> None:
    args = tmp_path / "args"
    subprocess.run(
        ["bash", "-euc", STUBS + _snippet()],
        env={"ARGS": str(args), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    argv = args.read_text().splitlines()
    assert argv[:3] == ["events", "put-events", "--entries"]
    (entry,) = json.loads(argv[3])
    event = {
        "source": entry["Source"],
        "detail-type": entry["DetailType"],
        "detail": json.loads(entry["Detail"]),
    }
    assert signals.parse(event).instance_ids == ("i-0123456789abcdef0",)
