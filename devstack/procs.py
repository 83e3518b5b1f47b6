"""Child processes: each in its own process group, stopped as a group."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO


class StartupError(RuntimeError):
    """A part of the stack did not come up; the message is one line for the user."""


def start(
    cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, log: Path | None = None
) -> subprocess.Popen:
    """Start cmd in a new session (its own process group). Output goes to `log` when
    given, else is inherited."""
    out: IO | None = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = open(log, "ab")  # noqa: SIM115 - handed to the child process, closed in stop()
    try:
        return subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
    finally:
        if out is not None:
            out.close()


def stop(proc: subprocess.Popen | None, timeout: float = 5.0) -> None:
    """SIGTERM the child's process group, SIGKILL it after `timeout` seconds."""
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader exited; make sure nothing else of its group survives.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def wait_until(
    ready: Callable[[], bool],
    *,
    proc: subprocess.Popen | None,
    what: str,
    timeout: float = 60.0,
    log: Path | None = None,
) -> None:
    """Poll `ready()` until it returns True; fail early if `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StartupError(f"{what} exited with code {proc.returncode}{_tail(log)}")
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise StartupError(f"{what} did not answer within {timeout:.0f} s{_tail(log)}")


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return f" (last lines of {log}):\n" + "\n".join(text)
