"""``asg-lifecycle-local``: run the stack end to end on the embedded AWS emulation.

asg-lifecycle-local list                 # the built-in scenarios
asg-lifecycle-local run mixed-fleet      # a built-in scenario, or a path to a scenario file
"""

from __future__ import annotations

import argparse
import json
import sys

from lifecycle_emulator import scenarios
from lifecycle_emulator.play import play, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="asg-lifecycle-local", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the built-in scenarios")
    run = sub.add_parser("run", help="play a scenario and print its timeline and outcomes")
    run.add_argument("scenario", nargs="?", default="mixed-fleet", help="name or JSON file")
    run.add_argument("--no-timeline", action="store_true", help="outcomes only")
    run.add_argument("--limit", type=int, default=400, help="timeline lines to print")
    run.add_argument("--json", action="store_true", help="print the outcome per action as JSON")
    args = parser.parse_args(argv)

    if args.command == "list":
        for name, description in scenarios.available().items():
            print(f"{name:14} {description}")
        return 0
    try:
        scenario = scenarios.load(args.scenario)
    except scenarios.InvalidScenario as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if scenario.description:
        print(scenario.description)
    report = play(scenario)
    if args.json:
        print(json.dumps([a.__dict__ for a in report.actions], indent=2, default=str))
    else:
        print(render(report, timeline=not args.no_timeline, limit=args.limit))
    failed = list(report.problems)
    for transition, expected in scenario.expect.items():
        got = report.results().get(transition, {})
        if got != expected:
            failed.append(f"expected {transition} results {expected}, got {got}")
    for line in failed:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
