"""Email ownership and account recovery, without login: the links in verification and
password-reset emails. A GET only shows a page whose button or form POSTs (mail scanners
follow links, so a GET must change nothing). The POSTs take JSON (the API) or the pages'
own form posts, which answer a page instead of JSON."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.errors import PledgeError
from chalicelib.lazy import lazy_modules
from chalicelib.mail.render import render_page
from chalicelib.routes.unsubscribe import HTML_HEADERS
from chalicelib.settings import get_settings
from chalicelib.validation import validate
from chalicelib.web import (
    Caller,
    customer_route,
    handles_errors,
    json_body,
    json_response,
    request_id,
)

if TYPE_CHECKING:
    from chalicelib.services import email_ownership, password_reset
else:  # loaded on first use (chalicelib/lazy.py)
    email_ownership, password_reset = lazy_modules(
        "chalicelib.services.email_ownership", "chalicelib.services.password_reset"
    )

recovery = Blueprint(__name__)

FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES = ["application/json", FORM]
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,128}")
RESET_REQUESTED = "If that address belongs to an account, a link to choose a new password is on its way."


def _page(template: str, status: int = 200, **context: Any) -> Response:
    base = get_settings().public_base_url
    headers: dict[str, str | list[str]] = {
        **HTML_HEADERS,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": f"default-src 'none'; form-action 'self' {base}; "
        "frame-ancestors 'none'; base-uri 'none'",
    }
    return Response(body=render_page(template, **context), status_code=status, headers=headers)


def _message(title: str, message: str, status: int = 200) -> Response:
    return _page("account_message_page", status, title=title, message=message)


def _query_token(request: Request) -> str | None:
    params: Mapping[str, str] = request.query_params or {}
    token = params.get("token")
    return token if token and TOKEN_SHAPE.fullmatch(token) else None


def _is_form(request: Request) -> bool:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower() == FORM


def _form_fields(request: Request) -> dict:
    raw = cast(bytes, request.raw_body or b"")  # always bytes at run time; Chalice declares str | bytes
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _form_post(
    request: Request, schema: str, action: Callable[[dict], object], title: str, message: str, status: int = 200
) -> Response:
    """A page's form post: the same checks as the JSON body, the outcome as a page."""
    try:
        action(validate(schema, _form_fields(request)))
    except PledgeError as error:
        return _message("That did not work", error.message, error.status)
    return _message(title, message, status)


@recovery.route("/verify-email", methods=["GET"])
@handles_errors
def verify_email_page() -> Response:
    token = _query_token(recovery.current_request)
    if token is None:
        return _message("That did not work", "This link is not valid.", 400)
    return _page("verify_email_page", token=token, action_url=f"{get_settings().public_base_url}/verify-email")


@recovery.route("/verify-email", methods=["POST"], content_types=CONTENT_TYPES)
@handles_errors
def verify_email() -> Response:
    request = recovery.current_request
    rid = request_id(request)
    if _is_form(request):
        return _form_post(
            request,
            "verify_email",
            lambda data: email_ownership.verify(data["token"], rid),
            "Email address confirmed",
            "Thank you: your email address is confirmed.",
        )
    data = json_body(request, "verify_email")
    return json_response(email_ownership.verify(data["token"], rid))


@recovery.route("/account/email-verification", methods=["POST"])
@customer_route(recovery)
def resend_verification(caller: Caller, request: Request) -> Response:
    email_ownership.resend_verification(caller.customer_number)
    return json_response({"message": "A new confirmation link is on its way."}, 202)


@recovery.route("/password-reset", methods=["GET"])
@handles_errors
def password_reset_page() -> Response:
    base = get_settings().public_base_url
    return _page(
        "password_reset_page",
        token=_query_token(recovery.current_request),
        request_url=f"{base}/password-reset",
        confirm_url=f"{base}/password-reset/confirm",
    )


@recovery.route("/password-reset", methods=["POST"], content_types=CONTENT_TYPES)
@handles_errors
def request_password_reset() -> Response:
    request = recovery.current_request
    if _is_form(request):
        return _form_post(
            request,
            "password_reset",
            lambda data: password_reset.request_reset(data["email"]),
            "Check your email",
            RESET_REQUESTED,
            202,
        )
    password_reset.request_reset(json_body(request, "password_reset")["email"])
    return json_response({"message": RESET_REQUESTED}, 202)


@recovery.route("/password-reset/confirm", methods=["POST"], content_types=CONTENT_TYPES)
@handles_errors
def confirm_password_reset() -> Response:
    request = recovery.current_request
    rid = request_id(request)
    if _is_form(request):
        return _form_post(
            request,
            "password_reset_confirm",
            lambda data: password_reset.confirm_reset(data["token"], data["password"], rid),
            "Password changed",
            "Your new password is set. Log in with it.",
        )
    data = json_body(request, "password_reset_confirm")
    return json_response(password_reset.confirm_reset(data["token"], data["password"], rid))
