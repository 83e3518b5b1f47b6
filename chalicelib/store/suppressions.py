"""Addresses mail no longer goes to: hard bounces and complaints reported by SES.

A record, not a cache (no TTL). Keyed by a hash of the normalised address, so the
record keeps working after a customer is anonymised without keeping the address itself.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.store.base import PledgeModel


class Suppression(PledgeModel):
    logical_table = "suppressions"

    class Meta:
        table_name = None

    address_hash = UnicodeAttribute(hash_key=True)
    reason = UnicodeAttribute()  # "bounce" | "complaint": the latest event's
    detail = UnicodeAttribute(null=True)  # SES bounce subtype or complaint feedback type
    first_at = UnicodeAttribute()
    last_at = UnicodeAttribute()
    events = NumberAttribute(default=0)
    last_message_id = UnicodeAttribute(null=True)  # the SES message that bounced or was complained about


def get_suppression(address_hash: str) -> Suppression | None:
    return Suppression.find(address_hash, consistent_read=False)


def record_event(address_hash: str, reason: str, detail: str | None, at: str, message_id: str | None) -> None:
    """Create the record or add one event to it (an upsert: SES may report an address
    again, and EventBridge may deliver an event twice)."""
    actions = [
        Suppression.reason.set(reason),
        Suppression.first_at.set(Suppression.first_at | at),
        Suppression.last_at.set(at),
        Suppression.events.add(1),
        Suppression.detail.set(detail) if detail else Suppression.detail.remove(),
        Suppression.last_message_id.set(message_id) if message_id else Suppression.last_message_id.remove(),
    ]
    Suppression(address_hash).update(actions=actions)
