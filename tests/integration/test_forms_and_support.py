"""Contact form, support tickets, input validation, health, policy and ops functions."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from app import app
from chalicelib.services.policy import ensure_initial_policy
from tests.helpers import PASSWORD, call, signup, unique_email
from tests.stack import outbox

ADDRESS = {"line1": "Keizersgracht 1", "city": "Amsterdam", "postal_code": "1015 CJ", "country": "NL"}


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def count_items(stack, logical: str) -> int:
    return stack.dynamodb().scan(TableName=f"{stack.table_prefix}{logical}", Select="COUNT")["Count"]


def contact_body(**overrides) -> dict:
    return {"name": "Piet", "email": unique_email("piet"), "topic": "sales", "message": "Do you sell VPS?", **overrides}


def test_health(client):
    response = call(client, "GET", "/health")
    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_policy_in_force_is_served(client):
    ensure_initial_policy()
    policy = call(client, "GET", "/policy").json
    assert policy["version"] == "1"
    assert "thirty (30) days" in policy["body"] and policy["effective_at"].endswith("Z")


def test_contact_stores_the_inquiry_and_acknowledges_by_email(client, clean_stack):
    body = contact_body(phone="+31201234567", address=ADDRESS)
    response = call(client, "POST", "/contact", body)
    assert response.status_code == 201 and response.json["inquiry_id"]
    stored = clean_stack.dynamodb().get_item(
        TableName=f"{clean_stack.table_prefix}inquiries", Key={"inquiry_id": {"S": response.json["inquiry_id"]}}
    )["Item"]
    assert stored["message"]["S"] == body["message"] and stored["topic"]["S"] == "sales"
    assert "customer_number" not in stored
    [mail] = outbox()
    assert mail["to"] == [body["email"]]
    assert response.json["inquiry_id"] in mail["text"] and response.json["inquiry_id"] in mail["html"]


def test_contact_acknowledgement_quotes_none_of_the_senders_text(client):
    lure = "Your account is suspended, re-enter your card at https://evil.example/login"
    call(client, "POST", "/contact", contact_body(name=f"<b>{lure}</b>", message=lure))
    [mail] = outbox()
    for part in (mail["subject"], mail["text"], mail["html"]):
        assert "evil.example" not in part and "suspended" not in part


def test_one_address_gets_at_most_three_acknowledgements_a_day(client, clean_stack, monkeypatch):
    from chalicelib.services import mail_limits

    answers = [
        call(client, "POST", "/contact", contact_body(email=email))
        for email in ("Target@Example.com", "target@example.com", "TARGET@example.COM", "target@example.com")
    ]
    assert [a.status_code for a in answers] == [201] * 4
    assert len(clean_stack.dynamodb().scan(TableName=f"{clean_stack.table_prefix}inquiries")["Items"]) == 4
    assert len(outbox()) == 3
    assert call(client, "POST", "/contact", contact_body(email="other@example.com")).status_code == 201
    assert len(outbox()) == 4
    later = mail_limits.time.time() + 86401
    monkeypatch.setattr(mail_limits.time, "time", lambda: later)
    call(client, "POST", "/contact", contact_body(email="target@example.com"))
    assert len(outbox()) == 5


def test_contact_from_a_logged_in_customer_is_linked(client, clean_stack):
    account = signup(client)
    response = call(client, "POST", "/contact", contact_body(email=account.email), account=account)
    stored = clean_stack.dynamodb().get_item(
        TableName=f"{clean_stack.table_prefix}inquiries", Key={"inquiry_id": {"S": response.json["inquiry_id"]}}
    )["Item"]
    assert stored["customer_number"]["S"] == account.customer_number


@pytest.mark.parametrize(
    "body, path",
    [
        ({"email": "a@b.co", "topic": "sales", "message": "hi"}, "name"),
        (contact_body(topic="gossip"), "topic"),
        (contact_body(email="not-an-email"), "email"),
        (contact_body(message="x" * 5001), "message"),
        (contact_body(name=42), "name"),
        (contact_body(extra="field"), "extra"),
        (contact_body(phone="0201234567"), "phone"),
        (contact_body(address={**ADDRESS, "country": "Netherlands"}), "address.country"),
        (contact_body(address={"line1": "x", "city": "y", "country": "NL"}), "address.postal_code"),
        ([], ""),
    ],
)
def test_contact_rejects_bad_input_with_field_paths(client, clean_stack, body, path):
    response = call(client, "POST", "/contact", body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert path in [d["path"] for d in response.json["error"]["details"]]
    assert count_items(clean_stack, "inquiries") == 0 and outbox() == []


def test_malformed_bodies_get_contract_errors(client, clean_stack):
    bad_json = call(client, "POST", "/signup", raw="{not json")
    assert (bad_json.status_code, bad_json.json["error"]["code"]) == (400, "validation_error")
    form = call(client, "POST", "/signup", raw="a=b", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (form.status_code, form.json["error"]["code"]) == (415, "unsupported_media_type")
    huge = call(client, "POST", "/contact", raw=json.dumps(contact_body(message="x" * 70000)))
    assert (huge.status_code, huge.json["error"]["code"]) == (413, "payload_too_large")
    assert count_items(clean_stack, "customers") == 0


def test_validation_errors_never_echo_the_password(client):
    secret = "hunter2-short"
    response = call(client, "POST", "/signup", {"name": "A", "email": "a@b.co", "password": secret[:8]})
    assert response.status_code == 400 and "password" in [d["path"] for d in response.json["error"]["details"]]
    assert secret[:8] not in response.body.decode()


def test_logs_hold_no_email_or_password(client, caplog, capsys):
    from chalicelib.observability import get_logger

    email = unique_email("private")
    caplog.set_level("INFO")
    signup(client, email=email)
    call(client, "POST", "/login", {"email": email, "password": "wrong wrong wrong"})
    call(client, "POST", "/contact", contact_body(email=email))
    formatter = get_logger().registered_formatter
    logged = "\n".join(formatter.format(record) for record in caplog.records) + capsys.readouterr().out
    assert '"route":"/login"' in logged
    assert email not in logged and PASSWORD not in logged and "wrong wrong wrong" not in logged


def test_tickets_belong_to_their_customer(client):
    owner, other = signup(client), signup(client)
    created = call(client, "POST", "/support/tickets", {"subject": "VPS down", "message": "Help!"}, account=owner)
    assert created.status_code == 201
    ticket_id = created.json["ticket_id"]
    listed = call(client, "GET", "/support/tickets", account=owner).json["tickets"]
    assert [t["ticket_id"] for t in listed] == [ticket_id]
    assert set(listed[0]) >= {"ticket_id", "subject", "status", "created_at"}
    assert call(client, "GET", "/support/tickets", account=other).json["tickets"] == []
    missing = call(client, "GET", f"/support/tickets/{ticket_id}", account=other)
    assert (missing.status_code, missing.json["error"]["code"]) == (404, "not_found")
    mine = call(client, "GET", f"/support/tickets/{ticket_id}", account=owner).json
    assert mine["messages"][0]["text"] == "Help!"


def test_tickets_need_login_and_csrf(client):
    account = signup(client)
    assert call(client, "POST", "/support/tickets", {"subject": "a", "message": "b"}).status_code == 401
    no_csrf = call(client, "POST", "/support/tickets", {"subject": "a", "message": "b"}, account=account, csrf=False)
    assert no_csrf.status_code == 403


def test_ops_record_support_is_shown_on_the_ticket(client):
    account = signup(client)
    ticket_id = call(client, "POST", "/support/tickets", {"subject": "DNS", "message": "?"}, account=account).json[
        "ticket_id"
    ]
    result = client.lambda_.invoke(
        "ops_record_support", {"ticket_id": ticket_id, "channel": "phone", "summary": "Explained DNS TTLs"}
    ).payload
    assert result["channel"] == "phone" and result["customer_number"] == account.customer_number
    ticket = call(client, "GET", f"/support/tickets/{ticket_id}", account=account).json
    assert ticket["support_records"][0]["text"] == "Explained DNS TTLs"
    assert ticket["support_records"][0]["channel"] == "phone"


def test_ops_functions_validate_their_events(client):
    bad = client.lambda_.invoke("ops_record_support", {"ticket_id": "T1", "channel": "fax", "summary": "x"}).payload
    assert bad["error"]["code"] == "validation_error"
    assert [d["path"] for d in bad["error"]["details"]] == ["channel"]
    missing = client.lambda_.invoke("ops_record_support", {"ticket_id": "Tnope", "channel": "web", "summary": "x"})
    assert missing.payload["error"]["code"] == "not_found"


def test_ops_customer_record_shows_everything_held(client):
    account = signup(client, phone="+31201234567")
    call(client, "POST", "/support/tickets", {"subject": "Billing", "message": "Invoice?"}, account=account)
    call(client, "POST", "/contact", contact_body(email=account.email), account=account)
    record = client.lambda_.invoke("ops_customer_record", {"customer_number": account.customer_number}).payload
    assert record["status"] == "active"
    assert record["profile"]["phone"] == "+31201234567"
    assert len(record["tickets"]) == 1 and len(record["inquiries"]) == 1
    assert [e["action"] for e in record["audit_trail"]] == ["signup"]
    unknown = client.lambda_.invoke("ops_customer_record", {"customer_number": "C999"}).payload
    assert unknown["error"]["code"] == "not_found"
