"""Deactivation, retention records, legal holds and anonymization (services/retention.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.services import accounts, retention, sessions
from chalicelib.settings import get_settings
from chalicelib.store import profile_revisions, transact
from chalicelib.store.base import parse_iso, utc_now
from chalicelib.store.states import CustomerStatus
from tests.rules.common import PASSWORD, mail_asked, meanwhile, new_customer, signup, unique_email  # noqa: F401


def past_review() -> timedelta:
    return timedelta(days=get_settings().retention_days, seconds=1)


def deactivated(reason: str | None = "moving on") -> str:
    number = new_customer(phone="+31612345678")
    retention.deactivate_customer(number, "customer", reason)
    return number


def holds_in_force(number: str) -> int:
    return accounts.require_customer(number).holds_in_force or 0


def test_deactivation_keeps_the_data_under_a_retention_record_with_its_review_date(backend):
    number = new_customer(phone="+31612345678")
    view = retention.deactivate_customer(number, "customer", "moving on")
    customer = accounts.require_customer(number)
    assert (customer.status, customer.name, customer.phone) == (CustomerStatus.DEACTIVATED, "Jane Doe", "+31612345678")
    assert (view["status"], view["initiated_by"], view["reason"]) == ("deactivated", "customer", "moving on")
    assert view["legal_bases"] == list(get_settings().legal_bases)
    days = get_settings().retention_days
    assert parse_iso(view["review_at"]) - parse_iso(view["deactivated_at"]) == timedelta(days=days)
    assert view["holds"] == [] and view["anonymized_at"] is None


def test_deactivation_ends_every_session(backend):
    account = signup()
    second_token, write = sessions.new_session(account.customer_number)
    transact.commit([write])
    assert sessions.resolve_session(second_token).customer_number == account.customer_number
    retention.deactivate_customer(account.customer_number, "ops", "fraud")
    assert sessions.resolve_session(account.session_token) is None
    assert sessions.resolve_session(second_token) is None


def test_deactivating_again_returns_the_first_retention_record(backend):
    number = new_customer()
    first = retention.deactivate_customer(number, "customer", "first")
    again = retention.deactivate_customer(number, "ops", "second", now=utc_now() + timedelta(days=3))
    assert again == first


def test_holds_are_counted_as_they_are_placed_and_released(backend):
    number = deactivated()
    retention.change_legal_hold(number, "place", "litigation")
    placed = retention.change_legal_hold(number, "place", "tax audit")
    assert holds_in_force(number) == 2
    assert sorted(h["reason"] for h in placed["holds"]) == ["litigation", "tax audit"]
    litigation = next(h["hold_id"] for h in placed["holds"] if h["reason"] == "litigation")
    left = retention.change_legal_hold(number, "release", "settled", hold_id=litigation)
    assert [h["reason"] for h in left["holds"]] == ["tax audit"] and holds_in_force(number) == 1
    assert retention.change_legal_hold(number, "release", "closed")["holds"] == []
    assert holds_in_force(number) == 0
    released = retention.retention_state(number)["legal_holds"]
    assert sorted(h["release_reason"] for h in released) == ["closed", "settled"]


def test_releasing_needs_a_named_hold_when_several_are_in_force(backend):
    number = deactivated()
    retention.change_legal_hold(number, "place", "one")
    retention.change_legal_hold(number, "place", "two")
    with pytest.raises(ValidationFailed):
        retention.change_legal_hold(number, "release", "which?")
    with pytest.raises(NotFound):
        retention.change_legal_hold(number, "release", "no such", hold_id="Hnosuchhold")
    assert holds_in_force(number) == 2


def test_releasing_with_no_hold_in_force_is_not_found(backend):
    number = deactivated()
    with pytest.raises(NotFound):
        retention.change_legal_hold(number, "release", "nothing to release")


def test_an_active_account_is_not_anonymized(backend):
    number = new_customer()
    with pytest.raises(Conflict):
        retention.anonymize_customer(number, now=utc_now() + past_review())
    assert accounts.require_customer(number).name == "Jane Doe"


def test_no_anonymization_before_the_review_date(backend):
    number = deactivated()
    with pytest.raises(Conflict, match="review date"):
        retention.anonymize_customer(number, now=utc_now() + past_review() - timedelta(days=2))
    assert accounts.require_customer(number).status == CustomerStatus.DEACTIVATED


def test_no_anonymization_under_a_legal_hold_until_it_is_released(backend):
    number = deactivated()
    retention.change_legal_hold(number, "place", "litigation")
    with pytest.raises(Conflict, match="hold"):
        retention.anonymize_customer(number, now=utc_now() + past_review())
    assert accounts.require_customer(number).name == "Jane Doe"
    retention.change_legal_hold(number, "release", "settled")
    assert retention.anonymize_customer(number, now=utc_now() + past_review())["status"] == "anonymized"


def test_anonymization_replaces_every_personal_value_and_frees_the_address(backend):
    email = unique_email()
    number = new_customer(email=email, phone="+31612345678", address={"line1": "Dam 1", "city": "Amsterdam"})
    retention.deactivate_customer(number, "customer", "my own words")
    view = retention.anonymize_customer(number, now=utc_now() + past_review())
    customer = accounts.require_customer(number)
    assert customer.status == CustomerStatus.ANONYMIZED
    assert (customer.name, customer.phone, customer.address) == (retention.ANONYMIZED_NAME, None, None)
    assert email not in customer.email
    assert view["anonymized_at"] and view["reason"] != "my own words"
    assert new_customer(email=email) != number  # the address is free for someone new


def test_anonymizing_twice_changes_nothing_more(backend):
    number = deactivated()
    first = retention.anonymize_customer(number, now=utc_now() + past_review())
    assert retention.anonymize_customer(number, now=utc_now() + past_review() * 2) == first


def test_a_hold_placed_while_anonymizing_wins(backend, monkeypatch):
    number = deactivated()
    meanwhile(monkeypatch, lambda: retention.change_legal_hold(number, "place", "late subpoena"))
    with pytest.raises(Conflict, match="nothing was erased"):
        retention.anonymize_customer(number, now=utc_now() + past_review())
    customer = accounts.require_customer(number)
    assert (customer.status, customer.name, customer.holds_in_force) == (CustomerStatus.DEACTIVATED, "Jane Doe", 1)


def test_only_records_past_their_review_date_and_not_anonymized_are_due(backend):
    due, later, done = deactivated(), new_customer(), deactivated()
    retention.deactivate_customer(later, "ops", None, now=utc_now() + timedelta(days=30))
    retention.anonymize_customer(done, now=utc_now() + past_review())
    listed = retention.customers_due_for_review(now=utc_now() + past_review())["due"]
    assert [v["customer_number"] for v in listed] == [due]


def test_corrections_under_a_hold_preserve_the_previous_values(backend):
    number = new_customer(phone="+31611111111")
    retention.change_legal_hold(number, "place", "dispute")
    accounts.update_profile(number, {"name": "Jane Roe", "phone": None}, None)
    revisions = profile_revisions.revisions_of(number)
    assert [(r.fields, r.previous.as_dict()) for r in revisions] == [
        (["name", "phone"], {"name": "Jane Doe", "phone": "+31611111111"})
    ]


def test_corrections_without_a_hold_keep_no_previous_values(backend):
    number = new_customer()
    accounts.update_profile(number, {"name": "Jane Roe"}, None)
    assert profile_revisions.revisions_of(number) == []


def test_preserved_values_go_with_the_last_hold_only(backend):
    number = new_customer()
    retention.change_legal_hold(number, "place", "one")
    second = retention.change_legal_hold(number, "place", "two")["holds"]
    accounts.update_profile(number, {"name": "Jane Roe"}, None)
    retention.change_legal_hold(number, "release", "one done", hold_id=second[0]["hold_id"])
    assert len(profile_revisions.revisions_of(number)) == 1
    retention.change_legal_hold(number, "release", "all done")
    assert profile_revisions.revisions_of(number) == []


def test_a_correction_racing_a_new_hold_still_preserves_the_previous_value(backend, monkeypatch):
    number = new_customer()
    meanwhile(monkeypatch, lambda: retention.change_legal_hold(number, "place", "subpoena"))
    accounts.update_profile(number, {"name": "Jane Roe"}, None)
    assert [r.previous.as_dict() for r in profile_revisions.revisions_of(number)] == [{"name": "Jane Doe"}]


def test_a_customer_deactivates_only_with_their_password(backend):
    number = new_customer()
    with pytest.raises(Forbidden):
        retention.deactivate_by_customer(number, "not my password", "bye", None)
    assert accounts.require_customer(number).status == CustomerStatus.ACTIVE
    assert retention.deactivate_by_customer(number, PASSWORD, "bye", None)["initiated_by"] == "customer"
