"""Disclosure permissions and disclosures: "we will not give any information about you
to others without your express permission."

A customer grants a named recipient a permission (purpose, categories, optional expiry)
and may revoke it; both are recorded with the time, the policy version in force and the
request id, and nothing is deleted. Ops hand data to a third party only through
`disclose`: it needs an active, unexpired permission for that recipient covering every
category asked for, or one of the policy's own exceptions named as a legal basis with a
reference. Each disclosure is recorded in the same step as it is allowed, and the
customer sees it; a refused one records nothing.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from chalicelib.envelope import UnsealFailed
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.observability import count
from chalicelib.services import accounts, sensitive
from chalicelib.services.orders import orders_of
from chalicelib.store import disclosures as store
from chalicelib.store import policy as policy_store
from chalicelib.store import sensitive as sensitive_store
from chalicelib.store.base import as_plain, iso, parse_iso, utc_now
from chalicelib.store.customers import Customer
from chalicelib.store.disclosures import Disclosure, DisclosurePermission
from chalicelib.store.states import PermissionStatus
from chalicelib.store.transact import WriteConflict, commit

CATEGORIES = ("contact", "address", "orders", "identity_document")
PERMISSION_ID = re.compile(r"P[0-9a-f]{16}")
OPS_ACTOR = "ops"


def grant_permission(customer_number: str, data: dict, request_id: str | None) -> dict:
    now = utc_now()
    expires_at = _future_time(data.get("expires_at"), now, "expires_at")
    permission = DisclosurePermission(
        customer_number,
        f"P{uuid.uuid4().hex[:16]}",
        recipient=data["recipient"],
        recipient_key=recipient_key(data["recipient"]),
        purpose=data["purpose"],
        categories=_ordered(data["categories"]),
        expires_at=expires_at,
        granted_at=iso(now),
        granted_policy_version=policy_store.version_in_force(),
        granted_request_id=request_id,
    )
    store.new_permission(permission)
    count("disclosure_permission_granted")
    return permission_view(permission, now)


def revoke_permission(customer_number: str, permission_id: str, request_id: str | None) -> None:
    """Revoked once; revoking again changes nothing. Another customer's id is unknown here."""
    permission = (
        store.get_permission(customer_number, permission_id) if PERMISSION_ID.fullmatch(permission_id) else None
    )
    if permission is None:
        raise NotFound("No such disclosure permission.")
    if store.revoke(permission, iso(utc_now()), policy_store.version_in_force(), request_id):
        count("disclosure_permission_revoked")


def disclosures_view(customer_number: str) -> dict:
    """What the customer sees (and the export holds): every permission, revoked and
    expired ones included, and every disclosure made; newest first."""
    now = utc_now()
    permissions = sorted(store.permissions_of(customer_number), key=lambda p: p.granted_at, reverse=True)
    made = sorted(store.disclosures_of(customer_number), key=lambda d: d.disclosed_at, reverse=True)
    return {
        "permissions": [permission_view(p, now) for p in permissions],
        "disclosures": [disclosure_view(d) for d in made],
    }


def disclose(event: dict, request_id: str | None) -> dict:
    """Ops: the requested categories of one customer's data for a third party, once the
    disclosure is allowed and recorded. Refused (forbidden) without a basis."""
    now = utc_now()
    customer = accounts.require_customer(event["customer_number"])
    categories = _ordered(event["categories"])
    basis, guards = _basis(customer, event, categories, now)
    data = {category: READERS[category](customer) for category in categories}
    disclosure = Disclosure(
        customer.customer_number,
        f"D{uuid.uuid4().hex[:16]}",
        recipient=event["recipient"],
        purpose=event["purpose"],
        categories=categories,
        basis=basis,
        disclosed_at=iso(now),
        actor=event.get("actor", OPS_ACTOR),
        request_id=request_id,
    )
    try:
        commit([store.new_disclosure(disclosure)] + guards)
    except WriteConflict:
        raise Forbidden("The permission was revoked meanwhile; nothing was disclosed.") from None
    count("customer_data_disclosed")
    return {"disclosure_id": disclosure.disclosure_id, "data": data}


def erase_disclosure_text(customer_number: str, placeholder: str) -> int:
    """Anonymization: the purposes (free text) of the customer's permissions and
    disclosures become the placeholder; the fact, recipient, categories, basis and dates
    stay as proof. Returns how many changed; safe to repeat."""
    items = store.permissions_of(customer_number) + store.disclosures_of(customer_number)
    return sum(store.replace_purpose(item, placeholder) for item in items)


