"""Keeping this process under the account's SES send rate."""

from __future__ import annotations

import threading
import time
from typing import Callable


class Pacer:
    """Send slots at most 1/rate apart, shared by every thread that sends. A slow stretch
    is never made up by a burst: a late slot starts the spacing again from now."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic, sleep=time.sleep):
        self.rate = rate
        self._interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            slot = max(self._next, self._clock())
            self._next = slot + self._interval
        delay = slot - self._clock()
        if delay > 0:
            self._sleep(delay)


_shared: list[Pacer] = []
_shared_lock = threading.Lock()


def shared_pacer(rate: float) -> Pacer:
    """The process's one pacer for `rate` (a new one if the configured rate changed)."""
    with _shared_lock:
        if not _shared or _shared[0].rate != rate:
            _shared[:] = [Pacer(rate)]
        return _shared[0]
