"""Email the local SES stand-in accepted, read from moto's /moto-api/data.json."""

from __future__ import annotations

import email
import email.policy
import json
import urllib.request
from email.utils import getaddresses

from .config import ports, url


def _data(aws_port: int) -> dict:
    with urllib.request.urlopen(url(aws_port) + "/moto-api/data.json", timeout=10) as response:
        return json.loads(response.read())


def parse_raw(raw: str | bytes, destinations: list[str] | None = None) -> dict:
    """One raw MIME message as {to, from, subject, headers, text, html}."""
    if isinstance(raw, str):  # moto keeps the raw bytes decoded as UTF-8: undo that
        raw = raw.encode("utf-8", "surrogateescape")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers: dict[str, str] = {}
    for name, value in msg.items():
        headers[name] = str(value) if name not in headers else headers[name] + ", " + str(value)
    # moto lists the envelope recipients, then again those named in To/Cc/Bcc: dedupe.
    to = list(dict.fromkeys(destinations or [])) or [addr for _, addr in getaddresses(msg.get_all("To", []))]
    text = html = None
    for part in msg.walk() if msg.is_multipart() else [msg]:
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain" and text is None:
            text = part.get_content()
        elif part.get_content_type() == "text/html" and html is None:
            html = part.get_content()
    return {
        "to": to,
        "from": str(msg.get("From", "")),
        "subject": str(msg.get("Subject", "")),
        "headers": headers,
        "text": text,
        "html": html,
    }


def read_outbox(aws_port: int | None = None) -> list[dict]:
    """Every email the stand-in accepted, oldest first. Raw sends (what the app uses)
    keep their order; Simple sends, if any, follow them (moto keeps them apart)."""
    ses = _data(aws_port or ports().aws).get("ses", {})
    messages = [
        dict(parse_raw(m["raw_data"], m.get("destinations")), message_id=m.get("id")) for m in ses.get("RawMessage", [])
    ]
    for m in ses.get("Message", []):
        dest = m.get("destinations") or {}
        to = dest.get("ToAddresses", []) + dest.get("CcAddresses", []) + dest.get("BccAddresses", [])
        messages.append(
            {
                "to": to,
                "from": m.get("source", ""),
                "subject": m.get("subject", ""),
                "headers": {},
                "text": m.get("body"),
                "html": None,
                "message_id": m.get("id"),
            }
        )
    return messages


def summary(messages: list[dict]) -> str:
    if not messages:
        return "outbox: no email sent"
    lines = [f"outbox: {len(messages)} email(s), oldest first"]
    for i, m in enumerate(messages, 1):
        lines.append(f"{i:>3}. to {', '.join(m['to'])} from {m['from']}: {m['subject']}")
        for name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
            if name in m["headers"]:
                lines.append(f"     {name}: {m['headers'][name]}")
    return "\n".join(lines)
