from __future__ import annotations

from chalicelib.errors import Unavailable
from chalicelib.store.health import tables_reachable


def check_tables() -> None:
    if not tables_reachable():
        raise Unavailable("The data store cannot be reached.")
