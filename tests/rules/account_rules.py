"""Accounts: one account per address, case-insensitively; profile and address changes
and the history of who held which address (services/accounts.py, services/addresses.py)."""

from __future__ import annotations

import pytest

from chalicelib.errors import AccountDeactivated, Conflict, NotFound, RateLimited, Unauthorized
from chalicelib.services import account_tokens, accounts, email_ownership, password_reset, retention, sessions
from chalicelib.services.email_address import email_key
from chalicelib.settings import get_settings
from chalicelib.store import audit
from chalicelib.store import email_history as history
from chalicelib.store.states import CustomerStatus
from tests.rules.common import PASSWORD, mail_asked, meanwhile, new_customer, signup, unique_email  # noqa: F401


def audit_actions(number: str) -> list[tuple]:
    return sorted((e.action, tuple(e.fields or ())) for e in audit.entries_of(number))


def test_signup_makes_an_active_account_with_its_address_normalized(backend, mail):
    email = unique_email("Mixed.Case").replace("example.com", "Example.COM")
    account = signup(email=email, phone="+31612345678")
    profile = accounts.get_profile(account.customer_number)
    assert profile["email"] == email.replace("Example.COM", "example.com")
    assert (profile["status"], profile["phone"], profile["email_verified"]) == ("active", "+31612345678", False)
    assert mail == [("verify", account.customer_number, profile["email"])]
    assert audit_actions(account.customer_number) == [("signup", ("email", "name", "phone"))]


def test_one_account_per_address_whatever_its_case(backend):
    email = unique_email()
    first = new_customer(email=email)
    with pytest.raises(Conflict):
        signup(email="  " + email.upper() + " ")
    assert [h.customer_number for h in history.holdings_of_address(email)] == [first]


def test_the_address_history_starts_at_signup(backend):
    email = unique_email()
    number = new_customer(email=email)
    [entry] = history.entries_of(number)
    assert (entry.email_key, entry.released_at) == (email, None)
    assert entry.claimed_at == accounts.require_customer(number).created_at


def test_an_email_change_moves_the_claim_and_the_history(backend, mail):
    old, new = unique_email("old"), unique_email("new")
    number = new_customer(email=old)
    view = accounts.update_profile(number, {"email": new}, None)
    assert (view["email"], view["email_verified"]) == (new, False)
    entries = {e.email_key: e for e in history.entries_of(number)}
    assert entries[old].released_at is not None and entries[new].released_at is None
    assert entries[old].released_at == entries[new].claimed_at
    assert mail[-1] == ("changed", number, old, new)
    taker = new_customer(email=old.upper())  # the old address is free again
    assert [h.customer_number for h in history.holdings_of_address(old)] == [number, taker]
    with pytest.raises(Conflict):
        signup(email=new)


def test_an_email_change_to_an_address_in_use_changes_nothing(backend):
    taken, mine = unique_email("taken"), unique_email("mine")
    new_customer(email=taken)
    number = new_customer(email=mine)
    with pytest.raises(Conflict):
        accounts.update_profile(number, {"email": taken.upper(), "name": "Jane Roe"}, None)
    customer = accounts.require_customer(number)
    assert (customer.email, customer.name) == (mine, "Jane Doe")
    assert [e.email_key for e in history.entries_of(number)] == [mine]


def test_changing_only_the_case_of_the_address_keeps_its_claim_and_verification(backend, mail):
    email = unique_email("jane")
    number = new_customer(email=email)
    asked = len(mail)
    view = accounts.update_profile(number, {"email": email.replace("jane", "JANE")}, None)
    assert view["email"].startswith("JANE.")
    assert len(mail) == asked  # same address: nothing to verify again
    assert [(e.email_key, e.released_at) for e in history.entries_of(number)] == [(email, None)]
    with pytest.raises(Conflict):
        signup(email=email)