def recipient_key(recipient: str) -> str:
    return recipient.strip().casefold()


def permission_status(permission: DisclosurePermission, now: datetime) -> PermissionStatus:
    if permission.revoked_at:
        return PermissionStatus.REVOKED
    if permission.expires_at and parse_iso(permission.expires_at) <= now:
        return PermissionStatus.EXPIRED
    return PermissionStatus.ACTIVE


def permission_view(permission: DisclosurePermission, now: datetime) -> dict:
    history = [
        {
            "event": "granted",
            "at": permission.granted_at,
            "policy_version": permission.granted_policy_version,
            "request_id": permission.granted_request_id,
        }
    ]
    if permission.revoked_at:
        history.append(
            {
                "event": "revoked",
                "at": permission.revoked_at,
                "policy_version": permission.revoked_policy_version,
                "request_id": permission.revoked_request_id,
            }
        )
    return {
        "permission_id": permission.permission_id,
        "recipient": permission.recipient,
        "purpose": permission.purpose,
        "categories": list(permission.categories),
        "granted_at": permission.granted_at,
        "expires_at": permission.expires_at,
        "revoked_at": permission.revoked_at,
        "status": permission_status(permission, now),
        "history": history,
    }


def disclosure_view(disclosure: Disclosure) -> dict:
    return {
        "disclosure_id": disclosure.disclosure_id,
        "recipient": disclosure.recipient,
        "purpose": disclosure.purpose,
        "categories": list(disclosure.categories),
        "disclosed_at": disclosure.disclosed_at,
        "basis": as_plain(disclosure.basis),
    }


def _basis(customer: Customer, event: dict, categories: list[str], now: datetime) -> tuple[dict, list]:
    """The basis to record, and the transaction parts that must hold when it is."""
    legal = event.get("legal_basis")
    if legal:
        return {"legal_basis": legal["kind"], "reference": legal["reference"]}, []
    if not customer.is_active:
        # A closed account's data is retained only for the policy's own exceptions.
        raise Forbidden("The account is not active: only a legal basis allows a disclosure.")
    permission = _covering_permission(customer.customer_number, event["recipient"], categories, now)
    if permission is None:
        raise Forbidden("No active permission of the customer covers this recipient and every category.")
    return {"permission_id": permission.permission_id}, [store.still_unrevoked(permission)]


def _covering_permission(
    customer_number: str, recipient: str, categories: list[str], now: datetime
) -> DisclosurePermission | None:
    key = recipient_key(recipient)
    covering = [
        p
        for p in store.permissions_of(customer_number)
        if p.recipient_key == key
        and permission_status(p, now) is PermissionStatus.ACTIVE
        and set(categories) <= set(p.categories)
    ]
    return max(covering, key=lambda p: p.granted_at, default=None)


def _future_time(text: str | None, now: datetime, path: str) -> str | None:
    if text is None:
        return None
    try:
        moment = parse_iso(text)
    except ValueError:
        raise ValidationFailed(
            "The request is not valid.", [{"path": path, "message": "is not a valid time"}]
        ) from None
    if moment <= now:
        raise ValidationFailed("The request is not valid.", [{"path": path, "message": "must be in the future"}])
    return iso(moment)


def _ordered(categories: list[str]) -> list[str]:
    return [category for category in CATEGORIES if category in categories]


def _contact(customer: Customer) -> dict:
    return {"name": customer.name, "email": customer.email, "phone": customer.phone}


def _address(customer: Customer) -> dict | None:
    return as_plain(customer.address)


def _orders(customer: Customer) -> list[dict]:
    return orders_of(customer.customer_number)  # as the customer sees them, newest first


def _identity_document(customer: Customer) -> dict | None:
    """The identity document with its number opened through KMS (this function's role
    may kms:Decrypt), or None when none is on file. One that does not open for this
    customer is refused: nothing is disclosed and nothing recorded."""
    item = sensitive_store.get(customer.customer_number, sensitive_store.IDENTITY_DOCUMENT)
    if item is None:
        return None
    try:
        number = sensitive.open_item(item)
    except UnsealFailed:
        raise Conflict("The stored identity document does not open for this customer.") from None
    return {"type": item.kind, "country": item.country, "number": number}


READERS = {
    "contact": _contact,
    "address": _address,
    "orders": _orders,
    "identity_document": _identity_document,
}
