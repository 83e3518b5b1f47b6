"""Marketing campaigns and their deliveries: one item per (campaign, customer), claimed
before the email is sent, so a campaign reaches each customer at most once."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.store.base import PledgeModel, written


class Campaign(PledgeModel):
    logical_table = "campaigns"

    class Meta:
        table_name = None

    campaign_id = UnicodeAttribute(hash_key=True)
    topic = UnicodeAttribute()
    subject = UnicodeAttribute()
    content_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()


class Delivery(PledgeModel):
    logical_table = "campaign_deliveries"

    class Meta:
        table_name = None

    campaign_id = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()  # "claimed" -> "sent" | "rejected" | "unconfirmed" | "failed"
    claimed_at = UnicodeAttribute()
    message_id = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)


def register_campaign(campaign: Campaign) -> Campaign:
    """Save a new campaign; if the id is taken, the campaign saved under it."""
    if written(lambda: campaign.save(condition=Campaign.campaign_id.does_not_exist())):
        return campaign
    saved = Campaign.find(campaign.campaign_id)
    assert saved is not None  # its save failed because it exists (and campaigns are never deleted)
    return saved


def claim(delivery: Delivery) -> bool:
    """Claim the (campaign, customer) pair; False if it was claimed before."""
    return written(lambda: delivery.save(condition=Delivery.customer_number.does_not_exist()))


def mark_sent(delivery: Delivery, message_id: str, at: str) -> None:
    delivery.update(
        actions=[Delivery.status.set("sent"), Delivery.message_id.set(message_id), Delivery.finished_at.set(at)]
    )


def mark_failed(delivery: Delivery, status: str, error_code: str, at: str) -> None:
    """`rejected` (SES refused it for good) or `unconfirmed` (SES may have it): either way
    the claim stays, so the customer is not sent this campaign again."""
    delivery.update(
        actions=[Delivery.status.set(status), Delivery.error_code.set(error_code), Delivery.finished_at.set(at)]
    )


def record_failure(campaign_id: str, customer_number: str, error_code: str, at: str) -> None:
    """An unexpected error for this customer (claimed or not): the delivery is `failed`, and
    stays claimed, so later runs skip the customer rather than fail on it again."""
    Delivery(campaign_id, customer_number).update(
        actions=[
            Delivery.status.set("failed"),
            Delivery.error_code.set(error_code),
            Delivery.finished_at.set(at),
            Delivery.claimed_at.set(Delivery.claimed_at | at),
        ]
    )


def release(delivery: Delivery) -> None:
    """Give up a claim whose email SES did not accept, so the next run tries again."""
    delivery.delete(condition=Delivery.status == "claimed")