def test_a_profile_change_is_audited_by_field_names_only(backend):
    number = new_customer()
    accounts.update_profile(number, {"name": "Jane Roe", "phone": "+31687654321"}, "req-9")
    [entry] = [e for e in audit.entries_of(number) if e.action == "profile_updated"]
    assert (entry.fields, entry.request_id, entry.actor) == (["name", "phone"], "req-9", "customer")
    assert "Jane Roe" not in str(entry.serialize())


def test_a_change_to_the_same_values_writes_nothing(backend):
    number = new_customer(phone="+31612345678")
    before = audit_actions(number)
    view = accounts.update_profile(number, {"name": "Jane Doe", "phone": "+31612345678"}, None)
    assert view["name"] == "Jane Doe" and audit_actions(number) == before


def test_profile_changes_racing_lose_no_update(backend, monkeypatch):
    number = new_customer()
    meanwhile(monkeypatch, lambda: accounts.update_profile(number, {"phone": "+31600000001"}, None))
    accounts.update_profile(number, {"name": "Jane Roe"}, None)
    customer = accounts.require_customer(number)
    assert (customer.name, customer.phone) == ("Jane Roe", "+31600000001")
    assert [a for a, _ in audit_actions(number)].count("profile_updated") == 2


def test_a_deactivated_account_cannot_be_changed(backend):
    number = new_customer()
    retention.deactivate_customer(number, "customer", None)
    with pytest.raises(AccountDeactivated):
        accounts.update_profile(number, {"name": "Jane Roe"}, None)
    assert accounts.require_customer(number).status == CustomerStatus.DEACTIVATED


def test_login_goes_by_the_current_address_only(backend):
    old, new = unique_email("old"), unique_email("new")
    number = new_customer(email=old)
    accounts.update_profile(number, {"email": new}, None)
    assert accounts.login(new.upper(), PASSWORD).customer_number == number
    with pytest.raises(Unauthorized):
        accounts.login(old, PASSWORD)


def test_wrong_passwords_use_up_the_checks_even_for_the_right_one(backend):
    email = unique_email()
    new_customer(email=email)
    assert accounts.login(email, PASSWORD)  # a right password gives its check back
    for _ in range(get_settings().login_max_failures):
        with pytest.raises(Unauthorized):
            accounts.login(email, "not the password")
    with pytest.raises(RateLimited):
        accounts.login(email, PASSWORD)


def test_a_deactivated_account_cannot_log_in(backend):
    email = unique_email()
    number = new_customer(email=email)
    retention.deactivate_customer(number, "ops", "abuse")
    with pytest.raises(AccountDeactivated):
        accounts.login(email, PASSWORD)


def verification_token(number: str, email: str) -> str:
    return account_tokens.issue(email_ownership.PURPOSE, number, email_key(email), 3600)


def test_an_address_is_verified_by_its_token_once(backend):
    email = unique_email()
    number = new_customer(email=email)
    token = verification_token(number, email)
    assert email_ownership.verify(token, None) == {"email_verified": True}
    assert accounts.get_profile(number)["email_verified"] is True
    with pytest.raises(NotFound):
        email_ownership.verify(token, None)


def test_a_verification_token_dies_with_the_address_it_was_sent_to(backend):
    old = unique_email("old")
    number = new_customer(email=old)
    token = verification_token(number, old)
    accounts.update_profile(number, {"email": unique_email("new")}, None)
    with pytest.raises(NotFound):
        email_ownership.verify(token, None)
    assert accounts.get_profile(number)["email_verified"] is False


def test_a_password_reset_replaces_the_password_once_and_ends_every_session(backend):
    email = unique_email()
    account = signup(email=email)
    customer = accounts.require_customer(account.customer_number)
    token = account_tokens.issue(password_reset.PURPOSE, customer.customer_number, customer.password_hash, 600)
    password_reset.confirm_reset(token, "a brand new passphrase", None)
    assert sessions.resolve_session(account.session_token) is None
    assert accounts.login(email, "a brand new passphrase").customer_number == account.customer_number
    with pytest.raises(Unauthorized):
        accounts.login(email, PASSWORD)
    with pytest.raises(NotFound):
        password_reset.confirm_reset(token, "yet another passphrase", None)
