"""Composing and sending email: templates -> MIME -> SES, one pipeline for every kind.

Every message SES accepts is recorded in the mail log (customer, kind, template, topic or
campaign, SES message id, time; never the body). SES failures surface as `MailDeferred`
(transient, after bounded retries: try again later) or `MailRejected` (permanent for this
message); nothing is recorded for either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from chalicelib.aws import ses_client
from chalicelib.mail.mime import build_message
from chalicelib.mail.render import render
from chalicelib.mail.sender import MailDeferred, MailError, MailRejected, send_raw
from chalicelib.observability import count, get_logger
from chalicelib.services import suppression
from chalicelib.settings import get_settings
from chalicelib.store import mail_log
from chalicelib.store.base import iso, utc_now
from chalicelib.store.mail_log import SentMessage

__all__ = ["Email", "MailDeferred", "MailError", "MailRejected", "messages_sent_to", "send"]


@dataclass(frozen=True)
class Email:
    recipient: str
    subject: str
    template: str
    context: dict
    headers: dict = field(default_factory=dict)
    kind: str = "transactional"  # "transactional" | "notice" | "marketing"
    customer_number: str | None = None
    topic: str | None = None
    campaign_id: str | None = None


def send(email: Email, client=None, sleep=time.sleep) -> str:
    """Render, send and record one email; returns the SES message id.
    Raises MailDeferred or MailRejected when SES does not accept it, or when the recipient
    is suppressed (hard bounce or complaint): then nothing is sent."""
    if suppression.is_suppressed(email.recipient):
        count("mail_suppressed")
        raise MailRejected(suppression.SUPPRESSED, "The address bounced or complained; nothing was sent.")
    settings = get_settings()
    text, html = render(email.template, **email.context)
    raw = build_message(settings.mail_from, email.recipient, email.subject, text, html, email.headers)
    _pace(settings.ses_max_send_rate, sleep)
    try:
        message_id = send_raw(client or ses_client(), settings.mail_from, email.recipient, raw,
                              settings.ses_configuration_set, sleep=sleep)
    except MailError as error:
        count("mail_rejected" if isinstance(error, MailRejected) else "mail_deferred")
        raise
    count(f"mail_sent_{email.kind}")
    _record(email, message_id)
    return message_id


_last_send = [float("-inf")]  # monotonic time of this process's last send


def _pace(max_per_second: float, sleep) -> None:
    """Keep this process under the account's SES send rate, so long runs (campaigns,
    notices) do not spend their retries on throttling."""
    wait = _last_send[0] + 1 / max_per_second - time.monotonic()
    if wait > 0:
        sleep(wait)
    _last_send[0] = time.monotonic()


def _record(email: Email, message_id: str) -> None:
    """The message is sent whatever happens here: a failed record is logged and counted
    (an alarm's business), not raised, or the caller would send it again."""
    entry = SentMessage(message_id, customer_number=email.customer_number, kind=email.kind,
                        template=email.template, topic=email.topic, campaign_id=email.campaign_id,
                        sent_at=iso(utc_now()))
    from pynamodb.exceptions import PynamoDBException

    try:
        mail_log.record_sent(entry)
    except PynamoDBException:
        get_logger().exception("sent message not recorded", extra={"message_id": message_id})
        count("mail_log_failed")


def messages_sent_to(customer_number: str) -> list[dict]:
    """Every message sent to the customer, oldest first (what, when, SES id; no body)."""
    return [
        {"message_id": m.message_id, "kind": m.kind, "template": m.template, "topic": m.topic,
         "campaign_id": m.campaign_id, "sent_at": m.sent_at}
        for m in mail_log.sent_to(customer_number)
    ]
