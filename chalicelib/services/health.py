from __future__ import annotations

from chalicelib.errors import PledgeError
from chalicelib.store.health import tables_reachable


class Unavailable(PledgeError):
    status, code = 503, "unavailable"


def check_tables() -> None:
    if not tables_reachable():
        raise Unavailable("The data store cannot be reached.")
