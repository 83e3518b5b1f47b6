"""Marketing preferences: the four topics of the policy, per customer, and the consent
ledger that records every change of each.

The customer item holds the current choices; each change also appends a consent event,
in the same transaction and guarded by the customer's version, so the two cannot drift
apart: the current value of a topic is always its latest event.
"""

from __future__ import annotations

from chalicelib.errors import AccountDeactivated, NotFound
from chalicelib.observability import count
from chalicelib.services import policy_in_force
from chalicelib.services.retry import retry_on_conflict
from chalicelib.settings import MARKETING_TOPICS, get_settings
from chalicelib.store import consent as consent_store
from chalicelib.store import customers as customer_store
from chalicelib.store.base import as_plain, iso, utc_now
from chalicelib.store.customers import Customer
from chalicelib.store.transact import Write, WriteConflict, commit

TOPIC_LABELS = {
    "products": "changes to our products",
    "website": "changes to our website",
    "new_services": "new services",
    "special_offers": "special offers",
}


def initial_topics(explicit: dict | None) -> dict:
    """Preferences at signup: the configured default (opt_out model: subscribed until the
    customer opts out; opt_in: not subscribed until they opt in), then explicit choices."""
    default = get_settings().marketing_default == "opt_out"
    topics = dict.fromkeys(MARKETING_TOPICS, default)
    topics.update(explicit or {})
    return topics


def current_topics(customer: Customer) -> dict:
    """All four topics; one never recorded counts as not subscribed."""
    stored = as_plain(customer.marketing) or {}
    return {topic: bool(stored.get(topic, False)) for topic in MARKETING_TOPICS}


def get_topics(customer_number: str) -> dict:
    return current_topics(_require(customer_number))


def signup_events(customer: Customer, request_id: str | None) -> list[Write]:
    """The ledger's first events, one per topic, committed with the new account (and with
    `policy_in_force.still_in_force()`: they name the version this process knows)."""
    return _events(customer, current_topics(customer), "signup", request_id)


def change_topics(customer_number: str, changes: dict, source: str, request_id: str | None) -> dict:
    """Apply a change of any subset of topics; returns all four. Topics already as asked
    are not recorded again (so repeating an unsubscribe changes nothing). Withdrawing is
    always allowed; subscribing needs an active account."""

    def attempt() -> dict:
        customer = _require(customer_number)
        current = current_topics(customer)
        changed = {topic: value for topic, value in changes.items() if current[topic] != value}
        if not changed:
            return current
        if any(changed.values()) and not customer.is_active:
            raise AccountDeactivated("This account has been deactivated.")
        updated = {**current, **changed}
        events = _events(customer, changed, source, request_id)
        writes = {
            "customer": customer_store.set_marketing(customer, updated, iso(utc_now())),
            "policy_in_force": policy_in_force.still_in_force(),
            **{f"event_{i}": event for i, event in enumerate(events)},
        }
        try:
            commit(writes)
        except WriteConflict as conflict:
            if "policy_in_force" in conflict.failed:
                policy_in_force.forget()  # another version came into force: read the pointer again
            raise  # re-read and re-apply
        count("consent_changed")
        return updated

    return retry_on_conflict(attempt, "The preferences changed while they were being updated; please retry.")


def consent_history(customer_number: str) -> list[dict]:
    """Every consent event of the customer, oldest first."""
    return [
        {
            "topic": e.topic,
            "granted": e.granted,
            "source": e.source,
            "policy_version": e.policy_version,
            "at": e.at,
            "request_id": e.request_id,
        }
        for e in consent_store.events_of(customer_number)
    ]


def _events(customer: Customer, topics: dict, source: str, request_id: str | None) -> list[Write]:
    # The customer item reaches version + 1 in the same transaction (1 when it is new).
    sequence = (customer.version or 0) + 1
    policy_version = policy_in_force.version()
    now = iso(utc_now())
    return [
        consent_store.new_event(
            customer.customer_number,
            sequence,
            topic,
            granted=granted,
            source=source,
            policy_version=policy_version,
            at=now,
            request_id=request_id,
        )
        for topic, granted in topics.items()
    ]


def _require(customer_number: str) -> Customer:
    customer = customer_store.get_customer(customer_number)
    if customer is None:
        raise NotFound("No such customer.")
    return customer
