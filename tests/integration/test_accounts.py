"""Signup, login, sessions, profile changes: against DynamoDB Local."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client

from app import app
from chalicelib.errors import Conflict
from chalicelib.services import accounts, throttle
from tests.helpers import PASSWORD, call, cookie_of, login, signup, unique_email


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def scan(stack, logical: str) -> list[dict]:
    return stack.dynamodb().scan(TableName=f"{stack.table_prefix}{logical}", ConsistentRead=True)["Items"]


def test_signup_sets_session_cookie_and_returns_customer_number(client):
    response = call(client, "POST", "/signup", {"name": "Jane", "email": unique_email(), "password": PASSWORD})
    assert response.status_code == 201
    assert re.fullmatch(r"C[0-9]+", response.json["customer_number"])
    assert response.json["csrf_token"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=2592000" in cookie
    assert "Secure" not in cookie  # local stage is plain http on loopback


def test_email_is_unique_case_insensitively(client, clean_stack):
    signup(client, email="Owner@Example.com")
    again = call(client, "POST", "/signup", {"name": "X", "email": "owner@EXAMPLE.com", "password": PASSWORD})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "conflict"
    assert len(scan(clean_stack, "customers")) == 1


def test_concurrent_signups_with_one_email_create_one_account(clean_stack):
    email = unique_email()

    def attempt(i):
        try:
            return accounts.signup(
                {"name": f"N{i}", "email": email.upper() if i % 2 else email, "password": PASSWORD}, None
            ).customer_number
        except Conflict:
            return None

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert len([r for r in results if r]) == 1
    assert len(scan(clean_stack, "customers")) == 1
    assert len(scan(clean_stack, "email_claims")) == 1


def test_a_taken_customer_number_is_never_reused(clean_stack, monkeypatch):
    numbers = iter(["C1000000001", "C1000000001", "C1000000002"])
    monkeypatch.setattr(accounts, "new_customer_number", lambda: next(numbers))
    first = accounts.signup({"name": "A", "email": unique_email(), "password": PASSWORD}, None)
    second = accounts.signup({"name": "B", "email": unique_email(), "password": PASSWORD}, None)
    assert (first.customer_number, second.customer_number) == ("C1000000001", "C1000000002")


def test_password_is_stored_as_argon2id_and_token_only_as_hash(client, clean_stack):
    account = signup(client)
    [customer] = scan(clean_stack, "customers")
    assert customer["password_hash"]["S"].startswith("$argon2id$")
    token = account.cookie.split("=", 1)[1]
    sessions = scan(clean_stack, "sessions")
    assert sessions and all(token not in str(item) for item in sessions)


def test_login_answers_the_same_for_unknown_email_and_wrong_password(client):
    account = signup(client)
    wrong = login(client, account.email, "not the password at all")
    unknown = login(client, unique_email(), "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    good = login(client, account.email.upper())
    assert good.status_code == 200 and good.json["customer_number"] == account.customer_number


def test_login_is_throttled_after_ten_failures_even_for_the_right_password(client, monkeypatch):
    account = signup(client)
    for _ in range(10):
        assert login(client, account.email, "wrong password!").status_code == 401
    throttled = login(client, account.email)
    assert throttled.status_code == 429
    assert throttled.json["error"]["code"] == "rate_limited"
    assert 0 < int(throttled.headers["Retry-After"]) <= 900
    later = throttle.time.time() + 901
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    assert login(client, account.email).status_code == 200


def test_account_needs_a_session_and_shows_the_profile(client):
    assert call(client, "GET", "/account").status_code == 401
    account = signup(
        client,
        name="Jane Doe",
        phone="+31201234567",
        address={"line1": "Main 1", "city": "Amsterdam", "postal_code": "1011 AB", "country": "NL"},
    )
    profile = call(client, "GET", "/account", account=account).json
    assert profile["customer_number"] == account.customer_number
    assert profile["email"] == account.email and profile["phone"] == "+31201234567"
    assert profile["address"]["country"] == "NL" and profile["status"] == "active"
    assert profile["created_at"].endswith("Z")
    assert "password_hash" not in profile


def test_state_changes_need_the_csrf_token_after_the_session(client):
    account = signup(client)
    assert call(client, "PATCH", "/account", {"name": "X"}).status_code == 401
    refused = call(client, "PATCH", "/account", {"name": "X"}, account=account, csrf=False)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "csrf_failed"
    forged = call(
        client, "PATCH", "/account", {"name": "X"}, account=account, csrf=False, headers={"X-CSRF-Token": "0" * 64}
    )
    assert forged.status_code == 403
    assert call(client, "GET", "/account", account=account).json["name"] == "Jane Doe"


def test_profile_change_is_audited_with_field_names_only(client, clean_stack):
    account = signup(client)
    new_email = unique_email("moved")
    response = call(client, "PATCH", "/account", {"email": new_email, "phone": "+442071234567"}, account=account)
    assert response.status_code == 200
    assert response.json["email"] == new_email and response.json["phone"] == "+442071234567"
    entries = [e for e in scan(clean_stack, "audit_trail") if e["action"]["S"] == "profile_updated"]
    assert len(entries) == 1
    assert sorted(f["S"] for f in entries[0]["fields"]["L"]) == ["email", "phone"]
    assert new_email not in str(entries[0]) and "+442071234567" not in str(entries[0])
    assert login(client, new_email).status_code == 200
    assert login(client, account.email).status_code == 401


def test_changing_to_a_taken_email_is_a_conflict_and_changes_nothing(client):
    first, second = signup(client), signup(client)
    response = call(client, "PATCH", "/account", {"email": first.email.upper(), "name": "New"}, account=second)
    assert response.status_code == 409
    assert call(client, "GET", "/account", account=second).json["name"] == "Jane Doe"


def test_concurrent_profile_changes_lose_no_update(client):
    account = signup(client)
    changes = [{"name": f"Name {i}"} if i % 2 else {"phone": f"+3120123456{i}"} for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda c: accounts.update_profile(account.customer_number, c, None), changes))
    profile = accounts.get_profile(account.customer_number)
    assert profile["name"] in {f"Name {i}" for i in (1, 3, 5)}
    assert profile["phone"] in {f"+3120123456{i}" for i in (0, 2, 4)}
    trail = [e for e in accounts_audit(account.customer_number) if e.action == "profile_updated"]
    assert 2 <= len(trail) <= 6


def accounts_audit(customer_number):
    from chalicelib.store.audit import entries_of

    return entries_of(customer_number)


def test_logout_revokes_the_session_on_the_server(client, clean_stack):
    account = signup(client)
    assert call(client, "POST", "/logout", account=account).status_code == 204
    assert scan(clean_stack, "sessions") == []
    assert call(client, "GET", "/account", account=account).status_code == 401


def test_session_expiry_slides_forward(client, clean_stack):
    account = signup(client)
    table = f"{clean_stack.table_prefix}sessions"
    [session] = scan(clean_stack, "sessions")
    clean_stack.dynamodb().update_item(
        TableName=table,
        Key={"token_hash": session["token_hash"]},
        UpdateExpression="SET refreshed_at = :old, expires_at = :soon",
        ExpressionAttributeValues={
            ":old": {"S": "2020-01-01T00:00:00.000Z"},
            ":soon": {"S": "2099-01-01T00:00:00.000Z"},
        },
    )
    response = call(client, "GET", "/account", account=account)
    assert response.status_code == 200
    assert "Max-Age=2592000" in response.headers["Set-Cookie"]
    [slid] = scan(clean_stack, "sessions")
    assert slid["refreshed_at"]["S"] > "2026"


def test_expired_session_is_refused(client, clean_stack):
    account = signup(client)
    [session] = scan(clean_stack, "sessions")
    clean_stack.dynamodb().update_item(
        TableName=f"{clean_stack.table_prefix}sessions",
        Key={"token_hash": session["token_hash"]},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"S": "2020-01-01T00:00:00.000Z"}},
    )
    assert call(client, "GET", "/account", account=account).status_code == 401


def test_login_cookie_is_a_new_session(client):
    account = signup(client)
    response = login(client, account.email)
    assert cookie_of(response) != account.cookie
    assert response.json["csrf_token"] != account.csrf


def test_changes_made_over_http_carry_the_request_id(client, clean_stack):
    signup(client)
    [entry] = scan(clean_stack, "audit_trail")
    assert entry["request_id"]["S"]
