"""Orders and receipts, for the logged-in customer. Checkout needs the CSRF token, the
`cart` cookie's cart and, to be safe to retry, an `Idempotency-Key` header."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.errors import ValidationFailed
from chalicelib.lazy import lazy_module
from chalicelib.mail.render import render_page
from chalicelib.routes.shop import cart_token
from chalicelib.web import (
    Caller,
    customer_route,
    json_body,
    json_response,
    request_id,
)

if TYPE_CHECKING:
    from chalicelib.services import orders as service
else:  # loaded on first use (chalicelib/lazy.py)
    service = lazy_module("chalicelib.services.orders")

orders = Blueprint(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
RECEIPT_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER.lower())
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed(
            "The Idempotency-Key header is not valid.",
            [{"path": IDEMPOTENCY_HEADER, "message": "must be 1-64 of letters, digits, _ and -"}],
        )
    return key


@orders.route("/orders", methods=["POST"])
@customer_route(orders)
def place_order(caller: Caller, request: Request) -> Response:
    body = json_body(request, "order_create")
    order = service.place_order(
        caller.customer_number,
        cart_token(request),
        body,
        idempotency_key(request),
        request_id(request),
        orders.lambda_context,
    )
    return json_response(order, 201)


@orders.route("/orders", methods=["GET"])
@customer_route(orders)
def list_orders(caller: Caller, request: Request) -> dict:
    return {"orders": service.orders_of(caller.customer_number)}


@orders.route("/orders/{order_id}", methods=["GET"])
@customer_route(orders)
def get_order(caller: Caller, request: Request, order_id: str) -> dict:
    return service.order_of_customer(caller.customer_number, order_id)


@orders.route("/orders/{order_id}/receipt", methods=["GET"])
@customer_route(orders)
def get_receipt(caller: Caller, request: Request, order_id: str) -> Response:
    page = render_page("receipt", order=service.order_of_customer(caller.customer_number, order_id))
    return Response(body=page, status_code=200, headers=dict(RECEIPT_HEADERS))
