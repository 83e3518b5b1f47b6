"""Checkout, orders, receipts and their retention: against DynamoDB Local and the SES and
KMS stand-in, through the Chalice test client."""

from __future__ import annotations

import json
import threading

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import orders
from chalicelib.settings import reset_settings
from chalicelib.store.base import utc_now
from tests.helpers import call, signup
from tests.stack import outbox

ADDRESS = {"line1": "Keizersgracht 1", "city": "Amsterdam", "postal_code": "1015 CJ", "country": "NL"}
VISA = {
    "type": "card",
    "card": {
        "number": "4242 4242 4242 4242",
        "exp_month": 12,
        "exp_year": utc_now().year + 1,
        "cvc": "123",
        "holder_name": "Jane Doe",
    },
}
ID_CARD = {"type": "national_id", "country": "NL", "number": "NL-1234-5678"}


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


class Shopper:
    """A logged-in customer's browser: the session cookie and, once it has one, the cart cookie."""

    def __init__(self, client, **signup_fields):
        self.client = client
        self.account = signup(client, **{"name": "Jane Doe", "address": ADDRESS, **signup_fields})
        self.cart = ""

    @property
    def cookies(self) -> str:
        return "; ".join(c for c in (self.account.cookie, self.cart) if c)

    def call(self, method: str, path: str, body=None, headers: dict | None = None, csrf: bool = True):
        sent = {"Cookie": self.cookies, **({"X-CSRF-Token": self.account.csrf} if csrf else {}), **(headers or {})}
        return call(self.client, method, path, body, headers=sent)

    def add(self, sku: str, quantity: int = 1, billing_cycle: str = "monthly"):
        response = self.call("PUT", f"/cart/items/{sku}", {"billing_cycle": billing_cycle, "quantity": quantity})
        assert response.status_code == 200, response.body
        if "Set-Cookie" in response.headers:
            self.cart = response.headers["Set-Cookie"].split(";", 1)[0]
        return response

    def payment_method(self, method: dict = VISA) -> str:
        response = self.call("POST", "/account/payment-methods", method)
        assert response.status_code == 201, response.body
        return response.json["payment_method_id"]

    def checkout(self, payment_method_id: str, key: str | None = "key-1", **body):
        headers = {"Idempotency-Key": key} if key else {}
        return self.call("POST", "/orders", {"payment_method_id": payment_method_id, **body}, headers=headers)


def order_mails(order_id: str) -> list[dict]:
    return [m for m in outbox() if order_id in m["subject"]]


def test_checkout_turns_the_cart_into_an_order_and_confirms_by_email(client, clean_stack):
    shopper = Shopper(client)
    pm = shopper.payment_method()
    shopper.add("vps-medium", 2)
    shopper.add("backup-daily", 1)
    response = shopper.checkout(pm)
    assert response.status_code == 201, response.body
    order = response.json
    assert order["status"] == "placed" and order["order_id"] and order["placed_at"].endswith("Z")
    assert [(i["sku"], i["billing_cycle"], i["quantity"], i["unit_amount"], i["amount"]) for i in order["items"]] == [
        ("vps-medium", "monthly", 2, "12.00", "24.00"),
        ("backup-daily", "monthly", 1, "2.50", "2.50"),
    ]
    assert (order["total"], order["currency"]) == ("26.50", "EUR")
    assert order["payment"] == {"type": "card", "brand": "visa", "last4": "4242"}
    json.loads(response.body, parse_float=lambda text: pytest.fail(f"a float in an order: {text}"))

    assert shopper.call("GET", "/cart").json == {"items": [], "total": "0.00", "currency": "EUR"}
    assert shopper.call("GET", f"/orders/{order['order_id']}").json == order
    assert shopper.call("GET", "/orders").json == {"orders": [order]}

    [mail] = order_mails(order["order_id"])
    assert mail["to"] == [shopper.account.email]
    assert f"/orders/{order['order_id']}/receipt" in mail["text"] and order["order_id"] in mail["html"]
    assert "4242 4242" not in mail["text"] + mail["html"]
    sent = call(client, "GET", "/account/export", account=shopper.account).json
    assert [m["template"] for m in sent["messages_sent"]].count("order_confirmation") == 1
    audit = [e["action"] for e in sent["audit_trail"]]
    assert "order_placed" in audit


