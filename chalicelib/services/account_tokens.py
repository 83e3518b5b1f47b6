"""Single-use tokens sent by email (email verification, password reset).

A token is 32 random bytes (base64url) that exist only in the email: the table keeps an
HMAC of it under the `tokens` secret, so a copy of the table cannot be turned into links.
Each token is bound to what it acts on (a keyed hash of the email it verifies, or of the
password hash it replaces): a verification link stops working when the email changes, and
a reset link when the password does, so older links die with the state they were for.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from chalicelib.errors import NotFound
from chalicelib.settings import load_secret
from chalicelib.store import tokens as store
from chalicelib.store.tokens import AccountToken
from chalicelib.store.transact import Write, commit

INVALID = "This link is not valid: it was already used, has expired, or was replaced by a newer one."


def _keyed(purpose: str, value: str) -> str:
    key = bytes.fromhex(load_secret("tokens")["key"])
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def binding(value: str) -> str:
    return _keyed("binding", value)


def issue(purpose: str, customer_number: str, bound_to: str, lifetime_seconds: int) -> str:
    """A new token for the customer, valid for `lifetime_seconds`; returns the token itself."""
    token, write = issued(purpose, customer_number, bound_to, lifetime_seconds)
    commit([write])
    return token


def issued(purpose: str, customer_number: str, bound_to: str, lifetime_seconds: int) -> tuple[str, Write]:
    """A new token and the write that stores it, for the caller's transaction."""
    token = secrets.token_urlsafe(32)
    expires_at = int(time.time()) + lifetime_seconds
    return token, store.new_token(_keyed(purpose, token), purpose, customer_number, binding(bound_to), expires_at)


def redeem(purpose: str, token: str, bound_to: Callable[[str], str | None]) -> tuple[AccountToken, Write]:
    """The live token and the write that spends it (for the caller's transaction), else
    NotFound. `bound_to(customer_number)` is the current value the token must be bound to
    (None when the customer is gone or may not use it)."""
    item = store.find_token(_keyed(purpose, token))
    if item is None or item.purpose != purpose or item.expires_at <= time.time():
        raise NotFound(INVALID)
    current = bound_to(item.customer_number)
    if current is None or not hmac.compare_digest(binding(current), item.bound_to):
        raise NotFound(INVALID)
    return item, store.spend(item)
