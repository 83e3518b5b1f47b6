"""Abuse rules and cases: the one exception to "statistics are not linked to anyone".

Each rule counts events per IP (or customer) in short-lived time buckets (15 per window,
so "within 15 minutes" is measured in whole minutes) and, when it fires, opens a case
linking the IP to the customers involved, or adds to the case already open for that
rule and IP. Cases are records: they are kept, listed and closed by ops.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime
from typing import NamedTuple

from chalicelib.errors import Conflict, NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services.email_address import email_key
from chalicelib.store import abuse as store
from chalicelib.store import customers as customer_store
from chalicelib.store.base import iso, utc_now
from chalicelib.store.states import AbuseCaseStatus
from chalicelib.store.transact import WriteConflict, commit

BUCKETS_PER_WINDOW = 15


class Rule(NamedTuple):
    name: str
    window_seconds: int
    max_events: int  # fires at this many events in the window
    max_subjects: int | None = None  # or at this many different accounts

    @property
    def bucket_seconds(self) -> int:
        return self.window_seconds // BUCKETS_PER_WINDOW


FAILED_LOGINS = Rule("failed_logins", 15 * 60, max_events=20, max_subjects=3)
SIGNUPS = Rule("signups", 3600, max_events=5)
CARD_TESTING = Rule("card_testing", 3600, max_events=5)


class Window(NamedTuple):
    events: int
    subjects: int
    customers: set[str]


def record_failed_login(ip: str, email: str) -> None:
    """A login that was refused (wrong password, unknown email, throttled) from `ip`."""
    address = email_key(email)
    claim = customer_store.get_email_claim(address)
    subject = hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()[:32]
    window = _count(FAILED_LOGINS, f"ip:{ip}", subject, claim.customer_number if claim else None)
    if _fires(FAILED_LOGINS, window):
        _open_or_add(FAILED_LOGINS, ip, window.customers)


def record_signup(ip: str, customer_number: str) -> None:
    window = _count(SIGNUPS, f"ip:{ip}", None, customer_number)
    if _fires(SIGNUPS, window):
        _open_or_add(SIGNUPS, ip, window.customers)


def record_rejected_card(ip: str, customer_number: str | None) -> None:
    """A card number refused at submission. Counted per IP and per customer: either
    reaching the limit opens (or adds to) the card-testing case of this IP."""
    windows = [_count(CARD_TESTING, f"ip:{ip}", None, customer_number)]
    if customer_number:
        windows.append(_count(CARD_TESTING, f"customer:{customer_number}", None, customer_number))
    if any(_fires(CARD_TESTING, window) for window in windows):
        _open_or_add(CARD_TESTING, ip, set().union(*(w.customers for w in windows)))


def card_submissions_blocked(ip: str) -> bool:
    """True while a card-testing case for this IP is open: card submissions answer 429."""
    return store.open_case_id(CARD_TESTING.name, ip) is not None


def _count(rule: Rule, scope: str, subject: str | None, customer: str | None) -> Window:
    """Count one event into the current bucket, then read the whole window."""
    now = int(time.time())
    current = now // rule.bucket_seconds
    expires = datetime.fromtimestamp((current + 1) * rule.bucket_seconds + rule.window_seconds, tz=UTC)
    store.count_event(f"{rule.name}#{scope}#{current}", subject, customer, expires)
    keys = [f"{rule.name}#{scope}#{current - n}" for n in range(BUCKETS_PER_WINDOW)]
    events, subjects, customers = 0, set(), set()
    for counter in store.counters(keys):
        events += int(counter.hits)  # a count: stored as a whole number
        subjects |= counter.subjects or set()
        customers |= counter.customers or set()
    return Window(int(events), len(subjects), customers)


def _fires(rule: Rule, window: Window) -> bool:
    return window.events >= rule.max_events or (rule.max_subjects is not None and window.subjects >= rule.max_subjects)


def _open_or_add(rule: Rule, ip: str, customers: set[str]) -> None:
    for _ in range(5):
        at = iso(utc_now())
        case_id = store.open_case_id(rule.name, ip)
        if case_id is not None:
            if store.add_to_case(case_id, customers, at):
                return
            continue  # closed meanwhile: a new case opens
        case = store.AbuseCase(
            f"AC{uuid.uuid4().hex}",
            rule=rule.name,
            ip=ip,
            customer_numbers=customers or None,
            opened_at=at,
            last_seen_at=at,
            status=AbuseCaseStatus.OPEN,
            firings=1,
        )
        try:
            commit(store.open_case(case))
        except WriteConflict:
            continue  # opened at the same moment by another request: add to it
        count("abuse_case_opened")
        get_logger().info("abuse case opened", extra={"case_id": case.case_id, "rule": rule.name})
        return
    raise Conflict("The abuse case changed while it was being updated.")


def list_cases(status: str | None = None) -> dict:
    wanted = AbuseCaseStatus(status) if status else None  # the schema allows only its values
    cases = sorted(store.all_cases(wanted), key=lambda c: c.opened_at, reverse=True)
    return {"cases": [case_view(c) for c in cases]}


def close_case(case_id: str, resolution: str) -> dict:
    case = store.get_case(case_id)
    if case is None:
        raise NotFound("No such abuse case.")
    if case.status != AbuseCaseStatus.OPEN:
        raise Conflict("This abuse case is already closed.")
    try:
        commit(store.close_case(case, iso(utc_now()), resolution))
    except WriteConflict:
        raise Conflict("This abuse case is already closed.") from None
    closed = store.get_case(case_id)
    assert closed is not None  # cases are never deleted
    return case_view(closed)


def cases_of(customer_number: str) -> list[dict]:
    return [case_view(c) for c in sorted(store.cases_of(customer_number), key=lambda c: c.opened_at)]


def case_view(case: store.AbuseCase) -> dict:
    return {
        "case_id": case.case_id,
        "rule": case.rule,
        "ip": case.ip,
        "customer_numbers": sorted(case.customer_numbers or []),
        "opened_at": case.opened_at,
        "last_seen_at": case.last_seen_at,
        "status": case.status,
        "firings": int(case.firings),
        "closed_at": case.closed_at,
        "resolution": case.resolution,
    }
