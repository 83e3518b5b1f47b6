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
