"""One-click unsubscribe (RFC 8058). No login: the signed token is the authority.

POST is what mail clients send (`List-Unsubscribe=One-Click`, form-encoded); GET only
shows a page with a button that POSTs, so link scanners fetching the URL change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.lazy import lazy_module
from chalicelib.mail.render import render_page
from chalicelib.web import handles_errors, json_response, request_id

if TYPE_CHECKING:
    from chalicelib.services import unsubscribe as service
else:  # loaded on first use (chalicelib/lazy.py)
    service = lazy_module("chalicelib.services.unsubscribe")

unsubscribe = Blueprint(__name__)

# Mail clients send a form; an empty body arrives with no type (which Chalice reads as JSON).
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain"]
HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


@unsubscribe.route("/unsubscribe", methods=["GET"])
@handles_errors
def unsubscribe_page() -> Response:
    token = _token(unsubscribe.current_request)
    page = render_page("unsubscribe_page", **service.describe(token))
    return Response(body=page, status_code=200, headers=dict(HTML_HEADERS))


@unsubscribe.route("/unsubscribe", methods=["POST"], content_types=FORM_TYPES)
@handles_errors
def unsubscribe_post() -> Response:
    request = unsubscribe.current_request
    done = service.unsubscribe(_token(request), request_id(request))
    if "text/html" in (request.headers.get("accept") or ""):  # the button on our own page
        return Response(body=render_page("unsubscribe_done", **done), status_code=200, headers=dict(HTML_HEADERS))
    return json_response(done)


def _token(request: Request) -> str | None:
    params: Mapping[str, str] = request.query_params or {}
    return params.get("token")
