"""Optimistic concurrency: re-read and re-apply when a version check fails."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from chalicelib.errors import Conflict
from chalicelib.store.transact import WriteConflict

T = TypeVar("T")

ATTEMPTS = 8


def attempts(count: int = ATTEMPTS) -> Iterator[int]:
    """Yield attempt numbers, pausing with jittered exponential backoff between them."""
    for attempt in range(count):
        if attempt:
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
        yield attempt


def retry_on_conflict(attempt: Callable[[], T], gave_up: str, count: int = ATTEMPTS) -> T:
    """Run a read -> decide -> commit `attempt` until its commit meets no WriteConflict
    (someone changed what it read: read again); `Conflict(gave_up)` after `count` tries.
    An attempt that must not be retried raises something else (e.g. Conflict) itself."""
    for _ in attempts(count):
        try:
            return attempt()
        except WriteConflict:
            continue
    raise Conflict(gave_up)
