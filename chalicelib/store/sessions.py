from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import (
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel, iso, written


class SessionsByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_number = UnicodeAttribute(hash_key=True)


class Session(PledgeModel):
    """A login session. Keyed by a hash of the token; the token itself is never stored."""

    logical_table = "sessions"

    class Meta:
        table_name = None

    token_hash = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute()
    created_at = UnicodeAttribute()
    refreshed_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    expires_ttl = TTLAttribute()
    by_customer = SessionsByCustomer()


def get_session(token_hash: str) -> Session | None:
    return Session.find(token_hash)


def extend_session(session: Session, refreshed_at: str, expires_at: datetime) -> bool:
    """Slide a session's expiry; False if it was revoked meanwhile."""
    actions = [
        Session.refreshed_at.set(refreshed_at),
        Session.expires_at.set(iso(expires_at)),
        Session.expires_ttl.set(expires_at),
    ]
    return written(lambda: session.update(actions=actions, condition=Session.token_hash.exists()))


def delete_session(token_hash: str) -> None:
    Session(token_hash).delete()


def delete_sessions_of(customer_number: str) -> int:
    revoked = 0
    for session in Session.by_customer.query(customer_number):
        session.delete()
        revoked += 1
    return revoked
