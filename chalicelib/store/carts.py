"""Shopping carts: ephemeral, keyed by a hash of the `cart` cookie's random id (the id
itself is never stored). Linked to no customer. The one table besides sessions where a
TTL is right: a cart disappears 30 days after its last use."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.expressions.update import Action

from chalicelib.store.base import PledgeModel, iso, written
from chalicelib.store.transact import Write


class CartLine(MapAttribute):
    sku = UnicodeAttribute()
    billing_cycle = UnicodeAttribute()
    quantity = NumberAttribute()
    added_at = UnicodeAttribute()


class Cart(PledgeModel):
    logical_table = "carts"

    class Meta:
        table_name = None

    cart_key = UnicodeAttribute(hash_key=True)
    lines = ListAttribute(of=CartLine, default=list)
    updated_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    expires_ttl = TTLAttribute()
    version = VersionAttribute()


def get_cart(cart_key: str) -> Cart | None:
    return Cart.find(cart_key)


def save_cart(cart: Cart, lines: list[CartLine], now: datetime, expires: datetime) -> bool:
    """Write a cart read earlier (or a new one); False if it changed meanwhile."""
    cart.lines, cart.updated_at, cart.expires_at, cart.expires_ttl = lines, iso(now), iso(expires), expires
    return written(cart.save)


def touch_cart(cart: Cart, now: datetime, expires: datetime) -> bool:
    """Slide the expiry of a cart that is only being looked at."""
    actions: list[Action] = [
        Cart.updated_at.set(iso(now)),
        Cart.expires_at.set(iso(expires)),
        Cart.expires_ttl.set(expires),
    ]
    return written(lambda: cart.update(actions=actions))


def empty_cart(cart: Cart, now: datetime) -> Write:
    """For the checkout transaction: empties the cart, on condition that it is the version
    that was read (so two checkouts of one cart cannot both succeed)."""
    return lambda transaction: transaction.update(cart, actions=[Cart.lines.set([]), Cart.updated_at.set(iso(now))])
