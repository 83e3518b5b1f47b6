"""The password-guess throttle: at most `login_max_failures` password checks per account
in `login_window_seconds`, shared by login and every other route that re-checks a
password (deactivation).

A check reserves its slot with a conditional write *before* the password is verified,
so parallel guesses can never get more checks evaluated than the limit. A correct
password gives its slot back: the throttle counts failures (and checks in flight), so a
customer who logs in often is never throttled, while an attacker's wrong guesses are.
Once the slots are gone every check answers 429, the right password included, until the
window ends.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from chalicelib.errors import RateLimited
from chalicelib.observability import count
from chalicelib.services.email_address import email_key
from chalicelib.settings import get_settings
from chalicelib.store import counters
from chalicelib.store.counters import LoginThrottle


def throttle_key(email: str) -> str:
    return hashlib.sha256(email_key(email).encode()).hexdigest()


def checked_password(email: str, verify: Callable[[], bool]) -> bool:
    """Run `verify()` (the password check) within the account's throttle; RateLimited
    (with the seconds until the window ends) when its slots are taken."""
    settings = get_settings()
    key = throttle_key(email)
    slot = counters.take(
        LoginThrottle, key, int(time.time()), settings.login_window_seconds, settings.login_max_failures
    )
    if not slot.taken:
        count("login_throttled")
        raise RateLimited("Too many failed attempts for this account; try again later.", retry_after=slot.retry_after)
    matched = verify()
    if matched:
        counters.give_back(LoginThrottle, key, slot.window_start)
    return matched
