"""The benchmark's fixed-interval baseline: the rounds it runs itself (bench/baseline.py)."""

from __future__ import annotations

import pytest

from bench.baseline import baseline, fixed_interval_rounds


@pytest.mark.parametrize(
    ("decided_after", "poll", "rounds"),
    [
        (0, 30, 1),  # ready at the start: the first round decides
        (-5, 30, 1),  # ready before the action started
        (60, 30, 3),  # rounds at 0, 30 and 60 s
        (61, 30, 4),  # the round at 90 s sees it
        (5990, 30, 201),  # gives up: rounds at 0 ... 5970, then one at 6000 s
    ],
)
def test_the_baseline_checks_every_poll_from_the_start(
    decided_after: float, poll: int, rounds: int
) -> None:
    assert fixed_interval_rounds(decided_after, poll) == rounds


def test_a_poll_interval_under_a_second_is_refused() -> None:
    with pytest.raises(ValueError, match="poll interval 0 s"):
        fixed_interval_rounds(60, 0)


def test_the_baseline_heartbeats_after_every_round_but_the_last() -> None:
    assert baseline(3, 1, 2) == {
        "autoscaling_calls": 4,  # hook read, completion, 2 heartbeats
        "lambda_invocations": 8,  # start, ReadHook, 3 RunChecks, 2 RecordHeartbeat, Complete
        "state_transitions": 17,  # 5 a round, plus ReadHook, Route, Complete, Route, Done, less 3
        "heartbeats": 2,
    }
