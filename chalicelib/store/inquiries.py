from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    MapAttribute,
    UnicodeAttribute,
)
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel, written
from chalicelib.store.states import InquiryStatus
from chalicelib.store.transact import Write


class InquiriesByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_number = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class InquiriesByEmail(GlobalSecondaryIndex):
    """Sparse: only inquiries that still hold an address (erasure removes `email_key`)."""

    class Meta:
        index_name = "by_email"
        projection = AllProjection()

    email_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Inquiry(PledgeModel):
    logical_table = "inquiries"

    class Meta:
        table_name = None

    inquiry_id = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    email_key = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    address: MapAttribute[str, Any] = MapAttribute(null=True)
    topic = UnicodeAttribute()
    message = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default=InquiryStatus.RECEIVED)
    created_at = UnicodeAttribute()
    reviewed_at = UnicodeAttribute(null=True)
    by_customer = InquiriesByCustomer()
    by_email = InquiriesByEmail()


def save_new_inquiry(inquiry: Inquiry) -> None:
    inquiry.save(condition=Inquiry.inquiry_id.does_not_exist())


def get_inquiry(inquiry_id: str) -> Inquiry | None:
    return Inquiry.find(inquiry_id)


def inquiries_of(customer_number: str) -> list[Inquiry]:
    return list(Inquiry.by_customer.query(customer_number))


def anonymous_inquiries_from(email_key: str) -> list[Inquiry]:
    """Inquiries sent from an address by someone not logged in (linked to no customer)."""
    return [i for i in Inquiry.by_email.query(email_key) if i.customer_number is None]


PERSONAL_FIELDS = ("name", "email", "email_key", "phone", "address", "message")


def erase_inquiry_content(inquiry: Inquiry, status: InquiryStatus, at: str) -> Write:
    """Remove the personal content; the inquiry's id, topic, dates and link remain."""
    actions: list[Action] = [getattr(Inquiry, field).remove() for field in PERSONAL_FIELDS]
    actions += [Inquiry.status.set(status), Inquiry.reviewed_at.set(at)]
    return lambda transaction: transaction.update(inquiry, actions=actions)


def mark_reviewed(inquiry: Inquiry, status: InquiryStatus, at: str) -> bool:
    """False if the inquiry was discarded meanwhile."""
    actions: list[Action] = [Inquiry.status.set(status), Inquiry.reviewed_at.set(at)]
    return written(lambda: inquiry.update(actions=actions, condition=Inquiry.status != InquiryStatus.DISCARDED))
