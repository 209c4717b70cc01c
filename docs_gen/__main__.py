"""``python -m docs_gen [--write]``: check (default) or rewrite the generated doc sections."""

from __future__ import annotations

import argparse
import difflib
import sys

from docs_gen import architecture, configuration
from docs_gen.sections import ROOT, Section, regenerated


def all_sections() -> list[Section]:
    return configuration.sections() + architecture.sections()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m docs_gen",
        description="Check (exit 1 when stale) or rewrite the generated sections of the docs.",
    )
    parser.add_argument("--write", action="store_true", help="rewrite stale documents in place")
    args = parser.parse_args(argv)
    stale = 0
    for path, (current, new) in regenerated(all_sections()).items():
        if current == new:
            continue
        stale += 1
        name = str(path.relative_to(ROOT))
        if args.write:
            path.write_text(new)
            print(f"wrote {name}")
        else:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True), new.splitlines(keepends=True), name, name
            )
            sys.stdout.writelines(diff)
            print(f"{name} is stale: run python -m docs_gen --write", file=sys.stderr)
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
