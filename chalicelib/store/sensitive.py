"""Payment methods and the identity document: one item each per customer, the number
sealed (chalicelib/envelope.py), only masked fields in clear.

item_id is `pm_<hex>` for a payment method and `identity_document` for the document.
Deleting an item deletes its sealed number with it (its data key existed only wrapped
inside the item): that is the crypto-shredding.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.envelope import Sealed
from chalicelib.store.base import PledgeModel, written
from chalicelib.store.transact import Write

IDENTITY_DOCUMENT = "identity_document"
PAYMENT_METHOD_PREFIX = "pm_"


class SensitiveItem(PledgeModel):
    logical_table = "sensitive_items"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # card | bank_account | passport | national_id | driving_licence | tax_id
    last4 = UnicodeAttribute()
    brand = UnicodeAttribute(null=True)  # cards
    exp_month = NumberAttribute(null=True)  # cards
    exp_year = NumberAttribute(null=True)  # cards
    holder_name = UnicodeAttribute(null=True)  # payment methods
    country = UnicodeAttribute(null=True)  # identity document
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    wrapped_key = BinaryAttribute(legacy_encoding=False)
    nonce = BinaryAttribute(legacy_encoding=False)
    ciphertext = BinaryAttribute(legacy_encoding=False)

    @property
    def sealed(self) -> Sealed:
        return Sealed(self.wrapped_key, self.nonce, self.ciphertext)

    @property
    def is_payment_method(self) -> bool:
        return self.item_id.startswith(PAYMENT_METHOD_PREFIX)


def new_item(customer_number: str, item_id: str, sealed: Sealed, **fields: Any) -> SensitiveItem:
    return SensitiveItem(
        customer_number,
        item_id,
        wrapped_key=sealed.wrapped_key,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
        **fields,
    )


def get(customer_number: str, item_id: str) -> SensitiveItem | None:
    return SensitiveItem.find(customer_number, item_id)


def items_of(customer_number: str) -> list[SensitiveItem]:
    return list(SensitiveItem.query(customer_number, consistent_read=True))


def delete(customer_number: str, item_id: str) -> bool:
    """Delete the item and its sealed number; False if there was none."""
    item = SensitiveItem(customer_number, item_id)
    return written(lambda: item.delete(condition=SensitiveItem.item_id.exists()))


def delete_write(customer_number: str, item_id: str) -> Write:
    """Delete an item that must exist (the transaction fails otherwise)."""
    item = SensitiveItem(customer_number, item_id)
    return lambda transaction: transaction.delete(item, condition=SensitiveItem.item_id.exists())
