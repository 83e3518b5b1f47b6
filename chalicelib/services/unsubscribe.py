"""One-click unsubscribe (RFC 8058): signed tokens naming a customer and a topic.

A token is `<key id>.<customer number>.<topic>.<HMAC-SHA256, base64url>`. New tokens are
signed with the active key; every key still listed in the secrets verifies, so keys can
be rotated without breaking links in mail already sent. Tokens do not expire: RFC 8058
asks that the link keep working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from chalicelib.errors import ValidationFailed
from chalicelib.services import preferences
from chalicelib.settings import MARKETING_TOPICS, get_settings, load_secret

TOKEN_PATTERN = re.compile(r"([A-Za-z0-9_-]{1,32})\.(C[0-9]{1,19})\.([a-z_]{1,32})\.([A-Za-z0-9_-]{43})")
PURPOSE = b"pledge-unsubscribe\x00"
ONE_CLICK = "List-Unsubscribe=One-Click"


def make_token(customer_number: str, topic: str) -> str:
    secrets = load_secret("unsubscribe")
    key_id = secrets["active_key"]
    payload = f"{key_id}.{customer_number}.{topic}"
    return f"{payload}.{_signature(secrets['keys'][key_id], payload)}"


def read_token(token: str | None) -> tuple[str, str]:
    """(customer number, topic) of a genuine token, else ValidationFailed (400)."""
    match = TOKEN_PATTERN.fullmatch(token or "")
    if not match:
        raise ValidationFailed("This unsubscribe link is not valid.")
    key_id, customer_number, topic, signature = match.groups()
    key = load_secret("unsubscribe")["keys"].get(key_id)
    payload = f"{key_id}.{customer_number}.{topic}"
    # compare the text, not decoded bytes: a re-encoded signature is not the one we issued
    if key is None or topic not in MARKETING_TOPICS or not hmac.compare_digest(signature, _signature(key, payload)):
        raise ValidationFailed("This unsubscribe link is not valid.")
    return customer_number, topic


def _signature(key_hex: str, payload: str) -> str:
    digest = hmac.new(bytes.fromhex(key_hex), PURPOSE + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def unsubscribe_url(customer_number: str, topic: str) -> str:
    return _url(make_token(customer_number, topic))


def _url(token: str) -> str:
    return f"{get_settings().public_base_url}/unsubscribe?token={token}"


def list_unsubscribe_headers(url: str) -> dict:
    """RFC 8058: the HTTPS link, and the header telling mail clients a POST does it."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK}


def describe(token: str | None) -> dict:
    """What the link would do, for the page a GET shows; changes nothing."""
    customer_number, topic = read_token(token)
    subscribed = preferences.get_topics(customer_number)[topic]  # NotFound (404) if no such customer
    assert token is not None  # read_token refused a missing one
    return {
        "topic": topic,
        "topic_label": preferences.TOPIC_LABELS[topic],
        "subscribed": subscribed,
        "action_url": _url(token),
    }


def unsubscribe(token: str | None, request_id: str | None) -> dict:
    """Opt the token's customer out of its topic; repeating it records nothing new."""
    customer_number, topic = read_token(token)
    preferences.change_topics(customer_number, {topic: False}, "unsubscribe", request_id)
    return {"topic": topic, "topic_label": preferences.TOPIC_LABELS[topic], "subscribed": False}
