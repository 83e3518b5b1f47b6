from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
)

from chalicelib.store.base import PledgeModel


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
    effective_at = UnicodeAttribute()
    content_hash = UnicodeAttribute()


def all_versions() -> list[PolicyVersion]:
    """Every published version (the table holds a handful: a scan is the simple read)."""
    return list(PolicyVersion.scan(consistent_read=True))


def get_version(version: str) -> PolicyVersion | None:
    try:
        return PolicyVersion.get(version, consistent_read=True)
    except PolicyVersion.DoesNotExist:
        return None


def save_new_version(version: PolicyVersion) -> bool:
    """False if the version id is already used."""
    from pynamodb.exceptions import PutError

    try:
        version.save(condition=PolicyVersion.version.does_not_exist())
    except PutError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True
