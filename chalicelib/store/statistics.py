"""Website statistics: daily aggregate buckets (kept), and the two ephemeral tables that
count unique visitors without keeping anyone: the day's secret salt and the salted
visitor hashes seen today. Nothing here holds an IP address or a User-Agent string."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.pagination import ResultIterator

from chalicelib.store.base import PledgeModel, written


class StatsBucket(PledgeModel):
    """One day's counts for one combination of event name, path, referrer host, country,
    device type, browser family and OS family. `bucket` is a hash of that combination."""

    logical_table = "stats_daily"

    class Meta:
        table_name = None

    day = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    path = UnicodeAttribute()
    referrer = UnicodeAttribute()
    country = UnicodeAttribute()
    device = UnicodeAttribute()
    browser = UnicodeAttribute()
    os = UnicodeAttribute()
    # `hits`: events. The others: visitors new that day to the event name, and to each
    # breakdown value (a visitor counts once per day and value, in the bucket of the
    # first event that had that value).
    hits = NumberAttribute(default=0)
    visitors = NumberAttribute(default=0)
    path_visitors = NumberAttribute(default=0)
    referrer_visitors = NumberAttribute(default=0)
    country_visitors = NumberAttribute(default=0)
    device_visitors = NumberAttribute(default=0)
    browser_visitors = NumberAttribute(default=0)
    os_visitors = NumberAttribute(default=0)


class SeenVisitor(PledgeModel):
    """A salted visitor hash seen today, with salted hashes of the values it was counted for."""

    logical_table = "stats_seen"

    class Meta:
        table_name = None

    visitor = UnicodeAttribute(hash_key=True)
    seen = UnicodeSetAttribute(null=True)
    expires_ttl = TTLAttribute()


class DailySalt(PledgeModel):
    logical_table = "stats_salts"

    class Meta:
        table_name = None

    day = UnicodeAttribute(hash_key=True)
    salt = UnicodeAttribute()
    expires_ttl = TTLAttribute()


def get_salt(day: str) -> str | None:
    item = DailySalt.find(day)
    return item.salt if item else None


def create_salt(day: str, salt: str, expires: datetime) -> bool:
    """False if another caller made the day's salt first."""
    item = DailySalt(day, salt=salt, expires_ttl=expires)
    return written(lambda: item.save(condition=DailySalt.day.does_not_exist()))


def salt_days() -> list[str]:
    return [item.day for item in DailySalt.scan(attributes_to_get=["day"])]


def delete_salt(day: str) -> None:
    DailySalt(day).delete()


def mark_seen(visitor: str, tokens: set[str], cap: int, expires: datetime) -> set[str] | None:
    """Add `tokens` to the visitor's set of the day in one atomic update and return the set
    as it was before (empty for a visitor new today). None when the set already holds
    `cap` tokens (a crawler): nothing is added and nothing counts as new."""
    from pynamodb.constants import UPDATED_OLD
    from pynamodb.exceptions import UpdateError
    from pynamodb.expressions.condition import size

    actions = [SeenVisitor.seen.add(tokens), SeenVisitor.expires_ttl.set(expires)]
    condition = SeenVisitor.seen.does_not_exist() | (size(SeenVisitor.seen) < cap)
    try:
        answer = SeenVisitor._get_connection().update_item(
            visitor, actions=actions, condition=condition, return_values=UPDATED_OLD
        )
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return None
        raise
    return set(answer.get("Attributes", {}).get("seen", {}).get("SS", []))


def add_to_bucket(day: str, bucket: str, dimensions: dict[str, str], increments: dict[str, int]) -> None:
    """One atomic update: the bucket's dimensions (the same on every write) and its counters."""
    actions = [getattr(StatsBucket, name).set(value) for name, value in dimensions.items()]
    actions.append(StatsBucket.hits.add(1))
    actions += [getattr(StatsBucket, name).add(n) for name, n in increments.items() if n]
    StatsBucket._get_connection().update_item(day, bucket, actions=actions)


def buckets_of(day: str) -> ResultIterator[StatsBucket]:
    return StatsBucket.query(day)
