from __future__ import annotations

from pynamodb.attributes import (
    MapAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel


class InquiriesByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_number = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Inquiry(PledgeModel):
    logical_table = "inquiries"

    class Meta:
        table_name = None

    inquiry_id = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    address = MapAttribute(null=True)
    topic = UnicodeAttribute()
    message = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="received")
    created_at = UnicodeAttribute()
    reviewed_at = UnicodeAttribute(null=True)
    by_customer = InquiriesByCustomer()


def save_new_inquiry(inquiry: Inquiry) -> None:
    inquiry.save(condition=Inquiry.inquiry_id.does_not_exist())


def get_inquiry(inquiry_id: str) -> Inquiry | None:
    try:
        return Inquiry.get(inquiry_id, consistent_read=True)
    except Inquiry.DoesNotExist:
        return None


def inquiries_of(customer_number: str) -> list[Inquiry]:
    return list(Inquiry.by_customer.query(customer_number))
