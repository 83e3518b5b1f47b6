"""The password-guess throttle under parallel attempts: the slot is reserved before the
password is checked, so no more than the limit are ever evaluated."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client

from app import app
from chalicelib.errors import Forbidden, RateLimited, Unauthorized
from chalicelib.services import accounts, retention, throttle
from tests.helpers import PASSWORD, call, login, signup


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


@pytest.fixture
def evaluations(monkeypatch):
    """How many passwords were actually checked (argon2 verifications)."""
    checked = []
    original = accounts.password_matches

    def counting(customer, password):
        checked.append(password)
        return original(customer, password)

    monkeypatch.setattr(accounts, "password_matches", counting)
    return checked


def outcome(call_it) -> str:
    try:
        call_it()
    except (Unauthorized, Forbidden):
        return "wrong"
    except RateLimited:
        return "throttled"
    return "ok"


def test_parallel_guesses_get_no_more_than_ten_evaluated(client, evaluations):
    account = signup(client)
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(
            pool.map(lambda i: outcome(lambda: accounts.login(account.email, f"wrong guess {i}")), range(24))
        )
    assert results.count("wrong") == 10 and results.count("throttled") == 14
    assert len(evaluations) == 10
    assert outcome(lambda: accounts.login(account.email, PASSWORD)) == "throttled"  # even the right one
    assert len(evaluations) == 10


def test_parallel_guesses_at_an_unknown_email_are_throttled_too(clean_stack, evaluations):
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda i: outcome(lambda: accounts.login("nobody@example.com", f"guess {i}")), range(16))
        )
    assert results.count("wrong") == 10 and results.count("throttled") == 6


def test_a_successful_login_gives_its_slot_back(client):
    account = signup(client)
    for _ in range(9):
        assert login(client, account.email, "wrong password!").status_code == 401
    for _ in range(5):  # right passwords do not use up the window
        assert login(client, account.email).status_code == 200
    assert login(client, account.email, "wrong password!").status_code == 401
    refused = login(client, account.email)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_deactivation_password_check_shares_the_throttle(client, evaluations, monkeypatch):
    account = signup(client)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(
                lambda i: outcome(
                    lambda: retention.deactivate_by_customer(account.customer_number, f"wrong guess {i}", None, None)
                ),
                range(16),
            )
        )
    assert results.count("wrong") == 10 and results.count("throttled") == 6
    assert len(evaluations) == 10
    refused = call(client, "POST", "/account/deactivate", {"password": PASSWORD}, account=account)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    assert "Retry-After" in refused.headers
    assert login(client, account.email).status_code == 429  # one budget per account
    later = throttle.time.time() + 901
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    done = call(client, "POST", "/account/deactivate", {"password": PASSWORD}, account=account)
    assert done.status_code == 200 and done.json == {"status": "deactivated"}
