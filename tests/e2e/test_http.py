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
    ticket = browser.post(f"{api}/support/tickets", json={"subject": "Hi", "message": "Hello"}, headers=csrf,
                          timeout=30)
    assert ticket.status_code == 201
    assert browser.post(f"{api}/logout", headers=csrf, timeout=30).status_code == 204
    assert requests.get(f"{api}/account", headers={"Cookie": cookie.split(";")[0]}, timeout=30).status_code == 401


def test_errors_are_json_with_the_contract_shape(api):
    bad = requests.post(f"{api}/contact", data="{oops", headers={"Content-Type": "application/json"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    form = requests.post(f"{api}/signup", data="a=b", timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"
    assert requests.get(f"{api}/account", timeout=30).json()["error"]["code"] == "unauthorized"


def test_health_and_policy(api):
    assert requests.get(f"{api}/health", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{api}/policy", timeout=30).json()["version"] == "1"


def test_the_statistics_beacon_over_http_sets_no_cookie_and_counts_the_view(api):
    from chalice.test import Client

    from app import app
    from chalicelib.store.base import utc_now

    path = f"/e2e-{uuid.uuid4().hex[:8]}"
    for n in range(5):
        sent = requests.post(f"{api}/stats/event", timeout=30, json={"name": "pageview",
                             "url": f"http://127.0.0.1{path}?session=abc", "screen_width": 1280},
                             headers={"User-Agent": f"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0 e2e-{n}"})
        assert (sent.status_code, sent.content) == (202, b"")
        assert "Set-Cookie" not in sent.headers
    today = utc_now().date().isoformat()
    with Client(app, stage_name="local") as client:
        stats = client.lambda_.invoke("ops_site_statistics", {"from": today, "to": today}).payload
    assert {"key": path, "visitors": 5, "pageviews": 5} in stats["pages"]
