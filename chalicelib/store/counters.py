"""Fixed-window counters taken with one conditional write each, so parallel callers can
never take more than the limit: the slot is reserved before the work it guards is done.

Two tables hold them: `login_throttle` (password checks per account) and `mail_limits`
(mail the public forms send to one address). Keys are hashes; items expire by TTL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action

from chalicelib.store.base import PledgeModel, written


class WindowCounter(PledgeModel):
    """A counter of `hits` in the window that opened at `window_start` (epoch seconds)."""

    key = UnicodeAttribute(hash_key=True)
    window_start = NumberAttribute()
    expires_ttl = TTLAttribute()
    hits: NumberAttribute  # each table declares its own (the attribute names differ)


class LoginThrottle(WindowCounter):
    """Password checks reserved for one account (keyed by a hash of its email) in the window."""

    logical_table = "login_throttle"

    class Meta:
        table_name = None

    hits = NumberAttribute(attr_name="failures", default=0)


class MailLimit(WindowCounter):
    """Emails the public forms sent to one address (keyed by a keyed hash of it) in the window."""

    logical_table = "mail_limits"

    class Meta:
        table_name = None

    hits = NumberAttribute(default=0)


class Slot(NamedTuple):
    taken: bool
    window_start: int
    retry_after: int  # seconds until the window ends (when not taken)


def take(model: type[WindowCounter], key: str, now: int, window_seconds: int, limit: int) -> Slot:
    """Take one of `limit` slots in the window open for `key`, or open a new window. Both
    writes are conditional: of N parallel callers at most `limit` get a slot."""
    cutoff = now - window_seconds
    item = model(key)
    in_open_window: list[Action] = [model.hits.add(1)]
    new_window: list[Action] = [
        model.window_start.set(now),
        model.hits.set(1),
        model.expires_ttl.set(datetime.fromtimestamp(now + window_seconds, tz=UTC)),
    ]
    window_closed = model.window_start.does_not_exist() | (model.window_start <= cutoff)
    for _ in range(5):
        # Most checks are the first of their key in a window (an account logs in now and then): try that first.
        if written(lambda: item.update(actions=new_window, condition=window_closed)):
            return Slot(True, now, 0)
        if written(
            lambda: item.update(actions=in_open_window, condition=(model.window_start > cutoff) & (model.hits < limit))
        ):
            return Slot(True, int(item.window_start), 0)
        current = model.find(key)
        if current is not None and current.window_start > cutoff and current.hits >= limit:
            return Slot(False, int(current.window_start), max(1, int(current.window_start) + window_seconds - now))
    return Slot(False, now, window_seconds)  # still contended after five tries: refuse, never over-admit


def give_back(model: type[WindowCounter], key: str, window_start: int) -> None:
    """Return a slot taken in the window that opened at `window_start` (not in a later one)."""
    written(
        lambda: model(key).update(
            actions=[model.hits.add(-1)], condition=(model.window_start == window_start) & (model.hits > 0)
        )
    )
