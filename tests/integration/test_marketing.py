"""Campaigns, one-click unsubscribe and the mail log, against DynamoDB Local and the SES stand-in."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import accounts, mailer, marketing, preferences, retention
from chalicelib.services.unsubscribe import make_token
from chalicelib.settings import get_settings
from tests.helpers import PASSWORD, call, unique_email, verify_email
from tests.stack import outbox as all_mail

CAMPAIGN = {"topic": "special_offers", "subject": "50% off VPS plans", "text": "All week.\n\nAll plans."}


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def customer(marketing: dict | None = None, email: str | None = None, verified: bool = True) -> str:
    """A customer signed up (and, unless told otherwise, with the email verified through
    the link signup sent: marketing goes only to verified addresses)."""
    data = {"name": "Jane", "email": email or unique_email(), "password": PASSWORD, "marketing": marketing}
    number = accounts.signup(data, None, extra_writes=lambda c: preferences.signup_events(c, None)).customer_number
    if verified:
        verify_email(data["email"])
    return number


def marketing_sent_to(customer_number: str) -> list[dict]:
    """The mail log's marketing entries for the customer (signup also logs its verification link)."""
    return [m for m in mailer.messages_sent_to(customer_number) if m["kind"] == "marketing"]


def outbox() -> list[dict]:
    """The mail sent, without the verification links every signup sends."""
    return [m for m in all_mail() if m["subject"] != "Confirm your email address"]


def email_of(customer_number: str) -> str:
    return accounts.get_profile(customer_number)["email"]


def send(client, **event) -> dict:
    return client.lambda_.invoke("ops_send_marketing", {**CAMPAIGN, **event}).payload


def unsubscribe_path(message: dict) -> str:
    url = re.fullmatch(r"<(.+)>", message["headers"]["List-Unsubscribe"]).group(1)
    parts = urlsplit(url)
    assert url.startswith(get_settings().public_base_url + "/unsubscribe?token=")
    return f"{parts.path}?{parts.query}"


def post_one_click(client, path: str):
    return call(
        client,
        "POST",
        path,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        raw="List-Unsubscribe=One-Click",
    )


