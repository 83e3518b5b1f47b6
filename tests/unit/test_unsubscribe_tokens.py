"""Unsubscribe tokens: HMAC-signed, rotatable keys, forgeries refused. No network."""

from __future__ import annotations

import json

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.services.unsubscribe import (
    list_unsubscribe_headers,
    make_token,
    read_token,
    unsubscribe_url,
)
from chalicelib.settings import reset_settings

K1, K2 = "11" * 32, "22" * 32


@pytest.fixture
def secrets(tmp_path, monkeypatch):
    """Write the secrets file the app reads; returns a function to rewrite it (key rotation)."""
    path = tmp_path / "unsubscribe.json"
    monkeypatch.setenv("PLEDGE_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("PLEDGE_PUBLIC_BASE_URL", "https://pledge.example.com")
    monkeypatch.delenv("PLEDGE_SECRETS_PREFIX", raising=False)

    def write(keys: dict, active: str) -> None:
        path.write_text(json.dumps({"keys": keys, "active_key": active}))
        reset_settings()

    write({"k1": K1}, "k1")
    yield write
    reset_settings()


def test_a_token_names_its_customer_and_topic(secrets):
    token = make_token("C1234567890", "new_services")
    assert token.startswith("k1.C1234567890.new_services.")
    assert read_token(token) == ("C1234567890", "new_services")


def test_old_keys_still_verify_after_rotation_until_removed(secrets):
    old = make_token("C42", "products")
    secrets({"k1": K1, "k2": K2}, "k2")
    new = make_token("C42", "products")
    assert new.startswith("k2.") and new != old
    assert read_token(old) == read_token(new) == ("C42", "products")
    secrets({"k2": K2}, "k2")
    with pytest.raises(ValidationFailed):
        read_token(old)
    assert read_token(new) == ("C42", "products")


def test_forged_truncated_and_resigned_tokens_are_refused(secrets):
    import base64
    import hashlib
    import hmac

    token = make_token("C42", "special_offers")
    key_id, customer, topic, signature = token.split(".")
    other_key = hmac.new(bytes.fromhex(K2), b"k1.C43.special_offers", hashlib.sha256).digest()
    resigned = f"k1.C43.special_offers.{base64.urlsafe_b64encode(other_key).rstrip(b'=').decode()}"
    without_purpose = hmac.new(bytes.fromhex(K1), f"k1.C42.{topic}".encode(), hashlib.sha256).digest()
    padded = signature + "="
    candidates = [
        None,
        "",
        token[:-1],
        token[:-10],
        f"{key_id}.C43.{topic}.{signature}",
        f"{key_id}.{customer}.website.{signature}",
        f"{key_id}.{customer}.weather.{signature}",
        f"k3.{customer}.{topic}.{signature}",
        resigned,
        padded,
        f"k1.C42.{topic}.{base64.urlsafe_b64encode(without_purpose).rstrip(b'=').decode()}",
        token.upper(),
        token + "\n",
        f"{token}.extra",
    ]
    for forged in candidates:
        with pytest.raises(ValidationFailed):
            read_token(forged)


def test_re_encoded_signature_with_the_same_bytes_is_refused(secrets):
    """The last base64 character carries 2 unused bits: a variant decodes to the same MAC."""
    import base64

    token = make_token("C42", "website")
    signature = token.rsplit(".", 1)[1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(signature[-1])
    variant = signature[:-1] + alphabet[index ^ 1]
    assert base64.urlsafe_b64decode(variant + "=") == base64.urlsafe_b64decode(signature + "=")
    with pytest.raises(ValidationFailed):
        read_token(token.rsplit(".", 1)[0] + "." + variant)


def test_list_unsubscribe_headers_follow_rfc_8058(secrets):
    url = unsubscribe_url("C42", "products")
    assert url.startswith("https://pledge.example.com/unsubscribe?token=k1.C42.products.")
    assert list_unsubscribe_headers(url) == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
