"""Deactivation keeps everything; holds block anonymization; anonymization leaves no
personal value anywhere; inquiry review; the export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import retention
from chalicelib.settings import get_settings
from chalicelib.store.base import utc_now
from tests.helpers import call, login, signup, unique_email

PHONE = "+31612345678"
NAME = "Ingrid Unusualname"


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def ops(client, name: str, event: dict) -> dict:
    return client.lambda_.invoke(name, event).payload


def full_customer(client):
    """A customer with a profile, a ticket, a support record and two inquiries (one sent
    while logged out from the same address)."""
    account = signup(
        client,
        name=NAME,
        phone=PHONE,
        address={"line1": "Prinsengracht 263", "city": "Amsterdam", "postal_code": "1016 GV", "country": "NL"},
    )
    ticket = call(
        client, "POST", "/support/tickets", {"subject": "Reboot loop", "message": "My VPS reboots"}, account=account
    ).json["ticket_id"]
    ops(client, "ops_record_support", {"ticket_id": ticket, "channel": "email", "summary": "Sent rescue steps"})
    inquiry = {"name": NAME, "email": account.email, "topic": "billing", "message": "Invoice please", "phone": PHONE}
    call(client, "POST", "/contact", inquiry, account=account)
    call(client, "POST", "/contact", inquiry)
    return account


def all_items(stack) -> str:
    dynamodb = stack.dynamodb()
    dump = []
    tables = [t for t in dynamodb.list_tables()["TableNames"] if t.startswith(stack.table_prefix)]
    assert len(tables) >= 12
    for table in tables:
        dump += dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return str(dump)


def test_customer_deactivation_needs_the_password(client):
    account = signup(client)
    wrong = call(client, "POST", "/account/deactivate", {"password": "not my password"}, account=account)
    assert wrong.status_code == 403
    assert call(client, "GET", "/account", account=account).json["status"] == "active"


def test_deactivation_keeps_every_record_and_ends_every_session(client, clean_stack):
    account = full_customer(client)
    second_session = login(client, account.email)
    before = all_items(clean_stack)
    response = call(
        client, "POST", "/account/deactivate", {"password": account.password, "reason": "moving"}, account=account
    )
    assert (response.status_code, response.json) == (200, {"status": "deactivated"})
    assert call(client, "GET", "/account", account=account).status_code == 401
    old_cookie = second_session.headers["Set-Cookie"].split(";")[0]
    assert call(client, "GET", "/account", headers={"Cookie": old_cookie}).status_code == 401
    again = login(client, account.email)
    assert (again.status_code, again.json["error"]["code"]) == (403, "account_deactivated")
    after = all_items(clean_stack)
    for value in (account.email, NAME, PHONE, "Reboot loop", "Sent rescue steps", "Invoice please", "Prinsengracht"):
        assert value in before and value in after
    customer = clean_stack.dynamodb().get_item(
        TableName=f"{clean_stack.table_prefix}customers", Key={"customer_number": {"S": account.customer_number}}
    )["Item"]
    assert customer["status"]["S"] == "deactivated" and customer["name"]["S"] == NAME


def test_ops_deactivation_writes_a_retention_record(client):
    account = signup(client)
    record = ops(
        client, "ops_deactivate_customer", {"customer_number": account.customer_number, "reason": "unpaid invoices"}
    )
    assert record["initiated_by"] == "ops" and record["reason"] == "unpaid invoices"
    assert record["legal_bases"] == ["legal_obligation", "dispute_resolution", "agreement_enforcement"]
    expected_review = utc_now() + timedelta(days=get_settings().retention_days)
    assert record["review_at"][:10] == expected_review.strftime("%Y-%m-%d")
    assert call(client, "GET", "/account", account=account).status_code == 401
    shown = ops(client, "ops_customer_record", {"customer_number": account.customer_number})
    assert shown["status"] == "deactivated" and shown["retention"]["reason"] == "unpaid invoices"
    assert shown["profile"]["email"] == account.email
    assert (
        ops(client, "ops_deactivate_customer", {"customer_number": account.customer_number, "reason": "again"})[
            "reason"
        ]
        == "unpaid invoices"
    )


def test_legal_holds_are_placed_released_and_audited(client):
    account = signup(client)
    number = account.customer_number
    first = ops(client, "ops_legal_hold", {"customer_number": number, "action": "place", "reason": "court order 1"})
    both = ops(client, "ops_legal_hold", {"customer_number": number, "action": "place", "reason": "dispute 2"})
    assert [h["reason"] for h in first["holds"]] == ["court order 1"]
    assert sorted(h["reason"] for h in both["holds"]) == ["court order 1", "dispute 2"]
    ambiguous = ops(client, "ops_legal_hold", {"customer_number": number, "action": "release", "reason": "done"})
    assert ambiguous["error"]["code"] == "validation_error"
    hold_id = first["holds"][0]["hold_id"]
    left = ops(
        client,
        "ops_legal_hold",
        {"customer_number": number, "action": "release", "reason": "lifted", "hold_id": hold_id},
    )
    assert [h["reason"] for h in left["holds"]] == ["dispute 2"]
    record = ops(client, "ops_customer_record", {"customer_number": number})
    actions = [e["action"] for e in record["audit_trail"]]
    assert actions.count("legal_hold_placed") == 2 and actions.count("legal_hold_released") == 1
    assert len(record["legal_holds"]) == 2


def test_anonymization_is_refused_before_the_review_date_and_under_a_hold(client):
    account = signup(client)
    number = account.customer_number
    active = ops(client, "ops_anonymize_customer", {"customer_number": number})
    assert active["error"]["code"] == "conflict"
    ops(client, "ops_deactivate_customer", {"customer_number": number, "reason": "closed"})
    early = ops(client, "ops_anonymize_customer", {"customer_number": number})
    assert early["error"]["code"] == "conflict"
    hold = ops(client, "ops_legal_hold", {"customer_number": number, "action": "place", "reason": "litigation"})
    later = utc_now() + timedelta(days=get_settings().retention_days + 1)
    with pytest.raises(Exception) as refused:
        retention.anonymize_customer(number, now=later)
    assert getattr(refused.value, "code", None) == "conflict"
    assert ops(client, "ops_customer_record", {"customer_number": number})["profile"]["email"] == account.email
    ops(
        client,
        "ops_legal_hold",
        {"customer_number": number, "action": "release", "reason": "settled", "hold_id": hold["holds"][0]["hold_id"]},
    )
    assert retention.anonymize_customer(number, now=later)["anonymized_at"]


def test_anonymization_leaves_no_personal_value_in_any_table(client, clean_stack, monkeypatch):
    account = full_customer(client)
    number = account.customer_number
    monkeypatch.setenv("PLEDGE_RETENTION_DAYS", "0")
    from chalicelib.settings import reset_settings

    reset_settings()
    ops(client, "ops_deactivate_customer", {"customer_number": number, "reason": "closed"})
    due = ops(client, "ops_retention_review", {})
    assert [d["customer_number"] for d in due["due"]] == [number]
    result = ops(client, "ops_anonymize_customer", {"customer_number": number})
    assert result["status"] == "anonymized" and result["anonymized_at"]
    dump = all_items(clean_stack)
    for value in (
        account.email,
        account.email.lower(),
        NAME,
        PHONE,
        "Prinsengracht",
        "Reboot loop",
        "My VPS reboots",
        "Sent rescue steps",
        "Invoice please",
    ):
        assert value not in dump, value
    assert number in dump  # the facts remain: the customer, the dates, the anonymization
    record = ops(client, "ops_customer_record", {"customer_number": number})
    assert record["status"] == "anonymized" and len(record["tickets"]) == 1
    assert "anonymized" in [e["action"] for e in record["audit_trail"]]
    assert (
        ops(client, "ops_anonymize_customer", {"customer_number": number})["anonymized_at"] == result["anonymized_at"]
    )
    assert ops(client, "ops_retention_review", {})["due"] == []
    assert signup(client, email=account.email).customer_number != number  # the address is free again


def test_inquiry_review_keep_and_discard(client, clean_stack):
    email = unique_email("writer")
    kept = call(client, "POST", "/contact", {"name": NAME, "email": email, "topic": "other", "message": "Keep me"})
    dropped = call(client, "POST", "/contact", {"name": NAME, "email": email, "topic": "abuse", "message": "Drop me"})
    kept_view = ops(client, "ops_review_inquiry", {"inquiry_id": kept.json["inquiry_id"], "decision": "keep"})
    assert kept_view["status"] == "kept" and kept_view["message"] == "Keep me"
    dropped_view = ops(client, "ops_review_inquiry", {"inquiry_id": dropped.json["inquiry_id"], "decision": "discard"})
    assert dropped_view["status"] == "discarded" and dropped_view["reviewed_at"]
    assert dropped_view["message"] is None and dropped_view["email"] is None and dropped_view["topic"] == "abuse"
    assert "Drop me" not in all_items(clean_stack) and "Keep me" in all_items(clean_stack)
    again = ops(client, "ops_review_inquiry", {"inquiry_id": dropped.json["inquiry_id"], "decision": "discard"})
    assert again["status"] == "discarded"
    refused = ops(client, "ops_review_inquiry", {"inquiry_id": dropped.json["inquiry_id"], "decision": "keep"})
    assert refused["error"]["code"] == "conflict"
    missing = ops(client, "ops_review_inquiry", {"inquiry_id": "I0", "decision": "keep"})
    assert missing["error"]["code"] == "not_found"


def test_export_holds_every_personal_record(client):
    account = full_customer(client)
    call(client, "PATCH", "/account", {"name": "Ingrid New"}, account=account)
    export = call(client, "GET", "/account/export", account=account).json
    assert export["profile"]["customer_number"] == account.customer_number
    assert export["profile"]["name"] == "Ingrid New"
    assert len(export["inquiries"]) == 1 and export["inquiries"][0]["message"] == "Invoice please"
    assert export["tickets"][0]["support_records"][0]["text"] == "Sent rescue steps"
    assert [e["action"] for e in export["audit_trail"]] == ["signup", "profile_updated"]
    assert "preferences" in export
    assert call(client, "GET", "/account/export").status_code == 401
