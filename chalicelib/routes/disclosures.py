"""Disclosure permissions, for the logged-in customer: grant, list (with every
disclosure made), revoke."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.lazy import lazy_module
from chalicelib.web import (
    Caller,
    customer_route,
    json_body,
    json_response,
    no_content,
    request_id,
)

if TYPE_CHECKING:
    from chalicelib.services import disclosures as service
else:  # loaded on first use (chalicelib/lazy.py)
    service = lazy_module("chalicelib.services.disclosures")

disclosures = Blueprint(__name__)


@disclosures.route("/account/disclosures", methods=["GET"])
@customer_route(disclosures)
def list_disclosures(caller: Caller, request: Request) -> dict:
    return service.disclosures_view(caller.customer_number)


@disclosures.route("/account/disclosures", methods=["POST"])
@customer_route(disclosures)
def grant_permission(caller: Caller, request: Request) -> Response:
    data = json_body(request, "disclosure_grant")
    return json_response(service.grant_permission(caller.customer_number, data, request_id(request)), 201)


@disclosures.route("/account/disclosures/{permission_id}", methods=["DELETE"])
@customer_route(disclosures)
def revoke_permission(caller: Caller, request: Request, permission_id: str) -> Response:
    service.revoke_permission(caller.customer_number, permission_id, request_id(request))
    return no_content()
