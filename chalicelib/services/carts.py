"""The shopping cart: no login, one opaque random id in the `cart` cookie, the cart itself
on the server. Prices always come from the catalog; the cart stores only what was
chosen (sku, billing cycle, quantity)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.services import catalog
from chalicelib.services.retry import retry_on_conflict
from chalicelib.store import carts as store
from chalicelib.store.base import iso, parse_iso, utc_now
from chalicelib.store.carts import Cart, CartLine
from chalicelib.store.transact import WriteConflict

CART_DAYS = 30  # inactivity after which a cart is gone (its TTL and the cookie's Max-Age)
TOUCH_AFTER = timedelta(days=1)  # a cart only looked at slides its expiry at most once a day
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class PricedLine(NamedTuple):
    product: catalog.Product
    billing_cycle: str
    quantity: int
    unit_amount: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_amount * self.quantity


class CartAnswer(NamedTuple):
    view: dict
    token: str | None  # the cookie's value to (re)send, or None to send no cookie


def lifetime() -> timedelta:
    return timedelta(days=CART_DAYS)


def cart_key(token: str) -> str:
    return hashlib.sha256(b"cart:" + token.encode()).hexdigest()


def find_cart(token: str | None, now: datetime | None = None) -> Cart | None:
    """The live cart behind a cookie value; None for no cookie, a malformed or unknown
    value, or a cart past its expiry (DynamoDB's TTL deletes it a while later)."""
    if not token or not TOKEN_PATTERN.match(token):
        return None
    cart = store.get_cart(cart_key(token))
    if cart is None or parse_iso(cart.expires_at) <= (now or utc_now()):
        return None
    return cart


def priced_lines(cart: Cart | None) -> list[PricedLine]:
    """The cart's lines with today's catalog prices (a line whose product or cycle left
    the catalog is dropped), in the order they were added."""
    products = catalog.load_catalog().products
    lines = sorted(cart.lines, key=lambda line: (line.added_at, line.sku)) if cart else []
    return [
        PricedLine(
            products[line.sku], line.billing_cycle, int(line.quantity), products[line.sku].prices[line.billing_cycle]
        )
        for line in lines
        if line.sku in products and line.billing_cycle in products[line.sku].prices
    ]


def lines_view(lines: list[PricedLine]) -> dict:
    total = sum((line.amount for line in lines), Decimal("0"))
    return {
        "items": [
            {
                "sku": line.product.sku,
                "billing_cycle": line.billing_cycle,
                "quantity": line.quantity,
                "unit_amount": catalog.money(line.unit_amount),
                "amount": catalog.money(line.amount),
            }
            for line in lines
        ],
        "total": catalog.money(total),
        "currency": catalog.load_catalog().currency,
    }


def view_cart(token: str | None) -> CartAnswer:
    """The cart; no cookie (or a dead one) is an empty cart and sets no cookie."""
    now = utc_now()
    cart = find_cart(token, now)
    if cart is None:
        return CartAnswer(lines_view([]), None)
    if now - parse_iso(cart.updated_at) >= TOUCH_AFTER and store.touch_cart(cart, now, now + lifetime()):
        return CartAnswer(lines_view(priced_lines(cart)), token)
    return CartAnswer(lines_view(priced_lines(cart)), None)


def set_item(token: str | None, sku: str, billing_cycle: str, quantity: int) -> CartAnswer:
    """Set (not add to) the quantity of a product in the cart, creating the cart (and a
    new random id) when the cookie names none."""
    if not isinstance(quantity, int) or isinstance(quantity, bool):  # JSON Schema lets 2.0 pass as an integer
        raise ValidationFailed(
            "The request is not valid.", [{"path": "quantity", "message": "must be of type integer"}]
        )
    product = catalog.product(sku)
    catalog.unit_price(product, billing_cycle)

    def change(lines: list[CartLine], now: str) -> list[CartLine]:
        kept = [line for line in lines if line.sku != sku]
        added_at = next((line.added_at for line in lines if line.sku == sku), now)
        return kept + [CartLine(sku=sku, billing_cycle=billing_cycle, quantity=quantity, added_at=added_at)]

    return _change_cart(token, change, create=True)


def remove_item(token: str | None, sku: str) -> CartAnswer:
    cart = find_cart(token)
    if cart is None or not any(line.sku == sku for line in cart.lines):
        catalog.product(sku)  # an unknown sku is 404; a known one not in the cart is a no-op
        return CartAnswer(lines_view(priced_lines(cart)), None)
    return _change_cart(token, lambda lines, now: [line for line in lines if line.sku != sku], create=False)


def _change_cart(
    token: str | None, change: Callable[[list[CartLine], str], list[CartLine]], create: bool
) -> CartAnswer:
    def attempt() -> CartAnswer:
        now = utc_now()
        cart = find_cart(token, now)
        if cart is None and not create:
            raise NotFound("No such item in the cart.")
        answer_token = token
        if cart is None:
            answer_token = secrets.token_urlsafe(32)  # never a client-chosen id
            cart = Cart(cart_key(answer_token))
        if not store.save_cart(cart, change(list(cart.lines), iso(now)), now, now + lifetime()):
            raise WriteConflict(frozenset({"cart"}))  # changed meanwhile: read it again
        return CartAnswer(lines_view(priced_lines(cart)), answer_token)

    return retry_on_conflict(attempt, "The cart changed while it was being updated; please retry.")
