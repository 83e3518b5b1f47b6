"""Orders and their items: financial records. No TTL, kept after deactivation; at
anonymization only the billing name, email and address are replaced."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel
from chalicelib.store.sensitive import SensitiveItem
from chalicelib.store.transact import Write


class OrdersByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_number = UnicodeAttribute(hash_key=True)
    placed_at = UnicodeAttribute(range_key=True)


class Order(PledgeModel):
    logical_table = "orders"

    class Meta:
        table_name = None

    order_id = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute()
    status = UnicodeAttribute()  # "placed"
    currency = UnicodeAttribute()
    total = UnicodeAttribute()  # a decimal string, "12.50"
    line_count = NumberAttribute()
    payment_method_id = UnicodeAttribute()
    payment: MapAttribute[str, Any] = MapAttribute()  # masked, as it was: type, brand, last4
    billing_name = UnicodeAttribute()
    billing_email = UnicodeAttribute()
    billing_address: MapAttribute[str, Any] = MapAttribute(null=True)
    placed_at = UnicodeAttribute()
    by_customer = OrdersByCustomer()


class OrderItem(PledgeModel):
    logical_table = "order_items"

    class Meta:
        table_name = None

    order_id = UnicodeAttribute(hash_key=True)
    line = UnicodeAttribute(range_key=True)  # "01", "02", ... (the cart's order)
    sku = UnicodeAttribute()
    name = UnicodeAttribute()
    billing_cycle = UnicodeAttribute()
    quantity = NumberAttribute()
    unit_amount = UnicodeAttribute()
    amount = UnicodeAttribute()


def payment_method_on_file(customer_number: str, payment_method_id: str) -> Write:
    """A transaction condition: the payment method was not deleted while the order was placed."""
    return lambda transaction: transaction.condition_check(
        SensitiveItem, customer_number, payment_method_id, condition=SensitiveItem.item_id.exists()
    )


def line_key(index: int) -> str:
    return f"{index + 1:02d}"


def get_order(order_id: str) -> Order | None:
    return Order.find(order_id)


def orders_of(customer_number: str) -> list[Order]:
    """Newest first."""
    return list(Order.by_customer.query(customer_number, scan_index_forward=False))


def items_of(orders: list[Order]) -> dict[str, list[OrderItem]]:
    """The items of several orders (BatchGetItem by their known keys), by order id, in line order."""
    keys = [(o.order_id, line_key(i)) for o in orders for i in range(int(o.line_count))]
    found: dict[str, list[OrderItem]] = {o.order_id: [] for o in orders}
    for item in OrderItem.batch_get(keys, consistent_read=True) if keys else []:
        found[item.order_id].append(item)
    for items in found.values():
        items.sort(key=lambda item: item.line)
    return found


def erase_orders_of(customer_number: str, placeholder: str) -> int:
    """Anonymization: each order's billing name, email and address become placeholders;
    SKUs, amounts, dates and the masked payment remain (bookkeeping). Safe to repeat."""
    orders = orders_of(customer_number)
    for order in orders:
        address = {"line1": placeholder, "city": placeholder, "postal_code": placeholder, "country": placeholder}
        order.update(
            actions=[
                Order.billing_name.set(placeholder),
                Order.billing_email.set(placeholder),
                Order.billing_address.set(address) if order.billing_address else Order.billing_address.remove(),
            ]
        )
    return len(orders)
