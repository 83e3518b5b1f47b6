"""Disclosure permissions, for the logged-in customer: grant, list (with every
disclosure made), revoke."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.services import disclosures as service
from chalicelib.web import (
    authenticate,
    handles_errors,
    json_body,
    json_response,
    request_id,
    with_session_cookie,
)

disclosures = Blueprint(__name__)


@disclosures.route("/account/disclosures", methods=["GET"])
@handles_errors
def list_disclosures() -> Response:
    caller = authenticate(disclosures.current_request)
    return with_session_cookie(json_response(service.disclosures_view(caller.customer_number)), caller)


@disclosures.route("/account/disclosures", methods=["POST"])
@handles_errors
def grant_permission() -> Response:
    request = disclosures.current_request
    caller = authenticate(request)
    permission = service.grant_permission(
        caller.customer_number, json_body(request, "disclosure_grant"), request_id(request)
    )
    return with_session_cookie(json_response(permission, 201), caller)


@disclosures.route("/account/disclosures/{permission_id}", methods=["DELETE"])
@handles_errors
def revoke_permission(permission_id: str) -> Response:
    request = disclosures.current_request
    caller = authenticate(request)
    service.revoke_permission(caller.customer_number, permission_id, request_id(request))
    return with_session_cookie(Response(body="", status_code=204, headers={"Cache-Control": "no-store"}), caller)
