"""Addresses mail no longer goes to: hard bounces and complaints reported by SES.

A record, not a cache (no TTL). Keyed by a hash of the normalised address, so the
record keeps working after a customer is anonymised without keeping the address itself.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action

from chalicelib.store.base import PledgeModel, written


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
    lifted_at = UnicodeAttribute(null=True)  # ops lifted it (a later event suppresses the address again)
    lift_reason = UnicodeAttribute(null=True)

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None or self.last_at > self.lifted_at


def get_suppression(address_hash: str) -> Suppression | None:
    return Suppression.find(address_hash, consistent_read=False)


def suppressed(address_hashes: set[str]) -> set[str]:
    """Those of the hashes whose suppression is in force (BatchGetItem, 100 keys a call)."""
    if not address_hashes:
        return set()
    fields = ["address_hash", "last_at", "lifted_at"]
    return {s.address_hash for s in Suppression.batch_get(address_hashes, attributes_to_get=fields) if s.in_force}


def record_event(address_hash: str, reason: str, detail: str | None, at: str, message_id: str | None) -> None:
    """Create the record or add one event to it (an upsert: SES may report an address
    again, and EventBridge may deliver an event twice)."""
    actions: list[Action] = [
        Suppression.reason.set(reason),
        Suppression.first_at.set(Suppression.first_at | at),
        Suppression.last_at.set(at),
        Suppression.events.add(1),
        Suppression.detail.set(detail) if detail else Suppression.detail.remove(),
        Suppression.last_message_id.set(message_id) if message_id else Suppression.last_message_id.remove(),
    ]
    Suppression(address_hash).update(actions=actions)


def lift(address_hash: str, at: str, reason: str) -> bool:
    """Mark the suppression lifted (the record stays); False if there is none."""
    actions: list[Action] = [Suppression.lifted_at.set(at), Suppression.lift_reason.set(reason)]
    return written(
        lambda: Suppression(address_hash).update(actions=actions, condition=Suppression.address_hash.exists())
    )
