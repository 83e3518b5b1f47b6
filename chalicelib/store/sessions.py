from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pynamodb.attributes import (
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel, iso, written

if TYPE_CHECKING:
    from chalicelib.store.customers import Customer


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


def session_and_customer(token_hash: str, customer_number: str) -> tuple[Session | None, Customer | None]:
    """The session and its customer in one consistent BatchGetItem: a deactivated
    customer's session is refused even while the by_customer index lags its revocation,
    and the route needs no second read of the customer."""
    from chalicelib.store.customers import Customer
    from chalicelib.store.transact import client

    tables = {Session: {"token_hash": {"S": token_hash}}, Customer: {"customer_number": {"S": customer_number}}}
    names = {model: model._get_connection().table_name for model in tables}
    request = {names[model]: {"Keys": [key], "ConsistentRead": True} for model, key in tables.items()}
    found: dict[str, list] = {}
    while request:
        answer = client().batch_get_item(RequestItems=request)
        for table, items in answer.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        request = answer.get("UnprocessedKeys") or {}
    sessions = found.get(names[Session], [])
    customers = found.get(names[Customer], [])
    session = Session.from_raw_data(sessions[0]) if sessions else None
    return session, (Customer.from_raw_data(customers[0]) if customers else None)


def extend_session(session: Session, refreshed_at: str, expires_at: datetime) -> bool:
    """Slide a session's expiry; False if it was revoked meanwhile."""
    actions: list[Action] = [
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
