"""Keeping this process under the account's SES send rate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """Releases senders 1/rate apart, shared by every thread that sends. A sender is
    released at the moment it may send (not given a slot to sleep until: a late waker
    would bunch up with the next ones). Releases keep to a grid of 1/rate steps, so a
    sleeper's usual lateness (a fraction of a step) is not lost on every send; a slow
    stretch of a step or more is never made up by a burst: the grid starts again from the
    late release."""

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.rate = rate
        self._interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                if now >= self._next:
                    on_grid = now - self._next < self._interval
                    self._next = (self._next if on_grid else now) + self._interval
                    return
                delay = self._next - now
            self._sleep(delay)


_shared: list[Pacer] = []
_shared_lock = threading.Lock()


def shared_pacer(rate: float) -> Pacer:
    """The process's one pacer for `rate` (a new one if the configured rate changed)."""
    with _shared_lock:
        if not _shared or _shared[0].rate != rate:
            _shared[:] = [Pacer(rate)]
        return _shared[0]
