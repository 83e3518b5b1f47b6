"""Anonymization touches only the customer's own records, and every one of them under
every address they ever had; holds are enforced on every path; the export keeps ops'
notes to ops; a deactivated customer's session is refused at once."""

from __future__ import annotations

import json
import uuid

import pytest
from chalice.test import Client

from app import app
from chalicelib.settings import reset_settings
from tests.helpers import call, signup, unique_email


@pytest.fixture
def client(clean_stack, monkeypatch):
    monkeypatch.setenv("PLEDGE_RETENTION_DAYS", "0")  # every deactivation is due for review at once
    reset_settings()
    with Client(app, stage_name="local") as test_client:
        yield test_client
    reset_settings()


def ops(client, name: str, event: dict) -> dict:
    return client.lambda_.invoke(name, event).payload


def marker(label: str) -> str:
    """A value unique to this test run, so a raw scan can look for it."""
    return f"{label}-{uuid.uuid4().hex[:10]}"


def inquiry(client, email: str, message: str, account=None, **extra) -> str:
    body = {"name": extra.pop("name", "Sender"), "email": email, "topic": "other", "message": message, **extra}
    response = call(client, "POST", "/contact", body, account=account)
    assert response.status_code == 201, response.body
    return response.json["inquiry_id"]


def deactivate(client, account, reason: str = "leaving") -> None:
    response = call(
        client, "POST", "/account/deactivate", {"password": account.password, "reason": reason}, account=account
    )
    assert response.status_code == 200, response.body


def anonymize(client, account) -> dict:
    result = ops(client, "ops_anonymize_customer", {"customer_number": account.customer_number})
    assert result.get("status") == "anonymized", result
    return result


def raw_tables(stack) -> dict[str, str]:
    """Every item of every table, read from DynamoDB Local directly, as text per table."""
    dynamodb = stack.dynamodb()
    dumps = {}
    for table in dynamodb.list_tables()["TableNames"]:
        if table.startswith(stack.table_prefix):
            items = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                items += page["Items"]
            dumps[table] = json.dumps(items, default=repr)  # sealed numbers are binary
    return dumps


def raw_dump(stack) -> str:
    return "\n".join(raw_tables(stack).values())


def held(client, account, reason: str = "court order") -> dict:
    return ops(
        client, "ops_legal_hold", {"customer_number": account.customer_number, "action": "place", "reason": reason}
    )


def test_anonymization_spares_another_customers_inquiry_sent_with_the_same_address(client, clean_stack):
    owner, other = signup(client), signup(client)
    others_text = marker("other-customer-wrote")
    inquiry(client, owner.email, others_text, account=other)  # logged in as `other`, typed owner's address
    held(client, other)
    deactivate(client, owner)
    anonymize(client, owner)
    assert others_text in raw_dump(clean_stack)
    record = ops(client, "ops_customer_record", {"customer_number": other.customer_number})
    assert [i["message"] for i in record["inquiries"]] == [others_text]


def test_anonymization_reaches_inquiries_sent_logged_out_from_every_earlier_address(client, clean_stack):
    account = signup(client)
    first_address, texts = account.email, [marker("from-first-address"), marker("from-second-address")]
    inquiry(client, first_address, texts[0], name="Former Me")
    second_address = unique_email("second")
    assert call(client, "PATCH", "/account", {"email": second_address}, account=account).status_code == 200
    inquiry(client, second_address, texts[1])
    newcomer = signup(client, email=first_address)  # the first address, claimed later by someone else
    newcomers_text = marker("newcomer-wrote")
    inquiry(client, first_address, newcomers_text)
    deactivate(client, account)
    anonymize(client, account)
    dump = raw_dump(clean_stack)
    for value in (*texts, "Former Me", second_address):
        assert value not in dump, value
    assert newcomers_text in dump and first_address in dump  # the newcomer's own, intact
    record = ops(client, "ops_customer_record", {"customer_number": newcomer.customer_number})
    assert record["profile"]["email"] == first_address


