"""The contact form: store what was sent, acknowledge it by email."""

from __future__ import annotations

import uuid

from chalicelib.errors import Conflict, NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services import mail_limits, mailer
from chalicelib.services.email_address import email_key, normalize_email
from chalicelib.services.erasure import discard_inquiry
from chalicelib.settings import get_settings
from chalicelib.store import inquiries as store
from chalicelib.store.base import as_plain, iso, utc_now
from chalicelib.store.inquiries import Inquiry
from chalicelib.store.states import InquiryStatus, ReviewDecision

DAY_SECONDS = 86400


def receive_inquiry(data: dict, customer_number: str | None) -> str:
    inquiry = Inquiry(
        "I" + uuid.uuid4().hex,
        customer_number=customer_number,
        name=data["name"],
        email=normalize_email(data["email"]),
        email_key=email_key(data["email"]),
        phone=data.get("phone"),
        address=data.get("address"),
        topic=data["topic"],
        message=data["message"],
        status=InquiryStatus.RECEIVED,
        created_at=iso(utc_now()),
    )
    store.save_new_inquiry(inquiry)
    count("inquiry_received")
    _acknowledge(inquiry)
    return inquiry.inquiry_id


def _acknowledge(inquiry: Inquiry) -> None:
    """The inquiry is stored whatever happens to its acknowledgement; a failed send is
    logged and counted, not turned into an error for the person who wrote to us.
    Nobody has proven they own the address, so the acknowledgement quotes nothing they
    wrote (no name, no message: it cannot carry a phishing text from our domain), and one
    address gets at most `contact_acks_per_day` of them."""
    if not mail_limits.may_send("contact_ack", inquiry.email, get_settings().contact_acks_per_day, DAY_SECONDS):
        return
    email = mailer.Email(
        recipient=inquiry.email,
        subject="We received your message",
        template="contact_ack",
        customer_number=inquiry.customer_number,
        context={"topic": inquiry.topic, "inquiry_id": inquiry.inquiry_id, "received_at": inquiry.created_at},
    )
    try:
        mailer.send(email)
        count("inquiry_acknowledged")
    except Exception:
        get_logger().exception("contact acknowledgement not sent", extra={"inquiry_id": inquiry.inquiry_id})
        count("mail_failed")


def inquiry_view(inquiry: Inquiry) -> dict:
    return {
        "inquiry_id": inquiry.inquiry_id,
        "topic": inquiry.topic,
        "name": inquiry.name,
        "email": inquiry.email,
        "phone": inquiry.phone,
        "address": as_plain(inquiry.address),
        "message": inquiry.message,
        "status": inquiry.status,
        "created_at": inquiry.created_at,
        "reviewed_at": inquiry.reviewed_at,
    }


def review_inquiry(inquiry_id: str, decision: str) -> dict:
    """Ops review: keep it, or discard it (its personal content is erased; the fact and
    the dates remain). Discarding twice is harmless; keeping a discarded one is refused;
    discarding the inquiry of a customer under a legal hold is refused."""
    verdict = ReviewDecision(decision)  # the schema allows only its values
    inquiry = store.get_inquiry(inquiry_id)
    if inquiry is None:
        raise NotFound("No such inquiry.")
    if verdict is ReviewDecision.DISCARD:
        if inquiry.status != InquiryStatus.DISCARDED:
            discard_inquiry(inquiry)
    elif not store.mark_reviewed(inquiry, InquiryStatus.KEPT, iso(utc_now())):
        raise Conflict("This inquiry was discarded; its content no longer exists.")
    count(f"inquiry_{verdict}")
    reviewed = store.get_inquiry(inquiry_id)
    assert reviewed is not None  # inquiries are never deleted
    return inquiry_view(reviewed)
