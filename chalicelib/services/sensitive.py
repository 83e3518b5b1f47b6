"""Card, IBAN and identity document numbers: sealed with KMS envelope encryption bound to
the customer and the item, revealed only by ops with a reason the customer can read, and
crypto-shredded with the item.

The API seals (kms:GenerateDataKey); it never opens. `reveal` runs only in the
ops_reveal_sensitive function, whose role alone may kms:Decrypt (infra/).
"""

from __future__ import annotations

from typing import Any

from chalicelib import envelope
from chalicelib.aws import kms_client
from chalicelib.errors import Conflict, NotFound
from chalicelib.observability import count, get_logger
from chalicelib.settings import get_settings
from chalicelib.store import sensitive as store
from chalicelib.store.audit import audit_entry, entries_of
from chalicelib.store.transact import commit

REVEALED = "sensitive_revealed"  # the audit action the export lists as a reveal


def encryption_context(customer_number: str, item_id: str) -> dict[str, str]:
    return {"customer_number": customer_number, "item": item_id}


def seal(customer_number: str, item_id: str, number: str, client: Any = None) -> envelope.Sealed:
    return envelope.seal(
        client or kms_client(), get_settings().kms_key_id, number, encryption_context(customer_number, item_id)
    )


def open_item(item: store.SensitiveItem, client: Any = None) -> str:
    """The number in clear. Raises envelope.UnsealFailed if it does not open for this item."""
    return envelope.unseal(
        client or kms_client(),
        get_settings().kms_key_id,
        item.sealed,
        encryption_context(item.customer_number, item.item_id),
    )


def reveal(customer_number: str, item_id: str, reason: str, request_id: str | None = None) -> dict:
    """ops_reveal_sensitive: the number in clear, after the audit entry (who, when, why)
    is written: a reveal that is not recorded does not happen."""
    item = store.get(customer_number, item_id)
    if item is None:
        raise NotFound("No such item for this customer.")
    commit([audit_entry(customer_number, REVEALED, "ops", [item_id], reason, request_id)])
    try:
        number = open_item(item)
    except envelope.UnsealFailed:
        get_logger().error("sealed number does not open for its item", extra={"item_kind": item.kind})
        raise Conflict("The stored number does not open for this customer and item.") from None
    count("sensitive_revealed")
    get_logger().info("sensitive number revealed", extra={"item_kind": item.kind})
    return {"customer_number": customer_number, "item": item_id, "type": item.kind, "number": number}


def reveals_of(customer_number: str) -> list[dict]:
    """Every reveal of the customer's numbers, for the export: what, when, why, by whom."""
    return [
        {"item": entry.fields[0] if entry.fields else None, "reason": entry.reason, "at": entry.at, "by": entry.actor}
        for entry in entries_of(customer_number)
        if entry.action == REVEALED
    ]


def destroy_all(customer_number: str) -> int:
    """Crypto-shred every sealed number of the customer (anonymization): each item goes
    with the only copy of its wrapped data key. Safe to repeat. Returns how many went."""
    items = store.items_of(customer_number)
    for item in items:
        store.delete(customer_number, item.item_id)
    return len(items)
