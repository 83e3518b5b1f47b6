"""Marketing campaigns: the campaign (a job: its content, its passes over the subscribers,
its lease), the progress of each parallel scan segment of its current pass, and one
delivery per (campaign, customer), claimed before the email is sent, so a campaign
reaches each customer at most once.

Segment items live in the campaigns table under `<campaign id>#<pass>#<segment>`, a key
no campaign id can take (ids are letters, digits, ".", "_" and "-").

A delivery (statuses: `DeliveryStatus`):
- claimed      the run `claimed_by` is sending it now, or died doing so
- sent         SES accepted it: `message_id`, `finished_at`
- deferred     SES refused it for now: a later run claims it again
- rejected     SES refused this recipient for good
- unconfirmed  SES may or may not have it (lost answer, or a claim orphaned by a dead run)
- failed       an unexpected error for this customer (a bad record): final for the campaign
- skipped      no longer subscribed when a deferred delivery was tried again
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action

from chalicelib.store.base import PledgeModel, written
from chalicelib.store.customers import Customer, subscribed
from chalicelib.store.states import DeliveryStatus
from chalicelib.store.transact import Write

OPEN_STATUSES = (DeliveryStatus.CLAIMED, DeliveryStatus.DEFERRED)
FINAL_STATUSES = frozenset(DeliveryStatus) - set(OPEN_STATUSES)


class Campaign(PledgeModel):
    logical_table = "campaigns"

    class Meta:
        table_name = None

    campaign_id = UnicodeAttribute(hash_key=True)
    topic = UnicodeAttribute()
    subject = UnicodeAttribute()
    content_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()
    text = UnicodeAttribute(null=True)  # null: registered before campaigns became jobs
    passes = NumberAttribute(default=1)  # a complete campaign sent again starts a new pass
    segments = NumberAttribute(default=1)  # parallel scan segments of the current pass
    done_at = UnicodeAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)  # the run sending it inline, or finishing it
    lease_until = UnicodeAttribute(null=True)


class CampaignSegment(PledgeModel):
    """One parallel scan segment of a campaign's pass: its cursor and its lease."""

    logical_table = "campaigns"

    class Meta:
        table_name = None

    campaign_id = UnicodeAttribute(hash_key=True)  # <campaign id>#<pass>#<segment>
    cursor = UnicodeAttribute(null=True)  # JSON of the scan's last evaluated key
    done_at = UnicodeAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = UnicodeAttribute(null=True)


class Delivery(PledgeModel):
    logical_table = "campaign_deliveries"

    class Meta:
        table_name = None

    campaign_id = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    claimed_at = UnicodeAttribute()
    claimed_by = UnicodeAttribute(null=True)  # the run id
    attempts = NumberAttribute(default=0)
    message_id = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    retry_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)


# --- campaigns and their leases --------------------------------------------------------


def register_campaign(campaign: Campaign) -> tuple[Campaign, bool]:
    """Save a new campaign (its lease taken by the caller); if the id is taken, the campaign
    saved under it. And whether it is new."""
    if written(lambda: campaign.save(condition=Campaign.campaign_id.does_not_exist())):
        return campaign, True
    saved = Campaign.find(campaign.campaign_id)
    assert saved is not None  # its save failed because it exists (and campaigns are never deleted)
    return saved, False


def get_campaign(campaign_id: str) -> Campaign | None:
    return Campaign.find(campaign_id)


def unfinished_campaigns() -> list[Campaign]:
    """Campaigns with work left (a scan of the campaigns table: the dispatcher's)."""
    condition = Campaign.topic.exists() & Campaign.text.exists() & Campaign.done_at.does_not_exist()
    return list(Campaign.scan(condition, consistent_read=True))


def reopen(campaign: Campaign, text: str, segments: int, owner: str, until: str) -> bool:
    """A complete campaign sent again: a new pass reaches whoever subscribed since."""
    actions: list[Action] = [
        Campaign.passes.set(campaign.passes + 1),
        Campaign.segments.set(segments),
        Campaign.text.set(text),
        Campaign.done_at.remove(),
        Campaign.lease_owner.set(owner),
        Campaign.lease_until.set(until),
    ]
    unchanged = (Campaign.passes == campaign.passes) | Campaign.passes.does_not_exist()  # none: registered before
    return written(lambda: campaign.update(actions=actions, condition=unchanged))


def acquire_lease(campaign: Campaign, owner: str, now: str, until: str) -> bool:
    """The campaign to one inline sender or finisher at a time."""
    return _lease(campaign, owner, now, until)


def release_lease(campaign: Campaign, owner: str) -> None:
    _release(campaign, owner)


def finish_campaign(campaign: Campaign, owner: str, at: str) -> bool:
    condition = (Campaign.lease_owner == owner) & (Campaign.passes == campaign.passes)
    return written(lambda: campaign.update(actions=[Campaign.done_at.set(at)], condition=condition))


# --- segments ---------------------------------------------------------------------------


def segment_key(campaign: Campaign, segment: int) -> str:
    return f"{campaign.campaign_id}#{int(campaign.passes)}#{segment}"


def segments_of(campaign: Campaign) -> dict[int, CampaignSegment | None]:
    """The current pass's segments (None: not started), in one BatchGetItem."""
    keys = {segment_key(campaign, n): n for n in range(int(campaign.segments))}
    found = {s.campaign_id: s for s in CampaignSegment.batch_get(list(keys), consistent_read=True)}
    return {n: found.get(key) for key, n in keys.items()}


