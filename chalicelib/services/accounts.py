"""Customer accounts: signup, login, profile changes. Every change is audited."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

from chalicelib.errors import (
    AccountDeactivated,
    Conflict,
    NotFound,
    Unauthorized,
)
from chalicelib.observability import count
from chalicelib.services import addresses, policy_in_force, sessions, throttle
from chalicelib.services.email_address import email_key, normalize_email, with_normalized_email
from chalicelib.services.preferences import initial_topics
from chalicelib.services.retry import retry_on_conflict
from chalicelib.store import customers as customer_store
from chalicelib.store import profile_revisions
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import as_plain, iso, utc_now
from chalicelib.store.customers import Customer, EmailClaim
from chalicelib.store.transact import Write, WriteConflict, commit, put_new

if TYPE_CHECKING:
    from argon2 import PasswordHasher

PROFILE_FIELDS = ("name", "email", "phone", "address")
INVALID_LOGIN = "The email address or password is incorrect."


class LoggedIn(NamedTuple):
    customer_number: str
    session_token: str
    csrf_token: str


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended cost


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def new_customer_number() -> str:
    return "C" + str(secrets.randbelow(9 * 10**9) + 10**9)


def signup(
    data: dict, request_id: str | None, extra_writes: Callable[[Customer], list[Write]] | None = None
) -> LoggedIn:
    """Create the account, its email claim, its audit entry, its first session and its
    email verification token in one transaction, on condition that the policy version
    this process knows is still in force (consent events name it) and that the address
    is not suppressed (else without the token, and no link is sent). `extra_writes(customer)`
    adds writes that belong with it (consent events, the abuse rule's count)."""
    password_hash = hash_password(data["password"])
    ownership = _email_ownership()
    deliverable = True
    for _ in range(5):
        customer = _new_customer(data, password_hash)
        token, session_write = sessions.new_session(customer.customer_number)
        verification, verification_writes = ownership.prepared_verification(customer.customer_number, customer.email)
        writes = {
            **_account_writes(customer, data, request_id),
            "session": session_write,
            "policy_in_force": policy_in_force.still_in_force(),
            **(verification_writes if deliverable else {}),
        }
        writes.update({f"extra_{i}": w for i, w in enumerate(extra_writes(customer) if extra_writes else [])})
        try:
            commit(writes)
        except WriteConflict as conflict:
            if "email_claim" in conflict.failed:
                raise Conflict("An account with this email address already exists.") from None
            if "policy_in_force" in conflict.failed:
                policy_in_force.forget()  # another version came into force: read the pointer again
            deliverable = deliverable and ownership.DELIVERABLE not in conflict.failed
            continue  # or the random customer number was taken: draw another
        count("signup")
        if deliverable:
            ownership.send_verification(customer.customer_number, customer.email, verification)
        else:
            count("mail_suppressed")
        return LoggedIn(customer.customer_number, token, sessions.csrf_token(token))
    raise Conflict("Could not allocate a customer number; please retry.")


def _account_writes(customer: Customer, data: dict, request_id: str | None) -> dict[str, Write]:
    number = customer.customer_number
    return {
        "customer": put_new(customer),
        "email_claim": put_new(EmailClaim(email_key(data["email"]), customer_number=number)),
        "audit": audit_entry(number, "signup", "customer", list(_given(data)), request_id=request_id),
        "address_history": addresses.first_address(number, email_key(data["email"]), customer.created_at),
    }


def _given(data: dict) -> dict:
    return {field: data[field] for field in PROFILE_FIELDS if data.get(field) is not None}


def _new_customer(data: dict, password_hash: str) -> Customer:
    now = iso(utc_now())
    return Customer(
        new_customer_number(),
        name=data["name"],
        email=normalize_email(data["email"]),
        phone=data.get("phone"),
        address=data.get("address"),
        password_hash=password_hash,
        marketing=initial_topics(data.get("marketing")),
        created_at=now,
        updated_at=now,
    )


def login(email: str, password: str) -> LoggedIn:
    claim = customer_store.get_email_claim(email_key(email))
    customer = customer_store.get_customer(claim.customer_number) if claim else None
    if not throttle.checked_password(email, lambda: password_matches(customer, password)):
        count("login_failed")
        raise Unauthorized(INVALID_LOGIN)
    assert customer is not None  # the password matched, so the customer exists
    if not customer.is_active:
        raise AccountDeactivated("This account has been deactivated.")
    token, session_write = sessions.new_session(customer.customer_number)
    try:
        commit([customer_store.still_active(customer.customer_number), session_write])
    except WriteConflict:
        raise AccountDeactivated("This account has been deactivated.") from None
    count("login")
    return LoggedIn(customer.customer_number, token, sessions.csrf_token(token))


def password_matches(customer: Customer | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    if customer is None:
        _spend_equal_time(password)
        return False
    try:
        return hasher.verify(customer.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_hex(16))


def _spend_equal_time(password: str) -> None:
    """Verify against a throwaway hash so an unknown email costs what a wrong password does."""
    from argon2.exceptions import VerificationError

    try:
        _hasher().verify(_dummy_hash(), password)
    except VerificationError:
        pass


def logout(token: str) -> None:
    sessions.revoke_session(token)


def require_customer(customer_number: str) -> Customer:
    customer = customer_store.get_customer(customer_number)
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def profile(customer: Customer) -> dict:
    return {
        "customer_number": customer.customer_number,
        "name": customer.name,
        "email": customer.email,
        "email_verified": bool(customer.email_verified_at),
        "phone": customer.phone,
        "address": as_plain(customer.address),
        "status": customer.status,
        "created_at": customer.created_at,
    }


def get_profile(customer_number: str) -> dict:
    return profile(require_customer(customer_number))


def update_profile(
    customer_number: str, changes: dict, request_id: str | None, customer: Customer | None = None
) -> dict:
    """Apply a profile change in one transaction: the customer (version-checked), the
    email claims when the email changes, and the audit entry naming the fields. `customer`
    is the one the caller read already (with its session): the first attempt uses it, a
    retry after a conflict reads it again."""
    changes = with_normalized_email(changes)
    already_read = [customer] if customer is not None else []

    def attempt() -> dict:
        current = already_read.pop() if already_read else require_customer(customer_number)
        _refuse_unless_active(current)
        changed = {f: v for f, v in changes.items() if as_plain(getattr(current, f)) != v}
        if not changed:
            return profile(current)
        try:
            commit(_profile_writes(current, changed, request_id))
        except WriteConflict as conflict:
            if "new_email_claim" in conflict.failed:
                raise Conflict("An account with this email address already exists.") from None
            raise  # someone else changed the account meanwhile: re-read and re-apply
        count("account_updated")
        if _email_key_changed(current, changed):
            _email_ownership().email_changed(current.customer_number, current.email, changed["email"])
            changed["email_verified"] = False
        return {**profile(current), **changed}

    return retry_on_conflict(attempt, "The account changed while it was being updated; please retry.")


def _refuse_unless_active(customer: Customer) -> None:
    if not customer.is_active:
        raise AccountDeactivated("This account has been deactivated.")


def _email_ownership() -> ModuleType:
    """Imported when used: email_ownership sends mail, and the mailer imports this module."""
    from chalicelib.services import email_ownership

    return email_ownership


def _email_key_changed(customer: Customer, changed: dict) -> bool:
    return email_key(changed.get("email", customer.email)) != email_key(customer.email)


def _profile_writes(customer: Customer, changed: dict, request_id: str | None) -> dict[str, Write]:
    now = iso(utc_now())
    number = customer.customer_number
    writes = {"customer": customer_store.change_profile(customer, changed, now, _email_key_changed(customer, changed))}
    old_key, new_key = email_key(customer.email), email_key(changed.get("email", customer.email))
    if new_key != old_key:
        writes["new_email_claim"] = put_new(EmailClaim(new_key, customer_number=number))
        writes["old_email_claim"] = customer_store.release_email_claim(old_key, number)
        closing, opening = addresses.address_change(number, old_key, new_key, customer.created_at, now)
        writes.update(old_address_history=closing, new_address_history=opening)
    writes["audit"] = audit_entry(number, "profile_updated", "customer", list(changed), request_id=request_id)
    if customer.holds_in_force:  # a hold preserves what the data was
        previous = {f: getattr(customer, f) for f in changed}
        writes["preserved_values"] = profile_revisions.preserve_previous(number, previous, now)
    return writes
