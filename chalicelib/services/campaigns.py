"""Marketing campaigns as resumable jobs on the delivery engine (services/delivery.py).

A campaign's subscribers are split into `marketing_workers` parallel scan segments. A
segment is worked by one run at a time (its lease), from its saved cursor, at its share of
the account's SES rate (`ses_max_send_rate / segments`), until the deadline margin; at the
end of the table it is marked done. Once every segment is done, the campaign's finisher
(holding the campaign's lease) settles claims orphaned by dead runs as `unconfirmed`,
retries deferred deliveries, and marks the campaign complete when none is left open.

`ops_send_marketing` registers a campaign and works it inline as far as its invocation's
time allows; the scheduled `dispatch_marketing` (`dispatch_campaigns`) finishes the rest.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeGuard

from chalicelib.mail.pacing import Pacer
from chalicelib.observability import count, get_logger
from chalicelib.services import mailer, preferences, unsubscribe
from chalicelib.services.delivery import (
    ORPHAN_AFTER,
    Job,
    Outcome,
    Run,
    WorkerPool,
    lease_until,
    new_run_id,
    walk,
)
from chalicelib.settings import get_settings
from chalicelib.store import campaigns as store
from chalicelib.store import customers as customer_store
from chalicelib.store.base import iso, utc_now
from chalicelib.store.campaigns import Campaign, CampaignSegment
from chalicelib.store.customers import Customer
from chalicelib.store.states import CustomerStatus, DeliveryStatus
from chalicelib.store.transact import Write, WriteConflict, commit

Clock = Callable[[], datetime]
COUNTED = tuple(
    str(status)
    for status in (
        DeliveryStatus.SENT,
        DeliveryStatus.SKIPPED,
        DeliveryStatus.REJECTED,
        DeliveryStatus.UNCONFIRMED,
        DeliveryStatus.FAILED,
        DeliveryStatus.DEFERRED,
    )
)


class CampaignKind:
    """Marketing deliveries for the delivery engine: one campaign's."""

    metric = "MarketingDelivery"
    label = "marketing delivery"
    retry_failed = False  # final: later runs skip the customer rather than fail on them again
    backoff = False  # a deferred delivery is tried again by the next run

    def __init__(self, campaign: Campaign):
        self.campaign = campaign

    def claim(self, job: Job, run: Run) -> dict[str, Write]:
        claim = store.claim(self.campaign.campaign_id, job.customer_number, run.id, iso(run.clock()), job.retry)
        if job.retry:
            return {"claim": claim}  # the customer is read (and checked) after the claim
        return {"claim": claim, "subscribed": store.still_subscribed(job.customer_number, self.campaign.topic)}

    def settle(self, job: Job, run: Run, outcome: Outcome) -> Write:
        return store.settle(
            self.campaign.campaign_id, job.customer_number, run.id, outcome.status, iso(run.clock()), **outcome.fields
        )

    def recipient(self, job: Job) -> Customer | None:
        if job.customer is not None:
            return job.customer  # checked in the claim's transaction
        customer = customer_store.get_customer(job.customer_number)
        return customer if eligible(customer, self.campaign.topic) else None

    def email(self, job: Job, customer: Customer) -> mailer.Email:
        campaign = self.campaign
        unsubscribe_url = unsubscribe.unsubscribe_url(customer.customer_number, campaign.topic)
        return mailer.Email(
            recipient=customer.email,
            subject=campaign.subject,
            template="marketing",
            context={
                "name": customer.name,
                "text": campaign.text,
                "topic_label": preferences.TOPIC_LABELS[campaign.topic],
                "unsubscribe_url": unsubscribe_url,
            },
            headers=unsubscribe.list_unsubscribe_headers(unsubscribe_url),
            kind="marketing",
            customer_number=customer.customer_number,
            topic=campaign.topic,
            campaign_id=campaign.campaign_id,
        )

    def log_fields(self, job: Job) -> dict:
        return {"campaign_id": self.campaign.campaign_id}

    def job_for(self, customer: Customer) -> Job:
        return Job(self.campaign.campaign_id, customer.customer_number, customer)


