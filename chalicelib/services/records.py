"""Everything held about one customer, in one document: the customer's export and the
ops view (which adds retention state)."""

from __future__ import annotations

from chalicelib.services import accounts, mailer, preferences, support
from chalicelib.services.inquiries import inquiry_view
from chalicelib.services.retention import retention_state
from chalicelib.services.suppression import suppression_of
from chalicelib.store import audit as audit_store
from chalicelib.store import inquiries as inquiry_store
from chalicelib.store import tickets as ticket_store


def personal_records(customer_number: str) -> dict:
    # The notice dispatcher's module: the API loads it only for this.
    from chalicelib.services.notices import notices_of

    customer = accounts.require_customer(customer_number)
    return {
        "profile": accounts.profile(customer),
        "preferences": {"topics": preferences.current_topics(customer),
                        "history": preferences.consent_history(customer_number)},
        "inquiries": [inquiry_view(i) for i in inquiry_store.inquiries_of(customer_number)],
        "tickets": [support.ticket_detail(t) for t in ticket_store.tickets_of(customer_number)],
        "audit_trail": [_audit_view(e) for e in audit_store.entries_of(customer_number)],
        "messages_sent": mailer.messages_sent_to(customer_number),
        "notices": notices_of(customer_number),
        "suppression": suppression_of(customer.email),  # why mail to the address stopped, if it did
    }


def customer_record(customer_number: str) -> dict:
    """The ops view: the same records, retained data included, with the account status
    (and abuse cases naming the customer, which the customer's export leaves out)."""
    from chalicelib.services.abuse import cases_of

    records = personal_records(customer_number)
    return {"customer_number": customer_number, "status": records["profile"]["status"], **records,
            **retention_state(customer_number), "abuse_cases": cases_of(customer_number)}


def _audit_view(entry) -> dict:
    return {"action": entry.action, "actor": entry.actor, "fields": list(entry.fields or []),
            "reason": entry.reason, "at": entry.at}

