"""One controllable clock for the whole local run.

The emulated Auto Scaling timeouts, the Step Functions Wait states (moto's interpreter runs each
execution in its own thread) and the project's Lambda code all read this clock, so a six-hour drain
plays out in seconds with the same sequence of calls it would have in AWS.

The clock is a discrete-event scheduler. Execution threads that reach a Wait state call
:meth:`VirtualClock.sleep_until` and block. The driver (:meth:`VirtualClock.run`) waits until no
thread is busy, then jumps time straight to the earliest thing due: a sleeping thread's wake-up or a
timer (a hook timeout, a scripted scenario step). Work started from a busy thread or from a timer is
counted as busy *before* the call that started it returns, so the driver never sees a false idle.

A sleep may also end early: a thread that waits for something another thread sends (a Step Functions
callback task waiting for ``SendTaskSuccess``) sleeps with a :class:`Sleeper` until its deadline,
and the sender calls :meth:`VirtualClock.wake_early`, which counts the sleeper busy again before it
returns and wakes it at the current virtual instant.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

Timer = Callable[[], None]


class Sleeper:
    """One virtual sleep that another thread may end early (:meth:`VirtualClock.wake_early`).

    Use each sleeper for one sleep. ``early`` tells, once the sleep is over, whether it ended
    early (True) or because virtual time reached its end (False).
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.woken = False  # the sleep is over, or was ended before it began
        self.early = False
        self.entry: _Entry | None = None  # while it sleeps: its place in the clock's queue


@dataclass(order=True)
class _Entry:
    at: float
    seq: int
    timer: Timer | None = field(compare=False, default=None)
    wake: Sleeper | None = field(compare=False, default=None)
    cancelled: bool = field(compare=False, default=False)


class ClockStalled(RuntimeError):
    """Busy work did not go idle within the real-time limit (a hang, not a slow test)."""


class VirtualClock:
    """Virtual time in epoch seconds, advanced only by :meth:`run` / :meth:`advance`."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._now = start.timestamp()
        self._lock = threading.Condition()
        self._queue: list[_Entry] = []
        self._seq = itertools.count()
        self._busy = 0
        self._progress = 0  # bumped whenever a unit of work ends or goes to sleep

    # --- reading -----------------------------------------------------------------------------
    def time(self) -> float:
        """Seconds since the epoch, like :func:`time.time`."""
        return self._now

    def now(self) -> datetime:
        """The current virtual time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._now, tz=UTC)

    def elapsed_since(self, start: datetime) -> timedelta:
        return self.now() - start

    # --- busy accounting (execution threads) --------------------------------------------------
    def enter(self) -> None:
        """Count one more unit of busy work (call before handing work to another thread)."""
        with self._lock:
            self._busy += 1

    def leave(self) -> None:
        with self._lock:
            self._busy -= 1
            self._progress += 1
            self._lock.notify_all()

    @property
    def busy(self) -> int:
        return self._busy

    # --- scheduling -----------------------------------------------------------------------------
    def call_at(self, at: float, timer: Timer) -> _Entry:
        """Run ``timer`` on the driver thread when virtual time reaches ``at``."""
        with self._lock:
            entry = _Entry(max(at, self._now), next(self._seq), timer=timer)
            heapq.heappush(self._queue, entry)
            self._lock.notify_all()
            return entry

    def call_later(self, delay: float, timer: Timer) -> _Entry:
        return self.call_at(self._now + delay, timer)

    @staticmethod
    def cancel(entry: _Entry) -> None:
        entry.cancelled = True

    def sleep(self, seconds: float) -> None:
        self.sleep_until(self._now + max(0.0, seconds))

    def sleep_until(self, at: float, sleeper: Sleeper | None = None) -> bool:
        """Block the calling (busy) thread until virtual time reaches ``at``, or until another
        thread ends the sleep with :meth:`wake_early` (given a ``sleeper``).

        True when time reached ``at``; False when the sleep ended early (also when
        :meth:`wake_early` came before the sleep began: it then does not sleep at all).
        """
        sleeper = sleeper or Sleeper()
        with self._lock:
            if sleeper.woken:
                return not sleeper.early
            if at <= self._now:
                sleeper.woken = True
                return True
            sleeper.entry = _Entry(at, next(self._seq), wake=sleeper)
            heapq.heappush(self._queue, sleeper.entry)
            self._busy -= 1
            self._progress += 1
            self._lock.notify_all()
        sleeper.event.wait()  # whoever wakes us counts us busy again before it sets the event
        return not sleeper.early

    def wake_early(self, sleeper: Sleeper) -> bool:
        """End ``sleeper``'s sleep now, at the current virtual instant (from any thread).

        The sleeping thread is counted busy again before this returns, so the driver never sees
        a false idle between the wake and the sleeper's next step. False when the sleep was
        already over (time reached its end, or it was woken before).
        """
        with self._lock:
            if sleeper.woken:
                return False
            sleeper.woken = sleeper.early = True
            if sleeper.entry is not None:  # asleep now (not only about to sleep)
                sleeper.entry.cancelled = True
                self._busy += 1
            sleeper.event.set()
            return True

    # --- driving ----------------------------------------------------------------------------------
    def wait_idle(self, real_timeout: float = 60.0) -> None:
        """Block until no work is busy.

        :class:`ClockStalled` when no unit of work has ended for ``real_timeout`` seconds: a hang.
        A large run that is merely slow keeps ending units of work and is waited for.
        """
        with self._lock:
            while self._busy > 0:
                moved = self._lock.wait_for(
                    functools.partial(self._idle_or_moved, self._progress), timeout=real_timeout
                )
                if not moved:
                    raise ClockStalled(
                        f"{self._busy} unit(s) of work busy, none ended in {real_timeout}s"
                    )

    def _idle_or_moved(self, seen: int) -> bool:
        return self._busy <= 0 or self._progress != seen

    def next_due(self) -> float | None:
        with self._lock:
            while self._queue and self._queue[0].cancelled:
                heapq.heappop(self._queue)
            return self._queue[0].at if self._queue else None

    def step(self, until: float | None = None, real_timeout: float = 60.0) -> bool:
        """Wait for idle, then fire everything due at the next instant; False if nothing is due."""
        self.wait_idle(real_timeout)
        with self._lock:
            while self._queue and self._queue[0].cancelled:
                heapq.heappop(self._queue)
            if not self._queue or (until is not None and self._queue[0].at > until):
                return False
            self._now = max(self._now, self._queue[0].at)
            due: list[_Entry] = []
            while self._queue and self._queue[0].at <= self._now:
                entry = heapq.heappop(self._queue)
                if not entry.cancelled:
                    due.append(entry)
            wakes = [e.wake for e in due if e.wake is not None]
            for sleeper in wakes:
                sleeper.woken = True  # a wake_early from now on is too late
            self._busy += len(wakes)
        for entry in due:
            if entry.timer is not None:
                entry.timer()
        for sleeper in wakes:
            sleeper.event.set()
        return True

    def run(self, until: float | None = None, real_timeout: float = 60.0) -> None:
        """Play events until nothing is left (or virtual time would pass ``until``)."""
        while self.step(until=until, real_timeout=real_timeout):
            pass
        if until is not None and until > self._now:
            self.wait_idle(real_timeout)
            with self._lock:
                self._now = until

    def advance(self, seconds: float, real_timeout: float = 60.0) -> None:
        self.run(until=self._now + seconds, real_timeout=real_timeout)
