"""Public forms: health, contact, signup, login, logout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.errors import RateLimited, Unauthorized
from chalicelib.lazy import lazy_modules
from chalicelib.web import (
    authenticate,
    expired_session_cookie,
    handles_errors,
    json_body,
    json_response,
    optional_caller,
    request_id,
    session_cookie,
    source_ip,
)

if TYPE_CHECKING:
    from chalicelib.services import abuse, accounts, inquiries, preferences, sessions
else:  # loaded on first use (chalicelib/lazy.py)
    abuse, accounts, inquiries, preferences, sessions = lazy_modules(
        "chalicelib.services.abuse",
        "chalicelib.services.accounts",
        "chalicelib.services.inquiries",
        "chalicelib.services.preferences",
        "chalicelib.services.sessions",
    )

forms = Blueprint(__name__)


@forms.route("/health", methods=["GET"])
@handles_errors
def health() -> Response:
    from chalicelib.services.health import check_tables

    check_tables()
    return json_response({"status": "ok"})


@forms.route("/contact", methods=["POST"])
@handles_errors
def contact() -> Response:
    request = forms.current_request
    data = json_body(request, "contact")
    caller = optional_caller(request)
    inquiry_id = inquiries.receive_inquiry(data, caller.customer_number if caller else None)
    return json_response({"inquiry_id": inquiry_id}, 201)


@forms.route("/signup", methods=["POST"])
@handles_errors
def signup() -> Response:
    request = forms.current_request
    data = json_body(request, "signup")
    rid, ip = request_id(request), source_ip(request)
    logged_in = accounts.signup(
        data,
        rid,
        extra_writes=lambda customer: [
            *preferences.signup_events(customer, rid),
            abuse.signup_counted(ip, customer.customer_number),
        ],
    )
    abuse.review_signups(ip)
    return _logged_in_response(logged_in, 201)


@forms.route("/login", methods=["POST"])
@handles_errors
def login() -> Response:
    data = json_body(forms.current_request, "login")
    try:
        logged_in = accounts.login(data["email"], data["password"])
    except (Unauthorized, RateLimited):
        abuse.record_failed_login(source_ip(forms.current_request), data["email"])
        raise
    return _logged_in_response(logged_in, 200)


def _logged_in_response(logged_in: accounts.LoggedIn, status: int) -> Response:
    body = {"customer_number": logged_in.customer_number, "csrf_token": logged_in.csrf_token}
    cookie = session_cookie(logged_in.session_token, sessions.max_age_seconds())
    return json_response(body, status, {"Set-Cookie": cookie})


@forms.route("/logout", methods=["POST"])
@handles_errors
def logout() -> Response:
    request = forms.current_request
    caller = authenticate(request)
    accounts.logout(caller.token)  # the session cookie's token
    return Response(body="", status_code=204, headers={"Set-Cookie": expired_session_cookie()})
