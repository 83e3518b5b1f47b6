"""The product catalog: a data file in the repo (chalicelib/data/catalog.json).

Money is `Decimal` inside the app and a two-decimal string beside a currency outside it;
a float never holds an amount.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from chalicelib.errors import NotFound, ValidationFailed

CATALOG_FILE = Path(__file__).resolve().parent.parent / "data" / "catalog.json"
CENT = Decimal("0.01")


class Product(NamedTuple):
    sku: str
    name: str
    description: str
    prices: dict[str, Decimal]  # billing cycle -> amount
    requires: tuple[str, ...]


class Catalog(NamedTuple):
    currency: str
    products: dict[str, Product]  # sku -> product, in the file's order


def money(amount: Decimal) -> str:
    """`Decimal("12.5")` -> `"12.50"`."""
    return str(amount.quantize(CENT))


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    data = json.loads(CATALOG_FILE.read_text(), parse_float=Decimal)
    products = {
        p["sku"]: Product(
            p["sku"],
            p["name"],
            p["description"],
            {cycle: Decimal(amount) for cycle, amount in p["billing_cycles"].items()},
            tuple(p["requires"]),
        )
        for p in data["products"]
    }
    return Catalog(data["currency"], products)


def product(sku: str) -> Product:
    found = load_catalog().products.get(sku)
    if found is None:
        raise NotFound("No such product.")
    return found


def unit_price(found: Product, billing_cycle: str) -> Decimal:
    """The product's price for a cycle it offers, else 400 (a cycle it does not offer)."""
    if billing_cycle not in found.prices:
        raise ValidationFailed(
            "This product is not offered with that billing cycle.",
            [{"path": "billing_cycle", "message": "must be one of: " + ", ".join(found.prices)}],
        )
    return found.prices[billing_cycle]


def catalog_view() -> dict:
    catalog = load_catalog()
    return {
        "products": [
            {
                "sku": p.sku,
                "name": p.name,
                "description": p.description,
                "billing_cycles": {
                    cycle: {"amount": money(amount), "currency": catalog.currency} for cycle, amount in p.prices.items()
                },
                "requires": list(p.requires),
            }
            for p in catalog.products.values()
        ]
    }