def test_the_order_keeps_the_billing_details_of_the_time(client):
    shopper = Shopper(client)
    pm = shopper.payment_method()
    shopper.add("vps-small")
    other = {"line1": "Damrak 5", "city": "Amsterdam", "postal_code": "1012 LG", "country": "NL"}
    order = shopper.checkout(pm, billing_address=other).json
    shopper.call("PATCH", "/account", {"name": "Jane Changed", "address": {**ADDRESS, "line1": "Elsewhere 9"}})
    shopper.call("DELETE", f"/account/payment-methods/{pm}")
    kept = shopper.call("GET", f"/orders/{order['order_id']}").json
    assert kept["billing"]["name"] == "Jane Doe" and kept["billing"]["address"] == other
    assert kept["payment"] == {"type": "card", "brand": "visa", "last4": "4242"}


def test_an_empty_cart_cannot_be_ordered(client):
    shopper = Shopper(client)
    pm = shopper.payment_method()
    response = shopper.checkout(pm)
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"
    shopper.add("vps-small")
    shopper.call("DELETE", "/cart/items/vps-small")
    assert shopper.checkout(pm, key="key-2").status_code == 409
    assert shopper.call("GET", "/orders").json == {"orders": []}
    assert outbox() == [m for m in outbox() if "order" not in m["subject"].lower()]


def test_a_product_needing_an_identity_document_needs_one_on_file(client):
    shopper = Shopper(client)
    pm = shopper.payment_method()
    shopper.add("dedicated-ipv4")
    refused = shopper.checkout(pm)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "conflict"
    assert [d["path"] for d in refused.json["error"]["details"]] == ["identity_document"]
    assert shopper.call("GET", "/cart").json["items"]  # nothing changed
    assert shopper.call("PUT", "/account/identity-document", ID_CARD).status_code == 200
    placed = shopper.checkout(pm, key="key-2")  # the same key again is fine: the refusal left nothing behind
    assert placed.status_code == 201 and placed.json["items"][0]["sku"] == "dedicated-ipv4"


def test_another_customers_or_a_deleted_payment_method_is_404(client):
    mallory, victim = Shopper(client), Shopper(client)
    theirs = victim.payment_method()
    mallory.add("vps-small")
    response = mallory.checkout(theirs)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    own = mallory.payment_method()
    mallory.call("DELETE", f"/account/payment-methods/{own}")
    assert mallory.checkout(own, key="key-2").status_code == 404
    assert mallory.checkout("pm_" + "0" * 24, key="key-3").status_code == 404
    assert mallory.call("GET", "/cart").json["items"] and mallory.call("GET", "/orders").json["orders"] == []


def test_a_retry_with_the_same_key_and_body_answers_the_same_order_and_sends_one_email(client, clean_stack):
    shopper = Shopper(client)
    pm = shopper.payment_method()
    shopper.add("vps-small", 3)
    first = shopper.checkout(pm, key="retry-me")
    assert first.status_code == 201
    shopper.add("vps-large")  # a new cart meanwhile changes nothing for the retry
    again = shopper.checkout(pm, key="retry-me")
    assert (again.status_code, again.json) == (201, first.json)
    assert len(shopper.call("GET", "/orders").json["orders"]) == 1
    assert len(order_mails(first.json["order_id"])) == 1
    assert [i["sku"] for i in shopper.call("GET", "/cart").json["items"]] == ["vps-large"]


def test_the_same_key_with_another_body_is_a_conflict(client):
    shopper = Shopper(client)
    pm, other = shopper.payment_method(), shopper.payment_method()
    shopper.add("vps-small")
    assert shopper.checkout(pm, key="k").status_code == 201
    response = shopper.checkout(other, key="k")
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"


def test_keys_belong_to_one_customer(client):
    alice, bob = Shopper(client), Shopper(client)
    for shopper in (alice, bob):
        shopper.add("vps-small")
        assert shopper.checkout(shopper.payment_method(), key="same-key").status_code == 201
    assert alice.call("GET", "/orders").json != bob.call("GET", "/orders").json


@pytest.mark.parametrize("key", ["", "x" * 65, "has space", "semi;colon", "ünïcode"])
def test_a_malformed_idempotency_key_is_refused(client, key):
    shopper = Shopper(client)
    shopper.add("vps-small")
    response = shopper.call(
        "POST",
        "/orders",
        {"payment_method_id": "pm_x"},
        headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")},
    )
    assert response.status_code == 400 and response.json["error"]["details"][0]["path"] == "Idempotency-Key"


def test_checkout_needs_login_and_csrf(client):
    shopper = Shopper(client)
    pm = shopper.payment_method()
    shopper.add("vps-small")
    assert (
        call(client, "POST", "/orders", {"payment_method_id": pm}, headers={"Cookie": shopper.cart}).status_code == 401
    )
    no_csrf = shopper.call("POST", "/orders", {"payment_method_id": pm}, csrf=False)
    assert no_csrf.status_code == 403 and no_csrf.json["error"]["code"] == "csrf_failed"
    tampered = shopper.call("POST", "/orders", {"payment_method_id": pm, "total": "0.01"})
    assert tampered.status_code == 400 and tampered.json["error"]["details"][0]["path"] == "total"


