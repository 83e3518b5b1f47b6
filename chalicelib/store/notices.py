"""Policy-change notices: one item per (version, customer), the proof of notice; and one
campaign item per material version, the dispatcher's progress through the customers.

A notice is claimed (conditional write) before its email is sent and recorded after:
- claimed      the dispatch run `claimed_by` is sending it now, or crashed while doing so
- sent         SES accepted it: `message_id`, `sent_at`
- deferred     SES failed transiently; a later run claims it again at `retry_at`
- rejected     SES refused this recipient for good; never retried
- unconfirmed  its run died between claim and record and no mail log entry shows a send:
               it may or may not have gone out, so it is never resent automatically
- failed       sending failed for a reason of its own (a bad customer record, say): it
               holds activation back and is tried again at `retry_at`, like deferred
- skipped      the customer's data stopped being held before a retry
`open_version` is set while a notice is not final (claimed, deferred, failed, unconfirmed): the
sparse index `open_by_version` lists exactly the notices a run must still look at.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.pagination import ResultIterator

from chalicelib.store.base import PledgeModel, written
from chalicelib.store.states import DeliveryStatus
from chalicelib.store.transact import Write

OPEN_STATUSES = (DeliveryStatus.CLAIMED, DeliveryStatus.DEFERRED, DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED)
RETRIED_STATUSES = (DeliveryStatus.DEFERRED, DeliveryStatus.FAILED)
# The campaigns table also holds the dispatcher's lease, under a key no version id can
# take (version ids are letters, digits, ".", "_" and "-").
LEASE_KEY = "*dispatcher-lease"
DONE = "done"  # a pass's segment that reached the end of the table


class NoticesByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_number = UnicodeAttribute(hash_key=True)
    version = UnicodeAttribute(range_key=True)


class OpenNotices(GlobalSecondaryIndex):
    class Meta:
        index_name = "open_by_version"
        projection = AllProjection()

    open_version = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute(range_key=True)


class PolicyNotice(PledgeModel):
    logical_table = "policy_notices"

    class Meta:
        table_name = None

    version = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    held_at_publication = BooleanAttribute(default=False)  # a customer before the version was published
    claimed_by = UnicodeAttribute()  # the dispatch run id
    claimed_at = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    message_id = UnicodeAttribute(null=True)  # SES's message id
    sent_at = UnicodeAttribute(null=True)
    retry_at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)  # SES's error code (or `unexpected:<error type>`) of the last failed attempt
    open_version = UnicodeAttribute(null=True)
    by_customer = NoticesByCustomer()
    open_notices = OpenNotices()


class NoticeCampaign(PledgeModel):
    """Progress of one material version's notices: passes over the customers table.
    Pass 1 covers everyone held; later passes (sweeps) cover customers created since the
    previous pass started. The LEASE_KEY item uses only `lease_owner` and `lease_until`."""

    logical_table = "policy_notice_campaigns"

    class Meta:
        table_name = None

    version = UnicodeAttribute(hash_key=True)
    published_at = UnicodeAttribute(null=True)
    passes = NumberAttribute(default=0)  # passes started
    pass_open = BooleanAttribute(default=False)
    pass_since = UnicodeAttribute(null=True)  # sweeps: customers created at or after this
    pass_started_at = UnicodeAttribute(null=True)
    segments = NumberAttribute(null=True)  # the open pass's parallel scan segments (none: 1)
    cursor = UnicodeAttribute(null=True)  # JSON: segment -> the scan's last evaluated key, or DONE
    first_pass_done_at = UnicodeAttribute(null=True)
    done_at = UnicodeAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = UnicodeAttribute(null=True)

    def pass_segments(self) -> int:
        return int(self.segments or 1)

    def cursors(self) -> dict[str, Any]:
        saved = json.loads(self.cursor) if self.cursor else {}
        return {"0": saved} if "customer_number" in saved else saved  # a cursor saved before segments

    def segment_cursor(self, segment: int) -> dict | None:
        cursor = self.cursors().get(str(segment))
        return cursor if isinstance(cursor, dict) else None

    def unfinished_segments(self) -> list[int]:
        cursors = self.cursors()
        return [n for n in range(self.pass_segments()) if cursors.get(str(n)) != DONE]


# --- notices -------------------------------------------------------------------------


def claim(version: str, customer_number: str, run_id: str, at: str, held: bool | None = None) -> Write:
    """Claim a notice before sending it: a new one (`held` given), or a deferred or failed one again."""
    notice = PolicyNotice(version, customer_number)
    actions: list[Action] = [
        PolicyNotice.status.set(DeliveryStatus.CLAIMED),
        PolicyNotice.claimed_by.set(run_id),
        PolicyNotice.claimed_at.set(at),
        PolicyNotice.attempts.add(1),
        PolicyNotice.open_version.set(version),
    ]
    condition: Condition
    if held is None:
        condition = PolicyNotice.status.is_in(*RETRIED_STATUSES)
    else:
        condition = PolicyNotice.customer_number.does_not_exist()
        actions.append(PolicyNotice.held_at_publication.set(held))
    return lambda transaction: transaction.update(notice, actions=actions, condition=condition)


def settle(version: str, customer_number: str, claimed_by: str, status: str, **fields: Any) -> Write:
    """Record what became of a claimed notice; only the run holding the claim may."""
    return _change(
        version,
        customer_number,
        status,
        fields,
        (PolicyNotice.status == DeliveryStatus.CLAIMED) & (PolicyNotice.claimed_by == claimed_by),
    )


def resolve(version: str, customer_number: str, status: str, **fields: Any) -> Write:
    """Ops' decision about an unconfirmed notice."""
    return _change(version, customer_number, status, fields, PolicyNotice.status == DeliveryStatus.UNCONFIRMED)