def eligible(customer: Customer | None, topic: str) -> TypeGuard[Customer]:
    return (
        customer is not None
        and customer.status == CustomerStatus.ACTIVE
        and customer.email_verified_at is not None
        and preferences.current_topics(customer)[topic]
    )


# --- the worker: one segment -------------------------------------------------------------


def deliver_segment(
    campaign_id: str, segment: int, time_left: Callable[[], float], *, clock: Clock = utc_now, client: Any = None
) -> dict:
    """Work one scan segment of the campaign's current pass: take its lease, resume its
    cursor, send at `ses_max_send_rate / segments`, stop at the deadline margin, save the
    cursor, mark the segment done at its end. `{"campaign_id", "segment", "done", "busy",
    counts...}`."""
    campaign = store.get_campaign(campaign_id)
    if campaign is None or campaign.done_at is not None or not 0 <= segment < int(campaign.segments):
        return {"campaign_id": campaign_id, "segment": segment, "done": True, "busy": False, **tally({})}
    return _deliver_segment(campaign, segment, _segment_run(campaign, time_left, clock, client))


def _segment_run(campaign: Campaign, time_left: Callable[[], float], clock: Clock, client: Any) -> Run:
    return Run(time_left, clock, Pacer(get_settings().ses_max_send_rate / int(campaign.segments)), client)


def _deliver_segment(campaign: Campaign, segment: int, run: Run) -> dict:
    result = {"campaign_id": campaign.campaign_id, "segment": segment, "done": False, "busy": True}
    item = store.acquire_segment(campaign, segment, run.id, iso(run.clock()), run.until())
    if item is None:
        return {**result, **tally({})}
    result["busy"] = False
    try:
        result["done"] = _walk_segment(campaign, segment, item, run)
    finally:
        if not result["done"]:
            store.release_segment(item, run.id)
    return {**result, **tally(run.counts)}


def _walk_segment(campaign: Campaign, segment: int, item: CampaignSegment, run: Run) -> bool:
    kind = CampaignKind(campaign)
    cursor = json.loads(item.cursor) if item.cursor else None
    customers = customer_store.subscribers_segment(campaign.topic, (segment, int(campaign.segments)), cursor)

    def save(cursor: dict) -> bool:
        return store.save_cursor(item, run.id, json.dumps(cursor, sort_keys=True))

    with WorkerPool(run, kind, get_settings().notice_dispatch_workers) as pool:
        done = walk(customers, kind.job_for, run, pool, save)
    return done and store.finish_segment(item, run.id, iso(run.clock()))


# --- the dispatcher ------------------------------------------------------------------------


def dispatch_campaigns(
    time_left: Callable[[], float],
    hand_out: Callable[[str, int], None] | None = None,
    *,
    clock: Clock = utc_now,
    client: Any = None,
) -> dict:
    """For each unfinished campaign (held by no one else), each unfinished segment whose
    lease is free: handed out (`hand_out(campaign_id, segment)`: a worker elsewhere runs
    `deliver_segment`), or, without `hand_out`, run here in threads. A campaign whose
    segments are all done is finished here."""
    totals = tally({})
    complete: list[str] = []
    unfinished: list[str] = []
    for campaign in store.unfinished_campaigns():
        owner = hold(campaign, time_left, clock)
        if owner is None:
            unfinished.append(campaign.campaign_id)  # sent inline by ops_send_marketing, or another dispatcher
            continue
        result = work(campaign, owner, time_left, clock, client, hand_out)
        totals = {name: totals[name] + result[name] for name in COUNTED}
        (complete if result["complete"] else unfinished).append(campaign.campaign_id)
    count("marketing_sent", totals["sent"])
    return {**totals, "completed": complete, "unfinished": unfinished}


def hold(campaign: Campaign, time_left: Callable[[], float], clock: Clock) -> str | None:
    """The campaign's lease for this invocation; its owner id, or None when it is held."""
    owner = new_run_id()
    return owner if store.acquire_lease(campaign, owner, iso(clock()), lease_until(time_left, clock)) else None


