"""Disclosure permissions a customer grants, and the record of every disclosure made.

Both are records of proof: kept after deactivation, never expired by a TTL, never
deleted. A permission is written once when granted; revoking it sets its revocation
fields once (conditioned on their absence). A disclosure is written once and never
changed, except that anonymization replaces its free text with a placeholder.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action

from chalicelib.store.base import PledgeModel, written
from chalicelib.store.transact import Write, put_new


class DisclosurePermission(PledgeModel):
    logical_table = "disclosure_permissions"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    permission_id = UnicodeAttribute(range_key=True)
    recipient = UnicodeAttribute()  # as the customer typed it
    recipient_key = UnicodeAttribute()  # case-folded, for matching a disclosure's recipient
    purpose = UnicodeAttribute()
    categories = ListAttribute(of=UnicodeAttribute)
    expires_at = UnicodeAttribute(null=True)
    granted_at = UnicodeAttribute()
    granted_policy_version = UnicodeAttribute(null=True)  # the privacy policy in force
    granted_request_id = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)
    revoked_policy_version = UnicodeAttribute(null=True)
    revoked_request_id = UnicodeAttribute(null=True)


class Disclosure(PledgeModel):
    logical_table = "disclosures"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    disclosure_id = UnicodeAttribute(range_key=True)
    recipient = UnicodeAttribute()
    purpose = UnicodeAttribute()
    categories = ListAttribute(of=UnicodeAttribute)
    basis: MapAttribute[str, Any] = MapAttribute()  # {"permission_id"} or {"legal_basis", "reference"}
    disclosed_at = UnicodeAttribute()
    actor = UnicodeAttribute()  # who in ops made it
    request_id = UnicodeAttribute(null=True)  # the ops function's invocation


def new_permission(permission: DisclosurePermission) -> None:
    permission.save(condition=DisclosurePermission.permission_id.does_not_exist())


def get_permission(customer_number: str, permission_id: str) -> DisclosurePermission | None:
    return DisclosurePermission.find(customer_number, permission_id)


def permissions_of(customer_number: str) -> list[DisclosurePermission]:
    return list(DisclosurePermission.query(customer_number, consistent_read=True))


def revoke(permission: DisclosurePermission, at: str, policy_version: str | None, request_id: str | None) -> bool:
    """Set the revocation once; False if it was already revoked."""
    actions: list[Action] = [DisclosurePermission.revoked_at.set(at)]
    if policy_version is not None:
        actions.append(DisclosurePermission.revoked_policy_version.set(policy_version))
    if request_id is not None:
        actions.append(DisclosurePermission.revoked_request_id.set(request_id))
    condition = DisclosurePermission.permission_id.exists() & DisclosurePermission.revoked_at.does_not_exist()
    return written(lambda: permission.update(actions=actions, condition=condition))


def still_unrevoked(permission: DisclosurePermission) -> Write:
    """A transaction part: fails the transaction if the permission was revoked meanwhile."""
    condition = DisclosurePermission.revoked_at.does_not_exist()
    return lambda transaction: transaction.condition_check(
        DisclosurePermission, permission.customer_number, permission.permission_id, condition=condition
    )


def new_disclosure(disclosure: Disclosure) -> Write:
    return put_new(disclosure)


def disclosures_of(customer_number: str) -> list[Disclosure]:
    return list(Disclosure.query(customer_number, consistent_read=True))


def replace_purpose(item: DisclosurePermission | Disclosure, placeholder: str) -> bool:
    """Anonymization: the free text goes, the fact, recipient and dates stay. False when
    it had already gone."""
    model = type(item)
    if item.purpose == placeholder:
        return False
    item.update(actions=[model.purpose.set(placeholder)])
    return True
