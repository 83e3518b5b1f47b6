"""The state enums speak the contract's strings: what ops may send, what the API shows and
what the tables hold stay the plain strings they were."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import pytest

from chalicelib.store import states
from chalicelib.store.customers import Customer
from chalicelib.store.states import (
    AbuseCaseStatus,
    CustomerStatus,
    HoldAction,
    PermissionStatus,
    ReviewDecision,
)

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
ENUMS = [value for value in vars(states).values() if isinstance(value, type) and issubclass(value, StrEnum)]


def request_enum(schema: str, field: str) -> list[str]:
    return json.loads((CHALICELIB / "schemas" / f"{schema}.json").read_text())["properties"][field]["enum"]


def response_enum(component: str) -> list[str]:
    spec = json.loads((CHALICELIB / "openapi.json").read_text())
    return spec["components"]["schemas"][component]["properties"]["status"]["enum"]


@pytest.mark.parametrize(
    ("enum", "contract"),
    [
        (HoldAction, lambda: request_enum("ops_legal_hold", "action")),
        (ReviewDecision, lambda: request_enum("ops_review_inquiry", "decision")),
        (AbuseCaseStatus, lambda: request_enum("ops_abuse_cases", "status")),
        (CustomerStatus, lambda: response_enum("Profile")),
        (PermissionStatus, lambda: response_enum("Permission")),
    ],
)
def test_each_enum_has_exactly_the_contracts_values(enum, contract):
    assert [member.value for member in enum] == contract()


@pytest.mark.parametrize("member", [member for enum in ENUMS for member in enum], ids=str)
def test_a_member_is_written_as_its_plain_string(member):
    assert json.dumps({"status": member}) == json.dumps({"status": member.value})
    assert f"{member}" == str(member) == member.value
    assert member == member.value and hash(member) == hash(member.value)


def test_a_new_customer_is_active_and_stored_as_the_plain_string():
    customer = Customer("C1", name="n", email="e@example.com", password_hash="h", created_at="t", updated_at="t")
    assert customer.is_active and not customer.is_deactivated and not customer.is_anonymized
    assert json.dumps(customer.serialize()["status"]) == '{"S": "active"}'


@pytest.mark.parametrize("status", list(CustomerStatus))
def test_exactly_one_predicate_holds_for_each_status(status):
    customer = Customer("C1", status=status.value)  # as read back from the table: a plain str
    predicates = {
        CustomerStatus.ACTIVE: customer.is_active,
        CustomerStatus.DEACTIVATED: customer.is_deactivated,
        CustomerStatus.ANONYMIZED: customer.is_anonymized,
    }
    assert [s for s, holds in predicates.items() if holds] == [status]
