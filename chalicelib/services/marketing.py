"""Marketing campaigns: one email per active customer subscribed to the topic, at most once.

Each (campaign, customer) pair is claimed with a conditional write before its email is
sent. That makes delivery at-most-once: a run that dies between claim and SES leaves the
claim in place and that customer is skipped by later runs, rather than risk a second
copy. A transient SES failure releases its claim and ends the run (the next invocation
with the same event resumes); a permanent rejection is recorded and the run goes on.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeGuard

from chalicelib.errors import Conflict
from chalicelib.observability import count, get_logger
from chalicelib.services import mailer, preferences, unsubscribe
from chalicelib.store import campaigns as campaign_store
from chalicelib.store import customers as customer_store
from chalicelib.store.base import iso, utc_now
from chalicelib.store.campaigns import Campaign, Delivery
from chalicelib.store.customers import Customer


def send_campaign(topic: str, subject: str, text: str, campaign_id: str | None = None, client: Any = None) -> dict:
    campaign = _register(topic, subject, text, campaign_id)
    result: dict[str, Any] = {
        "campaign_id": campaign.campaign_id,
        "sent": 0,
        "skipped": 0,
        "rejected": 0,
        "unconfirmed": 0,
        "failed": 0,
        "complete": True,
    }
    for subscriber in customer_store.active_subscribers(topic):
        outcome = _deliver_one(campaign, subject, text, subscriber.customer_number, client)
        if outcome == "deferred":
            result["complete"] = False
            break
        result[outcome] += 1
    count("marketing_sent", result["sent"])
    get_logger().info("campaign run", extra=dict(result))
    return result


def campaign_key(topic: str, subject: str, text: str) -> str:
    return hashlib.sha256(json.dumps([topic, subject, text]).encode()).hexdigest()


def _register(topic: str, subject: str, text: str, campaign_id: str | None) -> Campaign:
    """The campaign under its id (by default derived from its content, so the same content
    sent again is the same campaign). An id already used for other content: Conflict."""
    content_hash = campaign_key(topic, subject, text)
    campaign = Campaign(
        campaign_id or f"auto-{content_hash[:32]}",
        topic=topic,
        subject=subject,
        content_hash=content_hash,
        created_at=iso(utc_now()),
    )
    saved = campaign_store.register_campaign(campaign)
    if saved.content_hash != content_hash:
        raise Conflict("This campaign id was already used for a different campaign.")
    return saved


def _deliver_one(campaign: Campaign, subject: str, text: str, customer_number: str, client: Any) -> str:
    """One customer's delivery; an unexpected error (a bad record, say) is recorded against
    that customer's delivery, counted and logged by customer number (never the email, which
    the error's text may quote), and the campaign goes on to the next customer."""
    try:
        return _deliver(campaign, subject, text, customer_number, client)
    except Exception as error:
        count("MarketingDeliveryFailed")
        get_logger().error(
            "marketing delivery failed for one customer; the run goes on",
            extra={
                "campaign_id": campaign.campaign_id,
                "customer_number": customer_number,
                "error_type": type(error).__name__,
            },
        )
        campaign_store.record_failure(
            campaign.campaign_id, customer_number, f"unexpected:{type(error).__name__}", iso(utc_now())
        )
        return "failed"


def _deliver(campaign: Campaign, subject: str, text: str, customer_number: str, client: Any) -> str:
    """ "sent", "skipped" (already claimed, or no longer eligible), "rejected", "unconfirmed"
    (the connection failed after the request went out) or "deferred". Any other error is
    raised with the claim kept (whether SES has the message is not known)."""
    customer = customer_store.get_customer(customer_number)  # the scan may be minutes old
    if not _eligible(customer, campaign.topic):
        return "skipped"
    delivery = Delivery(campaign.campaign_id, customer_number, status="claimed", claimed_at=iso(utc_now()))
    if not campaign_store.claim(delivery):
        return "skipped"
    try:
        message_id = mailer.send(_email(campaign, subject, text, customer), client=client)
    except (mailer.MailRejected, mailer.MailUncertain) as error:
        outcome = "rejected" if isinstance(error, mailer.MailRejected) else "unconfirmed"
        campaign_store.mark_failed(delivery, outcome, error.code, iso(utc_now()))
        return outcome
    except mailer.MailDeferred:
        campaign_store.release(delivery)  # SES did not accept it: a later run may try again
        return "deferred"
    campaign_store.mark_sent(delivery, message_id, iso(utc_now()))
    return "sent"


def _eligible(customer: Customer | None, topic: str) -> TypeGuard[Customer]:
    return customer is not None and customer.status == "active" and preferences.current_topics(customer)[topic]


def _email(campaign: Campaign, subject: str, text: str, customer: Customer) -> mailer.Email:
    unsubscribe_url = unsubscribe.unsubscribe_url(customer.customer_number, campaign.topic)
    return mailer.Email(
        recipient=customer.email,
        subject=subject,
        template="marketing",
        context={
            "name": customer.name,
            "text": text,
            "topic_label": preferences.TOPIC_LABELS[campaign.topic],
            "unsubscribe_url": unsubscribe_url,
        },
        headers=unsubscribe.list_unsubscribe_headers(unsubscribe_url),
        kind="marketing",
        customer_number=customer.customer_number,
        topic=campaign.topic,
        campaign_id=campaign.campaign_id,
    )