def test_campaign_reaches_only_active_subscribers_with_one_click_headers(client):
    subscribed = customer()
    opted_out = customer({"special_offers": False})
    deactivated = customer()
    retention.deactivate_customer(deactivated, "ops", "unpaid")

    result = send(client)

    assert (result["sent"], result["skipped"], result["complete"]) == (1, 0, True)
    [message] = outbox()
    assert message["to"] == [email_of(subscribed)]
    assert message["subject"] == CAMPAIGN["subject"]
    assert message["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe?token=" in message["headers"]["List-Unsubscribe"]
    preferences_url = get_settings().public_base_url + "/account/preferences"
    assert preferences_url in message["text"] and f'href="{preferences_url}"' in message["html"]
    assert "<p>All plans.</p>" in message["html"]
    [logged] = marketing_sent_to(subscribed)
    assert (logged["kind"], logged["topic"], logged["campaign_id"]) == (
        "marketing",
        "special_offers",
        result["campaign_id"],
    )
    assert logged["message_id"] == message["message_id"]
    assert marketing_sent_to(opted_out) == marketing_sent_to(deactivated) == []
    record = client.lambda_.invoke("ops_customer_record", {"customer_number": subscribed}).payload
    assert [m for m in record["messages_sent"] if m["kind"] == "marketing"] == [logged]


def test_a_campaign_sent_twice_sends_once(client):
    first_customer = customer()
    first = send(client)
    customer()  # joins between the two runs: the second run reaches only them
    second = send(client)
    third = send(client)

    assert first["campaign_id"] == second["campaign_id"] == third["campaign_id"]
    assert (first["sent"], second["sent"], second["skipped"], third["sent"], third["skipped"]) == (1, 1, 1, 0, 2)
    assert len(outbox()) == 2
    assert len(marketing_sent_to(first_customer)) == 1


def test_a_campaign_id_names_one_content(client):
    customer()
    assert send(client, campaign_id="spring-2026")["sent"] == 1
    assert send(client, campaign_id="spring-2026")["sent"] == 0
    reused = send(client, campaign_id="spring-2026", subject="Something else")
    assert reused["error"]["code"] == "conflict"
    assert len(outbox()) == 1


def test_unsubscribe_round_trip_from_a_sent_message(client):
    customer_number = customer()
    send(client)
    [message] = outbox()
    path = unsubscribe_path(message)

    page = call(client, "GET", path, headers={})
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'method="post"' in page.body.decode() and "special offers" in page.body.decode()
    assert preferences.get_topics(customer_number)["special_offers"] is True  # a GET changes nothing

    assert post_one_click(client, path).status_code == 200
    assert preferences.get_topics(customer_number)["special_offers"] is False
    assert preferences.consent_history(customer_number)[-1]["source"] == "unsubscribe"
    events = len(preferences.consent_history(customer_number))

    assert post_one_click(client, path).status_code == 200  # repeating is harmless
    assert len(preferences.consent_history(customer_number)) == events

    assert send(client, subject="Another offer")["sent"] == 0
    assert len(outbox()) == 1


def test_unsubscribe_accepts_an_empty_or_multipart_post_and_answers_html_to_browsers(client):
    customer_number = customer()
    path = f"/unsubscribe?token={make_token(customer_number, 'website')}"
    assert client.http.post(path, headers={}, body=b"").status_code == 200  # no body, no content type
    assert preferences.get_topics(customer_number)["website"] is False
    path = f"/unsubscribe?token={make_token(customer_number, 'products')}"
    multipart = '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n'
    done = call(
        client,
        "POST",
        path,
        raw=multipart,
        headers={"Content-Type": "multipart/form-data; boundary=b", "Accept": "text/html"},
    )
    assert done.status_code == 200 and done.headers["Content-Type"].startswith("text/html")
    assert preferences.get_topics(customer_number)["products"] is False


def forgeries(token: str) -> list[str]:
    key_id, customer_number, topic, signature = token.split(".")
    flipped = signature[:-1] + ("B" if signature[-1] == "A" else "A")
    return [
        "",
        "garbage",
        token[:-1],
        token + "A",
        token.replace(".", "", 1),
        f"{key_id}.{customer_number}1.{topic}.{signature}",  # another customer
        f"{key_id}.{customer_number}.products.{signature}",  # another topic
        f"{key_id}.{customer_number}.{topic}.{flipped}",  # tampered or re-encoded signature
        f"k9.{customer_number}.{topic}.{signature}",  # unknown key id
        f"{key_id}.{customer_number}.{topic}.{'A' * 43}",
    ]


def test_forged_tokens_change_nothing(client):
    customer_number = customer()
    before = preferences.consent_history(customer_number)
    for forged in forgeries(make_token(customer_number, "special_offers")):
        for method in ("GET", "POST"):
            response = (
                post_one_click(client, f"/unsubscribe?token={forged}")
                if method == "POST"
                else call(client, "GET", f"/unsubscribe?token={forged}")
            )
            assert response.status_code in (400, 404), (forged, method)
            assert response.json["error"]["code"] in ("validation_error", "not_found")
            assert forged[:20] not in response.body.decode() or not forged  # the token is not echoed
    assert call(client, "POST", "/unsubscribe", headers={}).status_code == 400
    # a genuine signature for a customer who does not exist
    assert post_one_click(client, f"/unsubscribe?token={make_token('C123', 'products')}").status_code == 404
    assert preferences.consent_history(customer_number) == before
    assert preferences.get_topics(customer_number)["special_offers"] is True


def test_an_unverified_address_gets_no_marketing(client):
    unverified = customer(verified=False)
    verified = customer()
    assert send(client)["sent"] == 1
    assert [m["to"] for m in outbox()] == [[email_of(verified)]]
    assert marketing_sent_to(unverified) == []


def test_a_bad_customer_record_is_recorded_and_the_campaign_goes_on(client, clean_stack, caplog, capsys):
    from chalicelib.observability import get_logger
    from chalicelib.store.campaigns import Delivery

    good = [customer(), customer()]
    for number, email in (
        ("C100000000001", {"S": "broken@example.com\r\nBcc: victim@example.com"}),
        ("C100000000002", None),
    ):
        item = {
            "customer_number": {"S": number},
            "name": {"S": "Bad Record"},
            "password_hash": {"S": "!"},
            "status": {"S": "active"},
            "created_at": {"S": "2026-01-01T00:00:00.000Z"},
            "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
            "version": {"N": "1"},
            "email_verified_at": {"S": "2026-01-01T00:00:00.000Z"},
            "marketing": {"M": {"special_offers": {"BOOL": True}}},
        }
        if email:
            item["email"] = email
        clean_stack.dynamodb().put_item(TableName=f"{clean_stack.table_prefix}customers", Item=item)
    caplog.set_level("ERROR")

    result = send(client)

    assert (result["sent"], result["failed"], result["complete"]) == (2, 2, True)
    assert sorted(m["to"][0] for m in outbox()) == sorted(email_of(c) for c in good)
    for number in ("C100000000001", "C100000000002"):
        delivery = Delivery.get(result["campaign_id"], number)
        assert delivery.status == "failed" and delivery.error_code.startswith("unexpected:")
    logged = "\n".join(get_logger().registered_formatter.format(r) for r in caplog.records) + capsys.readouterr().out
    assert "C100000000001" in logged and "C100000000002" in logged and "MarketingDeliveryFailed" in logged
    assert "broken@example.com" not in logged and "victim" not in logged
    assert send(client)["sent"] == 0  # the failed ones are not retried into the same failure


def test_a_deactivated_customer_gets_no_marketing(client):
    customer_number = customer()
    retention.deactivate_customer(customer_number, "ops", "closed by request")
    assert send(client)["sent"] == 0
    assert outbox() == []


class FailingFor:
    """An SES client that fails for chosen recipients (with these error codes in turn; None
    passes the call on) and hands everything else to SES."""

    def __init__(self, real, failures: dict[str, list[str]]):
        self.real, self.failures, self.calls = real, failures, []

    def send_email(self, **request):
        from botocore.exceptions import ClientError

        recipient = request["Destination"]["ToAddresses"][0]
        self.calls.append(recipient)
        codes = self.failures.get(recipient) or [None]
        code = codes.pop(0) if len(codes) > 1 else codes[0]  # the last code repeats
        if code:
            raise ClientError({"Error": {"Code": code, "Message": "stand-in failure"}}, "SendEmail")
        return self.real.send_email(**request)


def test_a_rejected_recipient_does_not_stop_the_rest_and_is_not_recorded(clean_stack):
    rejected, others = customer(), [customer(), customer()]
    ses = FailingFor(clean_stack.client("sesv2"), {email_of(rejected): ["MessageRejected"]})

    result = marketing.send_campaign(**CAMPAIGN, client=ses)

    assert (result["sent"], result["rejected"], result["complete"]) == (2, 1, True)
    assert ses.calls.count(email_of(rejected)) == 1  # permanent: not retried
    assert sorted(m["to"][0] for m in outbox()) == sorted(email_of(c) for c in others)
    assert marketing_sent_to(rejected) == []
    assert all(len(marketing_sent_to(c)) == 1 for c in others)
    assert marketing.send_campaign(**CAMPAIGN)["sent"] == 0  # rejected is final for this campaign


def test_throttling_is_retried(clean_stack):
    customer_number = customer()
    ses = FailingFor(clean_stack.client("sesv2"), {email_of(customer_number): ["TooManyRequestsException", None]})
    assert marketing.send_campaign(**CAMPAIGN, client=ses)["sent"] == 1
    assert ses.calls == [email_of(customer_number)] * 2
    assert len(outbox()) == 1 and len(marketing_sent_to(customer_number)) == 1


def test_a_deferred_send_is_recorded_and_the_next_run_resumes(clean_stack):
    from chalicelib.store.campaigns import Delivery

    customers = [customer() for _ in range(3)]
    paused = FailingFor(clean_stack.client("sesv2"), {email_of(c): ["SendingPausedException"] for c in customers})

    stopped = marketing.send_campaign(**CAMPAIGN, client=paused)

    assert (stopped["sent"], stopped["deferred"], stopped["remaining"], stopped["complete"]) == (0, 3, 3, False)
    assert sorted(paused.calls) == sorted(email_of(c) for c in customers)  # each once: not retried at once
    assert {Delivery.get(stopped["campaign_id"], c).status for c in customers} == {"deferred"}
    assert outbox() == [] and all(marketing_sent_to(c) == [] for c in customers)
    resumed = marketing.send_campaign(**CAMPAIGN)
    assert (resumed["sent"], resumed["remaining"], resumed["complete"]) == (3, 0, True)
    assert all(len(marketing_sent_to(c)) == 1 for c in customers)


class AnswerLost(FailingFor):
    """SES accepts the message but the answer never arrives (a read timeout)."""

    def send_email(self, **request):
        from botocore.exceptions import ReadTimeoutError

        recipient = request["Destination"]["ToAddresses"][0]
        self.calls.append(recipient)
        response = self.real.send_email(**request)
        if recipient in self.failures:
            raise ReadTimeoutError(endpoint_url="https://email.example")
        return response


def test_a_lost_answer_is_unconfirmed_and_never_sent_again(clean_stack):
    lost, other = customer(), customer()
    ses = AnswerLost(clean_stack.client("sesv2"), {email_of(lost): []})

    result = marketing.send_campaign(**CAMPAIGN, client=ses)

    assert (result["sent"], result["unconfirmed"], result["complete"]) == (1, 1, True)
    assert marketing.send_campaign(**CAMPAIGN)["sent"] == 0
    assert sorted(m["to"][0] for m in outbox()) == sorted([email_of(lost), email_of(other)])
