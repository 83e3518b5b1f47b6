"""HTTP plumbing shared by every route: errors as the contract's JSON, body parsing and
validation, the session cookie and the CSRF check."""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, NamedTuple, ParamSpec, cast

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.errors import (
    CsrfFailed,
    PayloadTooLarge,
    PledgeError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.input_guard import check_encodable, check_json_depth
from chalicelib.settings import get_settings
from chalicelib.validation import validate

if TYPE_CHECKING:
    from chalicelib.store.customers import Customer

SESSION_COOKIE = "pledge_session"
CSRF_HEADER = "x-csrf-token"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}

# Chalice answers some errors itself ({"Code": ..., "Message": ...}); these map them to ours.
CHALICE_ERROR_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(error: PledgeError) -> Response:
    headers: dict[str, str | list[str]] = dict(JSON_HEADERS)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return Response(body=error.to_dict(), status_code=error.status, headers=headers)


def json_response(body: object, status_code: int = 200, headers: dict | None = None) -> Response:
    return Response(body=body, status_code=status_code, headers={**JSON_HEADERS, **(headers or {})})


P = ParamSpec("P")


def handles_errors(view: Callable[P, Response]) -> Callable[P, Response]:
    """Turn a PledgeError raised by a service into the contract's JSON error."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except PledgeError as error:
            return error_response(error)

    return wrapped


def normalize_error(response: Response) -> Response:
    """Re-shape an error Chalice produced on its own (415, 404, 500...) into the contract's."""
    body = response.body
    if response.status_code < 400 or not (isinstance(body, dict) and "Code" in body):
        return response
    status = response.status_code
    code = CHALICE_ERROR_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    message = "An internal error occurred." if status >= 500 else str(body.get("Message", ""))
    return Response(
        body={"error": {"code": code, "message": message, "details": []}},
        status_code=status,
        headers=dict(JSON_HEADERS),
    )


def check_body_size(request: Request) -> None:
    raw = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"The request body is larger than {get_settings().max_body_bytes} bytes.")


def json_body(request: Request, schema_name: str) -> dict:
    """Parse and validate a JSON body. An empty body counts as `{}`."""
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    raw = cast(bytes, request.raw_body or b"")  # always bytes at run time; Chalice declares str | bytes
    check_json_depth(raw)
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed("The body is not valid JSON.", [{"path": "", "message": "is not valid JSON"}]) from None
    check_encodable(data)
    return validate(schema_name, data)


def read_cookie(request: Request, name: str) -> str | None:
    header = request.headers.get("cookie")
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def session_cookie(token: str, max_age_seconds: int) -> str:
    attributes = [f"{SESSION_COOKIE}={token}", "Path=/", f"Max-Age={max_age_seconds}", "HttpOnly", "SameSite=Lax"]
    if get_settings().cookie_secure:
        attributes.append("Secure")
    return "; ".join(attributes)


def expired_session_cookie() -> str:
    return session_cookie("", 0)


class Caller(NamedTuple):
    customer_number: str
    token: str
    customer: Customer  # active, read with the session: a route needs no second read
    refreshed_cookie: str | None = None


def authenticate(request: Request) -> Caller:
    """The caller's session, else 401; for state-changing methods also the CSRF token, else 403."""
    from chalicelib.services import sessions

    token = read_cookie(request, SESSION_COOKIE)
    session = sessions.resolve_session(token) if token else None
    if token is None or session is None:  # no token, no session
        raise Unauthorized("Log in to continue.")
    if request.method in STATE_CHANGING and not sessions.csrf_matches(token, request.headers.get(CSRF_HEADER)):
        raise CsrfFailed("The X-CSRF-Token header is missing or does not match the session.")
    refreshed = session_cookie(token, session.max_age_seconds) if session.refreshed else None
    return Caller(session.customer_number, token, session.customer, refreshed)


def optional_caller(request: Request) -> Caller | None:
    """The caller when a session cookie and its CSRF token are both valid, else nobody:
    for routes that need no login but link what is sent to a logged-in customer."""
    try:
        return authenticate(request)
    except PledgeError:
        return None


CustomerView = Callable[..., "dict | Response"]


def customer_route(blueprint: Blueprint) -> Callable[[CustomerView], Callable[..., Response]]:
    """For a route that needs login: `view(caller, request, **path_params)` runs once the
    session (and for state-changing methods the CSRF token) is checked. A dict it returns
    is answered as JSON 200, a Response as it is; either way with the session cookie
    renewed when the session slid. Errors become the contract's JSON."""

    def decorate(view: CustomerView) -> Callable[..., Response]:
        @functools.wraps(view)
        def route(**path_params: str) -> Response:
            request = blueprint.current_request
            caller = authenticate(request)
            answer = view(caller, request, **path_params)
            return with_session_cookie(answer if isinstance(answer, Response) else json_response(answer), caller)

        return handles_errors(route)

    return decorate


def no_content() -> Response:
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


def with_session_cookie(response: Response, caller: Caller) -> Response:
    if caller.refreshed_cookie:
        response.headers["Set-Cookie"] = caller.refreshed_cookie
    return response


def request_id(request: Request) -> str | None:
    context = getattr(request, "context", None) or {}
    return context.get("requestId")


def observe_request(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Middleware for every HTTP request: body size limit, the contract's error shape for
    anything Chalice answers itself, one access log line (no body, no query string) and
    the request's metrics."""
    from chalicelib.observability import flush_metrics, get_logger

    logger = get_logger()
    context = event.context if event.context is not None else {}
    context.setdefault("requestId", f"local-{uuid.uuid4()}")  # API Gateway sets one; chalice local does not
    logger.set_correlation_id(context["requestId"])
    started = time.perf_counter()
    try:
        check_body_size(event)
        response = normalize_error(get_response(event))
    except PledgeError as error:
        response = error_response(error)
    logger.info(
        "request",
        extra={
            "method": event.method,
            "route": context.get("resourcePath"),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "source_ip": (context.get("identity") or {}).get("sourceIp"),
        },
    )
    flush_metrics()
    return response


def source_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (for abuse rules and the statistics hash)."""
    context = getattr(request, "context", None) or {}
    return (context.get("identity") or {}).get("sourceIp") or ""
