"""The Client Area's marketing preferences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint
from chalice.app import Request

from chalicelib.lazy import lazy_module
from chalicelib.web import (
    Caller,
    customer_route,
    json_body,
    request_id,
)

if TYPE_CHECKING:
    from chalicelib.services import preferences as service
else:  # loaded on first use (chalicelib/lazy.py)
    service = lazy_module("chalicelib.services.preferences")

preferences = Blueprint(__name__)


@preferences.route("/account/preferences", methods=["GET"])
@customer_route(preferences)
def get_preferences(caller: Caller, request: Request) -> dict:
    return {"topics": service.current_topics(caller.customer)}  # read with the session


@preferences.route("/account/preferences", methods=["PUT"])
@customer_route(preferences)
def put_preferences(caller: Caller, request: Request) -> dict:
    changes = json_body(request, "preferences_put")["topics"]
    return {"topics": service.change_topics(caller.customer_number, changes, "preferences", request_id(request))}
