"""Runs the app's @app.schedule functions on their rate (chalice local does not)."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TextIO

from .functions import Function, call

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def parse_rate(expression: str) -> float | None:
    """Seconds between runs for `rate(N unit)`; None for `cron(...)` (not run locally).
    Raises ValueError on anything else, or on a singular/plural mismatch AWS rejects."""
    expression = expression.strip()
    if expression.startswith("cron("):
        return None
    match = _RATE.match(expression)
    if not match:
        raise ValueError(f"not a schedule expression: {expression!r}")
    value, unit = int(match.group(1)), match.group(2)
    if value <= 0 or (value == 1) != (not unit.endswith("s")):
        raise ValueError(f"invalid rate: {expression!r}")
    return float(value * _UNIT_SECONDS[unit.rstrip("s")])


class Scheduler:
    """One background thread running each rate() function first at start, then every
    interval. Results and errors are logged as one line each; nothing stops the loop
    but stop()."""

    def __init__(
        self,
        functions: list[Function],
        *,
        out: TextIO | None = None,
        runner: Callable[[Function], object] | None = None,
        run_at_start: bool = True,
    ):
        self._out = out or sys.stdout
        self._runner = runner or (lambda fn: call(fn, {}))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.jobs: list[tuple[Function, float]] = []
        for fn in functions:
            try:
                interval = parse_rate(fn.schedule_expression or "")
            except ValueError as exc:
                self._log(f"scheduler: {fn.name} not scheduled locally: {exc}")
                continue
            if interval is None:
                self._log(
                    f"scheduler: {fn.name} {fn.schedule_expression} not run locally "
                    f"(only rate() is supported); run it with: python -m devstack invoke {fn.name} '{{}}'"
                )
                continue
            self.jobs.append((fn, interval))
        now = time.monotonic()
        self._next = {fn.name: now if run_at_start else now + interval for fn, interval in self.jobs}

    def _log(self, line: str) -> None:
        print(line, file=self._out, flush=True)

    def run_once(self, fn: Function) -> None:
        try:
            result = self._runner(fn)
            self._log(f"scheduler: {fn.name} -> {json.dumps(result, default=str, sort_keys=True)}")
        except Exception as exc:  # never let one failure stop the scheduler
            self._log(f"scheduler: {fn.name} failed: {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.jobs:
                self._stop.wait()
                return
            fn, interval = min(self.jobs, key=lambda job: self._next[job[0].name])
            delay = self._next[fn.name] - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
                continue
            self.run_once(fn)
            self._next[fn.name] = time.monotonic() + interval

    def start(self) -> Scheduler:
        if not self.jobs:
            self._log("scheduler: no rate() scheduled functions to run")
        for fn, interval in self.jobs:
            self._log(f"scheduler: {fn.name} every {interval:g} s ({fn.schedule_expression})")
        self._thread = threading.Thread(target=self._loop, name="devstack-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
