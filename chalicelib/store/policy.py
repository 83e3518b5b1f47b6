"""Published versions of the privacy policy. Content is immutable once written; only the
status moves on: published -> in_force -> superseded."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import PledgeModel
from chalicelib.store.states import PolicyStatus
from chalicelib.store.transact import Write, put

LISTING = "policy"  # every version's `listing`: one index partition lists them all, no scan
IN_FORCE = "in_force"


class VersionsByListing(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    published_at = UnicodeAttribute(range_key=True)


class PolicyVersion(PledgeModel):
    logical_table = "policy_versions"

    class Meta:
        table_name = None

    version = UnicodeAttribute(hash_key=True)
    summary = UnicodeAttribute()
    body = UnicodeAttribute()
    material = BooleanAttribute()
    status = UnicodeAttribute()  # a PolicyStatus
    published_at = UnicodeAttribute()
    effective_at = UnicodeAttribute()  # as published (ISO 8601 UTC, Z); compare parsed, not as text
    content_hash = UnicodeAttribute()
    in_force_at = UnicodeAttribute(null=True)  # when activation brought it into force
    superseded_at = UnicodeAttribute(null=True)
    listing = UnicodeAttribute(default=LISTING)
    by_listing = VersionsByListing()


class PolicyPointer(PledgeModel):
    """The version in force, moved in the same transaction that brings a version into force:
    signup and consent events read it with one GetItem."""

    logical_table = "policy_pointer"

    class Meta:
        table_name = None

    pointer = UnicodeAttribute(hash_key=True)
    version = UnicodeAttribute()
    effective_at = UnicodeAttribute()


def all_versions() -> list[PolicyVersion]:
    """Every published version, oldest published first (one index query)."""
    return list(PolicyVersion.by_listing.query(LISTING))


def get_version(version: str) -> PolicyVersion | None:
    return PolicyVersion.find(version)


def version_in_force() -> str | None:
    """The id of the version in force: consent events name it."""
    pointer = PolicyPointer.find(IN_FORCE)
    return pointer.version if pointer else None


def point_to(version: PolicyVersion) -> Write:
    """The write that makes `version` the one the pointer names."""
    return put(PolicyPointer(IN_FORCE, version=version.version, effective_at=version.effective_at))


def bring_into_force(version: PolicyVersion, at: str) -> Write:
    return lambda transaction: transaction.update(
        version,
        actions=[PolicyVersion.status.set(PolicyStatus.IN_FORCE), PolicyVersion.in_force_at.set(at)],
        condition=PolicyVersion.status == PolicyStatus.PUBLISHED,
    )


def supersede(version: PolicyVersion, at: str) -> Write:
    return lambda transaction: transaction.update(
        version,
        actions=[PolicyVersion.status.set(PolicyStatus.SUPERSEDED), PolicyVersion.superseded_at.set(at)],
        condition=PolicyVersion.status == PolicyStatus.IN_FORCE,
    )
