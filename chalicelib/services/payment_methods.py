"""Payment methods: cards and bank accounts (IBAN). The number is checked, sealed
(services/sensitive.py) and never kept in clear; the card's security code is checked for
shape and then dropped: it is not stored, encrypted or not, and never logged.

For other services (orders): `masked(customer_number, payment_method_id)` gives the
copy an order keeps, `{"type", "brand", "last4"}` (brand None for a bank account), or
raises NotFound for another customer's, a deleted or an unknown payment method.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from chalicelib.checksums import iban_valid, luhn_valid
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.observability import count
from chalicelib.services.sensitive import seal
from chalicelib.store import sensitive as store
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import iso, utc_now
from chalicelib.store.transact import WriteConflict, commit, put_new

ID_PATTERN = re.compile(r"pm_[0-9a-f]{24}")
DIGITS = frozenset("0123456789")
# (brand, prefix ranges): the first digits of the number, as issuers publish them.
BRANDS = (
    ("amex", ((34, 34), (37, 37))),
    ("visa", ((4, 4),)),
    ("mastercard", ((51, 55), (2221, 2720))),
    ("discover", ((6011, 6011), (644, 649), (65, 65), (622126, 622925))),
)


def brand_of(digits: str) -> str:
    for brand, ranges in BRANDS:
        for low, high in ranges:
            width = len(str(low))
            if low <= int(digits[:width]) <= high:
                return brand
    return "unknown"


def _invalid(path: str, message: str) -> ValidationFailed:
    """Never with the value: the message names only what is wrong."""
    count("payment_method_rejected")
    return ValidationFailed("The request is not valid.", [{"path": path, "message": message}])


def card_digits(number: str) -> str:
    digits = number.replace(" ", "").replace("-", "")
    if not digits or not set(digits) <= DIGITS:
        raise _invalid("card.number", "must contain only digits, spaces and dashes")
    if not 12 <= len(digits) <= 19:
        raise _invalid("card.number", "must have 12 to 19 digits")
    if not luhn_valid(digits):
        raise _invalid("card.number", "is not a valid card number (check digit)")
    return digits


def check_not_expired(exp_month: int, exp_year: int) -> None:
    """A card is valid until the end of its expiry month."""
    now = utc_now()
    if (exp_year, exp_month) < (now.year, now.month):
        count("payment_method_rejected")
        raise ValidationFailed(
            "The request is not valid.",
            [
                {"path": "card.exp_month", "message": "the card has expired"},
                {"path": "card.exp_year", "message": "the card has expired"},
            ],
        )


def normal_iban(iban: str) -> str:
    normal = iban.replace(" ", "").upper()
    if not iban_valid(normal):
        raise _invalid("bank_account.iban", "is not a valid IBAN (country code, check digits, 11-30 letters or digits)")
    return normal


def _card_fields(card: dict) -> tuple[str, dict]:
    digits = card_digits(card["number"])
    exp_month, exp_year = int(card["exp_month"]), int(card["exp_year"])
    check_not_expired(exp_month, exp_year)
    # card["cvc"] was checked for shape by the schema; it goes no further than this.
    return digits, {
        "kind": "card",
        "brand": brand_of(digits),
        "last4": digits[-4:],
        "exp_month": exp_month,
        "exp_year": exp_year,
        "holder_name": card["holder_name"],
    }


def _bank_fields(account: dict) -> tuple[str, dict]:
    iban = normal_iban(account["iban"])
    return iban, {"kind": "bank_account", "last4": iban[-4:], "holder_name": account["holder_name"]}


def add_payment_method(customer_number: str, data: dict, request_id: str | None) -> dict:
    number, fields = _card_fields(data["card"]) if data["type"] == "card" else _bank_fields(data["bank_account"])
    item_id = store.PAYMENT_METHOD_PREFIX + secrets.token_hex(12)
    now = iso(utc_now())
    item = store.new_item(
        customer_number, item_id, seal(customer_number, item_id, number), created_at=now, updated_at=now, **fields
    )
    commit(
        [put_new(item), audit_entry(customer_number, "payment_method_added", "customer", [item_id], None, request_id)]
    )
    count("payment_method_added")
    return payment_method_view(item)


def payment_method_view(item: store.SensitiveItem) -> dict:
    view: dict[str, Any] = {"payment_method_id": item.item_id, "type": item.kind}
    if item.kind == "card":
        view.update(brand=item.brand, last4=item.last4, exp_month=int(item.exp_month), exp_year=int(item.exp_year))
    else:
        view["last4"] = item.last4
    view.update(holder_name=item.holder_name, created_at=item.created_at)
    return view


def payment_methods_of(customer_number: str) -> list[dict]:
    return [payment_method_view(i) for i in store.items_of(customer_number) if i.is_payment_method]


def _payment_method(customer_number: str, payment_method_id: str) -> store.SensitiveItem:
    item = store.get(customer_number, payment_method_id) if ID_PATTERN.fullmatch(payment_method_id) else None
    if item is None:
        raise NotFound("No such payment method.")
    return item


def masked(customer_number: str, payment_method_id: str) -> dict:
    item = _payment_method(customer_number, payment_method_id)
    return {"type": item.kind, "brand": item.brand, "last4": item.last4}


def delete_payment_method(customer_number: str, payment_method_id: str, request_id: str | None) -> None:
    """Deletes the item, and with it the only copy of its sealed number."""
    _payment_method(customer_number, payment_method_id)
    try:
        commit(
            [
                store.delete_write(customer_number, payment_method_id),
                audit_entry(
                    customer_number, "payment_method_deleted", "customer", [payment_method_id], None, request_id
                ),
            ]
        )
    except WriteConflict:
        raise NotFound("No such payment method.") from None
    count("payment_method_deleted")
