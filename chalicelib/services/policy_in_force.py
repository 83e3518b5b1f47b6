"""The policy version in force as this process last read it: signup's consent events
name it without a read per request.

Whoever records it commits `still_in_force()` with the records: a condition that the
pointer still names that version when the writes land. When it fails (another version
came into force since), `forget()` and try again: the next `version()` reads afresh.
Concurrent signups all check the one pointer item, so DynamoDB may cancel one of two
simultaneous transactions (TransactionConflict): `commit` reports that as a WriteConflict
naming no write, and signup tries again."""

from __future__ import annotations

from chalicelib.store import policy as store
from chalicelib.store.transact import Write

_known: dict[str, str | None] = {}


def version() -> str | None:
    """The version in force (None: none yet), read once per process until forgotten."""
    if "version" not in _known:
        _known["version"] = store.version_in_force()
    return _known["version"]


def still_in_force() -> Write:
    """A transaction condition: the pointer still names `version()`."""
    return store.pointer_names(version())


def forget() -> None:
    _known.clear()
