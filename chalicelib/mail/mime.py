"""MIME messages built with the standard library: the bytes SES sends as they are."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

# Extra headers are written as given: folding a long header without spaces (the URL in
# List-Unsubscribe) would turn it into RFC 2047 encoded words, which mail clients do not
# decode there. The standard headers are still folded at 78 characters.
SERIALIZE_POLICY = policy.default.clone(refold_source="none")


def build_message(
    sender: str, recipient: str, subject: str, text: str, html: str, headers: dict | None = None
) -> bytes:
    """Refuses (ValueError) a CR or LF in any header value: input validation keeps them
    out, this is the second line against header injection."""
    for name, value in {"From": sender, "To": recipient, "Subject": subject, **(headers or {})}.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} must be one line")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    for name, value in (headers or {}).items():
        if not value.isascii():
            raise ValueError(f"header {name} must be ASCII")
        message.set_raw(name, value)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=SERIALIZE_POLICY)
