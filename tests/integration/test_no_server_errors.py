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
    ("POST", "/contact"),
    ("POST", "/signup"),
    ("POST", "/login"),
    ("PATCH", "/account"),
    ("PUT", "/account/preferences"),
    ("POST", "/account/deactivate"),
    ("POST", "/support/tickets"),
    ("GET", "/support/tickets/T%00x"),
    ("POST", "/unsubscribe?token=k1.C1.products.x"),
    ("GET", "/unsubscribe?token=%ff%fe"),
    ("POST", "/stats/event"),
]
# Text as attackers send it: lone surrogates, control characters, a trailing newline.
hostile_text = (
    st.text(max_size=300)
    | st.text(st.characters(codec=None, categories=["Cs", "Cc"]), min_size=1, max_size=5)
    | st.builds(lambda s, tail: s + tail, st.text(max_size=40), st.sampled_from(["\n", "\r\n", "\x00", "\ud800"]))
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "name",
        "email",
        "password",
        "topic",
        "message",
        "phone",
        "address",
        "topics",
        "subject",
        "reason",
        "marketing",
        "line1",
        "country",
        "products",
    ]
)
plausible_bodies = st.dictionaries(field_names, json_values, max_size=6)


def deeply_nested(depth: int) -> str:
    return '{"name": ' + "[" * depth + "]" * depth + "}"


# Header values the app reads, as a client may send them: non-ASCII, overlong, odd shapes.
odd_header_values = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
    st.text(st.characters(codec="ascii"), min_size=129, max_size=3000),
    st.sampled_from(["", " ", "é", "a" * 5000, "\u00ff" * 64, "pledge_session=", 'pledge_session="x\\"']),
)
# Path parameters of any length and character set (2,100 characters passes DynamoDB's key limit).
odd_ids = st.one_of(
    st.text(min_size=1, max_size=60),
    st.text(st.characters(codec="ascii"), min_size=1025, max_size=2100),
    st.sampled_from(["T" + "0" * 2100, "%00", "..", "T%0a", "\u00e9"]),
)


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
@given(
    route=st.sampled_from(ROUTES),
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
)
def test_any_bytes_get_a_client_error_or_success(client_and_account, route, raw, content_type):
    client, account = client_and_account
    method, path = route
    assert_client_error(
        call(
            client,
            method,
            path,
            account=account,
            raw=raw,
            headers={"Content-Type": content_type} if content_type else {},
        )
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), depth=st.sampled_from([33, 1000, 5000, 50_000]))
def test_deep_nesting_is_refused_before_parsing(client_and_account, route, depth):
    client, account = client_and_account
    method, path = route
    response = call(client, method, path, account=account, raw=deeply_nested(depth))
    assert_client_error(response)


@pytest.mark.parametrize(
    "route,body,path",
    [
        (
            "/signup",
            '{"name": "Jane", "email": "jane\\ud800@example.com", "password": "correct horse battery"}',
            "email",
        ),
        ("/login", '{"email": "jane@example.com", "password": "\\ud800 correct horse battery"}', "password"),
        (
            "/contact",
            '{"name": "Jane", "email": "jane@example.com", "topic": "other", "message": "hi \\udfff"}',
            "message",
        ),
        (
            "/contact",
            '{"name": "Jane", "email": "jane@example.com", "topic": "other", "message": "hi", "\\ud800": 1}',
            "",
        ),
    ],
)
def test_a_lone_surrogate_anywhere_is_a_400_naming_the_field(client_and_account, route, body, path):
    client, _ = client_and_account
    response = call(client, "POST", route, raw=body)
    assert response.status_code == 400 and response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["details"][0]["path"] == path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    header=st.sampled_from(["Cookie", "X-CSRF-Token", "Idempotency-Key"]),
    value=odd_header_values,
)
def test_odd_header_values_get_a_client_error_or_success(client_and_account, route, header, value):
    client, account = client_and_account
    method, path = route
    headers = {header: (f"pledge_session={value}" if header == "Cookie" and value[:1] != "p" else value)}
    assert_client_error(call(client, method, path, {"subject": "s", "message": "m"}, account=account, headers=headers))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ticket_id=odd_ids)
def test_any_path_parameter_answers_404_not_5xx(client_and_account, ticket_id):
    from urllib.parse import quote

    client, account = client_and_account
    for path in (f"/support/tickets/{quote(ticket_id, safe='')}", f"/policy/versions/{quote(ticket_id, safe='')}"):
        response = call(client, "GET", path, account=account)
        assert response.status_code == 404, (path[:80], response.body[:200])
        assert response.json["error"]["code"] == "not_found"
