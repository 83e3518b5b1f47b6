"""Composing and sending email: templates -> MIME -> SES, one pipeline for every kind.

Every message SES accepts is recorded in the mail log (customer, kind, template, topic or
campaign, SES message id, time; never the body). SES failures surface as `MailDeferred`
(transient, after bounded retries: try again later), `MailRejected` (permanent for this
message) or `MailUncertain` (SES may or may not have it); nothing is recorded for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

from chalicelib.aws import ses_client
from chalicelib.mail.pacing import Pacer, shared_pacer
from chalicelib.mail.render import render
from chalicelib.mail.sender import (
    MailDeferred,
    MailError,
    MailRejected,
    MailUncertain,
    send_raw,
)
from chalicelib.observability import count, get_logger
from chalicelib.services import suppression
from chalicelib.settings import get_settings
from chalicelib.store import mail_log
from chalicelib.store.base import iso, utc_now
from chalicelib.store.mail_log import SentMessage
from chalicelib.store.transact import Write, commit, put

__all__ = [
    "Delivered",
    "Email",
    "MailDeferred",
    "MailError",
    "MailRejected",
    "MailUncertain",
    "deliver",
    "messages_sent_to",
    "send",
]


class Email(NamedTuple):
    recipient: str
    subject: str
    template: str
    context: dict
    headers: dict | None = None
    kind: str = "transactional"  # "transactional" | "notice" | "marketing"
    customer_number: str | None = None
    topic: str | None = None
    campaign_id: str | None = None


class Delivered(NamedTuple):
    message_id: str
    record: Write  # the mail log entry, to commit (alone, or in the caller's transaction)


def send(email: Email, client: Any = None, sleep: Callable[[float], None] = time.sleep) -> str:
    """Render, send and record one email; returns the SES message id.
    Raises a MailError when SES does not accept it, or when the recipient is suppressed
    (hard bounce or complaint): then nothing is sent."""
    delivered = deliver(email, client, sleep)
    _record(delivered)
    return delivered.message_id


def deliver(
    email: Email,
    client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    pacer: Pacer | None = None,
    suppressed: bool | None = None,
) -> Delivered:
    """Send one email and return the write that records it, for a caller that commits it
    together with its own record of the send (one DynamoDB call instead of two). A bulk
    sender passes its own `pacer` (its share of the account's rate; default: the process's)
    and whether the recipient is `suppressed`, read for many at once (default: looked up)."""
    if suppressed is None:
        suppressed = suppression.is_suppressed(email.recipient)
    if suppressed:
        count("mail_suppressed")
        raise MailRejected(suppression.SUPPRESSED, "The address bounced or complained; nothing was sent.")
    from chalicelib.mail.mime import (
        build_message,  # the email package: loaded on the first send
    )

    settings = get_settings()
    text, html = render(email.template, **email.context)
    raw = build_message(settings.mail_from, email.recipient, email.subject, text, html, email.headers)
    (pacer or shared_pacer(settings.ses_max_send_rate)).wait()
    try:
        message_id = send_raw(
            client or ses_client(),
            settings.mail_from,
            email.recipient,
            raw,
            settings.ses_configuration_set,
            sleep=sleep,
        )
    except MailError as error:
        count(f"mail_{type(error).__name__.removeprefix('Mail').lower()}")
        raise
    count(f"mail_sent_{email.kind}")
    entry = SentMessage(
        message_id,
        customer_number=email.customer_number,
        kind=email.kind,
        template=email.template,
        topic=email.topic,
        campaign_id=email.campaign_id,
        sent_at=iso(utc_now()),
    )
    return Delivered(message_id, put(entry))


def _record(delivered: Delivered) -> None:
    """The message is sent whatever happens here: a failed record is logged and counted
    (an alarm's business), not raised, or the caller would send it again."""
    from pynamodb.exceptions import PynamoDBException

    try:
        commit([delivered.record])
    except PynamoDBException:
        get_logger().exception("sent message not recorded", extra={"message_id": delivered.message_id})
        count("mail_log_failed")


def messages_sent_to(customer_number: str) -> list[dict]:
    """Every message sent to the customer, oldest first (what, when, SES id; no body)."""
    return [
        {
            "message_id": m.message_id,
            "kind": m.kind,
            "template": m.template,
            "topic": m.topic,
            "campaign_id": m.campaign_id,
            "sent_at": m.sent_at,
        }
        for m in mail_log.sent_to(customer_number)
    ]
