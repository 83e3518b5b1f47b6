"""Marketing preferences and the consent ledger, against DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.errors import AccountDeactivated
from chalicelib.services import accounts, preferences, retention
from chalicelib.settings import MARKETING_TOPICS
from tests.helpers import PASSWORD, call, signup, unique_email

ALL_ON = dict.fromkeys(MARKETING_TOPICS, True)


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def history(customer_number: str) -> list[tuple]:
    return [(e["topic"], e["granted"], e["source"]) for e in preferences.consent_history(customer_number)]


def last_event_per_topic(customer_number: str) -> dict:
    return {e["topic"]: e["granted"] for e in preferences.consent_history(customer_number)}


def new_customer(marketing: dict | None = None) -> str:
    data = {"name": "Jane", "email": unique_email(), "password": PASSWORD, "marketing": marketing}
    return accounts.signup(
        data, "req-signup", extra_writes=lambda c: preferences.signup_events(c, "req-signup")
    ).customer_number


def test_signup_records_one_event_per_topic_with_explicit_choices(client):
    account = signup(client, marketing={"special_offers": False})
    response = call(client, "GET", "/account/preferences", account=account)
    assert response.status_code == 200
    assert response.json == {"topics": {**ALL_ON, "special_offers": False}}  # opt_out model by default
    events = preferences.consent_history(account.customer_number)
    assert sorted((e["topic"], e["granted"]) for e in events) == sorted({**ALL_ON, "special_offers": False}.items())
    assert {e["source"] for e in events} == {"signup"}
    assert all(e["at"].endswith("Z") for e in events)


def test_ledger_after_a_sequence_of_changes(client):
    account = signup(client)
    steps = [{"products": False}, {"products": False, "website": False}, {"products": True}, {}]
    for step in steps:
        response = call(client, "PUT", "/account/preferences", {"topics": step}, account=account)
        assert response.status_code == 200
    assert response.json == {"topics": {**ALL_ON, "website": False}}
    # only real changes are recorded, in order; the repeated products=False is not
    assert history(account.customer_number)[4:] == [
        ("products", False, "preferences"),
        ("website", False, "preferences"),
        ("products", True, "preferences"),
    ]
    export = call(client, "GET", "/account/export", account=account).json
    assert export["preferences"]["topics"] == {**ALL_ON, "website": False}
    assert [(e["topic"], e["granted"], e["source"]) for e in export["preferences"]["history"]] == history(
        account.customer_number
    )


def test_unknown_topic_is_refused_and_changes_nothing(client):
    account = signup(client)
    response = call(
        client, "PUT", "/account/preferences", {"topics": {"products": False, "weather": True}}, account=account
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert {"path": "topics.weather", "message": "is not an allowed field"} in response.json["error"]["details"]
    assert preferences.get_topics(account.customer_number) == ALL_ON
    assert len(history(account.customer_number)) == 4


def test_preferences_need_a_session_and_csrf(client):
    account = signup(client)
    assert call(client, "GET", "/account/preferences").status_code == 401
    response = call(client, "PUT", "/account/preferences", {"topics": {"products": False}}, account=account, csrf=False)
    assert response.status_code == 403
    assert preferences.get_topics(account.customer_number) == ALL_ON


def test_events_name_the_request_and_the_policy_in_force(clean_stack):
    from chalicelib.services import policy

    customer_number = new_customer()
    assert {e["policy_version"] for e in preferences.consent_history(customer_number)} == {None}  # none loaded
    version = policy.ensure_initial_policy()["version"]
    preferences.change_topics(customer_number, {"products": False}, "preferences", "req-2")
    events = preferences.consent_history(customer_number)
    assert {e["request_id"] for e in events[:4]} == {"req-signup"}
    assert (events[-1]["topic"], events[-1]["policy_version"], events[-1]["request_id"]) == (
        "products",
        version,
        "req-2",
    )


def test_ops_can_record_a_change(client):
    customer_number = new_customer()
    result = client.lambda_.invoke(
        "ops_set_preferences", {"customer_number": customer_number, "topics": {"new_services": False}}
    ).payload
    assert result == {"topics": {**ALL_ON, "new_services": False}}
    assert history(customer_number)[-1] == ("new_services", False, "ops")
    unknown = client.lambda_.invoke("ops_set_preferences", {"customer_number": "C1", "topics": {}}).payload
    assert unknown["error"]["code"] == "not_found"


def test_deactivated_customer_may_withdraw_but_not_subscribe(clean_stack):
    customer_number = new_customer({"products": False})
    retention.deactivate_customer(customer_number, "ops", "unpaid")
    with pytest.raises(AccountDeactivated):
        preferences.change_topics(customer_number, {"products": True}, "ops", None)
    assert preferences.change_topics(customer_number, {"website": False}, "ops", None)["website"] is False
    assert last_event_per_topic(customer_number) == {**ALL_ON, "products": False, "website": False}


def test_concurrent_changes_cannot_diverge_from_the_ledger(clean_stack):
    customer_number = new_customer()
    changes = [{topic: bool(i % 2)} for i in range(12) for topic in MARKETING_TOPICS[i % 2 :: 2]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda c: preferences.change_topics(customer_number, c, "preferences", None), changes))
    assert preferences.get_topics(customer_number) == last_event_per_topic(customer_number)


changes_strategy = st.lists(
    st.tuples(
        st.sampled_from(["preferences", "unsubscribe", "ops"]),
        st.dictionaries(st.sampled_from(MARKETING_TOPICS), st.booleans()),
    ),
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.dictionaries(st.sampled_from(MARKETING_TOPICS), st.booleans()), steps=changes_strategy)
def test_current_preferences_equal_the_last_event_per_topic(clean_stack, initial, steps):
    customer_number = new_customer(initial)  # a fresh customer per example: the stack is shared
    for source, change in steps:
        preferences.change_topics(customer_number, change, source, None)
    expected = {**ALL_ON, **initial}
    for _, change in steps:
        expected.update(change)
    assert preferences.get_topics(customer_number) == expected == last_event_per_topic(customer_number)
