"""Page routes through the Chalice test client: login redirects, other customers' tickets,
malformed ids."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from tests.helpers import call, signup


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as client:
        yield client


def page(client, path, account=None):
    headers = {"Cookie": account.cookie} if account else {}
    return client.http.get(path, headers=headers)


def test_a_ticket_page_shows_only_the_callers_own_ticket(client):
    owner, other = signup(client), signup(client)
    opened = call(client, "POST", "/support/tickets", {"subject": "Help <b>me</b>", "message": "Hi"}, account=owner)
    ticket_id = opened.json["ticket_id"]
    shown = page(client, f"/client-area/tickets/{ticket_id}", owner)
    assert shown.status_code == 200 and b"Help &lt;b&gt;me&lt;/b&gt;" in shown.body
    assert page(client, f"/client-area/tickets/{ticket_id}", other).status_code == 404
    assert page(client, f"/client-area/tickets/{ticket_id}").status_code == 303


@pytest.mark.parametrize("ticket_id", ["T" * 3000, "T%00x", "%F0%9F%92%A9", "..%2F.."])
def test_a_malformed_ticket_id_is_not_found(client, ticket_id):
    account = signup(client)
    response = page(client, f"/client-area/tickets/{ticket_id}", account)
    assert response.status_code == 404 and b'"not_found"' in response.body


def test_an_unknown_client_area_page_is_not_found_and_a_known_one_needs_login(client):
    assert page(client, "/client-area/nope").status_code == 404
    for name in ("profile", "orders", "privacy"):
        response = page(client, f"/client-area/{name}")
        assert response.status_code == 303 and response.headers["Location"] == "/client-area/login"
    account = signup(client)
    dashboard = page(client, "/client-area", account)
    assert dashboard.status_code == 200 and account.customer_number.encode() in dashboard.body
    assert b'name="csrf-token"' in dashboard.body
