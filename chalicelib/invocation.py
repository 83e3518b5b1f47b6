"""Who is running this Lambda invocation, as far as Lambda says: registered as middleware
for every ops and scheduled function, read by the audit trail and the logs.

Lambda passes a caller identity only when the caller sends one: a Cognito identity
(`context.identity`), or a client context (`aws lambda invoke --client-context`, whose
`custom.caller` we record, marked as declared: Lambda does not check it). A console test
or a plain `aws lambda invoke` carries neither; the IAM principal who invoked is then only
in CloudTrail (the stack's ops trail), under the same request id we record here.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import BaseLambdaEvent

DECLARED_CALLER = re.compile(r"^[A-Za-z0-9._@+-]{1,128}$")


@dataclass(frozen=True)
class Invocation:
    request_id: str | None
    caller: str | None
    time_left: Callable[[], float] | None = None  # seconds before Lambda stops the invocation


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("invocation", default=None)


def current() -> Invocation | None:
    return _current.get()


def current_request_id() -> str | None:
    """The running invocation's Lambda request id (what CloudTrail records it under)."""
    invocation = _current.get()
    return invocation.request_id if invocation else None


def time_left() -> Callable[[], float] | None:
    """The running invocation's remaining time (seconds), for work that stops before it."""
    invocation = _current.get()
    return invocation.time_left if invocation else None


def caller_of(context: Any) -> str | None:
    """`cognito:<identity id>`, `declared:<custom.caller>`, or None."""
    cognito = getattr(getattr(context, "identity", None), "cognito_identity_id", None)
    if isinstance(cognito, str) and cognito:
        return f"cognito:{cognito[:128]}"
    custom = getattr(getattr(context, "client_context", None), "custom", None)
    declared = custom.get("caller") if isinstance(custom, dict) else None
    if isinstance(declared, str) and DECLARED_CALLER.match(declared):
        return f"declared:{declared}"
    return None


def observe_invocation(event: BaseLambdaEvent, get_response: Callable[[BaseLambdaEvent], Any]) -> Any:
    """Chalice middleware for pure Lambda and scheduled functions: the invocation's request
    id and caller for the audit trail, and the request id as the logs' correlation id."""
    from chalicelib.observability import get_logger

    context = event.context
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    invocation = Invocation(
        getattr(context, "aws_request_id", None),
        caller_of(context),
        (lambda: remaining() / 1000) if callable(remaining) else None,
    )
    get_logger().set_correlation_id(invocation.request_id)
    token = _current.set(invocation)
    try:
        return get_response(event)
    finally:
        _current.reset(token)
