"""Marketing preferences: the per-topic consent ledger (services/preferences.py)."""

from __future__ import annotations

import pytest

from chalicelib.errors import AccountDeactivated, NotFound
from chalicelib.services import preferences, retention
from chalicelib.settings import MARKETING_TOPICS
from tests.rules.common import REQUEST_ID, mail_asked, meanwhile, new_customer, policy_in_force  # noqa: F401

ALL_OFF = dict.fromkeys(MARKETING_TOPICS, False)


def ledger(customer_number: str) -> list[tuple]:
    return [(e["topic"], e["granted"], e["source"]) for e in preferences.consent_history(customer_number)]


def test_signup_records_one_consent_event_per_topic_under_the_policy_in_force(backend):
    policy_in_force("2026-03")
    number = new_customer(marketing={"special_offers": False})
    history = preferences.consent_history(number)
    assert sorted((e["topic"], e["granted"]) for e in history) == sorted(
        [("products", True), ("website", True), ("new_services", True), ("special_offers", False)]
    )
    assert {(e["source"], e["policy_version"], e["request_id"]) for e in history} == {("signup", "2026-03", REQUEST_ID)}


def test_the_default_is_subscribed_and_explicit_choices_win(backend):
    number = new_customer(marketing={"website": False})
    assert preferences.get_topics(number) == {**dict.fromkeys(MARKETING_TOPICS, True), "website": False}


def test_a_change_records_each_changed_topic_with_its_source_and_policy_version(backend):
    number = new_customer()
    policy_in_force("2026-04")
    topics = preferences.change_topics(number, {"products": False, "website": False}, "preferences", "r2")
    assert topics == {**dict.fromkeys(MARKETING_TOPICS, True), "products": False, "website": False}
    later = preferences.consent_history(number)[len(MARKETING_TOPICS) :]
    assert sorted((e["topic"], e["granted"], e["source"], e["policy_version"]) for e in later) == [
        ("products", False, "preferences", "2026-04"),
        ("website", False, "preferences", "2026-04"),
    ]


def test_a_change_to_what_is_already_chosen_records_nothing(backend):
    number = new_customer()
    before = ledger(number)
    assert preferences.change_topics(number, {"products": True}, "preferences", None)["products"] is True
    assert ledger(number) == before


def test_repeating_an_unsubscribe_records_it_once(backend):
    number = new_customer()
    for _ in range(3):
        preferences.change_topics(number, {"special_offers": False}, "unsubscribe", None)
    assert ledger(number)[len(MARKETING_TOPICS) :] == [("special_offers", False, "unsubscribe")]


def test_only_the_topics_that_change_are_recorded(backend):
    number = new_customer(marketing={"website": False})
    preferences.change_topics(number, {"website": True, "products": True}, "preferences", None)
    assert ledger(number)[len(MARKETING_TOPICS) :] == [("website", True, "preferences")]


def test_each_topic_is_its_latest_event_and_events_keep_their_order(backend):
    number = new_customer()
    for value in (False, True, False):
        preferences.change_topics(number, {"new_services": value}, "preferences", None)
    history = preferences.consent_history(number)
    assert [e["granted"] for e in history if e["topic"] == "new_services"] == [True, False, True, False]
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)
    latest = {e["topic"]: e["granted"] for e in history}
    assert latest == preferences.get_topics(number)


def test_a_deactivated_account_may_withdraw_but_not_subscribe(backend):
    number = new_customer(marketing=ALL_OFF)
    preferences.change_topics(number, {"products": True}, "preferences", None)
    retention.deactivate_customer(number, "customer", None)
    with pytest.raises(AccountDeactivated):
        preferences.change_topics(number, {"website": True}, "preferences", None)
    assert preferences.change_topics(number, {"products": False}, "unsubscribe", None) == ALL_OFF
    assert ledger(number)[-1] == ("products", False, "unsubscribe")


def test_changes_racing_on_one_customer_lose_no_update(backend, monkeypatch):
    number = new_customer()
    meanwhile(monkeypatch, lambda: preferences.change_topics(number, {"website": False}, "preferences", None))
    topics = preferences.change_topics(number, {"products": False}, "preferences", None)
    assert topics == {**dict.fromkeys(MARKETING_TOPICS, True), "products": False, "website": False}
    assert preferences.get_topics(number) == topics
    assert sorted(ledger(number)[len(MARKETING_TOPICS) :]) == [
        ("products", False, "preferences"),
        ("website", False, "preferences"),
    ]


def test_preferences_of_an_unknown_customer_are_not_found(backend):
    with pytest.raises(NotFound):
        preferences.change_topics("C1234567890", {"products": False}, "preferences", None)
    with pytest.raises(NotFound):
        preferences.get_topics("C1234567890")