def _change(version: str, customer_number: str, status: str, fields: dict, condition: Condition) -> Write:
    notice = PolicyNotice(version, customer_number)
    actions: list[Action] = [PolicyNotice.status.set(status)]
    for name, value in fields.items():
        attribute = getattr(PolicyNotice, name)
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    if status not in OPEN_STATUSES:
        actions.append(PolicyNotice.open_version.remove())
    return lambda transaction: transaction.update(notice, actions=actions, condition=condition)


def get_notice(version: str, customer_number: str) -> PolicyNotice | None:
    return PolicyNotice.find(version, customer_number)


def open_notices(version: str) -> list[PolicyNotice]:
    """Notices of the version not yet final (an eventually consistent index: conditions on
    every write make a stale entry harmless)."""
    return list(PolicyNotice.open_notices.query(version))


def notices_for(version: str) -> ResultIterator[PolicyNotice]:
    """Every notice of the version, only the fields activation weighs."""
    return PolicyNotice.query(
        version, attributes_to_get=["customer_number", "status", "held_at_publication", "sent_at", "claimed_at"]
    )


def notices_of(customer_number: str) -> list[PolicyNotice]:
    return list(PolicyNotice.by_customer.query(customer_number))


# --- campaigns and the lease -----------------------------------------------------------


def new_campaign(version: str, published_at: str) -> NoticeCampaign:
    return NoticeCampaign(version, published_at=published_at, passes=0, pass_open=False)


def unfinished_campaigns() -> list[NoticeCampaign]:
    scan = NoticeCampaign.scan(NoticeCampaign.done_at.does_not_exist(), consistent_read=True)
    return [c for c in scan if c.version != LEASE_KEY]


def get_campaign(version: str) -> NoticeCampaign | None:
    return NoticeCampaign.find(version)


def start_pass(campaign: NoticeCampaign, since: str | None, at: str, segments: int) -> bool:
    return _advance(
        campaign,
        [
            NoticeCampaign.passes.set(campaign.passes + 1),
            NoticeCampaign.pass_open.set(True),
            NoticeCampaign.pass_since.set(since) if since else NoticeCampaign.pass_since.remove(),
            NoticeCampaign.pass_started_at.set(at),
            NoticeCampaign.segments.set(segments),
            NoticeCampaign.cursor.remove(),
        ],
    )


def save_cursor(campaign: NoticeCampaign, segment: int, cursor: dict | str) -> bool:
    """Where the pass's `segment` got to (DONE: to the end of the table)."""
    cursors = {**campaign.cursors(), str(segment): cursor}
    return _advance(campaign, [NoticeCampaign.cursor.set(json.dumps(cursors, sort_keys=True))])


def finish_segment(campaign: NoticeCampaign, segment: int) -> bool:
    return save_cursor(campaign, segment, DONE)


def finish_pass(campaign: NoticeCampaign, at: str) -> bool:
    actions = [NoticeCampaign.pass_open.set(False), NoticeCampaign.cursor.remove()]
    if campaign.first_pass_done_at is None:
        actions.append(NoticeCampaign.first_pass_done_at.set(at))
    return _advance(campaign, actions)


def _advance(campaign: NoticeCampaign, actions: list) -> bool:
    """Move the campaign on from the state this run read; False if another run moved it."""
    unchanged = (NoticeCampaign.passes == campaign.passes) & (NoticeCampaign.pass_open == campaign.pass_open)
    return written(lambda: campaign.update(actions=actions, condition=unchanged))


def finish_campaign(campaign: NoticeCampaign, at: str) -> None:
    campaign.update(actions=[NoticeCampaign.done_at.set(at)])


def acquire_lease(owner: str, now: str, until: str) -> bool:
    """One dispatcher at a time, so the send rate holds across overlapping invocations."""
    lease = NoticeCampaign(LEASE_KEY)
    free = NoticeCampaign.lease_until.does_not_exist() | (NoticeCampaign.lease_until < now)
    actions: list[Action] = [NoticeCampaign.lease_owner.set(owner), NoticeCampaign.lease_until.set(until)]
    return written(lambda: lease.update(actions=actions, condition=free))


def release_lease(owner: str) -> None:
    written(
        lambda: NoticeCampaign(LEASE_KEY).update(
            actions=[NoticeCampaign.lease_until.remove()], condition=NoticeCampaign.lease_owner == owner
        )
    )
