"""Single-use account tokens (email verification, password reset), stored only as a
keyed hash of the token. Spending one deletes it, conditionally, in the transaction that
does what it allows: a token can be used once, even by parallel requests."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from chalicelib.store.base import PledgeModel
from chalicelib.store.transact import Write, put_new


class AccountToken(PledgeModel):
    logical_table = "account_tokens"

    class Meta:
        table_name = None

    token_hash = UnicodeAttribute(hash_key=True)
    purpose = UnicodeAttribute()  # "verify_email" | "password_reset"
    customer_number = UnicodeAttribute()
    bound_to = UnicodeAttribute()  # a hash of what it acts on: the email to verify, the password to replace
    expires_at = NumberAttribute()  # epoch seconds; checked on use (TTL deletion is late)
    expires_ttl = TTLAttribute()


def new_token(token_hash: str, purpose: str, customer_number: str, bound_to: str, expires_at: int) -> Write:
    item = AccountToken(
        token_hash,
        purpose=purpose,
        customer_number=customer_number,
        bound_to=bound_to,
        expires_at=expires_at,
        expires_ttl=datetime.fromtimestamp(expires_at, tz=UTC),
    )
    return put_new(item)


def find_token(token_hash: str) -> AccountToken | None:
    return AccountToken.find(token_hash)


def spend(token: AccountToken) -> Write:
    """Delete the token, on condition it is still there (not spent by someone else)."""
    return lambda transaction: transaction.delete(
        AccountToken(token.token_hash), condition=AccountToken.token_hash.exists()
    )
