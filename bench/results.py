"""Where the benchmarks keep their results (``bench/results/``, not committed: ``make bench``
writes them, ``bench.report`` reads them) and the machine each result names."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """Interpreter, architecture, CPU count and OS: what the numbers depend on most."""
    return (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release().split('-')[0]}"
    )


def save(name: str, result: dict[str, Any]) -> Path:
    """Write ``result`` as ``bench/results/<name>``, stamped with this machine, and print it."""
    stamped = {**result, "machine": machine()}
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
