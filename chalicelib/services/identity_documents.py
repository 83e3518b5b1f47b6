"""The customer's identity document (one at a time): passport, national ID, driving
licence or tax ID, with its country. The number is sealed; only its last 4 are in clear."""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.observability import count
from chalicelib.services.sensitive import seal
from chalicelib.store import sensitive as store
from chalicelib.store.audit import audit_entry
from chalicelib.store.base import iso, utc_now
from chalicelib.store.transact import WriteConflict, commit, put


def put_identity_document(customer_number: str, data: dict, request_id: str | None) -> dict:
    """Replaces the one on file (its sealed number and data key go with it)."""
    number = data["number"]
    last4 = number.replace(" ", "").replace("-", "")[-4:]
    item_id, now = store.IDENTITY_DOCUMENT, iso(utc_now())
    item = store.new_item(
        customer_number,
        item_id,
        seal(customer_number, item_id, number),
        kind=data["type"],
        country=data["country"],
        last4=last4,
        created_at=now,
        updated_at=now,
    )
    commit([put(item), audit_entry(customer_number, "identity_document_set", "customer", [item_id], None, request_id)])
    count("identity_document_set")
    return identity_document_view(item)


def identity_document_view(item: store.SensitiveItem) -> dict:
    return {"type": item.kind, "country": item.country, "last4": item.last4, "updated_at": item.updated_at}


def identity_document_of(customer_number: str) -> dict | None:
    item = store.get(customer_number, store.IDENTITY_DOCUMENT)
    return identity_document_view(item) if item else None


def delete_identity_document(customer_number: str, request_id: str | None) -> None:
    try:
        commit(
            [
                store.delete_write(customer_number, store.IDENTITY_DOCUMENT),
                audit_entry(
                    customer_number,
                    "identity_document_deleted",
                    "customer",
                    [store.IDENTITY_DOCUMENT],
                    None,
                    request_id,
                ),
            ]
        )
    except WriteConflict:
        raise NotFound("No identity document on file.") from None
