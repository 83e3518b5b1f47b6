"""Scrubbing a customer's personal content from the records that outlive the account.

Only the customer's own records: inquiries they sent logged in, inquiries sent logged out
from an address attributed to them (services/addresses.py), their tickets, the reasons
they typed in the audit trail, profile values preserved under a hold, and their address
history (last, since the steps before need it). Each step is safe to repeat.
Placeholders are fixed strings, not derived from the original values, so nothing can be
recovered from them.
"""

from __future__ import annotations

from chalicelib.errors import Conflict
from chalicelib.services import addresses
from chalicelib.services.disclosures import erase_disclosure_text
from chalicelib.services.sensitive import destroy_all
from chalicelib.store import audit as audit_store
from chalicelib.store import customers as customer_store
from chalicelib.store import email_history, profile_revisions
from chalicelib.store import inquiries as inquiry_store
from chalicelib.store import orders as order_store
from chalicelib.store import tickets as ticket_store
from chalicelib.store.base import iso, utc_now
from chalicelib.store.inquiries import Inquiry
from chalicelib.store.states import InquiryStatus
from chalicelib.store.transact import WriteConflict, commit

PLACEHOLDER = "[erased]"
ERASED_STATES = (InquiryStatus.DISCARDED, InquiryStatus.ERASED)


def discard_inquiry(inquiry: Inquiry) -> None:
    """Erase an inquiry's content on review, unless its owner is under a legal hold
    (checked in the same transaction, so a hold placed meanwhile wins)."""
    owner = addresses.inquiry_owner(inquiry)
    writes = [inquiry_store.erase_inquiry_content(inquiry, InquiryStatus.DISCARDED, iso(utc_now()))]
    if owner:
        writes.append(customer_store.no_hold_in_force(owner))
    try:
        commit(writes)
    except WriteConflict:
        raise Conflict("The inquiry's customer is under a legal hold; it is kept.") from None


def erase_customer_content(customer_number: str) -> dict:
    entries = email_history.entries_of(customer_number)
    inquiries = {i.inquiry_id: i for i in inquiry_store.inquiries_of(customer_number)}
    inquiries.update({i.inquiry_id: i for i in addresses.anonymous_inquiries_of(customer_number, entries)})
    for inquiry in inquiries.values():
        if inquiry.status not in ERASED_STATES:
            commit([inquiry_store.erase_inquiry_content(inquiry, InquiryStatus.ERASED, iso(utc_now()))])
    tickets = ticket_store.tickets_of(customer_number)
    ticket_entries = sum(ticket_store.erase_ticket_content(t, PLACEHOLDER) for t in tickets)
    erase_disclosure_text(customer_number, PLACEHOLDER)  # purposes go; recipients and dates stay as proof
    destroy_all(customer_number)  # crypto-shredding: card, IBAN and ID numbers go with their data keys
    order_store.erase_orders_of(customer_number, PLACEHOLDER)  # billing details only: orders are kept
    reasons = audit_store.scrub_reasons(customer_number, "customer", PLACEHOLDER)
    revisions = profile_revisions.delete_revisions_of(customer_number)
    email_history.delete_entries(entries)
    return {
        "inquiries": len(inquiries),
        "tickets": len(tickets),
        "ticket_entries": ticket_entries,
        "audit_reasons": reasons,
        "profile_revisions": revisions,
        "addresses": len(entries),
    }
