"""Marketing campaigns: one email per active, verified customer subscribed to the topic,
at most once per campaign.

`send_campaign` (ops_send_marketing) registers the campaign as a job (the same content
is the same campaign; a complete campaign sent again starts a new pass, which reaches
whoever subscribed since) and sends as much of it as its invocation's time allows; the
scheduled `dispatch_marketing` finishes the rest (services/campaigns.py). Each delivery is
claimed with a conditional write before its email is sent, on the delivery engine
(services/delivery.py): a transient SES failure is recorded `deferred` and tried again by
a later run; a permanent rejection, a lost answer (`unconfirmed`) or a bad customer
record (`failed`) is final for the campaign.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import invocation
from chalicelib.errors import Conflict, NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services import campaigns
from chalicelib.services.delivery import lease_until, new_run_id
from chalicelib.settings import get_settings
from chalicelib.store import campaigns as store
from chalicelib.store import customers as customer_store
from chalicelib.store.base import iso, utc_now
from chalicelib.store.campaigns import Campaign

# Without a Lambda invocation (a script, a test): the longest a Lambda invocation may run.
DEFAULT_BUDGET_SECONDS = 900.0


def send_campaign(
    topic: str,
    subject: str,
    text: str,
    campaign_id: str | None = None,
    client: Any = None,
    time_left: Callable[[], float] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> dict:
    """Register the campaign and send it until done or until the invocation's deadline
    margin. `{"campaign_id", "sent", "skipped", "rejected", "unconfirmed", "failed",
    "deferred", "remaining", "complete"}` (the counts are this invocation's)."""
    time_left = time_left or invocation.time_left() or _budget(DEFAULT_BUDGET_SECONDS)
    owner = new_run_id()
    campaign, held = _register(topic, subject, text, campaign_id, owner, lease_until(time_left, clock))
    if held:
        result = campaigns.work(campaign, owner, time_left, clock, client)
    else:  # a dispatcher is sending it right now
        result = {**campaigns.tally({}), "complete": False}
    remaining = 0 if result["complete"] else _remaining(campaign)
    result = {"campaign_id": campaign.campaign_id, **result, "remaining": remaining}
    count("marketing_sent", result["sent"])
    get_logger().info("campaign run", extra=dict(result))
    return result


def campaign_key(topic: str, subject: str, text: str) -> str:
    return hashlib.sha256(json.dumps([topic, subject, text]).encode()).hexdigest()


def _register(
    topic: str, subject: str, text: str, campaign_id: str | None, owner: str, until: str
) -> tuple[Campaign, bool]:
    """The campaign under its id (by default derived from its content, so the same content
    sent again is the same campaign), and whether `owner` holds its lease. An id already
    used for other content: Conflict."""
    content_hash = campaign_key(topic, subject, text)
    campaign, new = store.register_campaign(
        Campaign(
            campaign_id or f"auto-{content_hash[:32]}",
            topic=topic,
            subject=subject,
            text=text,
            content_hash=content_hash,
            created_at=iso(utc_now()),
            passes=1,
            segments=get_settings().marketing_workers,
            lease_owner=owner,
            lease_until=until,
        )
    )
    if campaign.content_hash != content_hash:
        raise Conflict("This campaign id was already used for a different campaign.")
    if new:
        return campaign, True
    if campaign.done_at is not None or campaign.text is None:  # complete, or registered before campaigns were jobs
        return campaign, store.reopen(campaign, text, get_settings().marketing_workers, owner, until)
    return campaign, store.acquire_lease(campaign, owner, iso(utc_now()), until)


def _budget(seconds: float) -> Callable[[], float]:
    deadline = time.monotonic() + seconds
    return lambda: deadline - time.monotonic()


def _remaining(campaign: Campaign) -> int:
    """Deliveries still open, plus the subscribers the unfinished segments have not reached."""
    unreached = 0
    for segment, item in store.segments_of(campaign).items():
        if item is not None and item.done_at is not None:
            continue
        cursor = json.loads(item.cursor) if item is not None and item.cursor else None
        scan = customer_store.subscribers_segment(
            campaign.topic, (segment, int(campaign.segments)), cursor, fields=("customer_number",)
        )
        unreached += sum(1 for _ in scan)
    return len(store.open_deliveries(campaign.campaign_id)) + unreached


def campaign_status(campaign_id: str) -> dict:
    """ops_campaign_status: the campaign's deliveries counted by status, its segments, and
    whether it is complete (queries and key reads, no scan)."""
    campaign = store.get_campaign(campaign_id)
    if campaign is None:
        raise NotFound("No campaign with that id.")
    segments = store.segments_of(campaign)
    counts = store.status_counts(campaign_id)
    return {
        "campaign_id": campaign_id,
        "topic": campaign.topic,
        "subject": campaign.subject,
        "created_at": campaign.created_at,
        "passes": int(campaign.passes),
        "segments": int(campaign.segments),
        "segments_done": sum(1 for item in segments.values() if item is not None and item.done_at),
        "counts": dict(sorted(counts.items())),
        "open": sum(counts[status] for status in store.OPEN_STATUSES),
        "complete": campaign.done_at is not None,
        "done_at": campaign.done_at,
    }
