"""GET /openapi.json: the OpenAPI 3.1 document of every public route (chalicelib/openapi.json)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.web import JSON_HEADERS

SPEC_PATH = Path(__file__).parent.parent / "openapi.json"

openapi = Blueprint(__name__)


@lru_cache(maxsize=1)
def _spec_text() -> str:
    return SPEC_PATH.read_text()


@openapi.route("/openapi.json", methods=["GET"])
def get_openapi() -> Response:
    return Response(body=_spec_text(), status_code=200, headers=dict(JSON_HEADERS))
