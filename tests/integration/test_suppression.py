"""Suppression: SES bounce/complaint events (as EventBridge delivers them) stop mail to an
address, and ops see it. Against DynamoDB Local and the SES stand-in."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import mailer
from chalicelib.services.suppression import SUPPRESSED
from tests.helpers import call, signup, unique_email
from tests.stack import outbox


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def ses_event(kind: str, address: str, **feedback) -> dict:
    """An SES event as the EventBridge rule in infra/ hands it to record_mail_suppressions."""
    if kind == "bounce":
        detail_type = "Email Bounced"
        body = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "timestamp": "2026-11-20T10:00:00.000Z",
            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1"}],
        }
    else:
        detail_type = "Email Complaint Received"
        body = {
            "complaintFeedbackType": "abuse",
            "timestamp": "2026-11-20T11:00:00.000Z",
            "complainedRecipients": [{"emailAddress": address}],
        }
    body.update(feedback)
    return {
        "version": "0",
        "id": "e1",
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": "123456789012",
        "time": "2026-11-20T10:00:01Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventType": kind.capitalize(),
            kind: body,
            "mail": {"messageId": "0100-ses-id", "tags": {"ses:configuration-set": ["pledge-local"]}},
        },
    }


def record(client, event: dict) -> dict:
    return client.lambda_.invoke("record_mail_suppressions", event).payload


def contact(client, email: str) -> None:
    body = {"name": "Jane", "email": email, "topic": "sales", "message": "Do you sell VPS in Oslo?"}
    assert call(client, "POST", "/contact", body).status_code == 201


def outbox_after_signup() -> list[dict]:
    """The outbox without the verification link every signup sends."""
    return [m for m in outbox() if "Confirm your email" not in m["subject"]]


def test_a_hard_bounce_stops_all_mail_to_the_address(client):
    address = unique_email("bounced")
    assert record(client, ses_event("bounce", address)) == {"suppressed": 1}

    contact(client, address)  # the inquiry is taken; its acknowledgement is not sent
    email = mailer.Email(
        recipient=address.upper(),
        subject="Your order",
        template="contact_ack",
        context={"name": "J", "topic": "sales", "inquiry_id": "I1", "received_at": "now"},
    )
    with pytest.raises(mailer.MailRejected) as refused:
        mailer.send(email)

    assert refused.value.code == SUPPRESSED
    assert outbox() == []


def test_a_soft_bounce_suppresses_nothing(client):
    address = unique_email("full-mailbox")
    assert record(client, ses_event("bounce", address, bounceType="Transient")) == {"suppressed": 0}

    contact(client, address)

    assert [m["to"] for m in outbox()] == [[address]]


def test_ops_customer_record_shows_a_complaint_and_counts_repeats(client):
    account = signup(client)
    other = unique_email("not-complaining")
    event = ses_event("complaint", account.email.upper())
    assert record(client, event) == {"suppressed": 1}
    assert record(client, event) == {"suppressed": 1}  # EventBridge may deliver twice

    shown = client.lambda_.invoke("ops_customer_record", {"customer_number": account.customer_number}).payload

    assert shown["suppression"] == {
        "in_force": True,
        "reason": "complaint",
        "detail": "abuse",
        "since": "2026-11-20T11:00:00.000Z",
        "last_event_at": "2026-11-20T11:00:00.000Z",
        "events": 2,
        "ses_message_id": "0100-ses-id",
        "lifted_at": None,
        "lift_reason": None,
    }
    contact(client, other)
    assert [m["to"] for m in outbox_after_signup()] == [[other]]


def test_a_customer_never_bounced_shows_no_suppression(client):
    account = signup(client)
    shown = client.lambda_.invoke("ops_customer_record", {"customer_number": account.customer_number}).payload
    assert shown["suppression"] is None


def test_an_event_of_another_shape_is_refused_and_records_nothing(client):
    address = unique_email("odd")
    event = ses_event("bounce", address)
    event["detail-type"] = "Email Delivered"

    result = record(client, event)

    assert result["error"]["code"] == "validation_error"
    contact(client, address)
    assert [m["to"] for m in outbox()] == [[address]]


def test_ops_lift_a_suppression_until_the_next_bounce(client):
    account = signup(client)
    record(client, ses_event("complaint", account.email))
    contact(client, account.email)
    assert outbox_after_signup() == []

    lifted = client.lambda_.invoke(
        "ops_lift_suppression",
        {"customer_number": account.customer_number, "reason": "complaint made by mistake, confirmed by phone"},
    )
    assert lifted.payload["in_force"] is False and lifted.payload["lifted_at"]
    contact(client, account.email)
    assert [m["to"] for m in outbox_after_signup()] == [[account.email]]
    record_shown = client.lambda_.invoke("ops_customer_record", {"customer_number": account.customer_number}).payload
    assert "mail_suppression_lifted" in [e["action"] for e in record_shown["audit_trail"]]

    later_bounce = ses_event("bounce", account.email, timestamp="2099-01-01T00:00:00.000Z")
    record(client, later_bounce)
    contact(client, account.email)
    assert len(outbox_after_signup()) == 1  # suppressed again


def test_lifting_what_is_not_suppressed_is_not_found(client):
    account = signup(client)
    result = client.lambda_.invoke(
        "ops_lift_suppression", {"customer_number": account.customer_number, "reason": "checking"}
    ).payload
    assert result["error"]["code"] == "not_found"
