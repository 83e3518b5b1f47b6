from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.expressions.condition import Condition
from pynamodb.pagination import ResultIterator

from chalicelib.store.base import PledgeModel
from chalicelib.store.states import CustomerStatus
from chalicelib.store.transact import Write


class Customer(PledgeModel):
    logical_table = "customers"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    email_verified_at = UnicodeAttribute(null=True)  # proven by a verification link; removed when the email changes
    phone = UnicodeAttribute(null=True)
    address: MapAttribute[str, Any] = MapAttribute(null=True)
    password_hash = UnicodeAttribute()
    status = UnicodeAttribute(default=CustomerStatus.ACTIVE)
    marketing: MapAttribute[str, bool] = MapAttribute(null=True)
    holds_in_force = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    @property
    def is_active(self) -> bool:
        return self.status == CustomerStatus.ACTIVE

    @property
    def is_deactivated(self) -> bool:
        return self.status == CustomerStatus.DEACTIVATED

    @property
    def is_anonymized(self) -> bool:
        return self.status == CustomerStatus.ANONYMIZED


class EmailClaim(PledgeModel):
    """One item per email address in use: makes emails unique, case-insensitively."""

    logical_table = "email_claims"

    class Meta:
        table_name = None

    email = UnicodeAttribute(hash_key=True)
    customer_number = UnicodeAttribute()


def get_customer(customer_number: str) -> Customer | None:
    return Customer.find(customer_number)


def get_email_claim(email_key: str) -> EmailClaim | None:
    return EmailClaim.find(email_key)


def save_customer_changes(customer: Customer, actions: list) -> Write:
    """Update a customer read earlier; the version attribute guards against lost updates."""
    return lambda transaction: transaction.update(customer, actions=actions)


def set_marketing(customer: Customer, topics: dict[str, bool], at: str) -> Write:
    """The customer's four marketing choices (version-checked)."""
    return save_customer_changes(customer, [Customer.marketing.set(topics), Customer.updated_at.set(at)])


def change_profile(customer: Customer, changes: dict[str, Any], at: str, email_unverified: bool) -> Write:
    """Profile fields to new values (None: removed), version-checked; `email_unverified`
    forgets the verification of the address (the new one is not proven yet)."""
    fields = Customer.get_attributes()
    actions = [fields[f].set(v) if v is not None else fields[f].remove() for f, v in changes.items()]
    if email_unverified:
        actions.append(Customer.email_verified_at.remove())
    return save_customer_changes(customer, [*actions, Customer.updated_at.set(at)])


def mark_email_verified(customer: Customer, at: str) -> Write:
    return save_customer_changes(customer, [Customer.email_verified_at.set(at)])


def set_password_hash(customer: Customer, password_hash: str, at: str) -> Write:
    return save_customer_changes(customer, [Customer.password_hash.set(password_hash), Customer.updated_at.set(at)])


def release_email_claim(email_key: str, customer_number: str) -> Write:
    claim = EmailClaim(email_key, customer_number=customer_number)
    return lambda transaction: transaction.delete(claim, condition=EmailClaim.customer_number == customer_number)


def deactivate_customer_item(customer: Customer, at: str) -> Write:
    return save_customer_changes(
        customer, [Customer.status.set(CustomerStatus.DEACTIVATED), Customer.updated_at.set(at)]
    )


def count_hold(customer: Customer, change: int) -> Write:
    """Move the customer's count of holds in force (version-checked)."""
    return save_customer_changes(customer, [Customer.holds_in_force.add(change)])


def anonymize_customer_item(customer: Customer, name: str, email: str, password_hash: str, at: str) -> Write:
    """Replace every personal value of a deactivated customer read earlier (version-checked:
    a hold placed meanwhile makes the transaction fail)."""
    return save_customer_changes(
        customer,
        [
            Customer.status.set(CustomerStatus.ANONYMIZED),
            Customer.name.set(name),
            Customer.email.set(email),
            Customer.phone.remove(),
            Customer.address.remove(),
            Customer.password_hash.set(password_hash),
            Customer.updated_at.set(at),
        ],
    )


def no_hold_in_force(customer_number: str) -> Write:
    """A transaction condition: no legal hold is in force for the customer when the writes land."""
    return lambda transaction: transaction.condition_check(
        Customer,
        customer_number,
        condition=Customer.holds_in_force.does_not_exist() | (Customer.holds_in_force == 0),
    )


def still_active(customer_number: str) -> Write:
    """A transaction condition: the customer is (still) active when the writes land."""
    return lambda transaction: transaction.condition_check(
        Customer, customer_number, condition=Customer.status == CustomerStatus.ACTIVE
    )


def subscribed(topic: str) -> Condition:
    """An active customer with a verified email subscribed to a marketing topic."""
    wants_it = Customer.marketing[topic] == True  # noqa: E712 - a DynamoDB condition, not a Python test
    return (Customer.status == CustomerStatus.ACTIVE) & wants_it & Customer.email_verified_at.exists()


def held_customers(
    created_since: str | None = None,
    after: dict | None = None,
    fields: tuple[str, ...] = ("customer_number", "name", "email", "status", "created_at"),
    segment: tuple[int, int] = (0, 1),
    page_size: int | None = None,
) -> ResultIterator[Customer]:
    """Customers whose data is held (active or deactivated, not anonymized), optionally
    only those created at or after `created_since`, in scan order from the cursor `after`,
    in the parallel scan `segment` (number, of how many), `page_size` items read per call
    (default: DynamoDB's 1 MB pages).
    The iterator's `last_evaluated_key` is the cursor just past the last customer yielded."""
    condition = Customer.status != CustomerStatus.ANONYMIZED
    if created_since:
        condition &= Customer.created_at >= created_since
    return _segment_scan(condition, after, fields, segment, page_size=page_size)


def subscribers_segment(
    topic: str,
    segment: tuple[int, int],
    after: dict | None = None,
    fields: tuple[str, ...] = ("customer_number", "name", "email", "status", "created_at"),
    page_size: int | None = None,
) -> ResultIterator[Customer]:
    """The `subscribed` customers of one parallel scan segment (number, of how many), page by
    page from the cursor `after` (a scan: campaigns are rare; a per-topic index would cost
    every write)."""
    return _segment_scan(subscribed(topic), after, fields, segment, consistent_read=True, page_size=page_size)


def _segment_scan(
    condition: Condition,
    after: dict | None,
    fields: tuple[str, ...],
    segment: tuple[int, int],
    consistent_read: bool = False,
    page_size: int | None = None,
) -> ResultIterator[Customer]:
    number, total = segment
    return Customer.scan(
        condition,
        last_evaluated_key=after,
        attributes_to_get=list(fields),
        page_size=page_size,
        segment=number if total > 1 else None,
        total_segments=total if total > 1 else None,
        consistent_read=consistent_read,
    )
