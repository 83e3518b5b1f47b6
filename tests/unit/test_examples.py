"""The named example events (chalicelib/schemas/examples/): every ops, scheduled and
event-fed function of app.py has at least one, each is valid for the function's own
schema, and each becomes a shareable test event the Lambda console can show."""

from __future__ import annotations

import json

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.validation import SCHEMA_DIR, validate
from infra.app_functions import app_functions
from infra.console_events import (
    EXAMPLE_NAME,
    console_document,
    console_event,
    example_files,
    examples_of,
    openapi_schema,
    resolved_schema,
    schema_name,
)

FUNCTIONS = [f for f in app_functions() if f.kind in ("lambda", "schedule", "sqs")]


def all_examples():
    for function in FUNCTIONS:
        for name, event in examples_of(function.name).items():
            yield pytest.param(function, name, event, id=f"{function.name}:{name}")


def check(function, event) -> None:
    """What the function itself does with the event before acting on it."""
    name = schema_name(function.name, function.kind)
    if name is None:
        assert isinstance(event, dict)
    else:
        validate(name, event)


def test_the_app_is_discovered_not_listed():
    kinds = {f.kind for f in FUNCTIONS}
    assert kinds == {"lambda", "schedule", "sqs"}
    assert len(FUNCTIONS) >= 10


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_every_function_has_an_example(function):
    assert examples_of(function.name), f"add chalicelib/schemas/examples/{function.name}.json"


def test_every_examples_file_belongs_to_a_function():
    assert set(example_files()) <= {f.name for f in FUNCTIONS}


@pytest.mark.parametrize("function, name, event", list(all_examples()))
def test_every_example_is_valid_for_its_function(function, name, event):
    assert EXAMPLE_NAME.match(name), f"{name!r}: the console takes 1-25 of letters, digits, . _ -"
    check(function, event)


def test_the_check_refuses_an_example_with_a_mistake():
    legal_hold = next(f for f in FUNCTIONS if f.name == "ops_legal_hold")
    event = dict(examples_of("ops_legal_hold")["place-hold"], action="hold")
    with pytest.raises(ValidationFailed):
        check(legal_hold, event)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_console_document_is_openapi_3_with_the_examples(function):
    from openapi_spec_validator import validate as validate_openapi

    document = console_document(function.name, function.kind)
    validate_openapi(document)
    examples = document["components"]["examples"]
    assert {name: e["value"] for name, e in examples.items()} == {
        name: console_event(function.name, function.kind, event) for name, event in examples_of(function.name).items()
    }
    assert "$ref" not in str(document) and "$schema" not in str(document)


def test_refs_are_inlined_and_2020_12_keywords_translated():
    schema = resolved_schema("ops_customer_record", "lambda")
    common = json.loads((SCHEMA_DIR / "common.json").read_text())["$defs"]["customer_number"]
    assert schema["properties"]["customer_number"]["pattern"] == common["pattern"]
    translated = openapi_schema(
        {
            "$schema": "x",
            "$comment": "why",
            "type": ["string", "null"],
            "const": "a",
            "properties": {"const": {"type": "string"}},
        }
    )
    assert translated == {
        "description": "why",
        "type": "string",
        "nullable": True,
        "enum": ["a"],
        "properties": {"const": {"type": "string"}},
    }
