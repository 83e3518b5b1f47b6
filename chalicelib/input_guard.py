"""Cheap checks on what a client sends, before it reaches a parser or a store: JSON
nesting depth (counted on the raw bytes, so a body nested thousands deep never reaches
the recursive parser), strings that cannot be encoded as UTF-8 (a lone surrogate, which
`json.loads` accepts as `"\\ud800"` but DynamoDB, argon2 and hashing refuse), and the shape
of header values the app reads."""

from __future__ import annotations

import re
from typing import Any, TypeGuard

from chalicelib.errors import ValidationFailed

MAX_JSON_DEPTH = 32
# Session tokens are secrets.token_urlsafe(32); CSRF tokens are hex digests.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def check_json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse a body whose arrays/objects nest deeper than `limit` (brackets inside
    strings are skipped)."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                raise ValidationFailed(
                    f"The body nests deeper than {limit} levels.",
                    [{"path": "", "message": f"nests deeper than {limit} levels"}],
                )
        elif byte in (0x5D, 0x7D):
            depth -= 1


def check_encodable(value: Any, path: str = "") -> None:
    """Refuse any string (or object key) holding a lone surrogate, naming its field path."""
    if isinstance(value, str):
        if not _encodable(value):
            raise ValidationFailed(
                "The request is not valid.", [{"path": path, "message": "is not valid Unicode text"}]
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if not _encodable(key):
                raise ValidationFailed(
                    "The request is not valid.",
                    [{"path": path, "message": "has a field name that is not valid Unicode text"}],
                )
            check_encodable(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_encodable(item, f"{path}.{index}" if path else str(index))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def token_shaped(value: str | None) -> TypeGuard[str]:
    """A session or CSRF token as we issue them: ASCII letters, digits, `_`, `-`, at most 128."""
    return value is not None and TOKEN_SHAPE.fullmatch(value) is not None
