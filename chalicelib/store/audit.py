from __future__ import annotations

import uuid

from pynamodb.attributes import (
    ListAttribute,
    UnicodeAttribute,
)

from chalicelib import invocation
from chalicelib.store.base import PledgeModel, iso, utc_now
from chalicelib.store.transact import Write, put_new


class AuditEntry(PledgeModel):
    """Append-only trail of account changes: who, what fields, when; never values."""

    logical_table = "audit_trail"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    fields = ListAttribute(of=UnicodeAttribute, null=True)
    reason = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    caller = UnicodeAttribute(null=True)  # who invoked, where Lambda says (chalicelib/invocation.py)
    at = UnicodeAttribute()


def audit_entry(
    customer_number: str,
    action: str,
    actor: str,
    fields: list[str] | None = None,
    reason: str | None = None,
    request_id: str | None = None,
) -> Write:
    """The write that appends one entry to a customer's audit trail (never overwrites).
    Written during an ops or scheduled invocation, it carries that invocation's Lambda
    request id (the key to its CloudTrail record) and caller, where known."""
    now = iso(utc_now())
    running = invocation.current()
    entry = AuditEntry(
        customer_number,
        f"{now}#{uuid.uuid4().hex[:12]}",
        action=action,
        actor=actor,
        fields=sorted(fields) if fields else None,
        reason=reason,
        request_id=request_id or (running and running.request_id),
        caller=running and running.caller,
        at=now,
    )
    return put_new(entry)


def entries_of(customer_number: str) -> list[AuditEntry]:
    return list(AuditEntry.query(customer_number))


def scrub_reasons(customer_number: str, actor: str, placeholder: str) -> int:
    """Replace the free-text reason of every entry written by `actor` (what a customer
    typed); the entries themselves, their actions, fields and dates remain."""
    scrubbed = 0
    for entry in entries_of(customer_number):
        if entry.actor == actor and entry.reason not in (None, placeholder):
            entry.update(actions=[AuditEntry.reason.set(placeholder)])
            scrubbed += 1
    return scrubbed
