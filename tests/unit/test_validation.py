import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.validation import SCHEMA_DIR, _validator, validate


def details_of(schema, body):
    with pytest.raises(ValidationFailed) as raised:
        validate(schema, body)
    return raised.value.details


def test_every_schema_is_valid_draft_2020_12_and_closed():
    import json

    from jsonschema import Draft202012Validator

    for path in SCHEMA_DIR.glob("*.json"):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        if path.stem != "common":
            assert schema.get("additionalProperties") is False, path.name
        _validator(path.stem)


def test_every_string_in_every_schema_has_a_length_limit():
    import json

    def strings(node):
        if isinstance(node, dict):
            if node.get("type") == "string" or (isinstance(node.get("type"), list) and "string" in node["type"]):
                yield node
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)

    for path in SCHEMA_DIR.glob("*.json"):
        for node in strings(json.loads(path.read_text())):
            assert "maxLength" in node or "enum" in node, (path.name, node)


def test_missing_unknown_and_nested_fields_are_named_by_path():
    details = details_of(
        "signup",
        {
            "email": "a@b.co",
            "password": "x" * 12,
            "colour": "red",
            "address": {"line1": "a", "city": "b", "country": "NL"},
        },
    )
    paths = {d["path"]: d["message"] for d in details}
    assert paths["name"] == "is required"
    assert paths["colour"] == "is not an allowed field"
    assert paths["address.postal_code"] == "is required"


def test_messages_never_quote_the_value():
    details = details_of("signup", {"name": "A", "email": "a@b.co", "password": "secret1"})
    assert all("secret1" not in d["message"] for d in details)


def test_patch_may_clear_optional_fields_but_not_be_empty():
    assert validate("account_patch", {"phone": None, "address": None})
    assert details_of("account_patch", {})[0]["path"] == ""
