"""What the request paths read once instead of on every request (issue 17), against
DynamoDB Local: the policy version in force (cached per process, checked in the signup
transaction), the verification email's suppression check (a condition of the signup
transaction), and the customer (read with the session, reused by the route)."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import accounts, policy, policy_in_force, preferences, suppression
from chalicelib.store import suppressions
from chalicelib.store.base import iso, utc_now
from tests.helpers import PASSWORD, call, login, signup, unique_email
from tests.integration.test_suppression import record, ses_event
from tests.stack import outbox

OTHER_VERSION = "2030-01-01"


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def signup_versions(customer_number: str) -> set:
    return {e["policy_version"] for e in preferences.consent_history(customer_number) if e["source"] == "signup"}


def move_pointer_elsewhere(stack, version: str) -> None:
    """As another container's activation would: this process's cache does not see it."""
    stack.dynamodb().put_item(
        TableName=f"{stack.table_prefix}policy_pointer",
        Item={"pointer": {"S": "in_force"}, "version": {"S": version}, "effective_at": {"S": "2030-01-01T00:00:00Z"}},
    )


def test_a_stale_cache_still_records_the_version_in_force_at_signup(client, clean_stack):
    first_version = policy.ensure_initial_policy()["version"]
    first = signup(client)
    assert signup_versions(first.customer_number) == {first_version}
    assert policy_in_force.version() == first_version  # cached

    move_pointer_elsewhere(clean_stack, OTHER_VERSION)
    second = signup(client)

    assert signup_versions(second.customer_number) == {OTHER_VERSION}
    assert policy_in_force.version() == OTHER_VERSION  # read again after the condition failed


def test_a_stale_cache_still_records_the_version_in_force_at_a_preference_change(client, clean_stack):
    account = signup(client)
    move_pointer_elsewhere(clean_stack, OTHER_VERSION)
    response = call(client, "PUT", "/account/preferences", {"topics": {"products": False}}, account=account)
    assert response.status_code == 200
    [change] = [e for e in preferences.consent_history(account.customer_number) if e["source"] != "signup"]
    assert (change["topic"], change["policy_version"]) == ("products", OTHER_VERSION)


def test_a_profile_change_on_a_customer_read_before_another_change_re_reads_it(client):
    account = signup(client)
    read_with_the_session = accounts.require_customer(account.customer_number)
    accounts.update_profile(account.customer_number, {"phone": "+31 20 123 4567"}, None)  # changed meanwhile

    answer = accounts.update_profile(account.customer_number, {"name": "Jane Roe"}, None, read_with_the_session)

    assert (answer["name"], answer["phone"]) == ("Jane Roe", "+31 20 123 4567")  # nothing lost
    assert call(client, "GET", "/account", account=account).json["name"] == "Jane Roe"


def test_a_deactivated_customers_session_cannot_change_the_profile(client, clean_stack):
    account = signup(client)
    clean_stack.dynamodb().update_item(  # as if the revocation had missed this session (index lag)
        TableName=f"{clean_stack.table_prefix}customers",
        Key={"customer_number": {"S": account.customer_number}},
        UpdateExpression="SET #s = :d",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":d": {"S": "deactivated"}},
    )
    assert call(client, "PATCH", "/account", {"name": "Someone Else"}, account=account).status_code == 401
    assert accounts.require_customer(account.customer_number).name == "Jane Doe"


def verification_links_to(address: str) -> list[dict]:
    return [m for m in outbox() if m["to"] == [address] and "Confirm your email" in m["subject"]]


def test_signup_with_a_suppressed_address_makes_the_account_and_sends_no_link(client):
    address = unique_email("bounced")
    record(client, ses_event("bounce", address))

    account = signup(client, address)

    assert verification_links_to(address) == []
    assert login(client, address, PASSWORD).status_code == 200
    assert accounts.require_customer(account.customer_number).email == address


def test_signup_with_a_lifted_suppression_sends_the_link(client):
    address = unique_email("lifted")
    record(client, ses_event("bounce", address))
    assert suppressions.lift(suppression.address_hash(address), iso(utc_now()), "mailbox fixed, confirmed by phone")

    signup(client, address)

    assert len(verification_links_to(address)) == 1
