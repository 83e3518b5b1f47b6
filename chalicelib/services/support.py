"""Support tickets and the internal, channel-tagged record of the support given."""

from __future__ import annotations

import re
import uuid

from chalicelib.errors import NotFound
from chalicelib.observability import count
from chalicelib.store import tickets as store
from chalicelib.store.base import iso, utc_now
from chalicelib.store.tickets import Ticket, TicketEntry
from chalicelib.store.transact import commit, put_new

TICKET_ID = re.compile(r"T[0-9a-f]{32}")


def open_ticket(customer_number: str, subject: str, message: str) -> str:
    ticket = Ticket(
        "T" + uuid.uuid4().hex,
        customer_number=customer_number,
        subject=subject,
        status="open",
        created_at=iso(utc_now()),
    )
    first_message = store.new_entry(ticket.ticket_id, "message", "customer", "web", message)
    commit([put_new(ticket), put_new(first_message)])
    count("ticket_opened")
    return ticket.ticket_id


def ticket_summary(ticket: Ticket) -> dict:
    return {
        "ticket_id": ticket.ticket_id,
        "subject": ticket.subject,
        "status": ticket.status,
        "created_at": ticket.created_at,
    }


def tickets_of(customer_number: str) -> list[dict]:
    tickets = sorted(store.tickets_of(customer_number), key=lambda t: t.created_at, reverse=True)
    return [ticket_summary(t) for t in tickets]


def ticket_of_customer(customer_number: str, ticket_id: str) -> dict:
    """A customer's own ticket with its messages and support records; another
    customer's ticket is indistinguishable from a missing one, and so is a malformed id
    (never sent to DynamoDB, whose keys have a size limit)."""
    ticket = store.get_ticket(ticket_id) if TICKET_ID.fullmatch(ticket_id) else None
    if ticket is None or ticket.customer_number != customer_number:
        raise NotFound("No such ticket.")
    return ticket_detail(ticket)


def ticket_detail(ticket: Ticket) -> dict:
    entries = store.entries_of(ticket.ticket_id)
    return {
        **ticket_summary(ticket),
        "messages": [_entry_view(e) for e in entries if e.kind == "message"],
        "support_records": [_entry_view(e) for e in entries if e.kind == "support_record"],
    }


def _entry_view(entry: TicketEntry) -> dict:
    return {"author": entry.author, "channel": entry.channel, "text": entry.text, "at": entry.at}


def record_support(ticket_id: str, channel: str, summary: str) -> dict:
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise NotFound("No such ticket.")
    record = store.new_entry(ticket_id, "support_record", "ops", channel, summary)
    commit([put_new(record)])
    count("support_recorded")
    return {"ticket_id": ticket_id, "customer_number": ticket.customer_number, **_entry_view(record)}
