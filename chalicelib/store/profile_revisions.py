"""Profile values a customer corrected while a legal hold was in force: the hold must
preserve what the data was. Kept until the last hold is released (then deleted, as the
reason to keep them is gone) or until anonymization scrubs them. No TTL."""

from __future__ import annotations

import uuid
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, UnicodeAttribute

from chalicelib.store.base import PledgeModel, as_plain
from chalicelib.store.customers import no_hold_in_force
from chalicelib.store.transact import Write, commit, put_new

TRANSACTION_LIMIT = 100


class ProfileRevision(PledgeModel):
    logical_table = "profile_revisions"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    revision_id = UnicodeAttribute(range_key=True)  # "<at>#<random>": sorts by time
    fields = ListAttribute(of=UnicodeAttribute)
    previous: MapAttribute[str, Any] = MapAttribute()  # field -> the value before the change (absent: it was empty)
    at = UnicodeAttribute()


def preserve_previous(customer_number: str, previous: dict, at: str) -> Write:
    values = {field: as_plain(value) for field, value in previous.items() if value is not None}
    revision = ProfileRevision(
        customer_number, f"{at}#{uuid.uuid4().hex[:12]}", fields=sorted(previous), previous=values, at=at
    )
    return put_new(revision)


def revisions_of(customer_number: str) -> list[ProfileRevision]:
    """Oldest first."""
    return list(ProfileRevision.query(customer_number, consistent_read=True))


def delete_revisions_of(customer_number: str) -> int:
    revisions = revisions_of(customer_number)
    for revision in revisions:
        revision.delete()
    return len(revisions)


def delete_unless_held(customer_number: str) -> int:
    """Delete the customer's revisions, each batch in a transaction with the condition that
    no hold is in force (WriteConflict if one is)."""
    revisions = revisions_of(customer_number)
    batch = TRANSACTION_LIMIT - 1
    for start in range(0, len(revisions), batch):
        deletes = [_delete(r) for r in revisions[start : start + batch]]
        commit([no_hold_in_force(customer_number), *deletes])
    return len(revisions)


def _delete(revision: ProfileRevision) -> Write:
    return lambda transaction: transaction.delete(revision)
