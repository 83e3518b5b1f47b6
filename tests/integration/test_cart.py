"""The catalog and the cart: no login, an opaque cookie, prices only from the catalog."""

from __future__ import annotations

import json
import time

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import carts
from tests.helpers import call, signup


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def put_item(client, sku: str, cookie: str | None = None, headers: dict | None = None, **body):
    body = {"billing_cycle": "monthly", "quantity": 1, **body}
    return call(
        client, "PUT", f"/cart/items/{sku}", body, headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})}
    )


def cookie_attributes(response) -> tuple[str, dict]:
    name_value, *attributes = [part.strip() for part in response.headers["Set-Cookie"].split(";")]
    flags = {}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        flags[key.lower()] = value
    return name_value, flags


def test_catalog_lists_products_with_decimal_string_prices(client):
    response = call(client, "GET", "/catalog")
    assert response.status_code == 200
    products = response.json["products"]
    assert len(products) >= 4
    for product in products:
        assert set(product) == {"sku", "name", "description", "billing_cycles", "requires"}
        assert product["billing_cycles"] and set(product["billing_cycles"]) <= {"monthly", "annual"}
        for price in product["billing_cycles"].values():
            assert isinstance(price["amount"], str) and len(price["amount"].split(".")[1]) == 2
            assert price["currency"] == "EUR"
    assert any(p["requires"] == [] for p in products)
    assert any(p["requires"] == ["identity_document"] for p in products)
    json.loads(response.body, parse_float=lambda text: pytest.fail(f"a float in the catalog: {text}"))


def test_no_cookie_is_an_empty_cart_and_sets_no_cookie(client):
    response = call(client, "GET", "/cart")
    assert response.status_code == 200
    assert response.json == {"items": [], "total": "0.00", "currency": "EUR"}
    assert "Set-Cookie" not in response.headers


def test_the_first_write_sets_an_opaque_http_only_lax_cookie(client):
    response = put_item(client, "vps-small", quantity=2)
    assert response.status_code == 200
    name_value, flags = cookie_attributes(response)
    name, value = name_value.split("=", 1)
    assert name == "cart" and len(value) >= 32
    assert "httponly" in flags and flags["samesite"] == "Lax" and flags["path"] == "/"
    assert int(flags["max-age"]) >= 7 * 24 * 3600
    assert "secure" not in flags  # the local stage is plain http
    assert response.json == {
        "items": [
            {"sku": "vps-small", "billing_cycle": "monthly", "quantity": 2, "unit_amount": "5.00", "amount": "10.00"}
        ],
        "total": "10.00",
        "currency": "EUR",
    }
    again = call(client, "GET", "/cart", headers={"Cookie": name_value})
    assert again.json == response.json


def test_a_logged_in_customer_gets_a_random_cart_id_never_the_customer_number(client, clean_stack):
    account = signup(client)
    response = put_item(client, "vps-small", cookie=account.cookie)
    value = cookie_attributes(response)[0].split("=", 1)[1]
    assert account.customer_number not in value and account.customer_number[1:] not in value
    stored = clean_stack.dynamodb().scan(TableName=f"{clean_stack.table_prefix}carts")["Items"]
    assert len(stored) == 1 and value not in str(stored)  # only a hash of the id is kept
    assert account.customer_number not in str(stored)
    assert int(stored[0]["expires_ttl"]["N"]) > 0


def test_put_sets_the_quantity_and_delete_removes(client):
    cookie = cookie_attributes(put_item(client, "vps-small", quantity=3))[0]
    put_item(client, "backup-daily", cookie=cookie, quantity=1)
    response = put_item(client, "vps-small", cookie=cookie, billing_cycle="annual", quantity=1)
    assert [(i["sku"], i["billing_cycle"], i["quantity"]) for i in response.json["items"]] == [
        ("vps-small", "annual", 1),
        ("backup-daily", "monthly", 1),
    ]
    assert response.json["total"] == "56.50"
    removed = call(client, "DELETE", "/cart/items/vps-small", headers={"Cookie": cookie})
    assert removed.status_code == 200 and [i["sku"] for i in removed.json["items"]] == ["backup-daily"]
    assert call(client, "DELETE", "/cart/items/vps-small", headers={"Cookie": cookie}).status_code == 200
    assert call(client, "DELETE", "/cart/items/no-such-thing", headers={"Cookie": cookie}).status_code == 404


@pytest.mark.parametrize(
    "body, path",
    [
        ({"billing_cycle": "monthly", "quantity": 1, "unit_amount": "0.01"}, "unit_amount"),
        ({"billing_cycle": "monthly", "quantity": 1, "price": 0}, "price"),
        ({"billing_cycle": "monthly", "quantity": 1, "amount": "0.00", "total": "0.00"}, "amount"),
        ({"billing_cycle": "monthly", "quantity": 0}, "quantity"),
        ({"billing_cycle": "monthly", "quantity": 11}, "quantity"),
        ({"billing_cycle": "monthly", "quantity": 1.5}, "quantity"),
        ({"billing_cycle": "monthly", "quantity": 2.0}, "quantity"),
        ({"billing_cycle": "monthly", "quantity": "2"}, "quantity"),
        ({"billing_cycle": "weekly", "quantity": 1}, "billing_cycle"),
        ({"quantity": 1}, "billing_cycle"),
    ],
)
def test_price_tampering_and_bad_bodies_are_refused(client, body, path):
    response = call(client, "PUT", "/cart/items/vps-small", body)
    assert response.status_code == 400, response.body
    assert response.json["error"]["code"] == "validation_error"
    assert path in [d["path"] for d in response.json["error"]["details"]]
    assert "Set-Cookie" not in response.headers


