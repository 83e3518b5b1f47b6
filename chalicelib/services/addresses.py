"""Who held an email address, and when: so that what someone sent from an address while
logged out is attributed to exactly one customer, and anonymization reaches it under
every address that customer ever had, and nobody else's.

An anonymous inquiry from address A at time t belongs to the customer who held A at t;
if nobody did, to the next customer to claim A after t (a prospect who then signed up),
else to the last one who held it before t.
"""

from __future__ import annotations

from chalicelib.store import email_history as history
from chalicelib.store import inquiries as inquiry_store
from chalicelib.store.email_history import EmailHistoryEntry, Holding
from chalicelib.store.inquiries import Inquiry
from chalicelib.store.transact import Write


def owner_at(holdings: list[Holding], at: str) -> str | None:
    holding = [h for h in holdings if h.claimed_at <= at and (h.released_at is None or at < h.released_at)]
    if holding:
        return holding[0].customer_number
    later = sorted((h for h in holdings if h.claimed_at > at), key=lambda h: h.claimed_at)
    if later:
        return later[0].customer_number
    earlier = sorted(holdings, key=lambda h: h.released_at or "")
    return earlier[-1].customer_number if earlier else None


def inquiry_owner(inquiry: Inquiry) -> str | None:
    """The customer an inquiry belongs to: the one logged in when it was sent, else the
    one its address is attributed to (None: no customer ever held the address)."""
    if inquiry.customer_number:
        return inquiry.customer_number
    if not inquiry.email_key:
        return None
    return owner_at(history.holdings_of_address(inquiry.email_key), inquiry.created_at)


def anonymous_inquiries_of(customer_number: str, entries: list[EmailHistoryEntry]) -> list[Inquiry]:
    """Inquiries sent while logged out, from any address the customer held, that belong to them."""
    found = []
    for email_key in {e.email_key for e in entries}:
        holdings = history.holdings_of_address(email_key)
        found += [
            i
            for i in inquiry_store.anonymous_inquiries_from(email_key)
            if owner_at(holdings, i.created_at) == customer_number
        ]
    return found


def first_address(customer_number: str, email_key: str, at: str) -> Write:
    return history.claim_address(customer_number, email_key, at)


def address_change(customer_number: str, old_key: str, new_key: str, since: str, at: str) -> list[Write]:
    """Close the old address's entry and open the new one's."""
    return [address_released(customer_number, old_key, since, at), history.claim_address(customer_number, new_key, at)]


def address_released(customer_number: str, email_key: str, since: str, at: str) -> Write:
    """Close the customer's open entry for the address. A customer from before the history
    existed gets the entry back-filled from `since` (signup)."""
    open_entries = [
        e for e in history.entries_of(customer_number) if e.email_key == email_key and e.released_at is None
    ]
    if open_entries:
        return history.release_address(open_entries[-1], at)
    return history.claim_address(customer_number, email_key, since, released_at=at)