def test_a_hold_blocks_discard_and_anonymization_and_keeps_the_inquiries(client, clean_stack):
    account = signup(client)
    logged_in = inquiry(client, account.email, marker("logged-in"), account=account)
    logged_out = inquiry(client, account.email, marker("logged-out"))
    held(client, account)
    for inquiry_id in (logged_in, logged_out):
        refused = ops(client, "ops_review_inquiry", {"inquiry_id": inquiry_id, "decision": "discard"})
        assert refused["error"]["code"] == "conflict"
    deactivate(client, account)
    assert (
        ops(client, "ops_anonymize_customer", {"customer_number": account.customer_number})["error"]["code"]
        == "conflict"
    )
    record = ops(client, "ops_customer_record", {"customer_number": account.customer_number})
    assert record["status"] == "deactivated" and all(i["message"] for i in record["inquiries"])
    stranger = inquiry(client, unique_email("stranger"), "no customer")
    assert ops(client, "ops_review_inquiry", {"inquiry_id": stranger, "decision": "discard"})["status"] == "discarded"


def test_a_deactivation_reason_is_scrubbed_everywhere(client, clean_stack):
    account = signup(client)
    planted_phone = "+3161" + str(uuid.uuid4().int)[:7]
    deactivate(client, account, reason=f"call me on {planted_phone}")
    assert planted_phone in raw_dump(clean_stack)
    result = anonymize(client, account)
    assert planted_phone not in json.dumps(result)
    assert planted_phone not in raw_dump(clean_stack)
    record = ops(client, "ops_customer_record", {"customer_number": account.customer_number})
    assert planted_phone not in json.dumps(record)
    assert [e["action"] for e in record["audit_trail"]].count("deactivated") == 1  # the fact stays


def test_ops_reasons_are_kept_after_anonymization(client):
    account = signup(client)
    ops(client, "ops_deactivate_customer", {"customer_number": account.customer_number, "reason": "unpaid invoices"})
    assert anonymize(client, account)["reason"] == "unpaid invoices"


def test_corrections_under_a_hold_preserve_the_previous_values_until_it_is_released(client):
    account = signup(client, name="Original Name", phone="+31612345678")
    first = held(client, account, "dispute 1")
    second = held(client, account, "dispute 2")
    response = call(client, "PATCH", "/account", {"name": "Corrected Name", "phone": None}, account=account)
    assert response.status_code == 200 and response.json["name"] == "Corrected Name"
    record = ops(client, "ops_customer_record", {"customer_number": account.customer_number})
    preserved = record["preserved_profile_values"]
    assert [p["previous"] for p in preserved] == [{"name": "Original Name", "phone": "+31612345678"}]
    hold_ids = [h["hold_id"] for h in second["holds"]]
    ops(
        client,
        "ops_legal_hold",
        {
            "customer_number": account.customer_number,
            "action": "release",
            "reason": "settled",
            "hold_id": first["holds"][0]["hold_id"],
        },
    )
    record = ops(client, "ops_customer_record", {"customer_number": account.customer_number})
    assert len(record["preserved_profile_values"]) == 1  # one hold is still in force
    remaining = [h for h in hold_ids if h != first["holds"][0]["hold_id"]]
    ops(
        client,
        "ops_legal_hold",
        {"customer_number": account.customer_number, "action": "release", "reason": "settled", "hold_id": remaining[0]},
    )
    record = ops(client, "ops_customer_record", {"customer_number": account.customer_number})
    assert record["preserved_profile_values"] == []


def test_the_export_says_a_hold_exists_but_not_why(client):
    account = signup(client)
    secret_reason = marker("fraud-investigation")
    held(client, account, secret_reason)
    export = call(client, "GET", "/account/export", account=account).json
    assert secret_reason not in json.dumps(export)
    assert len(export["legal_holds"]) == 1 and export["legal_holds"][0]["placed_at"]
    record = ops(client, "ops_customer_record", {"customer_number": account.customer_number})
    assert record["legal_holds"][0]["reason"] == secret_reason  # ops still see it


def test_a_deactivated_customers_session_is_refused_even_if_not_yet_revoked(client, clean_stack):
    account = signup(client)
    assert call(client, "GET", "/account", account=account).status_code == 200
    clean_stack.dynamodb().update_item(  # as if the revocation had missed this session (index lag)
        TableName=f"{clean_stack.table_prefix}customers",
        Key={"customer_number": {"S": account.customer_number}},
        UpdateExpression="SET #s = :d",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":d": {"S": "deactivated"}},
    )
    assert call(client, "GET", "/account", account=account).status_code == 401


