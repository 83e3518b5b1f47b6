"""What every rule test needs, on either backend: customers made through the services,
the mail they would send recorded instead, and a way to make a change land "meanwhile"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher

from chalicelib.services import accounts, email_ownership, preferences
from chalicelib.store import customers as customer_store
from chalicelib.store import policy as policy_store
from chalicelib.store import transact
from chalicelib.store.policy import PolicyVersion
from tests.helpers import PASSWORD, unique_email

REQUEST_ID = "rule-test-request"


@pytest.fixture(autouse=True, name="mail")
def mail_asked(backend, monkeypatch) -> list[tuple]:
    """The verification mail and change notices asked for (mail itself is tested in
    tests/integration); cheap argon2 parameters (the rules are not about hashing cost)."""
    asked: list[tuple] = []
    monkeypatch.setattr(
        email_ownership, "send_verification", lambda number, email, token=None: asked.append(("verify", number, email))
    )
    monkeypatch.setattr(email_ownership, "email_changed", lambda *args: asked.append(("changed", *args)))
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", lambda: cheap)
    return asked


def signup(email: str | None = None, **fields) -> accounts.LoggedIn:
    """A new account as the signup route makes it: with its first consent events."""
    data = {"name": "Jane Doe", "email": email or unique_email(), "password": PASSWORD, **fields}
    return accounts.signup(data, REQUEST_ID, extra_writes=lambda c: preferences.signup_events(c, REQUEST_ID))


def new_customer(**fields) -> str:
    return signup(**fields).customer_number


def policy_in_force(version: str) -> None:
    transact.commit([policy_store.point_to(PolicyVersion(version, effective_at="2026-01-01T00:00:00.000Z"))])


def meanwhile(monkeypatch, change: Callable[[], object]) -> None:
    """Run `change` once, right after the next read of a customer: the service that read
    it then commits on a stale copy, as when two requests race."""
    read = customer_store.get_customer
    pending = [change]

    def read_then_change(customer_number: str):
        customer = read(customer_number)
        if pending:
            pending.pop()()
        return customer

    monkeypatch.setattr(customer_store, "get_customer", read_then_change)
