"""Customer accounts: signup, login, profile changes. Every change is audited."""

from __future__ import annotations

import hashlib
import secrets
import time
from functools import lru_cache
from typing import NamedTuple

from chalicelib.errors import (
    AccountDeactivated,
    Conflict,
    NotFound,
    RateLimited,
    Unauthorized,
)
from chalicelib.observability import count
from chalicelib.services import addresses, sessions
from chalicelib.services.preferences import initial_topics
from chalicelib.services.retry import attempts
from chalicelib.settings import get_settings
from chalicelib.store import customers as customer_store
from chalicelib.store import profile_revisions
from chalicelib.store import sessions as session_store
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import as_plain, iso, utc_now
from chalicelib.store.customers import Customer, EmailClaim
from chalicelib.store.transact import WriteConflict, commit, put_new

PROFILE_FIELDS = ("name", "email", "phone", "address")
INVALID_LOGIN = "The email address or password is incorrect."


class LoggedIn(NamedTuple):
    customer_number: str
    session_token: str
    csrf_token: str


@lru_cache(maxsize=1)
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended cost


def email_key(email: str) -> str:
    return email.strip().lower()


def new_customer_number() -> str:
    return "C" + str(secrets.randbelow(9 * 10**9) + 10**9)


def signup(data: dict, request_id: str | None, extra_writes=None) -> LoggedIn:
    """Create the account, its email claim, its audit entry and its first session in one
    transaction. `extra_writes(customer)` adds writes that belong with it (consent events)."""
    password_hash = _hasher().hash(data["password"])
    for _ in range(5):
        customer = _new_customer(data, password_hash)
        token, session_write = sessions.new_session(customer.customer_number)
        writes = [
            put_new(customer),
            put_new(EmailClaim(email_key(data["email"]), customer_number=customer.customer_number)),
            session_write,
            audit_entry(customer.customer_number, "signup", "customer", list(_given(data)), request_id=request_id),
            addresses.first_address(customer.customer_number, email_key(data["email"]), customer.created_at),
        ]
        writes += extra_writes(customer) if extra_writes else []
        try:
            commit(writes)
        except WriteConflict as conflict:
            if 1 in conflict.failed:
                raise Conflict("An account with this email address already exists.") from None
            continue  # the random customer number was taken: draw another
        count("signup")
        return LoggedIn(customer.customer_number, token, sessions.csrf_token(token))
    raise Conflict("Could not allocate a customer number; please retry.")


def _given(data: dict) -> dict:
    return {field: data[field] for field in PROFILE_FIELDS if data.get(field) is not None}


def _new_customer(data: dict, password_hash: str) -> Customer:
    now = iso(utc_now())
    return Customer(
        new_customer_number(),
        name=data["name"],
        email=data["email"].strip(),
        phone=data.get("phone"),
        address=data.get("address"),
        password_hash=password_hash,
        status="active",
        marketing=initial_topics(data.get("marketing")),
        created_at=now,
        updated_at=now,
    )


def login(email: str, password: str) -> LoggedIn:
    throttle_key = hashlib.sha256(email_key(email).encode()).hexdigest()
    _refuse_if_throttled(throttle_key)
    claim = customer_store.get_email_claim(email_key(email))
    customer = customer_store.get_customer(claim.customer_number) if claim else None
    if not password_matches(customer, password):
        session_store.record_login_failure(throttle_key, int(time.time()), get_settings().login_window_seconds)
        count("login_failed")
        raise Unauthorized(INVALID_LOGIN)
    if customer.status != "active":
        raise AccountDeactivated("This account has been deactivated.")
    token, session_write = sessions.new_session(customer.customer_number)
    try:
        commit([customer_store.still_active(customer.customer_number), session_write])
    except WriteConflict:
        raise AccountDeactivated("This account has been deactivated.") from None
    count("login")
    return LoggedIn(customer.customer_number, token, sessions.csrf_token(token))


def _refuse_if_throttled(throttle_key: str) -> None:
    settings = get_settings()
    throttle = session_store.get_throttle(throttle_key)
    window_open = throttle and throttle.window_start > time.time() - settings.login_window_seconds
    if window_open and throttle.failures >= settings.login_max_failures:
        count("login_throttled")
        raise RateLimited("Too many failed attempts for this account; try again later.")


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
        "phone": customer.phone,
        "address": as_plain(customer.address),
        "status": customer.status,
        "created_at": customer.created_at,
    }



def get_profile(customer_number: str) -> dict:
    return profile(require_customer(customer_number))


def update_profile(customer_number: str, changes: dict, request_id: str | None) -> dict:
    """Apply a profile change in one transaction: the customer (version-checked), the
    email claims when the email changes, and the audit entry naming the fields."""
    for _ in attempts():
        customer = require_customer(customer_number)
        _refuse_unless_active(customer)
        changed = {f: v for f, v in changes.items() if as_plain(getattr(customer, f)) != v}
        if not changed:
            return profile(customer)
        try:
            commit(_profile_writes(customer, changed, request_id))
        except WriteConflict as conflict:
            if "email" in changed and conflict.failed == [1]:
                raise Conflict("An account with this email address already exists.") from None
            continue  # someone else changed the account meanwhile: re-read and re-apply
        count("account_updated")
        return {**profile(customer), **changed}
    raise Conflict("The account changed while it was being updated; please retry.")


def _refuse_unless_active(customer: Customer) -> None:
    if customer.status != "active":
        raise AccountDeactivated("This account has been deactivated.")


def _profile_writes(customer: Customer, changed: dict, request_id: str | None) -> list:
    actions = [getattr(Customer, f).set(v) if v is not None else getattr(Customer, f).remove() for f, v in changed.items()]
    now = iso(utc_now())
    actions.append(Customer.updated_at.set(now))
    number = customer.customer_number
    writes = [customer_store.save_customer_changes(customer, actions)]
    old_key, new_key = email_key(customer.email), email_key(changed.get("email", customer.email))
    if new_key != old_key:
        writes.append(put_new(EmailClaim(new_key, customer_number=number)))
        writes.append(customer_store.release_email_claim(old_key, number))
        writes += addresses.address_change(number, old_key, new_key, customer.created_at, now)
    writes.append(audit_entry(number, "profile_updated", "customer", list(changed), request_id=request_id))
    if customer.holds_in_force:  # a hold preserves what the data was
        writes.append(profile_revisions.preserve_previous(number, {f: getattr(customer, f) for f in changed}, now))
    return writes
