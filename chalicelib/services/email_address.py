"""The one spelling of an email address that is stored: trimmed, its domain lower-cased
(the local part is the recipient's own and may be case-sensitive)."""

from __future__ import annotations


def normalize_email(email: str) -> str:
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else email.strip()


def email_key(email: str) -> str:
    """The one key of an address wherever addresses are matched or counted (email claims,
    address history, inquiries, throttles, limits, suppressions): trimmed, all lower-case."""
    return email.strip().lower()


def with_normalized_email(data: dict) -> dict:
    """`data` with its `email` field (if any) normalised."""
    return {**data, "email": normalize_email(data["email"])} if data.get("email") is not None else data
