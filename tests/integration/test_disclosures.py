"""Disclosure permissions (grant, list, revoke) and ops_disclose_customer_data: refused
without a covering permission or a legal basis, recorded when made, seen by the customer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import disclosures as disclosure_service
from chalicelib.services import policy
from chalicelib.settings import reset_settings
from chalicelib.store.base import iso, utc_now
from tests.helpers import call, signup

ADDRESS = {"line1": "Prinsengracht 263", "city": "Amsterdam", "postal_code": "1016 GV", "country": "NL"}
PHONE = "+31612345678"
REGISTRY = "Registry of .nl domains"


@pytest.fixture
def client(clean_stack):
    policy.ensure_initial_policy()
    with Client(app, stage_name="local") as test_client:
        yield test_client


def ops(client, name: str, event: dict) -> dict:
    return client.lambda_.invoke(name, event).payload


def customer(client):
    return signup(client, name="Wim Whois", phone=PHONE, address=ADDRESS)


def grant(client, account, **fields):
    body = {"recipient": REGISTRY, "purpose": "WHOIS registration of my domain", "categories": ["contact"], **fields}
    response = call(client, "POST", "/account/disclosures", body, account=account)
    assert response.status_code == 201, response.body
    return response.json


def disclose(client, account, **fields):
    event = {
        "customer_number": account.customer_number,
        "recipient": REGISTRY,
        "purpose": "domain registration",
        "categories": ["contact"],
        **fields,
    }
    return ops(client, "ops_disclose_customer_data", event)


def listed(client, account) -> dict:
    response = call(client, "GET", "/account/disclosures", account=account)
    assert response.status_code == 200
    return response.json


def test_a_permission_is_granted_listed_and_revoked_but_never_deleted(client):
    account = customer(client)
    expires = iso(utc_now() + timedelta(days=30))
    permission = grant(client, account, categories=["address", "contact"], expires_at=expires)
    assert permission["permission_id"].startswith("P") and permission["status"] == "active"
    assert permission["categories"] == ["contact", "address"] and permission["expires_at"] == expires
    assert permission["revoked_at"] is None and permission["granted_at"].endswith("Z")
    granted = permission["history"][0]
    assert granted["event"] == "granted" and granted["policy_version"] == "1" and granted["request_id"]
    assert listed(client, account) == {"permissions": [permission], "disclosures": []}

    path = f"/account/disclosures/{permission['permission_id']}"
    assert call(client, "DELETE", path, account=account, csrf=False).json["error"]["code"] == "csrf_failed"
    assert call(client, "DELETE", path).status_code == 401
    assert call(client, "DELETE", path, account=account).status_code == 204
    [revoked] = listed(client, account)["permissions"]
    assert revoked["status"] == "revoked" and revoked["revoked_at"]
    assert [e["event"] for e in revoked["history"]] == ["granted", "revoked"] and revoked["history"][1]["request_id"]
    assert call(client, "DELETE", path, account=account).status_code == 204  # already revoked: nothing changes
    assert listed(client, account)["permissions"][0]["revoked_at"] == revoked["revoked_at"]


def test_another_customers_or_an_unknown_permission_is_not_found(client):
    owner, other = customer(client), customer(client)
    permission_id = grant(client, owner)["permission_id"]
    for path_id in (permission_id, "P0123456789abcdef", "x" * 3000, "..%2F", "P%00"):
        response = call(client, "DELETE", f"/account/disclosures/{path_id}", account=other)
        assert (response.status_code, response.json["error"]["code"]) == (404, "not_found"), path_id
    assert listed(client, owner)["permissions"][0]["status"] == "active"
    assert listed(client, other) == {"permissions": [], "disclosures": []}


def test_granting_needs_login_and_csrf(client):
    account = customer(client)
    body = {"recipient": REGISTRY, "purpose": "WHOIS", "categories": ["contact"]}
    assert call(client, "POST", "/account/disclosures", body).status_code == 401
    assert call(client, "GET", "/account/disclosures").status_code == 401
    refused = call(client, "POST", "/account/disclosures", body, account=account, csrf=False)
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "csrf_failed")
    assert listed(client, account)["permissions"] == []


@pytest.mark.parametrize(
    "change, path",
    [
        ({"categories": ["contact", "bank_account"]}, "categories.1"),
        ({"categories": []}, "categories"),
        ({"categories": ["contact", "contact"]}, "categories"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2030-02-30T00:00:00Z"}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"recipient": "Registry\n"}, "recipient"),
        ({"recipient": "Reg\u0007istry"}, "recipient"),
        ({"recipient": "\ud800"}, "recipient"),
        ({"recipient": "x" * 201}, "recipient"),
        ({"recipient": " "}, "recipient"),
        ({"purpose": "WHOIS\r\nBcc: x"}, "purpose"),
        ({"purpose": "x" * 501}, "purpose"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_grants_are_validation_errors(client, change, path):
    account = customer(client)
    body = {"recipient": REGISTRY, "purpose": "WHOIS\n\tregistration", "categories": ["contact"], **change}
    response = call(client, "POST", "/account/disclosures", body, account=account)
    assert (response.status_code, response.json["error"]["code"]) == (400, "validation_error")
    assert path in [d["path"] for d in response.json["error"]["details"]]
    assert listed(client, account)["permissions"] == []


def test_disclosure_with_a_permission_ignores_the_recipients_letter_case(client):
    account = customer(client)
    permission = grant(client, account, categories=["contact", "address"])
    result = disclose(client, account, recipient=REGISTRY.upper(), categories=["address", "contact"])
    assert result["data"] == {
        "contact": {"name": "Wim Whois", "email": account.email, "phone": PHONE},
        "address": ADDRESS,
    }
    [made] = listed(client, account)["disclosures"]
    assert made == {
        "disclosure_id": result["disclosure_id"],
        "recipient": REGISTRY.upper(),
        "purpose": "domain registration",
        "categories": ["contact", "address"],
        "disclosed_at": made["disclosed_at"],
        "basis": {"permission_id": permission["permission_id"]},
    }
    stored = disclosure_service.store.disclosures_of(account.customer_number)[0]
    assert stored.actor == "ops" and stored.request_id
    export = call(client, "GET", "/account/export", account=account).json
    assert export["disclosures"]["disclosures"] == [made]
    assert export["disclosures"]["permissions"][0]["permission_id"] == permission["permission_id"]


def test_the_identity_document_is_disclosed_decrypted_only_with_a_basis(client):
    account = customer(client)
    document = {"type": "passport", "country": "NL", "number": "NXR4-81Q29"}
    assert call(client, "PUT", "/account/identity-document", document, account=account).status_code == 200
    assert disclose(client, account, categories=["identity_document"])["error"]["code"] == "forbidden"
    grant(client, account, recipient="Domain Registry", categories=["contact", "identity_document"])
    result = disclose(client, account, recipient="domain registry", categories=["identity_document"])
    assert result["data"] == {"identity_document": document}
    assert listed(client, account)["disclosures"][0]["categories"] == ["identity_document"]
    call(client, "DELETE", "/account/identity-document", account=account)
    after = disclose(client, account, recipient="Domain Registry", categories=["identity_document"])
    assert after["data"] == {"identity_document": None}  # none on file: the (empty) disclosure is still recorded
    assert len(listed(client, account)["disclosures"]) == 2


def test_orders_are_disclosed_as_the_customer_sees_them(client):
    account = customer(client)
    card = {
        "number": "4242 4242 4242 4242",
        "exp_month": 12,
        "exp_year": utc_now().year + 2,
        "cvc": "123",
        "holder_name": "Wim Whois",
    }
    method = call(client, "POST", "/account/payment-methods", {"type": "card", "card": card}, account=account).json
    cart = call(client, "PUT", "/cart/items/vps-small", {"billing_cycle": "monthly", "quantity": 1})
    cookies = f"{account.cookie}; {cart.headers['Set-Cookie'].split(';', 1)[0]}"
    placed = call(
        client,
        "POST",
        "/orders",
        {"payment_method_id": method["payment_method_id"]},
        account=account,
        headers={"Cookie": cookies, "Idempotency-Key": "disclosure-test-1"},
    )
    assert placed.status_code == 201, placed.body
    grant(client, account, recipient="Accountant B.V.", categories=["orders"])
    result = disclose(client, account, recipient="accountant b.v.", categories=["orders"])
    [order] = result["data"]["orders"]
    assert order["order_id"] == placed.json["order_id"] and order["total"] == placed.json["total"]
    assert "4242 4242 4242 4242" not in str(result) and "4242424242424242" not in str(result)


def test_refusals_record_nothing(client):
    account = customer(client)
    refused = [disclose(client, account)]  # no permission at all
    grant(client, account, recipient="Accountant B.V.", categories=["contact", "address"])
    refused.append(disclose(client, account))  # another recipient's permission
    grant(client, account, categories=["contact"])
    refused.append(disclose(client, account, categories=["contact", "address"]))  # a category it does not cover
    refused.append(disclose(client, account, recipient=REGISTRY + " Ltd"))  # not the same recipient
    assert [r["error"]["code"] for r in refused] == ["forbidden"] * 4
    assert all(set(r) == {"error"} for r in refused) and PHONE not in str(refused)
    assert listed(client, account)["disclosures"] == []


def test_a_revoked_permission_allows_nothing(client):
    account = customer(client)
    permission = grant(client, account)
    assert "data" in disclose(client, account)
    call(client, "DELETE", f"/account/disclosures/{permission['permission_id']}", account=account)
    assert disclose(client, account)["error"]["code"] == "forbidden"
    assert len(listed(client, account)["disclosures"]) == 1


def test_an_expired_permission_allows_nothing(client, monkeypatch):
    account = customer(client)
    grant(client, account, expires_at=iso(utc_now() + timedelta(days=1)))
    assert "data" in disclose(client, account)
    later = utc_now() + timedelta(days=2)
    monkeypatch.setattr(disclosure_service, "utc_now", lambda: later)
    assert disclose(client, account)["error"]["code"] == "forbidden"
    view = disclosure_service.disclosures_view(account.customer_number)
    assert view["permissions"][0]["status"] == "expired" and len(view["disclosures"]) == 1


def test_a_legal_basis_needs_no_permission_and_is_recorded(client):
    account = customer(client)
    basis = {"kind": "court_order", "reference": "Rechtbank Amsterdam C/13/123456"}
    result = disclose(
        client, account, recipient="Rechtbank Amsterdam", categories=["contact", "orders"], legal_basis=basis
    )
    assert result["data"]["contact"]["email"] == account.email and result["data"]["orders"] == []
    [made] = listed(client, account)["disclosures"]
    assert made["basis"] == {"legal_basis": "court_order", "reference": basis["reference"]}
    assert made["recipient"] == "Rechtbank Amsterdam" and made["categories"] == ["contact", "orders"]


@pytest.mark.parametrize(
    "legal_basis, path",
    [
        ({"kind": "court_order"}, "legal_basis.reference"),
        ({"kind": "curiosity", "reference": "x"}, "legal_basis.kind"),
        ({"kind": "dispute", "reference": ""}, "legal_basis.reference"),
        ({"reference": "x"}, "legal_basis.kind"),
    ],
)
def test_a_malformed_legal_basis_is_a_validation_error(client, legal_basis, path):
    account = customer(client)
    result = disclose(client, account, legal_basis=legal_basis)
    assert result["error"]["code"] == "validation_error"
    assert path in [d["path"] for d in result["error"]["details"]]
    assert listed(client, account)["disclosures"] == []


def test_unknown_customer_and_bad_events(client):
    missing = ops(
        client,
        "ops_disclose_customer_data",
        {"customer_number": "C1", "recipient": "X", "purpose": "y", "categories": ["contact"]},
    )
    assert missing["error"]["code"] == "not_found"
    for event in ({}, {"customer_number": "C1", "recipient": "X", "purpose": "y", "categories": ["everything"]}):
        assert ops(client, "ops_disclose_customer_data", event)["error"]["code"] == "validation_error"


def test_records_survive_deactivation_and_anonymization_keeps_the_facts(client, clean_stack, monkeypatch):
    account = customer(client)
    permission = grant(client, account, purpose="Wim's domain wimwhois.nl")
    disclose(client, account, purpose="Registering wimwhois.nl")
    monkeypatch.setenv("PLEDGE_RETENTION_DAYS", "0")
    reset_settings()
    ops(client, "ops_deactivate_customer", {"customer_number": account.customer_number, "reason": "closed"})
    # after cancellation, a permission no longer suffices; the policy's exceptions still apply
    assert disclose(client, account)["error"]["code"] == "forbidden"
    assert "data" in disclose(client, account, legal_basis={"kind": "dispute", "reference": "Invoice 2026-17"})
    record = ops(client, "ops_customer_record", {"customer_number": account.customer_number})
    assert record["disclosures"]["permissions"][0]["purpose"] == "Wim's domain wimwhois.nl"
    assert len(record["disclosures"]["disclosures"]) == 2

    ops(client, "ops_anonymize_customer", {"customer_number": account.customer_number})
    after = ops(client, "ops_customer_record", {"customer_number": account.customer_number})["disclosures"]
    [kept] = after["permissions"]
    assert kept["purpose"] == "[erased]" and kept["recipient"] == REGISTRY
    assert kept["granted_at"] == permission["granted_at"] and kept["categories"] == ["contact"]
    assert [d["purpose"] for d in after["disclosures"]] == ["[erased]", "[erased]"]
    assert {d["recipient"] for d in after["disclosures"]} == {REGISTRY}
    dump = str(
        [
            clean_stack.dynamodb().scan(TableName=f"{clean_stack.table_prefix}{table}")["Items"]
            for table in ("disclosure_permissions", "disclosures")
        ]
    )
    assert "wimwhois" not in dump and REGISTRY in dump
    reset_settings()
