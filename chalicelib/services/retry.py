"""Optimistic concurrency: re-read and re-apply when a version check fails."""

from __future__ import annotations

import random
import time

ATTEMPTS = 8


def attempts(count: int = ATTEMPTS):
    """Yield attempt numbers, pausing with jittered exponential backoff between them."""
    for attempt in range(count):
        if attempt:
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
        yield attempt
