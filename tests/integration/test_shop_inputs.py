"""Whatever a client sends to the cart and checkout, the answer is a 4xx in the contract's
error shape or a success, never a 5xx."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from tests.helpers import call, signup

values = st.text(max_size=40) | st.integers() | st.floats(allow_nan=False) | st.none() | st.booleans()
cart_bodies = st.fixed_dictionaries(
    {},
    optional={
        "billing_cycle": st.sampled_from(["monthly", "annual"]) | values,
        "quantity": st.integers(-2, 12) | values,
        "unit_amount": values,
    },
)
addresses = (
    st.fixed_dictionaries(
        {}, optional=dict.fromkeys(("line1", "line2", "city", "postal_code", "country", "region"), values)
    )
    | values
)
order_bodies = st.fixed_dictionaries(
    {}, optional={"payment_method_id": values, "billing_address": addresses, "total": values}
)
header_values = st.text(alphabet=st.characters(max_codepoint=255, blacklist_categories=["Cc"]), max_size=80)


@pytest.fixture(scope="module")
def shopper(local_stack):
    local_stack.clean()
    with Client(app, stage_name="local") as client:
        account = signup(client)
        response = call(client, "PUT", "/cart/items/vps-small", {"billing_cycle": "monthly", "quantity": 1})
        yield client, account, response.headers["Set-Cookie"].split(";")[0]
    local_stack.clean()


def assert_client_error(response):
    assert response.status_code < 500, response.body
    if response.status_code >= 400:
        assert set(json.loads(response.body)["error"]) == {"code", "message", "details"}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sku=st.text(min_size=1, max_size=300), body=cart_bodies | values, method=st.sampled_from(["PUT", "DELETE"]))
def test_any_cart_write_gets_a_client_error_or_success(shopper, sku, body, method):
    client, _, cart = shopper
    assert_client_error(call(client, method, f"/cart/items/{quote(sku, safe='')}", body, headers={"Cookie": cart}))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=order_bodies | values, key=header_values, cookie=header_values, order_id=st.text(min_size=1, max_size=300))
def test_any_checkout_or_order_lookup_gets_a_client_error_or_success(shopper, body, key, cookie, order_id):
    client, account, _ = shopper
    headers = {"Cookie": f"{account.cookie}; cart={cookie}", "X-CSRF-Token": account.csrf, "Idempotency-Key": key}
    assert_client_error(call(client, "POST", "/orders", body, headers=headers))
    for path in (f"/orders/{quote(order_id, safe='')}", f"/orders/{quote(order_id, safe='')}/receipt"):
        assert_client_error(call(client, "GET", path, headers={"Cookie": account.cookie}))
