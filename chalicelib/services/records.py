"""Everything held about one customer, in one document: the customer's export and the
ops view (which adds retention state)."""

from __future__ import annotations

from chalicelib.services import accounts, mailer, preferences, support
from chalicelib.services.disclosures import disclosures_view
from chalicelib.services.identity_documents import identity_document_of
from chalicelib.services.inquiries import inquiry_view
from chalicelib.services.orders import orders_of
from chalicelib.services.payment_methods import payment_methods_of
from chalicelib.services.retention import retention_state
from chalicelib.services.sensitive import reveals_of
from chalicelib.services.suppression import suppression_of
from chalicelib.store import audit as audit_store
from chalicelib.store import inquiries as inquiry_store
from chalicelib.store import profile_revisions
from chalicelib.store import retention as retention_store
from chalicelib.store import tickets as ticket_store
from chalicelib.store.base import as_plain


def personal_records(customer_number: str, internal: bool = False) -> dict:
    """The customer's export; `internal` (ops only) includes ops' notes."""
    # The notice dispatcher's module: the API loads it only for this.
    from chalicelib.services.notices import notices_of

    customer = accounts.require_customer(customer_number)
    return {
        "profile": accounts.profile(customer),
        "preferences": {
            "topics": preferences.current_topics(customer),
            "history": preferences.consent_history(customer_number),
        },
        "inquiries": [inquiry_view(i) for i in inquiry_store.inquiries_of(customer_number)],
        "tickets": [support.ticket_detail(t) for t in ticket_store.tickets_of(customer_number)],
        "audit_trail": [_audit_view(e, internal) for e in audit_store.entries_of(customer_number)],
        # That a hold exists and since when, never ops' reason (it could tip off an investigation).
        "legal_holds": [
            {"placed_at": h.placed_at, "released_at": h.released_at} for h in retention_store.holds_of(customer_number)
        ],
        "messages_sent": mailer.messages_sent_to(customer_number),
        "notices": notices_of(customer_number),
        "disclosures": disclosures_view(customer_number),  # permissions granted and every disclosure made
        "suppression": suppression_of(customer.email),  # why mail to the address stopped, if it did
        "payment_methods": payment_methods_of(customer_number),  # masked
        "identity_document": identity_document_of(customer_number),  # masked
        "sensitive_reveals": reveals_of(customer_number),  # each ops_reveal_sensitive: item, reason, at, by
        "orders": orders_of(customer_number),  # financial records: kept after deactivation
    }


def customer_record(customer_number: str) -> dict:
    """The ops view: the same records, retained data included, with the account status
    (and abuse cases naming the customer, which the customer's export leaves out)."""
    from chalicelib.services.abuse import cases_of

    records = personal_records(customer_number, internal=True)
    state = retention_state(customer_number)
    return {
        "customer_number": customer_number,
        "status": records["profile"]["status"],
        **records,
        **state,
        "preserved_profile_values": _preserved_values(customer_number, state),
        "abuse_cases": cases_of(customer_number),
    }


INTERNAL_ACTIONS = ("legal_hold_placed", "legal_hold_released")


def _audit_view(entry: audit_store.AuditEntry, internal: bool) -> dict:
    shown = internal or entry.action not in INTERNAL_ACTIONS
    view = {
        "action": entry.action,
        "actor": entry.actor,
        "fields": list(entry.fields or []),
        "reason": entry.reason if shown else None,
        "at": entry.at,
    }
    if internal:  # which invocation, and who ran it where Lambda says (chalicelib/invocation.py)
        view.update(request_id=entry.request_id, caller=entry.caller)
    return view


def _preserved_values(customer_number: str, state: dict) -> list[dict]:
    """Profile values the customer corrected under a legal hold, while one is in force."""
    if not any(h["released_at"] is None for h in state["legal_holds"]):
        return []
    return [
        {"at": r.at, "fields": list(r.fields), "previous": as_plain(r.previous)}
        for r in profile_revisions.revisions_of(customer_number)
    ]
