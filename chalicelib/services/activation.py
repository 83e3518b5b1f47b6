"""Bringing published versions into force on their date (the hourly schedule).

Versions come into force in effective-date order; the one in force before becomes
`superseded`. A material version comes into force only once every customer held at its
publication has a notice sent at least `notice_period_days` before: on its effective date
when the last of those notices went out in time, otherwise `notice_period_days` after the
last one. Until then it is held back and reported, and so is every version after it (a
later text must not bring an un-notified change into force).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.observability import count, get_logger
from chalicelib.services import notices
from chalicelib.services.policy import effective_moment, in_effective_order
from chalicelib.settings import get_settings
from chalicelib.store import policy as store
from chalicelib.store.base import iso, utc_now
from chalicelib.store.policy import PolicyVersion
from chalicelib.store.states import PolicyStatus
from chalicelib.store.transact import WriteConflict, commit


def activate_policy_versions(now: datetime | None = None) -> dict:
    now = now or utc_now()
    versions = store.all_versions()
    in_force = [v for v in versions if v.status == PolicyStatus.IN_FORCE]
    due = [v for v in in_effective_order(versions) if v.status == PolicyStatus.PUBLISHED and effective_moment(v) <= now]
    activated, held_back = [], []
    for version in due:
        hold = _held_back(version, now)
        if hold:
            held_back.append(hold)
            count("PolicyActivationHeldBack")
            get_logger().warning("policy version held back", extra=hold)
            break
        if not _bring_into_force(version, in_force, now):
            break
        in_force = [version]
        activated.append(version.version)
    return {"activated": activated, "held_back": held_back}


def _held_back(version: PolicyVersion, now: datetime) -> dict | None:
    if not version.material:
        return None
    missing, last_notice = notices.notified_by(version)
    if missing:
        return {
            "version": version.version,
            "reason": "notices_missing",
            "missing": missing if missing > 0 else None,
        }  # None: the first pass is still running
    period = timedelta(days=get_settings().notice_period_days)
    in_force_from = max(effective_moment(version), last_notice + period) if last_notice else effective_moment(version)
    if now < in_force_from:
        return {"version": version.version, "reason": "notice_period_running", "in_force_from": iso(in_force_from)}
    return None


def _bring_into_force(version: PolicyVersion, in_force: list[PolicyVersion], now: datetime) -> bool:
    at = iso(now)
    try:
        commit(
            [store.bring_into_force(version, at), store.point_to(version)] + [store.supersede(v, at) for v in in_force]
        )
    except WriteConflict:
        get_logger().warning(
            "policy versions changed during activation; the next run retries", extra={"version": version.version}
        )
        return False
    version.status, version.in_force_at = PolicyStatus.IN_FORCE, at
    count("policy_activated")
    get_logger().info("policy version in force", extra={"version": version.version})
    return True
