"""Deactivation, retention, legal holds and anonymization.

The policy: on cancellation, voluntary or not, personal data goes to "deactivated" status
and is retained for legal obligations, disputes and enforcement. Deactivation never
deletes. Only after the review date, with no legal hold in force, may ops anonymize a
customer: personal values are replaced by placeholders everywhere they are stored, while
the facts (dates, counts, consent event types, the anonymization itself) remain.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from chalicelib.errors import (
    AccountDeactivated,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from chalicelib.observability import count
from chalicelib.services import accounts, addresses, sessions, throttle
from chalicelib.services.erasure import PLACEHOLDER, erase_customer_content
from chalicelib.services.retry import retry_on_conflict
from chalicelib.settings import get_settings
from chalicelib.store import customers as customer_store
from chalicelib.store import profile_revisions
from chalicelib.store import retention as store
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import as_plain, iso, parse_iso, utc_now
from chalicelib.store.customers import Customer
from chalicelib.store.retention import LegalHold, RetentionRecord
from chalicelib.store.states import CustomerStatus, HoldAction
from chalicelib.store.transact import WriteConflict, commit, put_new

ANONYMIZED_NAME = "[anonymized]"


def deactivate_by_customer(customer_number: str, password: str, reason: str | None, request_id: str | None) -> dict:
    customer = accounts.require_customer(customer_number)
    if not throttle.checked_password(customer.email, lambda: accounts.password_matches(customer, password)):
        raise Forbidden("The password is incorrect.")
    return deactivate_customer(customer_number, "customer", reason, request_id)


def deactivate_customer(
    customer_number: str,
    initiated_by: str,
    reason: str | None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Status to `deactivated` and a retention record, in one transaction; then every
    session is revoked. Deactivating a deactivated account returns its retention record."""
    now = now or utc_now()

    def attempt() -> dict:
        customer = accounts.require_customer(customer_number)
        if not customer.is_active:
            return _existing_retention(customer)
        record = _new_retention_record(customer_number, initiated_by, reason, now)
        commit(
            [
                customer_store.deactivate_customer_item(customer, iso(now)),
                put_new(record),
                audit_entry(customer_number, "deactivated", initiated_by, ["status"], reason, request_id),
            ]
        )
        sessions.revoke_all_sessions(customer_number)
        count("customer_deactivated")
        return retention_view(record, store.holds_of(customer_number))

    return retry_on_conflict(attempt, "The account changed while it was being deactivated; please retry.")


def _new_retention_record(
    customer_number: str, initiated_by: str, reason: str | None, now: datetime
) -> RetentionRecord:
    settings = get_settings()
    return RetentionRecord(
        customer_number,
        initiated_by=initiated_by,
        reason=reason,
        legal_bases=list(settings.legal_bases),
        record_bases=dict(settings.record_legal_bases),
        deactivated_at=iso(now),
        review_at=iso(now + timedelta(days=settings.retention_days)),
    )


def _existing_retention(customer: Customer) -> dict:
    record = store.get_retention_record(customer.customer_number)
    if record is None:
        raise AccountDeactivated("This account is not active.")
    return retention_view(record, store.holds_of(customer.customer_number))


def retention_view(record: RetentionRecord | None, holds: list[LegalHold]) -> dict:
    view = {"holds": [hold_view(h) for h in holds if h.released_at is None]}
    if record is None:
        return view
    return {
        "customer_number": record.customer_number,
        "status": CustomerStatus.ANONYMIZED if record.anonymized_at else CustomerStatus.DEACTIVATED,
        "initiated_by": record.initiated_by,
        "reason": record.reason,
        "legal_bases": list(record.legal_bases),
        "record_bases": as_plain(record.record_bases) or {},
        "deactivated_at": record.deactivated_at,
        "review_at": record.review_at,
        "anonymized_at": record.anonymized_at,
        **view,
    }


def hold_view(hold: LegalHold) -> dict:
    return {
        "hold_id": hold.hold_id,
        "reason": hold.reason,
        "placed_at": hold.placed_at,
        "released_at": hold.released_at,
        "release_reason": hold.release_reason,
    }


def retention_state(customer_number: str) -> dict:
    """For ops_customer_record: the retention record (if any) and every hold, released ones too."""
    holds = store.holds_of(customer_number)
    record = store.get_retention_record(customer_number)
    return {
        "retention": retention_view(record, holds) if record else None,
        "legal_holds": [hold_view(h) for h in holds],
    }


