"""Support tickets, for the logged-in customer."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.services import support as tickets
from chalicelib.web import (
    authenticate,
    handles_errors,
    json_body,
    json_response,
    with_session_cookie,
)

support = Blueprint(__name__)


@support.route("/support/tickets", methods=["POST"])
@handles_errors
def open_ticket() -> Response:
    request = support.current_request
    caller = authenticate(request)
    data = json_body(request, "ticket_create")
    ticket_id = tickets.open_ticket(caller.customer_number, data["subject"], data["message"])
    return with_session_cookie(json_response({"ticket_id": ticket_id}, 201), caller)


@support.route("/support/tickets", methods=["GET"])
@handles_errors
def list_tickets() -> Response:
    caller = authenticate(support.current_request)
    return with_session_cookie(json_response({"tickets": tickets.tickets_of(caller.customer_number)}), caller)


@support.route("/support/tickets/{ticket_id}", methods=["GET"])
@handles_errors
def get_ticket(ticket_id: str) -> Response:
    caller = authenticate(support.current_request)
    return with_session_cookie(json_response(tickets.ticket_of_customer(caller.customer_number, ticket_id)), caller)
