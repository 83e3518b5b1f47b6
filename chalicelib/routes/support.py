"""Support tickets, for the logged-in customer."""

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
)

if TYPE_CHECKING:
    from chalicelib.services import support as tickets
else:  # loaded on first use (chalicelib/lazy.py)
    tickets = lazy_module("chalicelib.services.support")

support = Blueprint(__name__)


@support.route("/support/tickets", methods=["POST"])
@customer_route(support)
def open_ticket(caller: Caller, request: Request) -> Response:
    data = json_body(request, "ticket_create")
    ticket_id = tickets.open_ticket(caller.customer_number, data["subject"], data["message"])
    return json_response({"ticket_id": ticket_id}, 201)


@support.route("/support/tickets", methods=["GET"])
@customer_route(support)
def list_tickets(caller: Caller, request: Request) -> dict:
    return {"tickets": tickets.tickets_of(caller.customer_number)}


@support.route("/support/tickets/{ticket_id}", methods=["GET"])
@customer_route(support)
def get_ticket(caller: Caller, request: Request, ticket_id: str) -> dict:
    return tickets.ticket_of_customer(caller.customer_number, ticket_id)
