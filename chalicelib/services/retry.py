"""Optimistic concurrency: re-read and re-apply when a version check fails."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from chalicelib.errors import Conflict
from chalicelib.store.transact import WriteConflict

T = TypeVar("T")

ATTEMPTS = 8


def retry_on_conflict(attempt: Callable[[], T], gave_up: str, count: int = ATTEMPTS) -> T:
    """Run a read -> decide -> commit `attempt` until its commit meets no WriteConflict
    (someone changed what it read: read again); `Conflict(gave_up)` after `count` tries.
    An attempt that must not be retried raises something else (e.g. Conflict) itself."""
    for tried in range(count):
        if tried:  # jittered exponential backoff, so racing writers spread out
            time.sleep(random.uniform(0, 0.01 * 2**tried))
        try:
            return attempt()
        except WriteConflict:
            continue
    raise Conflict(gave_up)
