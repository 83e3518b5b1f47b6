"""Every email address a customer has held, and when: the index anonymization uses to
reach what the customer sent from an earlier address while logged out.

Not a record of proof: anonymization deletes a customer's entries once their content
is scrubbed. No TTL.
"""

from __future__ import annotations

from typing import NamedTuple

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel
from chalicelib.store.transact import Write, put_new


class HistoryByAddress(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_address"
        projection = AllProjection()

    email_key = UnicodeAttribute(hash_key=True)
    claimed_at = UnicodeAttribute(range_key=True)


class EmailHistoryEntry(PledgeModel):
    logical_table = "email_history"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)  # "<claimed_at>#<email_key>"
    email_key = UnicodeAttribute()
    claimed_at = UnicodeAttribute()
    released_at = UnicodeAttribute(null=True)
    by_address = HistoryByAddress()


class Holding(NamedTuple):
    """One customer's hold on one address: from `claimed_at`, until `released_at` (None: still)."""

    customer_number: str
    claimed_at: str
    released_at: str | None


def claim_address(customer_number: str, email_key: str, at: str, released_at: str | None = None) -> Write:
    entry = EmailHistoryEntry(
        customer_number, f"{at}#{email_key}", email_key=email_key, claimed_at=at, released_at=released_at
    )
    return put_new(entry)


def release_address(entry: EmailHistoryEntry, at: str) -> Write:
    return lambda transaction: transaction.update(
        entry,
        actions=[EmailHistoryEntry.released_at.set(at)],
        condition=EmailHistoryEntry.released_at.does_not_exist(),
    )


def entries_of(customer_number: str) -> list[EmailHistoryEntry]:
    """Oldest first."""
    return list(EmailHistoryEntry.query(customer_number, consistent_read=True))


def holdings_of_address(email_key: str) -> list[Holding]:
    """Every customer who ever held the address (an index: eventually consistent)."""
    return [
        Holding(e.customer_number, e.claimed_at, e.released_at) for e in EmailHistoryEntry.by_address.query(email_key)
    ]


def delete_entries(entries: list[EmailHistoryEntry]) -> None:
    for entry in entries:
        entry.delete()
