"""The machine a benchmark ran on, as every figure of the report names it."""

from __future__ import annotations

import os
import platform


def describe() -> str:
    """Interpreter, architecture, CPU count and OS: what the numbers depend on most."""
    return (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release().split('-')[0]}"
    )
