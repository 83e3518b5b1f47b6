"""The consent ledger: append-only, one event per change of one marketing topic.

An event's key is the version the customer item reaches in the same transaction, then
the topic: events sort exactly in the order the customer's preferences changed (clocks
of different Lambdas need not agree), and two changes racing on one version cannot both
be written.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.store.base import PledgeModel
from chalicelib.store.transact import Write, put_new


class ConsentEvent(PledgeModel):
    logical_table = "consent_events"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)  # "<customer version, 10 digits>#<topic>"
    sequence = NumberAttribute()  # the customer item's version after this change
    topic = UnicodeAttribute()
    granted = BooleanAttribute()
    source = UnicodeAttribute()  # "signup" | "preferences" | "unsubscribe" | "ops"
    policy_version = UnicodeAttribute(null=True)  # the privacy policy in force, if any
    at = UnicodeAttribute()
    request_id = UnicodeAttribute(null=True)


def new_event(customer_number: str, sequence: int, topic: str, **fields: Any) -> Write:
    """The write appending one event (never overwriting one)."""
    event = ConsentEvent(customer_number, f"{sequence:010d}#{topic}", sequence=sequence, topic=topic, **fields)
    return put_new(event)


def events_of(customer_number: str) -> list[ConsentEvent]:
    """Oldest first."""
    return list(ConsentEvent.query(customer_number, consistent_read=True))
