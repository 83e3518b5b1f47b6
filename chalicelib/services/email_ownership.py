"""Proof that a customer owns their email address: a verification link sent at signup and
on every email change (with a notice to the old address), `POST /verify-email` to use it.
Marketing goes only to verified addresses; legal notices and transactional mail go to
every address."""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services import account_tokens, mail_limits, mailer, suppression
from chalicelib.services.email_address import email_key
from chalicelib.settings import get_settings
from chalicelib.store import customers as customer_store
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import iso, utc_now
from chalicelib.store.transact import Write, WriteConflict, commit

PURPOSE = "verify_email"
HOUR_SECONDS = 3600
RESENDS_PER_HOUR = 3
DELIVERABLE = "deliverable"  # the label of prepared_verification's suppression condition


def _new_token(customer_number: str, email: str) -> tuple[str, Write]:
    lifetime = get_settings().verify_email_hours * HOUR_SECONDS
    return account_tokens.issued(PURPOSE, customer_number, email_key(email), lifetime)


def prepared_verification(customer_number: str, email: str) -> tuple[str, dict[str, Write]]:
    """A new verification token for `email` and the writes for the caller's transaction:
    the token, and (labelled `DELIVERABLE`) the condition that no suppression of the
    address is in force. After the commit, `send_verification(..., token)` sends the link
    without reading the suppression again. When `DELIVERABLE` fails the address is
    suppressed: commit without these writes, and send nothing."""
    token, write = _new_token(customer_number, email)
    return token, {"verification_token": write, DELIVERABLE: suppression.not_suppressed(email)}


def send_verification(customer_number: str, email: str, token: str | None = None) -> None:
    """Send a verification link to `email`: with `token` when the caller committed
    `prepared_verification`'s writes, else a new one. The account change that called it
    is already made: a failure here is logged and counted, not raised."""
    settings = get_settings()
    try:
        checked = token is not None
        if token is None:
            token, write = _new_token(customer_number, email)
            commit([write])
        _send(
            email,
            customer_number,
            "Confirm your email address",
            "verify_email",
            {
                "verify_url": f"{settings.public_base_url}/verify-email?token={token}",
                "days": settings.verify_email_hours // 24,
            },
            suppressed=False if checked else None,
        )
        count("email_verification_sent")
    except Exception:
        get_logger().exception("email verification not sent", extra={"customer_number": customer_number})
        count("mail_failed")


def email_changed(customer_number: str, old_email: str, new_email: str) -> None:
    """After an email change: a verification link to the new address and a notice to the
    old one (which names no new address: its reader may not be the account's owner)."""
    send_verification(customer_number, new_email)
    try:
        _send(
            old_email,
            customer_number,
            "The email address of your account was changed",
            "email_changed",
            {"changed_at": iso(utc_now()), "reset_url": f"{get_settings().public_base_url}/password-reset"},
        )
    except Exception:
        get_logger().exception("email change notice not sent", extra={"customer_number": customer_number})
        count("mail_failed")


def resend_verification(customer_number: str) -> None:
    """Another link to the customer's current address, unless it is verified already;
    at most a few an hour."""
    customer = customer_store.get_customer(customer_number)
    if customer is None or customer.email_verified_at:
        return
    if mail_limits.may_send(PURPOSE, customer.email, RESENDS_PER_HOUR, HOUR_SECONDS):
        send_verification(customer_number, customer.email)


def _send(
    recipient: str, customer_number: str, subject: str, template: str, context: dict, suppressed: bool | None = None
) -> None:
    mailer.send(
        mailer.Email(
            recipient=recipient,
            subject=subject,
            template=template,
            context=context,
            customer_number=customer_number,
        ),
        suppressed=suppressed,
    )


def verify(token: str, request_id: str | None) -> dict:
    """Mark the address the token was sent to as verified and spend the token, in one
    transaction. A token for an address the customer no longer has is not valid."""
    customers = {}

    def current_address(customer_number: str) -> str | None:
        customers[customer_number] = customer = customer_store.get_customer(customer_number)
        return email_key(customer.email) if customer is not None and customer.is_active else None

    item, spend = account_tokens.redeem(PURPOSE, token, current_address)
    customer = customers[item.customer_number]
    assert customer is not None  # redeem refused the token otherwise
    now = iso(utc_now())
    try:
        commit(
            [
                spend,
                customer_store.mark_email_verified(customer, now),
                audit_entry(
                    customer.customer_number, "email_verified", "customer", ["email_verified"], request_id=request_id
                ),
            ]
        )
    except WriteConflict:
        raise NotFound(account_tokens.INVALID) from None  # spent, or the account changed meanwhile
    count("email_verified")
    return {"email_verified": True}
