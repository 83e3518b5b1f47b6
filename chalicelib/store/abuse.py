"""Abuse cases (records, kept) and the short-lived counters the rules read (TTL).

A case is the only record linking an IP address to customers. While it is open, an
item in abuse_open_cases (key: rule and IP) points to it, written and removed in the
same transaction as the case's opening and closing, so a rule firing twice at once
still makes one case.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.store.base import PledgeModel, written
from chalicelib.store.states import AbuseCaseStatus
from chalicelib.store.transact import Write, put, put_new


class AbuseCounter(PledgeModel):
    """One rule's events for one IP or customer in one time bucket."""

    logical_table = "abuse_counters"

    class Meta:
        table_name = None

    key = UnicodeAttribute(hash_key=True)  # rule#scope#bucket
    hits = NumberAttribute(default=0)
    subjects = UnicodeSetAttribute(null=True)  # hashes of the accounts tried (failed logins)
    customers = UnicodeSetAttribute(null=True)
    expires_ttl = TTLAttribute()


class AbuseCase(PledgeModel):
    logical_table = "abuse_cases"

    class Meta:
        table_name = None

    case_id = UnicodeAttribute(hash_key=True)
    rule = UnicodeAttribute()
    ip = UnicodeAttribute()
    customer_numbers = UnicodeSetAttribute(null=True)
    opened_at = UnicodeAttribute()
    last_seen_at = UnicodeAttribute()
    status = UnicodeAttribute()  # an AbuseCaseStatus
    firings = NumberAttribute(default=1)
    closed_at = UnicodeAttribute(null=True)
    resolution = UnicodeAttribute(null=True)


class OpenAbuseCase(PledgeModel):
    logical_table = "abuse_open_cases"

    class Meta:
        table_name = None

    open_key = UnicodeAttribute(hash_key=True)  # rule#ip
    case_id = UnicodeAttribute()


class AbuseCaseMember(PledgeModel):
    """One customer named by one case: lets ops_customer_record find a customer's cases
    with a query instead of a scan. Kept as long as the case (no TTL)."""

    logical_table = "abuse_case_members"

    class Meta:
        table_name = None

    customer_number = UnicodeAttribute(hash_key=True)
    case_id = UnicodeAttribute(range_key=True)


def open_key(rule: str, ip: str) -> str:
    return f"{rule}#{ip}"


def count_event(key: str, subject: str | None, customer: str | None, expires: datetime) -> None:
    actions = [AbuseCounter.hits.add(1), AbuseCounter.expires_ttl.set(expires)]
    if subject:
        actions.append(AbuseCounter.subjects.add({subject}))
    if customer:
        actions.append(AbuseCounter.customers.add({customer}))
    AbuseCounter._get_connection().update_item(key, actions=actions)


def counters(keys: list[str]) -> list[AbuseCounter]:
    return list(AbuseCounter.batch_get(keys, consistent_read=True))


def open_case_id(rule: str, ip: str) -> str | None:
    pointer = OpenAbuseCase.find(open_key(rule, ip))
    return pointer.case_id if pointer else None


def open_case(case: AbuseCase) -> list[Write]:
    """The writes that open a case; the second fails if the rule has an open case for the IP."""
    return [
        put_new(case),
        put_new(OpenAbuseCase(open_key(case.rule, case.ip), case_id=case.case_id)),
        *[put(AbuseCaseMember(number, case.case_id)) for number in sorted(case.customer_numbers or ())],
    ]


def add_to_case(case_id: str, customers: set[str], at: str) -> bool:
    """False if the case is closed (or gone) meanwhile."""
    actions: list[Action] = [AbuseCase.last_seen_at.set(at), AbuseCase.firings.add(1)]
    if customers:
        actions.append(AbuseCase.customer_numbers.add(customers))
    if not written(
        lambda: AbuseCase(case_id).update(actions=actions, condition=AbuseCase.status == AbuseCaseStatus.OPEN)
    ):
        return False
    with AbuseCaseMember.batch_write() as batch:
        for number in sorted(customers):
            batch.save(AbuseCaseMember(number, case_id))
    return True


def get_case(case_id: str) -> AbuseCase | None:
    return AbuseCase.find(case_id)


def close_case(case: AbuseCase, at: str, resolution: str) -> list[Write]:
    actions: list[Action] = [
        AbuseCase.status.set(AbuseCaseStatus.CLOSED),
        AbuseCase.closed_at.set(at),
        AbuseCase.resolution.set(resolution),
    ]
    pointer = OpenAbuseCase(open_key(case.rule, case.ip))

    def close(transaction: TransactWrite) -> None:
        transaction.update(case, actions=actions, condition=AbuseCase.status == AbuseCaseStatus.OPEN)

    def release(transaction: TransactWrite) -> None:
        transaction.delete(pointer, condition=OpenAbuseCase.case_id == case.case_id)

    return [close, release]


def all_cases(status: AbuseCaseStatus | None = None) -> list[AbuseCase]:
    condition = AbuseCase.status == status if status else None
    return list(AbuseCase.scan(filter_condition=condition))


def cases_of(customer_number: str) -> list[AbuseCase]:
    case_ids = [member.case_id for member in AbuseCaseMember.query(customer_number)]
    return list(AbuseCase.batch_get(case_ids)) if case_ids else []
