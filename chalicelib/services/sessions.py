"""Login sessions: random tokens, stored only as a keyed hash, 30-day sliding expiry;
CSRF tokens derived from the session so they need no storage."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import NamedTuple

from chalicelib.input_guard import token_shaped
from chalicelib.settings import get_settings, load_secret
from chalicelib.store import sessions as store
from chalicelib.store.base import iso, parse_iso, utc_now
from chalicelib.store.sessions import Session
from chalicelib.store.states import CustomerStatus
from chalicelib.store.transact import Write, put_new

TOKEN_SEPARATOR = "_"  # customer numbers hold none; the secret part may
SESSION_TOKEN_SHAPE = re.compile(r"C[0-9]{1,19}_[A-Za-z0-9_-]{20,100}")


class ActiveSession(NamedTuple):
    customer_number: str
    refreshed: bool
    max_age_seconds: int


def _pepper() -> bytes:
    return load_secret("session")["key"].encode()


def token_hash(token: str) -> str:
    return hmac.new(_pepper(), b"session:" + token.encode(), hashlib.sha256).hexdigest()


def csrf_token(token: str) -> str:
    return hmac.new(_pepper(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def csrf_matches(token: str, presented: str | None) -> bool:
    # compare_digest raises TypeError on non-ASCII text: the shape is checked first
    return token_shaped(presented) and hmac.compare_digest(csrf_token(token), presented)


def _lifetime() -> timedelta:
    return timedelta(days=get_settings().session_days)


def new_session(customer_number: str) -> tuple[str, Write]:
    """A fresh token and the write that stores its session (committed by the caller,
    possibly in the same transaction as the account it belongs to). The token names the
    customer before its secret part, so one read fetches the session and the customer."""
    token = f"{customer_number}{TOKEN_SEPARATOR}{secrets.token_urlsafe(32)}"
    now = utc_now()
    session = Session(
        token_hash(token),
        customer_number=customer_number,
        created_at=iso(now),
        refreshed_at=iso(now),
        expires_at=iso(now + _lifetime()),
        expires_ttl=now + _lifetime(),
    )
    return token, put_new(session)


def max_age_seconds() -> int:
    return int(_lifetime().total_seconds())


def resolve_session(token: str) -> ActiveSession | None:
    """The live session behind a token, of an active customer, its expiry slid forward at
    most once per `session_refresh_seconds` (so most requests cost one read)."""
    if not SESSION_TOKEN_SHAPE.fullmatch(token or ""):
        return None
    customer_number = token.partition(TOKEN_SEPARATOR)[0]
    session, status = store.session_and_customer_status(token_hash(token), customer_number)
    now = utc_now()
    if (
        session is None
        or session.customer_number != customer_number
        or status != CustomerStatus.ACTIVE
        or parse_iso(session.expires_at) <= now
    ):
        return None
    refreshed = False
    if (now - parse_iso(session.refreshed_at)).total_seconds() >= get_settings().session_refresh_seconds:
        if not store.extend_session(session, iso(now), now + _lifetime()):
            return None
        refreshed = True
    return ActiveSession(session.customer_number, refreshed, max_age_seconds())


def revoke_session(token: str) -> None:
    store.delete_session(token_hash(token))


def revoke_all_sessions(customer_number: str) -> int:
    return store.delete_sessions_of(customer_number)
