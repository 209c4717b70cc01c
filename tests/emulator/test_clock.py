"""The virtual clock's driver: waits for slow work, reports a hang."""

from __future__ import annotations

import threading
import time

import pytest

from lifecycle_emulator.clock import ClockStalled, VirtualClock


def test_work_that_never_ends_is_reported_as_stalled() -> None:
    clock = VirtualClock()
    clock.enter()
    with pytest.raises(ClockStalled, match="1 unit"):
        clock.wait_idle(real_timeout=0.2)


def test_slow_work_that_keeps_finishing_is_waited_for() -> None:
    """Three units ending 0.15 s apart take longer than the 0.25 s limit, but each one ends
    within it: that is a large run, not a hang."""
    clock = VirtualClock()
    for _ in range(3):
        clock.enter()

    def finish_one_by_one() -> None:
        for _ in range(3):
            time.sleep(0.15)
            clock.leave()

    worker = threading.Thread(target=finish_one_by_one)
    worker.start()
    clock.wait_idle(real_timeout=0.25)
    worker.join()
    assert clock.busy == 0


def test_time_jumps_to_the_next_timer_only_when_idle() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    clock.call_later(3600, lambda: fired.append(clock.time()))
    start = clock.time()
    clock.run()
    assert fired == [start + 3600]
