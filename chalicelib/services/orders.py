"""Checkout, orders and receipts.

Checkout turns the caller's cart into an order in one DynamoDB transaction: the order,
its items, the cart emptied (on condition that it is the cart that was read, so two
checkouts of one cart cannot both succeed), the audit entry, and checks that the
account is still active and the payment method still on file. The order keeps what it was sold with: catalog prices, the
masked payment method and the billing name, email and address at the time. Then the
confirmation email goes out (transactional, through the mail pipeline and its log).

An `Idempotency-Key` makes checkout safe to retry: the same key and body within 24 hours
answer the first answer and do nothing again (no second order, no second email).
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from chalicelib.errors import AccountDeactivated, Conflict, NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services import accounts, carts, catalog, identity_documents, mailer, payment_methods
from chalicelib.settings import get_settings
from chalicelib.store import carts as cart_store
from chalicelib.store import customers as customer_store
from chalicelib.store import orders as store
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import as_plain, iso, utc_now
from chalicelib.store.customers import Customer
from chalicelib.store.orders import Order, OrderItem
from chalicelib.store.transact import WriteConflict, commit, put_new

ORDER_ID_PATTERN = re.compile(r"O[0-9a-f]{32}")
IDENTITY_DOCUMENT = "identity_document"


def place_order(
    customer_number: str,
    cart_token: str | None,
    body: dict,
    idempotency_key: str | None,
    request_id: str | None = None,
    lambda_context: Any = None,
) -> dict:
    """The placed order (the same answer again for a retry with the same key and body).
    The idempotency record keeps only the order id, never the billing details: it is no
    place for personal data, which anonymization could not find there."""
    if idempotency_key is None:
        return _checkout(customer_number, cart_token, body, request_id)

    def checkout() -> dict:
        return {"order_id": _checkout(customer_number, cart_token, body, request_id)["order_id"]}

    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    from chalicelib.store.idempotency import run_once

    try:
        placed = run_once("checkout", f"{customer_number}#{idempotency_key}", body, checkout, lambda_context)
    except IdempotencyValidationError:
        raise Conflict("This Idempotency-Key was already used with another request.") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("A request with this Idempotency-Key is still being processed.") from None
    return order_of_customer(customer_number, placed["order_id"])


def _checkout(customer_number: str, cart_token: str | None, body: dict, request_id: str | None) -> dict:
    customer = accounts.require_customer(customer_number)
    if not customer.is_active:
        raise AccountDeactivated("This account has been deactivated.")
    cart = carts.find_cart(cart_token)
    lines = carts.priced_lines(cart)
    if cart is None or not lines:
        raise Conflict("The cart is empty.")
    _check_requirements(customer_number, lines)
    payment = payment_methods.masked(customer_number, body["payment_method_id"])  # NotFound: not the caller's
    order, items = _new_order(customer, lines, body, payment)
    writes = {
        "order": put_new(order),
        **{f"item_{i}": put_new(item) for i, item in enumerate(items)},
        "cart": cart_store.empty_cart(cart, utc_now()),
        "audit": audit_entry(customer_number, "order_placed", "customer", None, order.order_id, request_id),
        "customer_active": customer_store.still_active(customer_number),
        "payment_method": store.payment_method_on_file(customer_number, body["payment_method_id"]),
    }
    try:
        commit(writes)
    except WriteConflict as conflict:
        if conflict.failed == {"payment_method"}:
            raise NotFound("No such payment method.") from None  # deleted meanwhile
        raise Conflict(
            "The cart or the account changed while the order was being placed; review the cart and try again."
        ) from None
    count("order_placed")
    _confirm(order, items)
    return order_view(order, items)


def _check_requirements(customer_number: str, lines: list[carts.PricedLine]) -> None:
    needing = [line.product.sku for line in lines if IDENTITY_DOCUMENT in line.product.requires]
    if needing and identity_documents.identity_document_of(customer_number) is None:
        raise Conflict(
            "An identity document must be on file to order this.",
            [{"path": IDENTITY_DOCUMENT, "message": "is required by " + ", ".join(needing)}],
        )


def _new_order(
    customer: Customer, lines: list[carts.PricedLine], body: dict, payment: dict
) -> tuple[Order, list[OrderItem]]:
    order_id = "O" + uuid.uuid4().hex
    items = [
        OrderItem(
            order_id,
            store.line_key(i),
            sku=line.product.sku,
            name=line.product.name,
            billing_cycle=line.billing_cycle,
            quantity=line.quantity,
            unit_amount=catalog.money(line.unit_amount),
            amount=catalog.money(line.amount),
        )
        for i, line in enumerate(lines)
    ]
    order = Order(
        order_id,
        customer_number=customer.customer_number,
        status="placed",
        currency=catalog.load_catalog().currency,
        total=catalog.money(sum((line.amount for line in lines), Decimal("0"))),
        line_count=len(items),
        payment_method_id=body["payment_method_id"],
        payment=payment,
        billing_name=customer.name,
        billing_email=customer.email,
        billing_address=body.get("billing_address") or as_plain(customer.address),
        placed_at=iso(utc_now()),
    )
    return order, items


def receipt_url(order_id: str) -> str:
    return f"{get_settings().public_base_url}/orders/{order_id}/receipt"


def _confirm(order: Order, items: list[OrderItem]) -> None:
    """The order stands whatever happens to its email: a failed send is logged and counted."""
    email = mailer.Email(
        recipient=order.billing_email,
        subject=f"Your order {order.order_id}",
        template="order_confirmation",
        customer_number=order.customer_number,
        context={"order": order_view(order, items), "receipt_url": receipt_url(order.order_id)},
    )
    try:
        mailer.send(email)
        count("order_confirmed")
    except Exception:
        get_logger().exception("order confirmation not sent", extra={"order_id": order.order_id})
        count("mail_failed")


def order_view(order: Order, items: list[OrderItem]) -> dict:
    return {
        "order_id": order.order_id,
        "status": order.status,
        "items": [
            {
                "sku": i.sku,
                "name": i.name,
                "billing_cycle": i.billing_cycle,
                "quantity": int(i.quantity),
                "unit_amount": i.unit_amount,
                "amount": i.amount,
            }
            for i in items
        ],
        "total": order.total,
        "currency": order.currency,
        "payment": {k: as_plain(order.payment).get(k) for k in ("type", "brand", "last4")},
        "billing": {
            "name": order.billing_name,
            "email": order.billing_email,
            "address": as_plain(order.billing_address),
        },
        "placed_at": order.placed_at,
    }


def orders_of(customer_number: str) -> list[dict]:
    """The customer's orders, newest first."""
    orders = store.orders_of(customer_number)
    items = store.items_of(orders)
    return [order_view(order, items[order.order_id]) for order in orders]


def order_of_customer(customer_number: str, order_id: str) -> dict:
    """A customer's own order; another customer's is indistinguishable from a missing one."""
    order = store.get_order(order_id) if ORDER_ID_PATTERN.fullmatch(order_id) else None
    if order is None or order.customer_number != customer_number:
        raise NotFound("No such order.")
    return order_view(order, store.items_of([order])[order.order_id])
