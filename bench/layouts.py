"""Benchmark-side model (not a test): which action lengths each layout of the chain puts over
half the baseline's transitions at the same rounds (the definitions' shapes, round for round).

    python -m bench.layouts

A layout is where the Choice states sit between rounds: after any set of the first ``--free``
rounds, then every ``k`` rounds (a loop). An action whose checks decide in round ``n`` spends
``2n`` transitions on its Waits, tasks and ``Done``, one per Choice it passes, and two per empty
round it runs through to the next Choice (docs/ARCHITECTURE.md, "One function, two rounds to a
Choice"); the baseline (:mod:`bench.baseline`) spends ``5n + 2``. Prints the layouts that miss
the fewest lengths up to ``--longest`` rounds, how many layouts meet every length from three to
seven rounds, and the lengths this repository's definition misses, with what each spends on
actions of one to eight rounds.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence

from bench.baseline import BASELINE_TRANSITIONS_FIXED, BASELINE_TRANSITIONS_PER_ROUND
from bench.definition import rounds_per_choice


def choices(early: Sequence[int], loop: int, longest: int) -> list[int]:
    """The rounds after which a Choice sits: ``early``, then every ``loop`` from the last."""
    found, at = list(early), max(early)
    while at < longest + loop:
        at += loop
        found.append(at)
    return found


def transitions(rounds: int, after: Sequence[int]) -> int:
    passed = next(i for i, c in enumerate(after, start=1) if c >= rounds)
    empty = after[passed - 1] - rounds
    return 2 * rounds + passed + 2 * empty


def missed(after: Sequence[int], longest: int) -> list[int]:
    return [
        n
        for n in range(1, longest + 1)
        if 2 * transitions(n, after)
        > BASELINE_TRANSITIONS_FIXED + BASELINE_TRANSITIONS_PER_ROUND * n
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.layouts", description=__doc__)
    parser.add_argument("--free", type=int, default=12, help="rounds with Choices placed freely")
    parser.add_argument("--longest", type=int, default=200, help="longest action, in rounds")
    args = parser.parse_args(argv)
    results, seen = [], set()
    for size in range(1, args.free + 1):
        for early in itertools.combinations(range(1, args.free + 1), size):
            for loop in (2, 3):
                after = choices(early, loop, args.longest)
                if tuple(after) not in seen:  # [5] then 2 is [5, 7] then 2
                    seen.add(tuple(after))
                    results.append((missed(after, args.longest), early, loop))
    results.sort(key=lambda r: (len(r[0]), len(r[1])))
    fewest = len(results[0][0])
    print(f"{len(results)} layouts, actions of 1 to {args.longest} rounds")
    print(f"fewest lengths missed: {fewest}")
    for miss, early, loop in (r for r in results if len(r[0]) == fewest):
        after = choices(early, loop, args.longest)
        print(f"  Choices after rounds {list(early)}, then every {loop}: misses {miss}")
        print(f"    transitions for 1-8 rounds: {[transitions(n, after) for n in range(1, 9)]}")
    meet = [r for r in results if not set(r[0]) & set(range(3, 8))]
    print(f"layouts meeting every length from 3 to 7 rounds: {len(meet)}")
    first, loop = rounds_per_choice()
    after = choices([first], loop, args.longest)
    ours = missed(after, args.longest)
    shown = f"{ours[:10]}{' ...' if len(ours) > 10 else ''}"
    print(
        f"this definition (first Choice after round {first}, then every {loop}): "
        f"misses {len(ours)} lengths, {shown}"
    )
    print(f"    transitions for 1-8 rounds: {[transitions(n, after) for n in range(1, 9)]}")
    halves = [
        (BASELINE_TRANSITIONS_FIXED + BASELINE_TRANSITIONS_PER_ROUND * n) / 2 for n in range(1, 9)
    ]
    print(f"half the baseline's for 1-8 rounds: {halves}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
