"""The shop over HTTP against `chalice local`, with real browsers' cookie jars."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chalicelib.store.base import utc_now
from tests.helpers import PASSWORD
from tests.stack import outbox

CARD = {
    "type": "card",
    "card": {
        "number": "5555 5555 5555 4444",
        "exp_month": 1,
        "exp_year": utc_now().year + 2,
        "cvc": "321",
        "holder_name": "Eve E2E",
    },
}
ADDRESS = {"line1": "Coolsingel 40", "city": "Rotterdam", "postal_code": "3011 AD", "country": "NL"}


@pytest.fixture
def api(api_server, clean_stack):
    return api_server


def new_browser(api: str) -> tuple[requests.Session, dict]:
    """A logged-in browser (session cookie in its jar) and its CSRF header."""
    browser = requests.Session()
    email = f"shop.{uuid.uuid4().hex[:8]}@example.com"
    signup = browser.post(
        f"{api}/signup", json={"name": "Eve E2E", "email": email, "password": PASSWORD, "address": ADDRESS}, timeout=30
    )
    assert signup.status_code == 201, signup.text
    return browser, {"X-CSRF-Token": signup.json()["csrf_token"]}


def test_the_cart_cookie_over_http(api):
    browser = requests.Session()
    assert browser.get(f"{api}/cart", timeout=30).headers.get("Set-Cookie") is None
    response = browser.put(f"{api}/cart/items/vps-small", json={"billing_cycle": "annual", "quantity": 1}, timeout=30)
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cart=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert max_age >= 7 * 24 * 3600 and "Secure" not in cookie
    assert browser.get(f"{api}/cart", timeout=30).json()["total"] == "54.00"
    stranger = requests.get(f"{api}/cart", timeout=30).json()
    assert stranger == {"items": [], "total": "0.00", "currency": "EUR"}
    tampered = browser.put(
        f"{api}/cart/items/vps-small",
        json={"billing_cycle": "annual", "quantity": 1, "unit_amount": "0.01"},
        timeout=30,
    )
    assert tampered.status_code == 400


def test_shopping_from_catalog_to_receipt(api):
    browser, csrf = new_browser(api)
    products = browser.get(f"{api}/catalog", timeout=30).json()["products"]
    plain = next(p for p in products if not p["requires"])
    pm = browser.post(f"{api}/account/payment-methods", json=CARD, headers=csrf, timeout=30).json()
    browser.put(f"{api}/cart/items/{plain['sku']}", json={"billing_cycle": "monthly", "quantity": 3}, timeout=30)

    key = {"Idempotency-Key": uuid.uuid4().hex}
    placed = browser.post(
        f"{api}/orders", json={"payment_method_id": pm["payment_method_id"]}, headers={**csrf, **key}, timeout=30
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    unit = plain["billing_cycles"]["monthly"]["amount"]
    assert order["items"][0]["unit_amount"] == unit and order["payment"]["last4"] == "4444"
    retried = browser.post(
        f"{api}/orders", json={"payment_method_id": pm["payment_method_id"]}, headers={**csrf, **key}, timeout=30
    )
    assert (retried.status_code, retried.json()) == (201, order)
    assert [o["order_id"] for o in browser.get(f"{api}/orders", timeout=30).json()["orders"]] == [order["order_id"]]
    assert len([m for m in outbox() if order["order_id"] in m["subject"]]) == 1

    receipt = browser.get(f"{api}/orders/{order['order_id']}/receipt", timeout=30)
    assert receipt.status_code == 200 and receipt.headers["Content-Type"].startswith("text/html")
    assert order["order_id"] in receipt.text and "Coolsingel 40" in receipt.text and "4444" in receipt.text
    assert requests.get(f"{api}/orders/{order['order_id']}/receipt", timeout=30).status_code == 401
    other, _ = new_browser(api)
    assert other.get(f"{api}/orders/{order['order_id']}/receipt", timeout=30).status_code == 404


def test_parallel_checkouts_of_one_cart_over_http_make_one_order(api):
    browser, csrf = new_browser(api)
    pm = browser.post(f"{api}/account/payment-methods", json=CARD, headers=csrf, timeout=30).json()
    browser.put(f"{api}/cart/items/vps-medium", json={"billing_cycle": "annual", "quantity": 2}, timeout=30)
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)

    def checkout(n: int) -> int:
        headers = {**csrf, "Cookie": cookies, "Idempotency-Key": f"parallel-{n}"}
        return requests.post(
            f"{api}/orders", json={"payment_method_id": pm["payment_method_id"]}, headers=headers, timeout=60
        ).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(checkout, range(4)))
    assert statuses == [201, 409, 409, 409]
    assert len(browser.get(f"{api}/orders", timeout=30).json()["orders"]) == 1
