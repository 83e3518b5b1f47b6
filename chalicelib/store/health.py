"""A cheap read that proves the tables are reachable."""

from __future__ import annotations

from chalicelib.store.customers import Customer


def tables_reachable() -> bool:
    try:
        Customer.find("C0", consistent_read=False)
    except Exception:  # any failure to read means: not reachable
        return False
    return True