def test_two_checkouts_of_one_cart_in_parallel_make_exactly_one_order(client, clean_stack):
    shopper = Shopper(client)
    pm = shopper.payment_method()
    shopper.add("vps-small", 2)
    token = shopper.cart.split("=", 1)[1]
    start, results = threading.Barrier(4), []

    def checkout(key: str) -> None:
        start.wait()
        try:
            results.append(orders.place_order(shopper.account.customer_number, token, {"payment_method_id": pm}, key))
        except Exception as error:
            results.append(error)

    threads = [threading.Thread(target=checkout, args=(key,)) for key in ("a", "b", "c", None)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    placed = [r for r in results if isinstance(r, dict)]
    assert len(placed) == 1, results
    assert all(getattr(r, "code", None) == "conflict" for r in results if not isinstance(r, dict)), results
    assert [o["order_id"] for o in shopper.call("GET", "/orders").json["orders"]] == [placed[0]["order_id"]]
    assert len(order_mails(placed[0]["order_id"])) == 1


def test_orders_are_listed_newest_first_and_only_the_callers(client):
    alice, bob = Shopper(client), Shopper(client)
    pm = alice.payment_method()
    placed = []
    for n, sku in enumerate(("vps-small", "vps-medium", "backup-daily")):
        alice.add(sku)
        placed.append(alice.checkout(pm, key=f"k{n}").json["order_id"])
    assert [o["order_id"] for o in alice.call("GET", "/orders").json["orders"]] == placed[::-1]
    assert bob.call("GET", "/orders").json == {"orders": []}
    for path in (f"/orders/{placed[0]}", f"/orders/{placed[0]}/receipt"):
        response = bob.call("GET", path)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    for bad in ("nope", "O" + "0" * 32, "x" * 3000, "%00"):
        assert alice.call("GET", f"/orders/{bad}").status_code == 404


def test_the_receipt_is_an_escaped_printable_page_with_the_masked_payment(client):
    shopper = Shopper(client, name="<b>Jane</b> & Co")
    pm = shopper.payment_method()
    shopper.add("vps-large", 2, "annual")
    order = shopper.checkout(pm).json
    response = shopper.call("GET", f"/orders/{order['order_id']}/receipt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Referrer-Policy"]
    page = response.body.decode()
    for text in (
        order["order_id"],
        order["placed_at"],
        "VPS Large",
        "vps-large",
        "annual",
        "430.92",
        "861.84",
        "EUR",
        "visa",
        "4242",
        "Keizersgracht 1",
        "1015 CJ",
        "Amsterdam",
    ):
        assert text in page, text
    assert "&lt;b&gt;Jane&lt;/b&gt; &amp; Co" in page and "<b>Jane</b>" not in page
    assert "4242 4242 4242 4242" not in page and "4242424242424242" not in page
    assert "<script" not in page
    assert call(client, "GET", f"/orders/{order['order_id']}/receipt").status_code == 401


def test_orders_survive_deactivation_and_are_anonymized_keeping_skus_amounts_and_dates(client, monkeypatch):
    shopper = Shopper(client)
    pm = shopper.payment_method()
    shopper.add("vps-medium", 1, "annual")
    order = shopper.checkout(pm).json
    number = shopper.account.customer_number

    export = call(client, "GET", "/account/export", account=shopper.account).json
    assert export["orders"] == [order]
    monkeypatch.setenv("PLEDGE_RETENTION_DAYS", "0")
    reset_settings()
    assert shopper.call("POST", "/account/deactivate", {"password": shopper.account.password}).status_code == 200

    record = client.lambda_.invoke("ops_customer_record", {"customer_number": number}).payload
    assert record["status"] == "deactivated" and record["orders"] == [order]
    assert record["retention"]["record_bases"] == {"orders": "bookkeeping_law"}

    client.lambda_.invoke("ops_anonymize_customer", {"customer_number": number})
    [kept] = client.lambda_.invoke("ops_customer_record", {"customer_number": number}).payload["orders"]
    for field in ("order_id", "items", "total", "currency", "placed_at", "status", "payment"):
        assert kept[field] == order[field], field
    text = json.dumps(kept)
    for personal in ("Jane Doe", shopper.account.email, "Keizersgracht", "1015 CJ"):
        assert personal not in text, personal
    assert kept["billing"]["name"] == "[erased]"
