"""Forgotten passwords: a reset link by email, and the new password set with it.

`request_reset` answers the same whether or not the address belongs to anyone (the route
always says 202), and each address gets at most `password_reset_mails_per_hour` emails,
counted for unknown addresses too so the limit reveals nothing either. A reset link lasts
`password_reset_minutes`, works once, and dies when the password changes by any means.
"""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services import account_tokens, accounts, mail_limits, mailer, sessions
from chalicelib.settings import get_settings
from chalicelib.store import customers as customer_store
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import iso, utc_now
from chalicelib.store.transact import WriteConflict, commit

PURPOSE = "password_reset"
HOUR_SECONDS = 3600


def request_reset(email: str) -> None:
    settings = get_settings()
    if not mail_limits.may_send(PURPOSE, email, settings.password_reset_mails_per_hour, HOUR_SECONDS):
        return
    claim = customer_store.get_email_claim(accounts.email_key(email))
    customer = customer_store.get_customer(claim.customer_number) if claim else None
    if customer is None or not customer.is_active:
        count("password_reset_unknown")
        return
    token = account_tokens.issue(
        PURPOSE, customer.customer_number, customer.password_hash, settings.password_reset_minutes * 60
    )
    try:
        mailer.send(
            mailer.Email(
                recipient=customer.email,
                subject="Reset your password",
                template="password_reset",
                context={
                    "reset_url": f"{settings.public_base_url}/password-reset?token={token}",
                    "minutes": settings.password_reset_minutes,
                },
                customer_number=customer.customer_number,
            )
        )
        count("password_reset_sent")
    except Exception:
        get_logger().exception("password reset email not sent", extra={"customer_number": customer.customer_number})
        count("mail_failed")


def confirm_reset(token: str, password: str, request_id: str | None) -> dict:
    """Set the new password (argon2id) and spend the token in one transaction, then end
    every session of the customer."""
    customers = {}

    def current_password_hash(customer_number: str) -> str | None:
        customers[customer_number] = customer = customer_store.get_customer(customer_number)
        return customer.password_hash if customer is not None and customer.is_active else None

    item, spend = account_tokens.redeem(PURPOSE, token, current_password_hash)
    customer = customers[item.customer_number]
    assert customer is not None  # redeem refused the token otherwise
    new_hash = accounts.hash_password(password)
    try:
        commit(
            [
                spend,
                customer_store.set_password_hash(customer, new_hash, iso(utc_now())),
                audit_entry(
                    customer.customer_number, "password_reset", "customer", ["password"], request_id=request_id
                ),
            ]
        )
    except WriteConflict:
        raise NotFound(account_tokens.INVALID) from None
    sessions.revoke_all_sessions(customer.customer_number)
    count("password_reset")
    return {"password_reset": True}
