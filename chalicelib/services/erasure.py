"""Scrubbing a customer's personal content from the records that outlive the account.

Each step is safe to repeat. Placeholders are fixed strings, not derived from the
original values, so nothing can be recovered from them.
"""

from __future__ import annotations

from chalicelib.services.disclosures import erase_disclosure_text
from chalicelib.services.sensitive import destroy_all
from chalicelib.store import inquiries as inquiry_store
from chalicelib.store import orders as order_store
from chalicelib.store import tickets as ticket_store
from chalicelib.store.base import iso, utc_now

PLACEHOLDER = "[erased]"


def erase_inquiry(inquiry, status: str) -> None:
    inquiry_store.erase_inquiry_content(inquiry, status, iso(utc_now()))


def erase_customer_content(customer_number: str, email_key: str) -> dict:
    inquiries = {i.inquiry_id: i for i in inquiry_store.inquiries_of(customer_number)}
    inquiries.update({i.inquiry_id: i for i in inquiry_store.inquiries_from(email_key)})
    for inquiry in inquiries.values():
        erase_inquiry(inquiry, "erased")
    tickets = ticket_store.tickets_of(customer_number)
    entries = sum(ticket_store.erase_ticket_content(t, PLACEHOLDER) for t in tickets)
    erase_disclosure_text(customer_number, PLACEHOLDER)  # purposes go; recipients and dates stay as proof
    destroy_all(customer_number)  # crypto-shredding: card, IBAN and ID numbers go with their data keys
    order_store.erase_orders_of(customer_number, PLACEHOLDER)  # billing details only: orders are kept
    return {"inquiries": len(inquiries), "tickets": len(tickets), "ticket_entries": entries}
