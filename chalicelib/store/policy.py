"""Published versions of the privacy policy. Content is immutable once written; only the
status moves on: published -> in_force -> superseded."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
)

from chalicelib.store.base import PledgeModel
from chalicelib.store.transact import Write


class PolicyVersion(PledgeModel):
    logical_table = "policy_versions"

    class Meta:
        table_name = None

    version = UnicodeAttribute(hash_key=True)
    summary = UnicodeAttribute()
    body = UnicodeAttribute()
    material = BooleanAttribute()
    status = UnicodeAttribute()  # "published" | "in_force" | "superseded"
    published_at = UnicodeAttribute()
    effective_at = UnicodeAttribute()  # as published (ISO 8601 UTC, Z); compare parsed, not as text
    content_hash = UnicodeAttribute()
    in_force_at = UnicodeAttribute(null=True)  # when activation brought it into force
    superseded_at = UnicodeAttribute(null=True)


def all_versions() -> list[PolicyVersion]:
    """Every published version (the table holds a handful: a scan is the simple read)."""
    return list(PolicyVersion.scan(consistent_read=True))


def get_version(version: str) -> PolicyVersion | None:
    return PolicyVersion.find(version)


def version_in_force() -> str | None:
    """The id of the version in force (only ids and dates read): consent events name it."""
    in_force = PolicyVersion.scan(PolicyVersion.status == "in_force", consistent_read=True,
                                  attributes_to_get=["version", "effective_at"])
    latest = max(in_force, key=lambda v: v.effective_at, default=None)
    return latest.version if latest else None


def bring_into_force(version: PolicyVersion, at: str) -> Write:
    return lambda transaction: transaction.update(
        version,
        actions=[PolicyVersion.status.set("in_force"), PolicyVersion.in_force_at.set(at)],
        condition=PolicyVersion.status == "published",
    )


def supersede(version: PolicyVersion, at: str) -> Write:
    return lambda transaction: transaction.update(
        version,
        actions=[PolicyVersion.status.set("superseded"), PolicyVersion.superseded_at.set(at)],
        condition=PolicyVersion.status == "in_force",
    )
