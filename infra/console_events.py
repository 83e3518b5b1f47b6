"""Named example events for the ops, scheduled and event-fed functions, and the shareable
test events the Lambda console offers, made from them.

One file per function, `chalicelib/schemas/examples/<function>.json`: `{"example-name": event}`.
Adding an example is adding (or extending) that file: the template's test event schema,
`devstack examples NAME` and `devstack invoke NAME --example EXAMPLE` all read it, and
tests/unit/test_examples.py checks every event against the function's own JSON Schema
(`chalicelib/schemas/<function>.json`, the one `run_ops` validates with).

Placeholder identifiers (`C0000000000`, `T-placeholder`, `I0`, `H0`) match their schemas
but can never name a real record (real customer numbers have no leading zero, real ids
are long hex), so an example run unedited against a real stage answers `not_found`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "chalicelib" / "schemas"
EXAMPLES_DIR = SCHEMA_DIR / "examples"
# What the Lambda console accepts as a test event's name.
EXAMPLE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,25}$")
# Scheduled functions take any event (accepts_any_event in chalicelib/ops.py).
ANY_EVENT = {"type": "object", "description": "Any event: a scheduled function runs the same whatever it is given."}
REGISTRY = "lambda-testevent-schemas"


def examples_of(function: str) -> dict[str, dict]:
    """The function's named example events ({} when it has none)."""
    path = EXAMPLES_DIR / f"{function}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def example_files() -> list[str]:
    """The functions that have an examples file."""
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.json"))


def schema_name(function: str, kind: str) -> str | None:
    """The schema the function validates its event with (None: it takes any event)."""
    return None if kind == "schedule" else function


def _load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text())


def resolved_schema(function: str, kind: str) -> dict:
    """The function's JSON Schema with every $ref inlined (the registry takes one document)."""
    name = schema_name(function, kind)
    if name is None:
        return dict(ANY_EVENT)
    root = _load(f"{name}.json")
    return _inline(root, root)


def _inline(node, root: dict):
    if isinstance(node, list):
        return [_inline(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        document, _, pointer = node["$ref"].partition("#")
        target_root = _load(document) if document else root
        target = target_root
        for part in pointer.strip("/").split("/"):
            target = target[part]
        return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, target_root)
    return {key: _inline(value, root) for key, value in node.items()}


def openapi_schema(schema):
    """A JSON Schema (2020-12, refs inlined) as an OpenAPI 3.0 Schema Object: `const`
    becomes a one-value `enum`, a type list with "null" becomes `nullable`, and keywords
    OpenAPI 3.0 lacks ($schema, $id, $defs, $comment) go ($comment becomes the description)."""
    if isinstance(schema, list):
        return [openapi_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {}
    for key, value in schema.items():
        if key in ("$schema", "$id", "$defs"):
            continue
        if key == "$comment":
            result.setdefault("description", value)
        elif key == "const":
            result["enum"] = [value]
        elif key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            result["type"] = kinds[0]
            if "null" in value:
                result["nullable"] = True
        elif key == "properties":
            result[key] = {name: openapi_schema(sub) for name, sub in value.items()}
        else:
            result[key] = openapi_schema(value)
    return result


def sqs_event(message: dict) -> dict:
    """The event Lambda's SQS event source gives a queue-fed function for one message."""
    return {
        "Records": [
            {
                "messageId": "00000000-0000-4000-8000-000000000000",
                "receiptHandle": "console-test-event",
                "body": json.dumps(message, separators=(",", ":")),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
        ]
    }


# What a queue-fed function takes: its message (checked against its own schema) in a record's body.
SQS_EVENT = {
    "type": "object",
    "description": "An SQS event; each record's body is a JSON message checked against the function's schema.",
    "required": ["Records"],
    "properties": {"Records": {"type": "array", "items": {"type": "object", "required": ["body"]}}},
}


def console_event(function: str, kind: str, example: dict) -> dict:
    """A named example as the function receives it (a queue-fed function: inside an SQS event)."""
    return sqs_event(example) if kind == "sqs" else example


def console_document(function: str, kind: str) -> dict:
    """The OpenAPI 3 document Lambda keeps a function's shareable test events in: the
    event's schema, and each named example as `components.examples[name].value`."""
    schema = SQS_EVENT if kind == "sqs" else resolved_schema(function, kind)
    examples = examples_of(function)
    return {
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": "Event"},
        "paths": {},
        "components": {
            "schemas": {"Event": openapi_schema(schema)},
            "examples": {name: {"value": console_event(function, kind, event)} for name, event in examples.items()},
        },
    }


def console_schema_name(deployed_function_name: str) -> str:
    """Lambda's name for a function's schema in the registry."""
    return f"_{deployed_function_name}-schema"
