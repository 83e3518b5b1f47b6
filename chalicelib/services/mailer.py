"""Composing and sending email: templates -> MIME -> SES, one pipeline for every kind."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.aws import ses_client
from chalicelib.mail.mime import build_message
from chalicelib.mail.render import render
from chalicelib.mail.sender import send_raw
from chalicelib.settings import get_settings


@dataclass(frozen=True)
class Email:
    recipient: str
    subject: str
    template: str
    context: dict
    headers: dict = field(default_factory=dict)


def common_context() -> dict:
    settings = get_settings()
    return {"company": settings.company_name, "policy_url": f"{settings.public_base_url}/policy"}


def send(email: Email, client=None) -> str:
    """Render and send one email; returns the SES message id."""
    settings = get_settings()
    text, html = render(email.template, **common_context(), **email.context)
    raw = build_message(settings.mail_from, email.recipient, email.subject, text, html, email.headers)
    return send_raw(client or ses_client(), settings.mail_from, email.recipient, raw, settings.ses_configuration_set)