def test_prices_come_from_the_catalog_whatever_the_client_says(client):
    cookie = cookie_attributes(put_item(client, "vps-medium", quantity=2))[0]
    assert (
        call(
            client,
            "PUT",
            "/cart/items/vps-medium",
            {"billing_cycle": "monthly", "quantity": 2, "unit_amount": "0.01"},
            headers={"Cookie": cookie},
        ).status_code
        == 400
    )
    cart = call(client, "GET", "/cart", headers={"Cookie": cookie}).json
    assert cart["items"][0]["unit_amount"] == "12.00" and cart["total"] == "24.00"


def test_a_cycle_the_product_does_not_offer_is_refused(client):
    response = put_item(client, "domain-nl", billing_cycle="monthly")
    assert response.status_code == 400 and response.json["error"]["details"][0]["path"] == "billing_cycle"
    assert put_item(client, "domain-nl", billing_cycle="annual").status_code == 200


def test_unknown_sku_is_404(client):
    response = put_item(client, "vps-gigantic")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert put_item(client, "x" * 5000).status_code == 404


def test_two_browsers_carts_are_kept_apart(client):
    first = cookie_attributes(put_item(client, "vps-small"))[0]
    second = cookie_attributes(put_item(client, "vps-large", billing_cycle="annual"))[0]
    assert first != second
    assert [i["sku"] for i in call(client, "GET", "/cart", headers={"Cookie": first}).json["items"]] == ["vps-small"]
    assert [i["sku"] for i in call(client, "GET", "/cart", headers={"Cookie": second}).json["items"]] == ["vps-large"]


def test_cart_routes_need_no_csrf_and_ignore_a_csrf_header(client):
    account = signup(client)
    bogus = {"X-CSRF-Token": "not-the-token"}
    response = put_item(client, "vps-small", cookie=account.cookie, headers=bogus)
    assert response.status_code == 200
    cart_cookie = cookie_attributes(response)[0]
    both = f"{account.cookie}; {cart_cookie}"
    assert call(client, "DELETE", "/cart/items/vps-small", headers={"Cookie": both, **bogus}).status_code == 200


def test_an_unknown_or_forged_cookie_is_an_empty_cart_and_is_never_adopted(client):
    forged = "cart=" + "A" * 43
    assert call(client, "GET", "/cart", headers={"Cookie": forged}).json["items"] == []
    response = put_item(client, "vps-small", cookie=forged)
    assert cookie_attributes(response)[0] != forged
    assert call(client, "GET", "/cart", headers={"Cookie": "cart=<script>"}).status_code == 200


def test_cart_bodies_must_be_json(client):
    response = call(
        client,
        "PUT",
        "/cart/items/vps-small",
        raw="billing_cycle=monthly&quantity=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


def test_an_expired_cart_is_empty_even_before_its_ttl_deletes_it(client, clean_stack):
    cookie = cookie_attributes(put_item(client, "vps-small"))[0]
    token = cookie.split("=", 1)[1]
    clean_stack.dynamodb().update_item(
        TableName=f"{clean_stack.table_prefix}carts",
        Key={"cart_key": {"S": carts.cart_key(token)}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"S": "2000-01-01T00:00:00.000Z"}},
    )
    assert call(client, "GET", "/cart", headers={"Cookie": cookie}).json["items"] == []


def test_looking_at_a_cart_slides_its_expiry_at_most_once_a_day(client, clean_stack):
    cookie = cookie_attributes(put_item(client, "vps-small"))[0]
    key = {"cart_key": {"S": carts.cart_key(cookie.split("=", 1)[1])}}
    table, soon = f"{clean_stack.table_prefix}carts", int(time.time()) + 3600
    assert "Set-Cookie" not in call(client, "GET", "/cart", headers={"Cookie": cookie}).headers  # touched today
    clean_stack.dynamodb().update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET updated_at = :then, expires_ttl = :soon",
        ExpressionAttributeValues={":then": {"S": "2000-01-01T00:00:00.000Z"}, ":soon": {"N": str(soon)}},
    )
    response = call(client, "GET", "/cart", headers={"Cookie": cookie})
    assert response.json["items"] and cookie_attributes(response)[0] == cookie  # the same id, its Max-Age renewed
    item = clean_stack.dynamodb().get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert int(item["expires_ttl"]["N"]) > soon + 29 * 24 * 3600 and item["updated_at"]["S"] > "2001"
