"""Where the benchmarks keep their results (``bench/results/``, not committed: ``make bench``
writes them, ``bench.report`` reads them), the machine and load each result names, and the
previous release's figures (``bench/previous-release.json``, committed) the report compares with."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PREVIOUS_RELEASE = Path(__file__).resolve().parent / "previous-release.json"


def machine() -> str:
    """Interpreter, architecture, CPU count and OS: what the numbers depend on most."""
    return (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release().split('-')[0]}"
    )


def load_average() -> list[float]:
    """The machine's load average over 1, 5 and 15 minutes (other work skews wall times)."""
    return [round(v, 2) for v in os.getloadavg()]


def save(name: str, result: dict[str, Any]) -> Path:
    """Write ``result`` as ``bench/results/<name>``, stamped with this machine and its load
    average now (the end of the run), and print it."""
    stamped = {**result, "machine": machine(), "load_at_end": load_average()}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(stamped, indent=2) + "\n")
    print(json.dumps(stamped, indent=2))
    print(f"written: {path}")
    return path


def load(name: str) -> dict[str, Any] | None:
    """A result ``save`` wrote, or None if its benchmark has not run here."""
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def previous_release() -> dict[str, Any]:
    """The previous release's figures (its ``about`` says where each comes from)."""
    data: dict[str, Any] = json.loads(PREVIOUS_RELEASE.read_text())
    return data