def acquire_segment(campaign: Campaign, segment: int, owner: str, now: str, until: str) -> CampaignSegment | None:
    """The segment's lease (the item is made on the first), unless it is held or done."""
    item = CampaignSegment(segment_key(campaign, segment))
    free = (CampaignSegment.lease_until.does_not_exist() | (CampaignSegment.lease_until < now)) & (
        CampaignSegment.done_at.does_not_exist()
    )
    actions: list[Action] = [CampaignSegment.lease_owner.set(owner), CampaignSegment.lease_until.set(until)]
    return item if written(lambda: item.update(actions=actions, condition=free)) else None


def save_cursor(segment: CampaignSegment, owner: str, cursor: str) -> bool:
    return _held(segment, owner, [CampaignSegment.cursor.set(cursor)])


def finish_segment(segment: CampaignSegment, owner: str, at: str) -> bool:
    return _held(segment, owner, [CampaignSegment.done_at.set(at), CampaignSegment.lease_until.remove()])


def release_segment(segment: CampaignSegment, owner: str) -> None:
    _release(segment, owner)


def _held(segment: CampaignSegment, owner: str, actions: list[Action]) -> bool:
    """Write only while the lease is ours; False if another run took it over."""
    return written(lambda: segment.update(actions=actions, condition=CampaignSegment.lease_owner == owner))


def _lease(item: Any, owner: str, now: str, until: str) -> bool:
    model = type(item)
    free = model.lease_until.does_not_exist() | (model.lease_until < now) | (model.lease_owner == owner)
    actions = [model.lease_owner.set(owner), model.lease_until.set(until)]
    return written(lambda: item.update(actions=actions, condition=free))


def _release(item: Any, owner: str) -> None:
    model = type(item)
    written(lambda: item.update(actions=[model.lease_until.remove()], condition=model.lease_owner == owner))


# --- deliveries ------------------------------------------------------------------------


def claim(campaign_id: str, customer_number: str, run_id: str, at: str, retry: bool) -> Write:
    """Claim a delivery before sending it: a new one, or a deferred one again."""
    delivery = Delivery(campaign_id, customer_number)
    actions: list[Action] = [
        Delivery.status.set(DeliveryStatus.CLAIMED),
        Delivery.claimed_by.set(run_id),
        Delivery.claimed_at.set(at),
        Delivery.attempts.add(1),
    ]
    condition = Delivery.status == DeliveryStatus.DEFERRED if retry else Delivery.customer_number.does_not_exist()
    return lambda transaction: transaction.update(delivery, actions=actions, condition=condition)


def still_subscribed(customer_number: str, topic: str) -> Write:
    """A condition on the customer, checked in the claim's transaction: still active,
    verified and subscribed (the scan that found them may be minutes old)."""
    condition = subscribed(topic)
    return lambda transaction: transaction.condition_check(Customer, customer_number, condition=condition)


def settle(campaign_id: str, customer_number: str, claimed_by: str, status: str, at: str, **fields: Any) -> Write:
    """Record what became of a claimed delivery; only the run holding the claim may.
    `fields`: message_id, error (stored as error_code), retry_at, sent_at (ignored: `at`)."""
    names = {"message_id": Delivery.message_id, "error": Delivery.error_code, "retry_at": Delivery.retry_at}
    actions: list[Action] = [Delivery.status.set(status)]
    for name, value in fields.items():
        if name in names:
            actions.append(names[name].set(value) if value is not None else names[name].remove())
    if status in FINAL_STATUSES:
        actions.append(Delivery.finished_at.set(at))
    condition = (Delivery.status == DeliveryStatus.CLAIMED) & (Delivery.claimed_by == claimed_by)
    delivery = Delivery(campaign_id, customer_number)
    return lambda transaction: transaction.update(delivery, actions=actions, condition=condition)


def orphaned(campaign_id: str, customer_number: str, claimed_by: str | None, at: str) -> Write:
    """A claim whose run died between claim and record: SES may have the email."""
    if claimed_by is None:  # claimed before claims named their run
        delivery = Delivery(campaign_id, customer_number)
        actions: list[Action] = [
            Delivery.status.set(DeliveryStatus.UNCONFIRMED),
            Delivery.error_code.set("claim_orphaned"),
            Delivery.finished_at.set(at),
        ]
        condition = Delivery.status == DeliveryStatus.CLAIMED
        return lambda transaction: transaction.update(delivery, actions=actions, condition=condition)
    return settle(campaign_id, customer_number, claimed_by, DeliveryStatus.UNCONFIRMED, at, error="claim_orphaned")


def open_deliveries(campaign_id: str) -> list[Delivery]:
    """Deliveries not yet final (a query over the campaign's deliveries)."""
    fields = ["customer_number", "status", "claimed_by", "claimed_at", "attempts", "retry_at"]
    return list(
        Delivery.query(
            campaign_id,
            filter_condition=Delivery.status.is_in(*OPEN_STATUSES),
            attributes_to_get=fields,
            consistent_read=True,
        )
    )


def status_counts(campaign_id: str) -> Counter[str]:
    """The campaign's deliveries counted by status (a query, status only)."""
    return Counter(d.status for d in Delivery.query(campaign_id, attributes_to_get=["status"]))
