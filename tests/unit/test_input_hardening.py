"""The input layer refuses, with 400 and a field path, what would otherwise reach a parser,
a hash or DynamoDB and fail there: deep nesting, lone surrogates, control characters
(a trailing newline included) in single-line fields, odd header values."""

from __future__ import annotations

import json

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.input_guard import MAX_JSON_DEPTH, check_encodable, check_json_depth, token_shaped
from chalicelib.mail.mime import build_message
from chalicelib.services.email_address import normalize_email
from chalicelib.validation import SCHEMA_DIR, validate

SINGLE_LINE_GUARD = r"^(?![\s\S]*[\x00-\x1f\x7f-\x9f])"
FREE_TEXT_GUARD = r"^(?![\s\S]*[\x00-\x08\x0b-\x1f\x7f-\x9f])"
FREE_TEXT_FIELDS = {"message", "text", "body", "summary", "reason", "purpose"}
NOT_GUARDED_FIELDS = {"password"}  # any text (a lone surrogate is still refused)
NOT_CLIENT_INPUT = {"record_mail_suppressions"}  # SES's own event, delivered by EventBridge


def details_of(schema: str, body) -> list[dict]:
    with pytest.raises(ValidationFailed) as raised:
        validate(schema, body)
    return raised.value.details


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def test_nesting_is_bounded_before_parsing():
    check_json_depth(nested(MAX_JSON_DEPTH))
    check_json_depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[[[[[[["}')
    with pytest.raises(ValidationFailed):
        check_json_depth(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(ValidationFailed):
        check_json_depth(b'{"a":' * 5000)


def test_a_lone_surrogate_is_refused_wherever_it_is_with_its_path():
    data = json.loads('{"address": {"lines": ["ok", "\\ud800"]}}')
    with pytest.raises(ValidationFailed) as raised:
        check_encodable(data)
    assert raised.value.details == [{"path": "address.lines.1", "message": "is not valid Unicode text"}]
    with pytest.raises(ValidationFailed):
        check_encodable(json.loads('{"\\udfff": 1}'))
    check_encodable(json.loads('{"name": "\\ud83d\\ude00 emoji is fine"}'))


@pytest.mark.parametrize("value", ["", "é" * 10, "a" * 129, "abc def", "abc\n", "ab\x00"])
def test_header_tokens_of_the_wrong_shape_are_refused_before_any_comparison(value):
    assert not token_shaped(value)


def test_token_shaped_accepts_what_we_issue():
    import secrets

    assert token_shaped(secrets.token_urlsafe(32)) and token_shaped("ab12" * 16)


def _string_schemas(node, name=None):
    if isinstance(node, dict):
        kind = node.get("type")
        if (kind == "string" or (isinstance(kind, list) and "string" in kind)) and not {"enum", "const"} & set(node):
            yield name, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for child, schema in value.items():
                    yield from _string_schemas(schema, child)
            elif isinstance(value, (dict, list)):
                yield from _string_schemas(value, name if key == "items" else None)
    elif isinstance(node, list):
        for item in node:
            yield from _string_schemas(item, name)


def test_every_string_field_refuses_control_characters():
    """Fixed by class: a schema added later fails here until its fields carry the guard."""
    for path in SCHEMA_DIR.glob("*.json"):
        if path.stem in NOT_CLIENT_INPUT:
            continue
        for name, schema in _string_schemas(json.loads(path.read_text())):
            if name in NOT_GUARDED_FIELDS:
                continue
            guard = FREE_TEXT_GUARD if name in FREE_TEXT_FIELDS else SINGLE_LINE_GUARD
            assert schema.get("pattern", "").startswith(guard), f"{path.name}: {name}"


SIGNUP = {"name": "Jane Doe", "email": "jane@example.com", "password": "correct horse battery"}


@pytest.mark.parametrize(
    "field,value",
    [
        ("email", "jane@example.com\n"),
        ("email", "jane@example.com\r"),
        ("email", "ja\x00ne@example.com"),
        ("name", "Jane\n"),
        ("name", "Jane\tDoe"),
        ("name", "Jane\x85"),
        ("phone", "+31201234567\n"),
    ],
)
def test_single_line_fields_refuse_control_characters_a_trailing_newline_included(field, value):
    assert [d["path"] for d in details_of("signup", {**SIGNUP, field: value})] == [field]


def test_single_line_fields_in_ops_events_too():
    assert details_of("ops_customer_record", {"customer_number": "C123\n"})[0]["path"] == "customer_number"
    assert (
        details_of("ops_send_marketing", {"topic": "products", "subject": "Hi\n", "text": "x"})[0]["path"] == "subject"
    )


def test_free_text_allows_newline_and_tab_only():
    validate("ticket_create", {"subject": "Help", "message": "line one\n\tline two\n"})
    assert details_of("ticket_create", {"subject": "Help", "message": "a\r\nb"})[0]["path"] == "message"
    assert details_of("ticket_create", {"subject": "Help", "message": "a\x1b[31m"})[0]["path"] == "message"


def test_unicode_text_is_still_welcome():
    validate("signup", {**SIGNUP, "name": "Zoë Ørsted-Łukasz 山田"})


@pytest.mark.parametrize(
    "given,stored",
    [
        ("  Jane.Doe@Example.COM ", "Jane.Doe@example.com"),
        ("a@B.c", "a@b.c"),
        ("x@y.z", "x@y.z"),
    ],
)
def test_emails_are_stored_trimmed_with_the_domain_lower_cased(given, stored):
    assert normalize_email(given) == stored


@pytest.mark.parametrize("field", ["recipient", "subject", "sender"])
def test_mime_refuses_cr_or_lf_in_any_header(field):
    values = {"sender": "privacy@hostbay.example", "recipient": "a@example.com", "subject": "Hello"}
    values[field] += "\nBcc: victim@example.com"
    with pytest.raises(ValueError):
        build_message(values["sender"], values["recipient"], values["subject"], "text", "<p>html</p>")


def test_an_ops_event_holding_a_lone_surrogate_is_refused_before_its_action():
    from chalicelib.ops import run_ops

    def never(event):
        raise AssertionError("the action ran")

    event = {"customer_number": "C1", "recipient": "Acme \ud800", "purpose": "audit", "categories": ["contact"]}
    answer = run_ops("ops_disclose_customer_data", event, never)
    assert answer["error"]["code"] == "validation_error"
    assert answer["error"]["details"] == [{"path": "recipient", "message": "is not valid Unicode text"}]