def test_a_session_token_naming_another_customer_is_refused(client):
    victim, attacker = signup(client), signup(client)
    name, value = attacker.cookie.split("=", 1)
    forged = f"{name}={victim.customer_number}_{value.split('_', 1)[1]}"
    assert call(client, "GET", "/account", headers={"Cookie": forged}).status_code == 401


def rich_customer(client) -> tuple[object, list[str]]:
    """A customer with data in every table that can hold it; returns the account and every
    personal value it typed."""
    values = {
        key: marker(key)
        for key in (
            "name",
            "line1",
            "line2",
            "city",
            "subject",
            "message",
            "support",
            "inquiry_in",
            "inquiry_out",
            "inquiry_old",
            "reason",
        )
    }
    phone = "+3162" + str(uuid.uuid4().int)[:7]
    address = {
        "line1": values["line1"],
        "line2": values["line2"],
        "city": values["city"],
        "postal_code": "1016 GV",
        "country": "NL",
    }
    account = signup(client, name=values["name"], phone=phone, address=address, marketing={"products": True})
    old_email = account.email
    inquiry(client, old_email, values["inquiry_old"], name=values["name"], phone=phone)
    new_email = unique_email("renamed")
    assert call(client, "PATCH", "/account", {"email": new_email}, account=account).status_code == 200
    call(client, "PUT", "/account/preferences", {"topics": {"website": True}}, account=account)
    ticket = call(
        client,
        "POST",
        "/support/tickets",
        {"subject": values["subject"], "message": values["message"]},
        account=account,
    ).json["ticket_id"]
    ops(client, "ops_record_support", {"ticket_id": ticket, "channel": "phone", "summary": values["support"]})
    inquiry(client, new_email, values["inquiry_in"], account=account, name=values["name"], address=address)
    inquiry(client, new_email, values["inquiry_out"], name=values["name"], phone=phone)
    typed = place_order_with_everything(client, account)
    deactivate(client, account, reason=values["reason"])
    return account, [*values.values(), *typed, phone, old_email, new_email]


def place_order_with_everything(client, account) -> list[str]:
    """A card, an identity document, a disclosure permission and an order billed to a new
    address; returns the values the customer typed into them (a clear number never is)."""
    holder, line1, purpose = marker("holder"), marker("billing"), marker("purpose")
    card = {
        "type": "card",
        "card": {
            "number": "4242 4242 4242 4242",
            "exp_month": 12,
            "exp_year": 2099,
            "cvc": "123",
            "holder_name": holder,
        },
    }
    method = call(client, "POST", "/account/payment-methods", card, account=account).json["payment_method_id"]
    document = {"type": "passport", "country": "NL", "number": "NX" + str(uuid.uuid4().int)[:8]}
    assert call(client, "PUT", "/account/identity-document", document, account=account).status_code == 200
    grant = {"recipient": "Registry", "purpose": purpose, "categories": ["contact"]}
    assert call(client, "POST", "/account/disclosures", grant, account=account).status_code == 201
    sku = next(p["sku"] for p in call(client, "GET", "/catalog").json["products"] if not p["requires"])
    added = call(client, "PUT", f"/cart/items/{sku}", {"billing_cycle": "monthly", "quantity": 1})
    cart = added.headers["Set-Cookie"].split(";", 1)[0]
    billing = {"line1": line1, "city": "Utrecht", "postal_code": "3511 AB", "country": "NL"}
    order = call(
        client,
        "POST",
        "/orders",
        {"payment_method_id": method, "billing_address": billing},
        account=account,
        headers={"Cookie": f"{account.cookie}; {cart}", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert order.status_code == 201, order.body
    return [holder, line1, purpose, document["number"]]


def test_after_anonymization_no_table_holds_the_customers_data_and_others_are_intact(client, clean_stack):
    gone, gone_values = rich_customer(client)
    kept, kept_values = rich_customer(client)
    anonymize(client, gone)
    tables = raw_tables(clean_stack)
    dump = "\n".join(tables.values())
    for value in gone_values:
        holding = [name for name, text in tables.items() if value in text or value.lower() in text]
        assert holding == [], value
    for value in kept_values:
        assert value in dump or value.startswith("NX"), value  # an ID number is only ever sealed
    assert gone.customer_number in dump  # the facts remain
    record = ops(client, "ops_customer_record", {"customer_number": gone.customer_number})
    assert len(record["orders"]) == 1 and record["orders"][0]["items"]  # the bookkeeping record stays
