"""JSON Schema (draft 2020-12) validation of request bodies and ops events.

Error messages are written here, never taken from jsonschema: its messages quote the
offending value, which may be a password or a card number.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ValidationFailed

if TYPE_CHECKING:
    from referencing import Registry

SCHEMA_DIR = Path(__file__).parent / "schemas"


@lru_cache(maxsize=1)
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = []
    for path in SCHEMA_DIR.glob("*.json"):
        resources.append((path.name, Resource.from_contents(json.loads(path.read_text()))))
    return Registry().with_resources(resources)


@cache
def _validator(schema_name: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = _registry().contents(f"{schema_name}.json")
    return Draft202012Validator(schema, registry=_registry())


def validate(schema_name: str, instance: Any) -> dict:
    """Return the instance if it matches the schema, else raise ValidationFailed listing
    every problem with its field path."""
    errors = sorted(_validator(schema_name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        details = [detail for error in errors for detail in _describe(error)]
        raise ValidationFailed("The request is not valid.", _unique(details))
    return instance


def _describe(error: Any) -> list[dict]:
    path = ".".join(str(part) for part in error.absolute_path)
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        return [{"path": _join(path, name), "message": "is required"} for name in expected if name not in present]
    if kind == "additionalProperties":
        allowed = error.schema.get("properties", {})
        return [
            {"path": _join(path, name), "message": "is not an allowed field"}
            for name in error.instance
            if name not in allowed
        ]
    return [{"path": path, "message": _message(kind, expected)}]


def _message(kind: str, expected: Any) -> str:
    messages = {
        "type": lambda: f"must be of type {_types(expected)}",
        "minLength": lambda: f"must be at least {expected} characters",
        "maxLength": lambda: f"must be at most {expected} characters",
        "pattern": lambda: "has an invalid format",
        "enum": lambda: "must be one of: " + ", ".join(str(v) for v in expected),
        "minProperties": lambda: f"must have at least {expected} field(s)",
        "const": lambda: f"must be {expected}",
        "minimum": lambda: f"must be at least {expected}",
        "maximum": lambda: f"must be at most {expected}",
    }
    return messages.get(kind, lambda: "is invalid")()


def _types(expected: Any) -> str:
    return " or ".join(expected) if isinstance(expected, list) else str(expected)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _unique(details: list[dict]) -> list[dict]:
    seen, result = set(), []
    for detail in details:
        key = (detail["path"], detail["message"])
        if key not in seen:
            seen.add(key)
            result.append(detail)
    return result
