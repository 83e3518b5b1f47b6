from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel, condition_failed, iso


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


def get_session(token_hash: str) -> Session | None:
    try:
        return Session.get(token_hash)
    except Session.DoesNotExist:
        return None


def extend_session(session: Session, refreshed_at: str, expires_at: datetime) -> bool:
    """Slide a session's expiry; False if it was revoked meanwhile."""
    from pynamodb.exceptions import UpdateError

    try:
        session.update(
            actions=[
                Session.refreshed_at.set(refreshed_at),
                Session.expires_at.set(iso(expires_at)),
                Session.expires_ttl.set(expires_at),
            ],
            condition=Session.token_hash.exists(),
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def delete_session(token_hash: str) -> None:
    Session(token_hash).delete()


def delete_sessions_of(customer_number: str) -> int:
    revoked = 0
    for session in Session.by_customer.query(customer_number):
        session.delete()
        revoked += 1
    return revoked


def get_throttle(key: str) -> LoginThrottle | None:
    try:
        return LoginThrottle.get(key, consistent_read=True)
    except LoginThrottle.DoesNotExist:
        return None


def record_login_failure(key: str, now: int, window_seconds: int) -> None:
    """Count a failure in the window that is open, or open a new window if none is.
    Both branches are conditional, so concurrent failures are never lost."""
    from pynamodb.exceptions import UpdateError

    cutoff = now - window_seconds
    item = LoginThrottle(key)
    for _ in range(5):
        try:
            item.update(
                actions=[LoginThrottle.failures.add(1)],
                condition=LoginThrottle.window_start > cutoff,
            )
            return
        except UpdateError as error:
            if not condition_failed(error):
                raise
        try:
            item.update(
                actions=[
                    LoginThrottle.window_start.set(now),
                    LoginThrottle.failures.set(1),
                    LoginThrottle.expires_ttl.set(datetime.fromtimestamp(now + window_seconds, tz=timezone.utc)),
                ],
                condition=LoginThrottle.window_start.does_not_exist() | (LoginThrottle.window_start <= cutoff),
            )
            return
        except UpdateError as error:
            if not condition_failed(error):
                raise

