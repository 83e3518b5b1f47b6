"""Every message SES accepted: who it was for, what kind, SES's message id. Never the body."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel


class MailByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_number = UnicodeAttribute(hash_key=True)
    sent_at = UnicodeAttribute(range_key=True)


class SentMessage(PledgeModel):
    logical_table = "mail_log"

    class Meta:
        table_name = None

    message_id = UnicodeAttribute(hash_key=True)  # SES's id: bounce and complaint events name it
    customer_number = UnicodeAttribute(null=True)  # absent for mail to non-customers (contact form)
    kind = UnicodeAttribute()  # "transactional" | "notice" | "marketing"
    template = UnicodeAttribute()
    topic = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute()
    by_customer = MailByCustomer()


def sent_to(customer_number: str) -> list[SentMessage]:
    """Oldest first."""
    return list(SentMessage.by_customer.query(customer_number))