def change_legal_hold(customer_number: str, action: str, reason: str, hold_id: str | None = None) -> dict:
    """Place or release a hold. The customer's hold count moves in the same transaction
    (version-checked), so an anonymization racing a new hold fails instead of erasing."""
    hold_action = HoldAction(action)  # the schema allows only its values

    def attempt() -> None:
        customer = accounts.require_customer(customer_number)
        holds = store.holds_of(customer_number)
        commit(
            _place(customer, reason) if hold_action is HoldAction.PLACE else _release(customer, holds, reason, hold_id)
        )

    retry_on_conflict(attempt, "The account changed meanwhile; please retry.")
    count(f"legal_hold_{hold_action}d")
    in_force = [h for h in store.holds_of(customer_number) if h.released_at is None]
    if not in_force:
        _forget_preserved_values(customer_number)
    return {"customer_number": customer_number, "holds": [hold_view(h) for h in in_force]}


def _forget_preserved_values(customer_number: str) -> None:
    """The last hold is gone, and with it the reason to keep values the customer corrected
    under it. Each delete is conditional on no hold in force, so a new hold keeps them."""
    try:
        profile_revisions.delete_unless_held(customer_number)
    except WriteConflict:
        pass  # a new hold was placed meanwhile: the values stay


def _place(customer: Customer, reason: str) -> list:
    now = iso(utc_now())
    hold = LegalHold(customer.customer_number, f"H{uuid.uuid4().hex[:16]}", reason=reason, placed_at=now)
    return [
        put_new(hold),
        customer_store.count_hold(customer, 1),
        audit_entry(customer.customer_number, "legal_hold_placed", "ops", None, reason),
    ]


def _release(customer: Customer, holds: list[LegalHold], reason: str, hold_id: str | None) -> list:
    in_force = [h for h in holds if h.released_at is None]
    if hold_id:
        in_force = [h for h in in_force if h.hold_id == hold_id]
    if not in_force:
        raise NotFound("No such legal hold in force.")
    if len(in_force) > 1:
        raise ValidationFailed(
            "Several holds are in force: name the one to release.",
            [{"path": "hold_id", "message": "is required when several holds are in force"}],
        )
    return [
        store.release_hold(in_force[0], iso(utc_now()), reason),
        customer_store.count_hold(customer, -1),
        audit_entry(customer.customer_number, "legal_hold_released", "ops", None, reason),
    ]


def customers_due_for_review(now: datetime | None = None) -> dict:
    due = store.records_due_for_review(iso(now or utc_now()))
    return {"due": [retention_view(r, store.holds_of(r.customer_number)) for r in due]}


def anonymize_customer(customer_number: str, now: datetime | None = None) -> dict:
    """Irreversible and idempotent. Refused (conflict) before the review date or under a
    hold. First the customer item, its email claim and the retention record change in one
    transaction; then the customer's other records are scrubbed (safe to repeat)."""
    now = now or utc_now()
    customer = accounts.require_customer(customer_number)
    if not customer.is_anonymized:
        _anonymize_account(customer, now)
    record = store.get_retention_record(customer_number)
    assert record is not None  # an anonymized customer has one (anonymizing requires it)
    if record.erasure_pending:
        erase_customer_content(customer_number)
        store.clear_erasure_pending(customer_number)
        count("customer_anonymized")
    return retention_view(store.get_retention_record(customer_number), store.holds_of(customer_number))


def _anonymize_account(customer: Customer, now: datetime) -> None:
    record = store.get_retention_record(customer.customer_number)
    if not customer.is_deactivated or record is None:
        raise Conflict("Only a deactivated customer can be anonymized.")
    if now < parse_iso(record.review_at):
        raise Conflict(f"The retention review date ({record.review_at}) has not passed.")
    if customer.holds_in_force:
        raise Conflict("A legal hold is in force.")
    number, key = customer.customer_number, accounts.email_key(customer.email)
    writes = [
        customer_store.anonymize_customer_item(
            customer, ANONYMIZED_NAME, f"anonymized-{number.lower()}@invalid", "!" + secrets.token_hex(16), iso(now)
        ),
        customer_store.release_email_claim(key, number),
        addresses.address_released(number, key, customer.created_at, iso(now)),
        store.mark_anonymized(record, iso(now), PLACEHOLDER),
        audit_entry(number, "anonymized", "ops", ["name", "email", "phone", "address"]),
    ]
    try:
        commit(writes)
    except WriteConflict:
        raise Conflict("The account changed meanwhile (a hold may have been placed); nothing was erased.") from None
