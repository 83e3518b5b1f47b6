"""Abuse rules and cases against DynamoDB Local: each rule opens a case with the right IP
and customer numbers, a rule firing again adds to the open case, ops list and close
cases, and card testing blocks card submissions from the IP until the case is closed."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import abuse
from tests.helpers import call, login, signup, unique_email
from tests.iam_guard import running

ATTACKER = "203.0.113.7"
BYSTANDER = "198.51.100.20"


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def cases(client, status: str | None = None) -> list[dict]:
    event = {"status": status} if status else {}
    return client.lambda_.invoke("ops_abuse_cases", event).payload["cases"]


def close(client, case_id: str, resolution: str = "Blocked at the firewall; customers told.") -> dict:
    return client.lambda_.invoke("ops_close_abuse_case", {"case_id": case_id, "resolution": resolution}).payload


def in_api(action):
    """Service calls the API function makes (checked against its IAM entry)."""
    with running("api_handler"):
        return action()


def test_failed_logins_against_three_accounts_open_a_case_naming_the_known_ones(client):
    first, second = signup(client), signup(client)
    in_api(lambda: abuse.record_failed_login(ATTACKER, first.email))
    in_api(lambda: abuse.record_failed_login(ATTACKER, second.email.upper()))
    in_api(lambda: abuse.record_failed_login(BYSTANDER, unique_email("elsewhere")))
    assert cases(client) == []  # two accounts from the attacker, one from elsewhere

    in_api(lambda: abuse.record_failed_login(ATTACKER, unique_email("nobody")))  # a third account, unknown

    [case] = [c for c in cases(client) if c["rule"] == "failed_logins"]
    assert (case["ip"], case["status"]) == (ATTACKER, "open")
    assert case["customer_numbers"] == sorted([first.customer_number, second.customer_number])
    assert case["opened_at"] == case["last_seen_at"]


def test_twenty_failures_against_one_account_open_a_case(client):
    account = signup(client)
    for _ in range(19):
        in_api(lambda: abuse.record_failed_login(ATTACKER, account.email))
    assert not [c for c in cases(client) if c["rule"] == "failed_logins"]

    in_api(lambda: abuse.record_failed_login(ATTACKER, account.email))

    [case] = [c for c in cases(client) if c["rule"] == "failed_logins"]
    assert (case["ip"], case["customer_numbers"]) == (ATTACKER, [account.customer_number])


def test_failed_logins_through_the_login_route_are_counted_for_the_callers_ip(client):
    accounts = [signup(client) for _ in range(3)]
    for account in accounts:
        assert login(client, account.email, "not the password at all").status_code == 401
    assert login(client, accounts[0].email).status_code == 200  # a success is not counted

    [case] = [c for c in cases(client) if c["rule"] == "failed_logins"]
    assert case["ip"] == "127.0.0.1"  # what chalice local reports as the source IP
    assert case["customer_numbers"] == sorted(a.customer_number for a in accounts)


def test_five_signups_from_one_ip_open_a_case_and_a_sixth_adds_to_it(client):
    numbers = [signup(client).customer_number for _ in range(4)]
    assert cases(client) == []

    numbers.append(signup(client).customer_number)
    [case] = cases(client)
    assert (case["rule"], case["ip"], case["customer_numbers"]) == ("signups", "127.0.0.1", sorted(numbers))

    numbers.append(signup(client).customer_number)
    [again] = cases(client)
    assert again["case_id"] == case["case_id"]
    assert again["customer_numbers"] == sorted(numbers)
    assert again["firings"] == 2 and again["last_seen_at"] >= case["last_seen_at"]


def test_card_testing_blocks_card_submissions_from_the_ip_until_the_case_is_closed(client):
    customer = signup(client).customer_number
    for _ in range(4):
        in_api(lambda: abuse.record_rejected_card(ATTACKER, customer))
    assert not in_api(lambda: abuse.card_submissions_blocked(ATTACKER))

    in_api(lambda: abuse.record_rejected_card(ATTACKER, customer))

    assert in_api(lambda: abuse.card_submissions_blocked(ATTACKER))
    assert not in_api(lambda: abuse.card_submissions_blocked(BYSTANDER))
    [case] = cases(client, "open")
    assert (case["rule"], case["ip"], case["customer_numbers"]) == ("card_testing", ATTACKER, [customer])

    closed = close(client, case["case_id"])

    assert (closed["status"], closed["resolution"]) == ("closed", "Blocked at the firewall; customers told.")
    assert closed["closed_at"] and closed["case_id"] == case["case_id"]
    assert not in_api(lambda: abuse.card_submissions_blocked(ATTACKER))
    assert cases(client, "open") == [] and [c["case_id"] for c in cases(client, "closed")] == [case["case_id"]]


def test_card_testing_by_one_customer_across_addresses_opens_a_case_for_the_address_in_use(client):
    customer = signup(client).customer_number
    addresses = [f"192.0.2.{n}" for n in range(1, 6)]
    for address in addresses:
        in_api(lambda address=address: abuse.record_rejected_card(address, customer))

    [case] = [c for c in cases(client) if c["rule"] == "card_testing"]
    assert (case["ip"], case["customer_numbers"]) == (addresses[-1], [customer])
    assert in_api(lambda: abuse.card_submissions_blocked(addresses[-1]))


def test_a_rule_firing_after_its_case_was_closed_opens_a_new_case(client):
    for _ in range(5):
        in_api(lambda: abuse.record_rejected_card(ATTACKER, None))
    [first] = cases(client)
    close(client, first["case_id"])

    in_api(lambda: abuse.record_rejected_card(ATTACKER, None))  # still 6 in the hour: fires again

    [reopened] = cases(client, "open")
    assert reopened["case_id"] != first["case_id"]
    assert in_api(lambda: abuse.card_submissions_blocked(ATTACKER))


def test_closing_refuses_an_unknown_or_closed_case(client):
    for _ in range(5):
        in_api(lambda: abuse.record_rejected_card(ATTACKER, None))
    [case] = cases(client)
    close(client, case["case_id"])

    assert close(client, case["case_id"])["error"]["code"] == "conflict"
    assert close(client, "AC0000")["error"]["code"] == "not_found"
    assert close(client, "bad id!")["error"]["code"] == "validation_error"
    assert (
        client.lambda_.invoke("ops_abuse_cases", {"status": "pending"}).payload["error"]["code"] == "validation_error"
    )


def test_cases_appear_in_the_ops_customer_record_but_not_in_the_customers_export(client):
    account = signup(client)
    for _ in range(5):
        in_api(lambda: abuse.record_rejected_card(ATTACKER, account.customer_number))

    record = client.lambda_.invoke("ops_customer_record", {"customer_number": account.customer_number}).payload
    export = call(client, "GET", "/account/export", account=account)

    assert [(c["rule"], c["ip"]) for c in record["abuse_cases"]] == [("card_testing", ATTACKER)]
    assert export.status_code == 200
    assert "abuse_cases" not in export.json and ATTACKER not in export.body.decode()
