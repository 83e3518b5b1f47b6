"""Cookieless website statistics: daily aggregates, unique visitors counted by a salted
hash that cannot be linked across days, small rows folded on the way out.

Per event, two DynamoDB writes and nothing buffered: one update adds the visitor's
salted tokens to its set of the day (answering which were new), one atomic ADD counts
the event into its daily bucket. The day's salt is read once per container and day.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib.errors import ValidationFailed
from chalicelib.observability import count
from chalicelib.services.stats_dimensions import dimensions
from chalicelib.store import statistics as store
from chalicelib.store.base import utc_now

PAGEVIEW = "pageview"
MIN_VISITORS = 5  # a breakdown row is shown only with at least this many visitors on one day
OTHER = "other"
MAX_RANGE_DAYS = 366
SEEN_CAP = 1000  # tokens one visitor's set may hold in a day; past it (a crawler) nothing counts as new
BREAKDOWNS = {
    "pages": "path",
    "countries": "country",
    "devices": "device",
    "browsers": "browser",
    "operating_systems": "os",
    "referrers": "referrer",
}

_salt_cache: dict[str, str] = {}  # today's salt only: replaced on the first event of the next day


def record_event(event: dict, ip: str, user_agent: str, country_header: str | None) -> None:
    dims = dimensions(event, user_agent, country_header)
    now = utc_now()
    day, day_ends = now.date().isoformat(), _end_of(now.date())
    salt = _salt_of(day, day_ends)
    visitor = _digest(salt, f"{ip}\n{user_agent}")
    tokens = {"visitors": _digest(salt, dims["name"])[:16]}
    tokens.update(
        {
            f"{attr}_visitors": _digest(salt, f"{dims['name']}\x1f{attr}\x1f{dims[attr]}")[:16]
            for attr in BREAKDOWNS.values()
        }
    )
    before = store.mark_seen(visitor, set(tokens.values()), SEEN_CAP, day_ends)
    new = {} if before is None else {counter: int(token not in before) for counter, token in tokens.items()}
    store.add_to_bucket(day, _bucket_key(dims), dims, new)
    if dims["name"] == PAGEVIEW:
        count("stats_pageview")
        if new.get("visitors"):
            count("stats_visitor")


def _digest(salt: str, text: str) -> str:
    return hmac.new(bytes.fromhex(salt), text.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def _bucket_key(dims: dict[str, str]) -> str:
    return hashlib.sha256("\x1f".join(dims[k] for k in sorted(dims)).encode()).hexdigest()[:32]


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _salt_of(day: str, day_ends: datetime) -> str:
    if day not in _salt_cache:
        _salt_cache.clear()
        salt = store.get_salt(day)
        if salt is None:
            fresh = secrets.token_hex(32)
            salt = fresh if store.create_salt(day, fresh, day_ends) else store.get_salt(day)
        assert salt is not None  # created by us or by whoever won the race
        _salt_cache[day] = salt
    return _salt_cache[day]


def forget_cached_salt() -> None:
    _salt_cache.clear()


def destroy_old_salts() -> dict:
    """Delete every salt of a day that has ended (run every 15 minutes; the TTL is the
    second line). Without it, no visitor hash of that day can be recomputed or linked."""
    today = utc_now().date().isoformat()
    destroyed = sorted(day for day in store.salt_days() if day < today)
    for day in destroyed:
        store.delete_salt(day)
    return {"destroyed": destroyed}


def site_statistics(first: str, last: str) -> dict:
    rows: dict[str, defaultdict[str, _Row]] = {name: defaultdict(_Row) for name in (*BREAKDOWNS, "events")}
    totals: dict[str, float] = {"visitors": 0, "pageviews": 0}
    for day in _days(first, last):
        daily: dict[str, defaultdict[str, _Row]] = {name: defaultdict(_Row) for name in rows}
        for bucket in store.buckets_of(day):
            if bucket.name == PAGEVIEW:
                totals["visitors"] += bucket.visitors
                totals["pageviews"] += bucket.hits
                for name, attr in BREAKDOWNS.items():
                    daily[name][getattr(bucket, attr)].add(getattr(bucket, f"{attr}_visitors"), bucket.hits)
            else:
                daily["events"][bucket.name].add(bucket.visitors, bucket.hits)
        for name, day_rows in daily.items():
            for key, row in day_rows.items():
                rows[name][key].add_day(row)
    result = {**totals, **{name: _fold(rows[name], "pageviews") for name in BREAKDOWNS}}
    result["events"] = _fold(rows["events"], "events")
    return result


class _Row:
    def __init__(self) -> None:
        self.visitors: float = 0
        self.hits: float = 0
        self.best_day: float = 0

    def add(self, visitors: float, hits: float) -> None:
        self.visitors += visitors
        self.hits += hits

    def add_day(self, day: _Row) -> None:
        self.add(day.visitors, day.hits)
        self.best_day = max(self.best_day, day.visitors)


def _fold(rows: dict[str, _Row], count_name: str) -> list[dict]:
    """Rows proven to hold at least MIN_VISITORS different people (that many on one day:
    visitors on different days may be the same person) are shown; the rest are summed
    into one row `other`, so a rare page or country cannot single anyone out."""
    shown: list[dict[str, Any]] = []
    other = _Row()
    for key, row in rows.items():
        if row.best_day >= MIN_VISITORS and key != OTHER:
            shown.append({"key": key, "visitors": int(row.visitors), count_name: int(row.hits)})
        else:
            other.add(row.visitors, row.hits)
    shown.sort(key=lambda r: (-r["visitors"], -r[count_name], r["key"]))
    if other.visitors or other.hits:
        shown.append({"key": OTHER, "visitors": int(other.visitors), count_name: int(other.hits)})
    return shown


def _days(first: str, last: str) -> list[str]:
    start, end = _date(first, "from"), _date(last, "to")
    if end < start:
        raise ValidationFailed("The request is not valid.", [{"path": "to", "message": "must not be before from"}])
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(
            "The request is not valid.",
            [{"path": "to", "message": f"the range may span at most {MAX_RANGE_DAYS} days"}],
        )
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "The request is not valid.", [{"path": field, "message": "is not a valid date"}]
        ) from None