def work(
    campaign: Campaign,
    owner: str,
    time_left: Callable[[], float],
    clock: Clock,
    client: Any = None,
    hand_out: Callable[[str, int], None] | None = None,
) -> dict:
    """Work a campaign whose lease `owner` holds, then let go of it: its free segments (handed
    out, or run here in threads), then, once every segment is done, its finish.
    `{counts..., "complete"}`."""
    try:
        segments = store.segments_of(campaign)
        free = [n for n, item in segments.items() if _free(item, iso(clock()))]
        runs: list[Run] = []
        if hand_out is not None:
            for segment in free:
                hand_out(campaign.campaign_id, segment)
        else:
            runs = _run_inline(campaign, free, time_left, clock, client)
        totals: dict[str, int] = {}
        for run in runs:
            for name, n in run.counts.items():
                totals[name] = totals.get(name, 0) + n
        complete = False
        if all(item is not None and item.done_at for item in store.segments_of(campaign).values()):
            complete = _finish(campaign, owner, {r.id for r in runs}, time_left, clock, client, totals)
        return {**tally(totals), "complete": complete}
    finally:
        store.release_lease(campaign, owner)


def _free(item: CampaignSegment | None, now: str) -> bool:
    return item is None or (item.done_at is None and (item.lease_until is None or item.lease_until < now))


def _run_inline(
    campaign: Campaign, segments: list[int], time_left: Callable[[], float], clock: Clock, client: Any
) -> list[Run]:
    """The segments in threads, each a worker with its share of the rate, as if handed out."""
    runs = [_segment_run(campaign, time_left, clock, client) for _ in segments]
    failures: list[BaseException] = []

    def deliver(segment: int, run: Run) -> None:
        try:
            _deliver_segment(campaign, segment, run)
        except BaseException as error:  # raised below: a thread's exception is otherwise lost
            failures.append(error)

    threads = [threading.Thread(target=deliver, args=pair) for pair in zip(segments, runs, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return runs


def _finish(
    campaign: Campaign,
    owner: str,
    this_invocation: set[str],
    time_left: Callable[[], float],
    clock: Clock,
    client: Any,
    totals: dict[str, int],
) -> bool:
    """Every segment is done: settle orphaned claims, retry deferred deliveries (not those
    deferred by this invocation: SES just refused them), and mark the campaign complete
    when no delivery is open. Adds the retries' counts to `totals`."""
    open_deliveries = store.open_deliveries(campaign.campaign_id)
    _settle_orphans(campaign, open_deliveries, this_invocation, clock)
    now = iso(clock())
    due = [
        Job(campaign.campaign_id, d.customer_number, retry=True, attempts=int(d.attempts))
        for d in open_deliveries
        if d.status == DeliveryStatus.DEFERRED and d.claimed_by not in this_invocation and (d.retry_at or "") <= now
    ]
    if due:
        run = Run(time_left, clock, Pacer(get_settings().ses_max_send_rate), client)
        if not run.should_stop():
            kind = CampaignKind(campaign)
            with WorkerPool(run, kind, get_settings().notice_dispatch_workers) as pool:
                pool.deliver(due)
            for name, n in run.counts.items():
                totals[name] = totals.get(name, 0) + n
    if store.open_deliveries(campaign.campaign_id):
        return False
    return store.finish_campaign(campaign, owner, iso(clock()))


def _settle_orphans(campaign: Campaign, open_deliveries: list, this_invocation: set[str], clock: Clock) -> None:
    """Claims left by a run that died between claim and record: whether SES has the email
    is unknown, so it is never resent: `unconfirmed`, counted and logged."""
    orphaned_before = iso(clock() - ORPHAN_AFTER)
    for delivery in open_deliveries:
        if (
            delivery.status != DeliveryStatus.CLAIMED
            or delivery.claimed_by in this_invocation
            or delivery.claimed_at > orphaned_before
        ):
            continue
        try:
            commit([store.orphaned(campaign.campaign_id, delivery.customer_number, delivery.claimed_by, iso(clock()))])
        except WriteConflict:
            continue  # settled meanwhile
        count("MarketingDeliveryUnconfirmed")
        get_logger().error(
            "marketing delivery may or may not have been sent: not resending",
            extra={"campaign_id": campaign.campaign_id, "customer_number": delivery.customer_number},
        )


def tally(counts: dict[str, int]) -> dict[str, int]:
    """The outcome counts of a run, every one named."""
    return {name: counts.get(name, 0) for name in COUNTED}
