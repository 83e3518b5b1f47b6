"""Retention records (why a deactivated customer's data is kept, until when) and legal
holds. Neither table has a TTL: these are records the policy promises to keep."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel
from chalicelib.store.transact import Write

PENDING = "pending"


class RecordsByReview(GlobalSecondaryIndex):
    """Sparse: only records not yet anonymized carry `pending_review`."""

    class Meta:
        index_name = "by_review"
        projection = AllProjection()

    pending_review = UnicodeAttribute(hash_key=True)
    review_at = UnicodeAttribute(range_key=True)


class RetentionRecord(PledgeModel):
    logical_table = "retention_records"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    initiated_by = UnicodeAttribute()  # "customer" | "ops"
    reason = UnicodeAttribute(null=True)
    legal_bases = ListAttribute(of=UnicodeAttribute)
    # kind of record -> its own basis (orders: bookkeeping_law)
    record_bases: MapAttribute[str, Any] = MapAttribute(null=True)
    deactivated_at = UnicodeAttribute()
    review_at = UnicodeAttribute()
    anonymized_at = UnicodeAttribute(null=True)
    # Set in the same transaction as the anonymization, removed once the customer's other
    # records are scrubbed (so a crash mid-way can resume).
    erasure_pending = BooleanAttribute(null=True)
    pending_review = UnicodeAttribute(null=True, default=PENDING)
    by_review = RecordsByReview()


class LegalHold(PledgeModel):
    logical_table = "legal_holds"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    hold_id = UnicodeAttribute(range_key=True)
    reason = UnicodeAttribute()
    placed_at = UnicodeAttribute()
    released_at = UnicodeAttribute(null=True)
    release_reason = UnicodeAttribute(null=True)


def get_retention_record(customer_number: str) -> RetentionRecord | None:
    return RetentionRecord.find(customer_number)


def records_due_for_review(now_iso: str) -> list[RetentionRecord]:
    return list(RetentionRecord.by_review.query(PENDING, RetentionRecord.review_at <= now_iso))


def mark_anonymized(record: RetentionRecord, at: str, scrubbed_reason: str) -> Write:
    """Anonymized at `at`, the scrub of other records pending; a reason the customer typed
    is replaced by `scrubbed_reason`."""
    actions: list[Action] = [
        RetentionRecord.anonymized_at.set(at),
        RetentionRecord.erasure_pending.set(True),
        RetentionRecord.pending_review.remove(),
    ]
    if record.initiated_by == "customer" and record.reason is not None:
        actions.append(RetentionRecord.reason.set(scrubbed_reason))
    return lambda transaction: transaction.update(
        record,
        actions=actions,
        condition=RetentionRecord.customer_number.exists() & RetentionRecord.anonymized_at.does_not_exist(),
    )


def holds_of(customer_number: str) -> list[LegalHold]:
    return list(LegalHold.query(customer_number, consistent_read=True))


def release_hold(hold: LegalHold, at: str, reason: str) -> Write:
    return lambda transaction: transaction.update(
        hold,
        actions=[LegalHold.released_at.set(at), LegalHold.release_reason.set(reason)],
        condition=LegalHold.released_at.does_not_exist(),
    )


def clear_erasure_pending(customer_number: str) -> None:
    RetentionRecord(customer_number).update(actions=[RetentionRecord.erasure_pending.remove()])
