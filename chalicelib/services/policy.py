"""The privacy policy and its versions: publishing, and what the public routes show.

A material change must be published at least `notice_period_days` (30 or more) before it
takes effect; a non-material one may take effect at once (an `effective_at` now or in the
past means: at the next activation run). Either comes into force only through
activation.py, which also holds a material version back until its notices are proven.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path

from chalicelib.errors import Conflict, NotFound, NoticePeriodTooShort, ValidationFailed
from chalicelib.observability import count
from chalicelib.settings import get_settings
from chalicelib.store import notices as notice_store
from chalicelib.store import policy as store
from chalicelib.store.base import iso, parse_iso, utc_now
from chalicelib.store.policy import PolicyVersion
from chalicelib.store.states import PolicyStatus
from chalicelib.store.transact import WriteConflict, commit, put_new

INITIAL_POLICY = Path(__file__).resolve().parent.parent / "policy_text" / "initial_policy.md"
INITIAL_VERSION = "1"
VERSION_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
INITIAL_SUMMARY = "HostBay's privacy policy: what we collect, how we contact you, and how long we keep it."


def content_hash(summary: str, body: str, effective_at: datetime, material: bool) -> str:
    return hashlib.sha256(repr((summary, body, iso(effective_at), material)).encode()).hexdigest()


def ensure_initial_policy() -> dict:
    """Load version 1, in force from now, unless some version already exists (idempotent)."""
    existing = store.all_versions()
    if existing:
        _restore_pointer(existing)
        return version_view(max(existing, key=lambda v: v.published_at))
    now = utc_now()
    version = _new_version(INITIAL_VERSION, INITIAL_SUMMARY, INITIAL_POLICY.read_text(), now, False, now)
    version.status, version.in_force_at = PolicyStatus.IN_FORCE, iso(now)
    try:
        commit([put_new(version), store.point_to(version)])
    except WriteConflict:  # another process loaded it first
        loaded = store.get_version(INITIAL_VERSION)
        assert loaded is not None  # the conflict was its existing
        return version_view(loaded)
    return version_view(version)


def _restore_pointer(versions: list[PolicyVersion]) -> None:
    """Data from before the pointer existed: point it at the version in force."""
    in_force = [v for v in versions if v.status == PolicyStatus.IN_FORCE]
    if in_force and store.version_in_force() is None:
        commit([store.point_to(in_effective_order(in_force)[-1])])


def publish_policy(data: dict, now: datetime | None = None) -> dict:
    """Publish a version (the ops function). The same id with identical content answers the
    existing record; with other content, conflict. A material version starts its notice
    campaign in the same transaction."""
    now = now or utc_now()
    effective = _parse_effective_at(data["effective_at"])
    candidate = _new_version(
        data["version"],
        data["summary"],
        data["body"],
        effective,
        data["material"],
        now,
        effective_text=data["effective_at"],
    )
    existing = store.get_version(candidate.version)
    if existing is not None:
        return _existing_or_conflict(existing, candidate)
    period = get_settings().notice_period_days
    if candidate.material and effective < now + timedelta(days=period):
        raise NoticePeriodTooShort(
            f"A material change must be published at least {period} days before it takes effect "
            f"(effective_at no earlier than {iso(now + timedelta(days=period))}).",
            [{"path": "effective_at", "message": f"must be at least {period} days from now"}],
        )
    writes = [put_new(candidate)]
    if candidate.material:
        writes.append(put_new(notice_store.new_campaign(candidate.version, candidate.published_at)))
    try:
        commit(writes)
    except WriteConflict:  # published concurrently under the same id
        existing = store.get_version(candidate.version)
        assert existing is not None  # the version and its campaign are only ever written together
        return _existing_or_conflict(existing, candidate)
    count("policy_published")
    return version_record(candidate)


def _new_version(
    version: str,
    summary: str,
    body: str,
    effective: datetime,
    material: bool,
    now: datetime,
    effective_text: str | None = None,
) -> PolicyVersion:
    return PolicyVersion(
        version,
        summary=summary,
        body=body,
        material=material,
        status=PolicyStatus.PUBLISHED,
        published_at=iso(now),
        effective_at=effective_text or iso(effective),
        content_hash=content_hash(summary, body, effective, material),
    )


def _parse_effective_at(text: str) -> datetime:
    try:
        return parse_iso(text)
    except ValueError:
        raise ValidationFailed(
            "The request is not valid.", [{"path": "effective_at", "message": "is not a valid date and time"}]
        ) from None


def _existing_or_conflict(existing: PolicyVersion, candidate: PolicyVersion) -> dict:
    if existing.content_hash != candidate.content_hash:
        raise Conflict(
            f"Version {existing.version} is already published with other content; "
            "published versions never change: publish a new version id."
        )
    return version_record(existing)


def effective_moment(version: PolicyVersion) -> datetime:
    return parse_iso(version.effective_at)


def in_effective_order(versions: list[PolicyVersion]) -> list[PolicyVersion]:
    return sorted(versions, key=lambda v: (effective_moment(v), v.published_at))


def version_view(version: PolicyVersion) -> dict:
    return {
        "version": version.version,
        "summary": version.summary,
        "material": version.material,
        "status": version.status,
        "published_at": version.published_at,
        "effective_at": version.effective_at,
        "in_force_at": version.in_force_at,
        "superseded_at": version.superseded_at,
    }


def version_record(version: PolicyVersion) -> dict:
    return {**version_view(version), "body": version.body}


def policy_in_force() -> dict:
    in_force = [v for v in store.all_versions() if v.status == PolicyStatus.IN_FORCE]
    if not in_force:
        raise NotFound("No privacy policy is in force.")
    current = in_effective_order(in_force)[-1]
    return {
        "version": current.version,
        "effective_at": current.effective_at,
        "summary": current.summary,
        "body": current.body,
    }


def published_versions() -> dict:
    return {"versions": [version_view(v) for v in in_effective_order(store.all_versions())]}


def published_version(version: str) -> dict:
    found = store.get_version(version) if VERSION_ID.fullmatch(version) else None
    if found is None:
        raise NotFound("No such policy version.")
    return version_record(found)


def upcoming_notice() -> dict:
    """The home-page notice: every published version not yet in force."""
    upcoming = [v for v in in_effective_order(store.all_versions()) if v.status == PolicyStatus.PUBLISHED]
    return {
        "upcoming": [{"version": v.version, "effective_at": v.effective_at, "summary": v.summary} for v in upcoming]
    }
