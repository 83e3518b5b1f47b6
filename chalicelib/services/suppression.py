"""Suppression: mail stops going to an address that hard-bounced or complained.

SES publishes our configuration set's bounce and complaint events to EventBridge; a rule
(infra/) hands them to the `record_mail_suppressions` function, which records each
hard-bounced or complaining recipient here. `mailer.send` refuses a suppressed recipient
(`MailRejected`), whatever the kind of mail: SES counts bounces and complaints against
the whole account, transactional mail included.
"""

from __future__ import annotations

import hashlib
from email.utils import parseaddr

from chalicelib.errors import NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services.accounts import require_customer
from chalicelib.services.email_address import email_key
from chalicelib.store import suppressions as store
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import iso, parse_iso, utc_now
from chalicelib.store.transact import commit

SUPPRESSING_BOUNCE = "Permanent"  # SES bounceType of a hard bounce; Transient/Undetermined pass
SUPPRESSED = "RecipientSuppressed"  # the MailRejected code mailer.send raises for such an address


def address_hash(address: str) -> str:
    return hashlib.sha256(email_key(parseaddr(address)[1]).encode()).hexdigest()


def is_suppressed(address: str) -> bool:
    record = store.get_suppression(address_hash(address))
    return record is not None and record.in_force


def suppressed_among(addresses: list[str | None]) -> set[str]:
    """Which of the addresses are suppressed, read at once (BatchGetItem) for bulk mail."""
    hashes = {address: address_hash(address) for address in addresses if address}
    in_force = store.suppressed(set(hashes.values()))
    return {address for address, digest in hashes.items() if digest in in_force}


def suppression_of(address: str | None) -> dict | None:
    """What ops see for an address: why mail to it stopped and since when; None if it did not."""
    record = store.get_suppression(address_hash(address)) if address else None
    if record is None:
        return None
    return {
        "in_force": record.in_force,
        "reason": record.reason,
        "detail": record.detail,
        "since": record.first_at,
        "last_event_at": record.last_at,
        "events": int(record.events),
        "ses_message_id": record.last_message_id,
        "lifted_at": record.lifted_at,
        "lift_reason": record.lift_reason,
    }


def lift_suppression(customer_number: str, reason: str) -> dict:
    """Ops lift a customer's suppression (say, a complaint made by mistake, confirmed with
    them). The record stays; a new bounce or complaint suppresses the address again."""
    customer = require_customer(customer_number)
    if not store.lift(address_hash(customer.email), iso(utc_now()), reason):
        raise NotFound("Mail to this customer's address is not suppressed.")
    commit([audit_entry(customer_number, "mail_suppression_lifted", "ops", None, reason)])
    count("mail_suppression_lifted")
    view = suppression_of(customer.email)
    assert view is not None  # the record stays when lifted
    return view


def record_ses_event(event: dict) -> dict:
    """Record the recipients of one SES bounce or complaint event (EventBridge envelope).
    Soft bounces are counted, not recorded: the address may work tomorrow."""
    detail = event["detail"]
    if "bounce" in detail:
        feedback, reason = detail["bounce"], "bounce"
        if feedback.get("bounceType") != SUPPRESSING_BOUNCE:
            count("mail_bounce_soft")
            return {"suppressed": 0}
        recipients, kind = feedback["bouncedRecipients"], feedback.get("bounceSubType")
    else:
        feedback, reason = detail["complaint"], "complaint"
        recipients, kind = feedback["complainedRecipients"], feedback.get("complaintFeedbackType")
    at = _timestamp(feedback.get("timestamp"))
    message_id = (detail.get("mail") or {}).get("messageId")
    for recipient in recipients:
        store.record_event(address_hash(recipient["emailAddress"]), reason, kind, at, message_id)
    count(f"mail_suppressed_{reason}", len(recipients))
    get_logger().info(
        "mail suppressed",
        extra={"reason": reason, "detail": kind, "recipients": len(recipients), "ses_message_id": message_id},
    )
    return {"suppressed": len(recipients)}


def _timestamp(text: str | None) -> str:
    try:
        return iso(parse_iso(text)) if text else iso(utc_now())
    except ValueError:
        return iso(utc_now())
