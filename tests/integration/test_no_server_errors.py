"""Whatever a client sends, the answer is the contract's JSON error with a 4xx, never a 5xx."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from tests.helpers import call, signup

ROUTES = [
    ("POST", "/contact"), ("POST", "/signup"), ("POST", "/login"),
    ("PATCH", "/account"), ("PUT", "/account/preferences"), ("POST", "/account/deactivate"),
    ("POST", "/support/tickets"), ("GET", "/support/tickets/T%00x"), ("POST", "/unsubscribe?token=k1.C1.products.x"),
    ("GET", "/unsubscribe?token=%ff%fe"), ("POST", "/stats/event"),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=12,
)
field_names = st.sampled_from(["name", "email", "password", "topic", "message", "phone", "address", "topics",
                               "subject", "reason", "marketing", "line1", "country", "products"])
plausible_bodies = st.dictionaries(field_names, json_values, max_size=6)


@pytest.fixture(scope="module")
def client_and_account(local_stack):
    local_stack.clean()
    with Client(app, stage_name="local") as client:
        yield client, signup(client)
    local_stack.clean()


def assert_client_error(response):
    assert response.status_code < 500, response.body
    if response.status_code >= 400:
        assert set(json.loads(response.body)["error"]) == {"code", "message", "details"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=plausible_bodies | json_values)
def test_any_json_body_gets_a_client_error_or_success(client_and_account, route, body):
    client, account = client_and_account
    method, path = route
    assert_client_error(call(client, method, path, body, account=account))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), raw=st.binary(max_size=200),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
def test_any_bytes_get_a_client_error_or_success(client_and_account, route, raw, content_type):
    client, account = client_and_account
    method, path = route
    assert_client_error(call(client, method, path, account=account, raw=raw,
                             headers={"Content-Type": content_type} if content_type else {}))
