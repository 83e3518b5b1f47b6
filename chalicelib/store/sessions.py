from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import (
    NumberAttribute,
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


class LoginThrottle(PledgeModel):
    """Failed logins for one email (keyed by a hash of it) in the current window."""

    logical_table = "login_throttle"

    class Meta:
        table_name = None

    key = UnicodeAttribute(hash_key=True)
    window_start = NumberAttribute()
    failures = NumberAttribute(default=0)
    expires_ttl = TTLAttribute()


def session_and_customer_status(token_hash: str, customer_number: str) -> tuple[Session | None, str | None]:
    """The session and its customer's status in one consistent BatchGetItem: a deactivated
    customer's session is refused even while the by_customer index lags its revocation."""
    from chalicelib.store.customers import Customer
    from chalicelib.store.transact import client

    tables = {Session: {"token_hash": {"S": token_hash}}, Customer: {"customer_number": {"S": customer_number}}}
    names = {model: model._get_connection().table_name for model in tables}
    request = {names[model]: {"Keys": [key], "ConsistentRead": True} for model, key in tables.items()}
    request[names[Customer]].update(ProjectionExpression="#s", ExpressionAttributeNames={"#s": "status"})
    found: dict[str, list] = {}
    while request:
        answer = client().batch_get_item(RequestItems=request)
        for table, items in answer.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        request = answer.get("UnprocessedKeys") or {}
    sessions = found.get(names[Session], [])
    customers = found.get(names[Customer], [])
    session = Session.from_raw_data(sessions[0]) if sessions else None
    return session, (customers[0]["status"]["S"] if customers else None)


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


def get_throttle(key: str) -> LoginThrottle | None:
    return LoginThrottle.find(key)


def record_login_failure(key: str, now: int, window_seconds: int) -> None:
    """Count a failure in the window that is open, or open a new window if none is.
    Both branches are conditional, so concurrent failures are never lost."""
    cutoff = now - window_seconds
    item = LoginThrottle(key)
    count_in_open_window = [LoginThrottle.failures.add(1)]
    open_new_window = [
        LoginThrottle.window_start.set(now),
        LoginThrottle.failures.set(1),
        LoginThrottle.expires_ttl.set(datetime.fromtimestamp(now + window_seconds, tz=timezone.utc)),
    ]
    window_closed = LoginThrottle.window_start.does_not_exist() | (LoginThrottle.window_start <= cutoff)
    for _ in range(5):
        if written(lambda: item.update(actions=count_in_open_window, condition=LoginThrottle.window_start > cutoff)):
            return
        if written(lambda: item.update(actions=open_new_window, condition=window_closed)):
            return

