"""The Client Area's marketing preferences."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.services import preferences as service
from chalicelib.web import (
    authenticate,
    handles_errors,
    json_body,
    json_response,
    request_id,
    with_session_cookie,
)

preferences = Blueprint(__name__)


@preferences.route("/account/preferences", methods=["GET"])
@handles_errors
def get_preferences() -> Response:
    caller = authenticate(preferences.current_request)
    return with_session_cookie(json_response({"topics": service.get_topics(caller.customer_number)}), caller)


@preferences.route("/account/preferences", methods=["PUT"])
@handles_errors
def put_preferences() -> Response:
    request = preferences.current_request
    caller = authenticate(request)
    changes = json_body(request, "preferences_put")["topics"]
    topics = service.change_topics(caller.customer_number, changes, "preferences", request_id(request))
    return with_session_cookie(json_response({"topics": topics}), caller)
