"""The SES sender's retries and error classes (botocore Stubber, no network) and MIME headers."""

from __future__ import annotations

import email
import email.policy

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from chalicelib.mail.mime import build_message
from chalicelib.mail.sender import ATTEMPTS, MailDeferred, MailRejected, send_raw
from chalicelib.services import mailer

RAW = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
REQUEST = {
    "FromEmailAddress": "a@example.com",
    "Destination": {"ToAddresses": ["b@example.com"]},
    "Content": {"Raw": {"Data": RAW}},
    "ConfigurationSetName": "pledge",
}


@pytest.fixture
def ses():
    client = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def send(client, sleeps: list):
    return send_raw(client, "a@example.com", "b@example.com", RAW, "pledge", sleep=sleeps.append)


def test_the_exception_classes_are_the_mailers():
    assert mailer.MailDeferred is MailDeferred and mailer.MailRejected is MailRejected
    assert issubclass(MailDeferred, mailer.MailError) and issubclass(MailRejected, mailer.MailError)


def test_throttling_and_5xx_are_retried_with_growing_backoff(ses):
    client, stubber = ses
    stubber.add_client_error("send_email", "TooManyRequestsException", http_status_code=429, expected_params=REQUEST)
    stubber.add_client_error("send_email", "InternalFailure", http_status_code=500, expected_params=REQUEST)
    stubber.add_response("send_email", {"MessageId": "m-1"}, REQUEST)
    sleeps = []
    assert send(client, sleeps) == "m-1"
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] > 0


def test_retries_are_bounded_then_deferred(ses):
    client, stubber = ses
    for _ in range(ATTEMPTS):
        stubber.add_client_error("send_email", "TooManyRequestsException", http_status_code=429)
    sleeps = []
    with pytest.raises(MailDeferred) as raised:
        send(client, sleeps)
    assert raised.value.code == "TooManyRequestsException"
    assert len(sleeps) == ATTEMPTS - 1


def test_a_permanent_rejection_is_not_retried(ses):
    client, stubber = ses
    stubber.add_client_error("send_email", "MessageRejected", "Email address is not verified.", 400)
    sleeps = []
    with pytest.raises(MailRejected) as raised:
        send(client, sleeps)
    assert raised.value.code == "MessageRejected" and sleeps == []


def test_an_operator_problem_defers_without_retrying(ses):
    client, stubber = ses
    stubber.add_client_error("send_email", "SendingPausedException", http_status_code=400)
    sleeps = []
    with pytest.raises(MailDeferred):
        send(client, sleeps)
    assert sleeps == []


def test_connection_errors_are_retried_then_deferred():
    class Unreachable:
        calls = 0

        def send_email(self, **request):
            self.calls += 1
            raise EndpointConnectionError(endpoint_url="https://email.example")

    client, sleeps = Unreachable(), []
    with pytest.raises(MailDeferred):
        send(client, sleeps)
    assert client.calls == ATTEMPTS


def test_programming_errors_are_not_disguised_as_mail_errors():
    class Broken:
        def send_email(self, **request):
            raise KeyError("bug")

    with pytest.raises(KeyError):
        send(Broken(), [])


def test_a_long_list_unsubscribe_url_stays_one_plain_header():
    url = "https://pledge.example.com/unsubscribe?token=k1.C1234567890.special_offers." + "A" * 43
    raw = build_message(
        "privacy@hostbay.example",
        "a@example.com",
        "Offers",
        "text",
        "<p>html</p>",
        {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    assert f"List-Unsubscribe: <{url}>".encode() in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_header_injection_is_refused():
    with pytest.raises(ValueError):
        build_message(
            "a@example.com", "b@example.com", "s", "t", "h", {"List-Unsubscribe": "<x>\r\nBcc: c@example.com"}
        )


def test_a_read_timeout_is_uncertain_and_never_retried():
    from botocore.exceptions import ReadTimeoutError

    from chalicelib.mail.sender import MailUncertain

    class SlowToAnswer:
        calls = 0

        def send_email(self, **request):
            self.calls += 1
            raise ReadTimeoutError(endpoint_url="https://email.example")

    client, sleeps = SlowToAnswer(), []
    with pytest.raises(MailUncertain):
        send(client, sleeps)
    assert client.calls == 1 and sleeps == []


def test_the_ses_client_does_not_retry_by_itself(monkeypatch):
    from chalicelib import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.ses_client.cache_clear()
    try:
        assert aws.ses_client().meta.config.retries["total_max_attempts"] == 1
    finally:
        aws.ses_client.cache_clear()
