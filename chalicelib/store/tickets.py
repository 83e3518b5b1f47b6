from __future__ import annotations

import uuid

from pynamodb.attributes import (
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel, iso, utc_now


class TicketsByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_number = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Ticket(PledgeModel):
    logical_table = "tickets"

    class Meta:
        table_name = None

    ticket_id = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute()
    subject = UnicodeAttribute()
    status = UnicodeAttribute(default="open")
    created_at = UnicodeAttribute()
    by_customer = TicketsByCustomer()


class TicketEntry(PledgeModel):
    """A customer's message on a ticket, or an internal support record (channel-tagged)."""

    logical_table = "ticket_entries"

    class Meta:
        table_name = None

    ticket_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # "message" | "support_record"
    author = UnicodeAttribute()  # "customer" | "ops"
    channel = UnicodeAttribute()  # "web" | "email" | "phone"
    text = UnicodeAttribute()
    at = UnicodeAttribute()


def get_ticket(ticket_id: str) -> Ticket | None:
    return Ticket.find(ticket_id)


def tickets_of(customer_number: str) -> list[Ticket]:
    return list(Ticket.by_customer.query(customer_number))


def entries_of(ticket_id: str) -> list[TicketEntry]:
    return list(TicketEntry.query(ticket_id, consistent_read=True))


def new_entry(ticket_id: str, kind: str, author: str, channel: str, text: str) -> TicketEntry:
    now = iso(utc_now())
    return TicketEntry(
        ticket_id, f"{now}#{uuid.uuid4().hex[:12]}", kind=kind, author=author, channel=channel, text=text, at=now
    )


def erase_ticket_content(ticket: Ticket, placeholder: str) -> int:
    """Replace the subject and every entry's text; dates, channels and counts remain."""
    ticket.update(actions=[Ticket.subject.set(placeholder)])
    entries = entries_of(ticket.ticket_id)
    for entry in entries:
        entry.update(actions=[TicketEntry.text.set(placeholder)])
    return len(entries)
