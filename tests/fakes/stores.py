"""In-memory fakes of the store functions the rule tests' services use (tests/rules).

Each class fakes one store module: every public method replaces the module's function
of the same name and signature (tests/unit/test_fakes.py checks both). Writes built by
the real store functions through `put`/`put_new` (audit entries, consent events, address
history, sessions...) need no fake of their own: those two are faked. Whatever is not
faked cannot reach DynamoDB either (`install` blocks every connection), so a service
that starts using a new store function fails its memory rule tests until it has a fake.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

import chalicelib.services
import chalicelib.store
from chalicelib.store import (
    audit,
    consent,
    counters,
    customers,
    disclosures,
    email_history,
    orders,
    policy,
    profile_revisions,
    retention,
    sensitive,
    sessions,
    suppressions,
    tickets,
    tokens,
    transact,
)
from chalicelib.store import inquiries as inquiry_store
from chalicelib.store.audit import AuditEntry
from chalicelib.store.base import PledgeModel, iso
from chalicelib.store.consent import ConsentEvent
from chalicelib.store.counters import Slot, WindowCounter
from chalicelib.store.customers import Customer, EmailClaim
from chalicelib.store.disclosures import Disclosure, DisclosurePermission
from chalicelib.store.email_history import EmailHistoryEntry, Holding
from chalicelib.store.inquiries import Inquiry
from chalicelib.store.orders import Order
from chalicelib.store.policy import IN_FORCE, PolicyPointer
from chalicelib.store.profile_revisions import ProfileRevision
from chalicelib.store.retention import PENDING, LegalHold, RetentionRecord
from chalicelib.store.sensitive import SensitiveItem
from chalicelib.store.sessions import Session
from chalicelib.store.states import CustomerStatus
from chalicelib.store.suppressions import Suppression
from chalicelib.store.tickets import Ticket
from chalicelib.store.tokens import AccountToken
from tests.fakes.memory import FakeWrite, MemoryStore, item_key, key_of


class Fake:
    def __init__(self, memory: MemoryStore) -> None:
        self.memory = memory


class Transact(Fake):
    def commit(self, writes: Any, token: str | None = None) -> None:
        self.memory.commit(writes, token)

    def put(self, item: Any, condition: Any = None) -> FakeWrite:
        return self.memory.put(item, condition)

    def put_new(self, item: Any) -> FakeWrite:
        return self.memory.put_new(item)


class Customers(Fake):
    def get_customer(self, customer_number: str) -> Customer | None:
        return self.memory.get(Customer, customer_number)

    def get_email_claim(self, email_key: str) -> EmailClaim | None:
        return self.memory.get(EmailClaim, email_key)

    def _set(self, customer: Customer, **values: Any) -> FakeWrite:
        return self.memory.update(customer, values, _always)

    def set_marketing(self, customer: Customer, topics: dict[str, bool], at: str) -> FakeWrite:
        return self._set(customer, marketing=topics, updated_at=at)

    def change_profile(self, customer: Customer, changes: dict[str, Any], at: str, email_unverified: bool) -> FakeWrite:
        unverified = {"email_verified_at": None} if email_unverified else {}
        return self._set(customer, **changes, **unverified, updated_at=at)

    def mark_email_verified(self, customer: Customer, at: str) -> FakeWrite:
        return self._set(customer, email_verified_at=at)

    def set_password_hash(self, customer: Customer, password_hash: str, at: str) -> FakeWrite:
        return self._set(customer, password_hash=password_hash, updated_at=at)

    def deactivate_customer_item(self, customer: Customer, at: str) -> FakeWrite:
        return self._set(customer, status=CustomerStatus.DEACTIVATED, updated_at=at)

    def count_hold(self, customer: Customer, change: int) -> FakeWrite:
        return self.memory.update(customer, lambda stored: {"holds_in_force": stored.holds_in_force + change}, _always)

    def anonymize_customer_item(
        self, customer: Customer, name: str, email: str, password_hash: str, at: str
    ) -> FakeWrite:
        return self._set(
            customer,
            status=CustomerStatus.ANONYMIZED,
            name=name,
            email=email,
            phone=None,
            address=None,
            password_hash=password_hash,
            updated_at=at,
        )

    def release_email_claim(self, email_key: str, customer_number: str) -> FakeWrite:
        return self.memory.removal(
            key_of(EmailClaim, email_key), lambda claim: claim is not None and claim.customer_number == customer_number
        )

    def no_hold_in_force(self, customer_number: str) -> FakeWrite:
        return self.memory.condition(Customer, customer_number, lambda c: c is None or not c.holds_in_force)

    def still_active(self, customer_number: str) -> FakeWrite:
        return self.memory.condition(
            Customer, customer_number, lambda c: c is not None and c.status == CustomerStatus.ACTIVE
        )


class Tokens(Fake):
    def find_token(self, token_hash: str) -> AccountToken | None:
        return self.memory.get(AccountToken, token_hash)

    def spend(self, token: AccountToken) -> FakeWrite:
        key = key_of(AccountToken, token.token_hash)
        return self.memory.removal(key, lambda stored: stored is not None)


class Counters(Fake):
    def take(self, model: type[WindowCounter], key: str, now: int, window_seconds: int, limit: int) -> Slot:
        with self.memory.lock:
            current = self.memory.get(model, key)
            if current is not None and current.window_start > now - window_seconds:
                if current.hits >= limit:
                    return Slot(False, int(current.window_start), max(1, current.window_start + window_seconds - now))
                self.memory.change(current, {"hits": current.hits + 1})
                return Slot(True, int(current.window_start), 0)
            ttl = datetime.fromtimestamp(now + window_seconds, tz=UTC)
            self.memory.change(model(key), {"window_start": now, "hits": 1, "expires_ttl": ttl})
            return Slot(True, now, 0)

    def give_back(self, model: type[WindowCounter], key: str, window_start: int) -> None:
        with self.memory.lock:
            current = self.memory.get(model, key)
            if current is not None and current.window_start == window_start and current.hits > 0:
                self.memory.change(current, {"hits": current.hits - 1})


class Consent(Fake):
    def events_of(self, customer_number: str) -> list[ConsentEvent]:
        return self.memory.where(ConsentEvent, customer_number=customer_number)


class Policy(Fake):
    def version_in_force(self) -> str | None:
        pointer = self.memory.get(PolicyPointer, IN_FORCE)
        return pointer.version if pointer else None

    def pointer_names(self, version: str | None) -> FakeWrite:
        return self.memory.condition(
            PolicyPointer,
            IN_FORCE,
            lambda pointer: pointer is None if version is None else pointer is not None and pointer.version == version,
        )


class Retention(Fake):
    def get_retention_record(self, customer_number: str) -> RetentionRecord | None:
        return self.memory.get(RetentionRecord, customer_number)

    def records_due_for_review(self, now_iso: str) -> list[RetentionRecord]:
        pending = self.memory.where(RetentionRecord, "review_at", pending_review=PENDING)
        return [r for r in pending if r.review_at <= now_iso]

    def mark_anonymized(self, record: RetentionRecord, at: str, scrubbed_reason: str) -> FakeWrite:
        values: dict[str, Any] = {"anonymized_at": at, "erasure_pending": True, "pending_review": None}
        if record.initiated_by == "customer" and record.reason is not None:
            values["reason"] = scrubbed_reason
        return self.memory.update(record, values, lambda stored: stored.anonymized_at is None)

    def holds_of(self, customer_number: str) -> list[LegalHold]:
        return self.memory.where(LegalHold, customer_number=customer_number)

    def release_hold(self, hold: LegalHold, at: str, reason: str) -> FakeWrite:
        values = {"released_at": at, "release_reason": reason}
        return self.memory.update(hold, values, lambda stored: stored.released_at is None)

    def clear_erasure_pending(self, customer_number: str) -> None:
        self.memory.change(RetentionRecord(customer_number), {"erasure_pending": None})


class ProfileRevisions(Fake):
    def revisions_of(self, customer_number: str) -> list[ProfileRevision]:
        return self.memory.where(ProfileRevision, customer_number=customer_number)

    def delete_revisions_of(self, customer_number: str) -> int:
        revisions = self.revisions_of(customer_number)
        for revision in revisions:
            self.memory.delete(item_key(revision))
        return len(revisions)

    def delete_unless_held(self, customer_number: str) -> int:
        revisions = self.revisions_of(customer_number)
        if revisions:
            deletes = [self.memory.removal(item_key(r)) for r in revisions]
            self.memory.commit([Customers(self.memory).no_hold_in_force(customer_number), *deletes])
        return len(revisions)


class Sessions(Fake):
    def session_and_customer(self, token_hash: str, customer_number: str) -> tuple[Session | None, Customer | None]:
        return self.memory.get(Session, token_hash), self.memory.get(Customer, customer_number)

    def extend_session(self, session: Session, refreshed_at: str, expires_at: datetime) -> bool:
        values = {"refreshed_at": refreshed_at, "expires_at": iso(expires_at), "expires_ttl": expires_at}
        if not self.memory.exists(item_key(session)):
            return False
        self.memory.change(session, values)
        return True

    def delete_session(self, token_hash: str) -> None:
        self.memory.delete(key_of(Session, token_hash))

    def delete_sessions_of(self, customer_number: str) -> int:
        found = self.memory.where(Session, customer_number=customer_number)
        for session in found:
            self.memory.delete(item_key(session))
        return len(found)


class EmailHistory(Fake):
    def entries_of(self, customer_number: str) -> list[EmailHistoryEntry]:
        return self.memory.where(EmailHistoryEntry, customer_number=customer_number)

    def holdings_of_address(self, email_key: str) -> list[Holding]:
        entries = self.memory.where(EmailHistoryEntry, "claimed_at", email_key=email_key)
        return [Holding(e.customer_number, e.claimed_at, e.released_at) for e in entries]

    def release_address(self, entry: EmailHistoryEntry, at: str) -> FakeWrite:
        return self.memory.update(entry, {"released_at": at}, lambda e: e.released_at is None)

    def delete_entries(self, entries: list[EmailHistoryEntry]) -> None:
        for entry in entries:
            self.memory.delete(item_key(entry))


class Audit(Fake):
    def entries_of(self, customer_number: str) -> list[AuditEntry]:
        return self.memory.where(AuditEntry, customer_number=customer_number)

    def scrub_reasons(self, customer_number: str, actor: str, placeholder: str) -> int:
        entries = [e for e in self.entries_of(customer_number) if e.actor == actor]
        scrubbed = [e for e in entries if e.reason not in (None, placeholder)]
        for entry in scrubbed:
            self.memory.change(entry, {"reason": placeholder})
        return len(scrubbed)


# The records anonymization scrubs besides the account: only their reads are faked (the
# rule tests create none of them, and a write to one would meet the DynamoDB block).
class Inquiries(Fake):
    def inquiries_of(self, customer_number: str) -> list[Inquiry]:
        return self.memory.where(Inquiry, customer_number=customer_number)

    def anonymous_inquiries_from(self, email_key: str) -> list[Inquiry]:
        return [i for i in self.memory.where(Inquiry, email_key=email_key) if i.customer_number is None]


class Tickets(Fake):
    def tickets_of(self, customer_number: str) -> list[Ticket]:
        return self.memory.where(Ticket, customer_number=customer_number)


class Orders(Fake):
    def orders_of(self, customer_number: str) -> list[Order]:
        return self.memory.where(Order, customer_number=customer_number)


class Disclosures(Fake):
    def permissions_of(self, customer_number: str) -> list[DisclosurePermission]:
        return self.memory.where(DisclosurePermission, customer_number=customer_number)

    def disclosures_of(self, customer_number: str) -> list[Disclosure]:
        return self.memory.where(Disclosure, customer_number=customer_number)


class Sensitive(Fake):
    def items_of(self, customer_number: str) -> list[SensitiveItem]:
        return self.memory.where(SensitiveItem, customer_number=customer_number)


class Suppressions(Fake):
    def get_suppression(self, address_hash: str) -> Suppression | None:
        return self.memory.get(Suppression, address_hash)

    def not_suppressed(self, address_hash: str) -> FakeWrite:
        return self.memory.condition(Suppression, address_hash, lambda found: found is None or not found.in_force)


FAKES: dict[ModuleType, type[Fake]] = {
    transact: Transact,
    customers: Customers,
    tokens: Tokens,
    counters: Counters,
    consent: Consent,
    policy: Policy,
    retention: Retention,
    profile_revisions: ProfileRevisions,
    sessions: Sessions,
    email_history: EmailHistory,
    audit: Audit,
    inquiry_store: Inquiries,
    tickets: Tickets,
    orders: Orders,
    disclosures: Disclosures,
    sensitive: Sensitive,
    suppressions: Suppressions,
}


def faked_functions(memory: MemoryStore) -> dict[Any, Any]:
    """Each faked store function -> its fake (bound to `memory`)."""
    swaps = {}
    for module, fake_class in FAKES.items():
        fake = fake_class(memory)
        for name in public_methods(fake_class):
            swaps[getattr(module, name)] = getattr(fake, name)
    return swaps


def public_methods(fake_class: type[Fake]) -> list[str]:
    return [name for name in vars(fake_class) if not name.startswith("_") and callable(getattr(fake_class, name))]


def install(monkeypatch: pytest.MonkeyPatch, memory: MemoryStore) -> None:
    """Swap every faked store function for its fake, wherever chalicelib holds it (the
    store module, and any module that imported it by name), and block DynamoDB."""
    _import_all()
    swaps = faked_functions(memory)
    for module in [m for name, m in list(sys.modules.items()) if name.startswith("chalicelib.")]:
        for name, value in list(vars(module).items()):
            if callable(value) and _hashable(value) and value in swaps:
                monkeypatch.setattr(module, name, swaps[value])
    monkeypatch.setattr(PledgeModel, "_get_connection", _no_dynamodb)
    monkeypatch.setattr(transact, "_connection", _no_dynamodb)


def _no_dynamodb(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a store function with no in-memory fake tried to reach DynamoDB (tests/fakes/stores.py)")


def _import_all() -> None:
    for package in (chalicelib.store, chalicelib.services):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _always(_: Any) -> bool:
    return True
