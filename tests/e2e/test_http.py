"""HTTP against `chalice local` serving the app on the test stack, as a browser would."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.helpers import PASSWORD


@pytest.fixture
def api(api_server, clean_stack):
    from chalicelib.services.policy import ensure_initial_policy

    ensure_initial_policy()
    return api_server


def test_a_customer_visit_from_signup_to_logout(api):
    browser = requests.Session()
    email = f"e2e.{uuid.uuid4().hex[:8]}@example.com"
    signup = browser.post(f"{api}/signup", json={"name": "Eve", "email": email, "password": PASSWORD}, timeout=30)
    assert signup.status_code == 201
    cookie = signup.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    csrf = {"X-CSRF-Token": signup.json()["csrf_token"]}

    assert browser.get(f"{api}/account", timeout=30).json()["email"] == email
    assert browser.patch(f"{api}/account", json={"name": "Eve Two"}, timeout=30).status_code == 403
    patched = browser.patch(f"{api}/account", json={"name": "Eve Two"}, headers=csrf, timeout=30)
    assert patched.status_code == 200 and patched.json()["name"] == "Eve Two"
    ticket = browser.post(
        f"{api}/support/tickets", json={"subject": "Hi", "message": "Hello"}, headers=csrf, timeout=30
    )
    assert ticket.status_code == 201
    assert browser.post(f"{api}/logout", headers=csrf, timeout=30).status_code == 204
    assert requests.get(f"{api}/account", headers={"Cookie": cookie.split(";")[0]}, timeout=30).status_code == 401


def test_errors_are_json_with_the_contract_shape(api):
    bad = requests.post(f"{api}/contact", data="{oops", headers={"Content-Type": "application/json"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    form = requests.post(
        f"{api}/signup", data="a=b", timeout=30, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"
    assert requests.get(f"{api}/account", timeout=30).json()["error"]["code"] == "unauthorized"


def test_health_and_policy(api):
    assert requests.get(f"{api}/health", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{api}/policy", timeout=30).json()["version"] == "1"


def test_unknown_routes_and_methods_answer_in_the_contract_error_shape(api):
    def error_code(response):
        assert response.headers["Content-Type"] == "application/json"
        assert set(response.json()["error"]) == {"code", "message", "details"}
        return response.status_code, response.json()["error"]["code"]

    assert error_code(requests.get(f"{api}/no/such/route", timeout=30)) == (404, "not_found")
    assert error_code(requests.get(f"{api}/nope", headers={"Authorization": "x"}, timeout=30)) == (404, "not_found")
    assert error_code(requests.delete(f"{api}/health", timeout=30)) == (405, "method_not_allowed")
    assert error_code(requests.request("TRACE", f"{api}/health", timeout=30)) == (405, "method_not_allowed")
    long_id = "T" + "0" * 2100
    assert error_code(requests.get(f"{api}/policy/versions/{long_id}", timeout=30)) == (404, "not_found")


def test_parallel_password_guesses_over_http_get_ten_evaluated_then_429(api):
    from concurrent.futures import ThreadPoolExecutor

    email = f"e2e.{uuid.uuid4().hex[:8]}@example.com"
    assert (
        requests.post(
            f"{api}/signup", json={"name": "Eve", "email": email, "password": PASSWORD}, timeout=30
        ).status_code
        == 201
    )

    def guess(i):
        for _ in range(5):  # chalice local's small listen backlog may reset a connection it never served
            try:
                return requests.post(f"{api}/login", json={"email": email, "password": f"wrong guess {i}"}, timeout=60)
            except requests.ConnectionError:
                continue
        raise AssertionError("chalice local kept resetting the connection")

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(guess, range(24)))
    codes = [a.status_code for a in answers]
    assert 0 < codes.count(401) <= 10 and codes.count(401) + codes.count(429) == 24  # the integration test: exactly 10
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers if a.status_code == 429)
    right = requests.post(f"{api}/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert right.status_code == 429 and right.json()["error"]["code"] == "rate_limited"


def test_verify_email_and_reset_password_through_the_pages(api):
    import re

    from tests.helpers import last_mail, link_token

    browser = requests.Session()
    email = f"e2e.{uuid.uuid4().hex[:8]}@example.com"
    assert (
        browser.post(
            f"{api}/signup", json={"name": "Eve", "email": email, "password": PASSWORD}, timeout=30
        ).status_code
        == 201
    )
    token = link_token(last_mail(email, "Confirm your email address"), "/verify-email")
    page = requests.get(f"{api}/verify-email?token={token}", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert browser.get(f"{api}/account", timeout=30).json()["email_verified"] is False
    action = re.search(r'<form id="verify-email" method="post" action="([^"]+)"', page.text).group(1)
    assert requests.post(action, data={"token": token}, timeout=30).status_code == 200
    assert browser.get(f"{api}/account", timeout=30).json()["email_verified"] is True

    assert requests.post(f"{api}/password-reset", json={"email": email}, timeout=30).status_code == 202
    token = link_token(last_mail(email, "Reset your password"), "/password-reset")
    form = requests.get(f"{api}/password-reset?token={token}", timeout=30)
    assert form.status_code == 200 and 'name="password"' in form.text
    confirmed = requests.post(
        f"{api}/password-reset/confirm", json={"token": token, "password": "new and long enough"}, timeout=30
    )
    assert confirmed.status_code == 200
    assert browser.get(f"{api}/account", timeout=30).status_code == 401  # every session ended
    assert (
        requests.post(f"{api}/login", json={"email": email, "password": "new and long enough"}, timeout=30).status_code
        == 200
    )


def test_the_statistics_beacon_over_http_sets_no_cookie_and_counts_the_view(api):
    from chalice.test import Client

    from app import app
    from chalicelib.store.base import utc_now

    path = f"/e2e-{uuid.uuid4().hex[:8]}"
    for n in range(5):
        sent = requests.post(
            f"{api}/stats/event",
            timeout=30,
            json={"name": "pageview", "url": f"http://127.0.0.1{path}?session=abc", "screen_width": 1280},
            headers={"User-Agent": f"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0 e2e-{n}"},
        )
        assert (sent.status_code, sent.content) == (202, b"")
        assert "Set-Cookie" not in sent.headers
    today = utc_now().date().isoformat()
    with Client(app, stage_name="local") as client:
        stats = client.lambda_.invoke("ops_site_statistics", {"from": today, "to": today}).payload
    assert {"key": path, "visitors": 5, "pageviews": 5} in stats["pages"]
