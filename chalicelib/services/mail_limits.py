"""How much mail the public forms may send to one address: the contact acknowledgement
and the password-reset email go to addresses nobody has proven to own, so each is capped
per address (case-insensitive) and window. Counters are keyed by a keyed hash of the
address, never the address itself."""

from __future__ import annotations

import hashlib
import hmac
import time

from chalicelib.observability import count
from chalicelib.services.email_address import email_key
from chalicelib.settings import load_secret
from chalicelib.store import counters
from chalicelib.store.counters import MailLimit


def address_hash(purpose: str, email: str) -> str:
    key = bytes.fromhex(load_secret("tokens")["key"])
    return hmac.new(key, f"{purpose}\x00{email_key(email)}".encode(), hashlib.sha256).hexdigest()


def may_send(purpose: str, email: str, limit: int, window_seconds: int) -> bool:
    """Take one of the address's `limit` sends of this kind in the window; False when none is left."""
    slot = counters.take(
        MailLimit, address_hash(f"mail-limit:{purpose}", email), int(time.time()), window_seconds, limit
    )
    if not slot.taken:
        count(f"mail_limited_{purpose}")
    return slot.taken
