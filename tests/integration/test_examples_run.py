"""Every named example event (chalicelib/schemas/examples/) runs on the local stack through
`devstack invoke NAME --example EXAMPLE`, as ops would run it from the console's Test tab.

Examples carry placeholder ids that exist nowhere (run unedited on a real stage they answer
`not_found`). Here a preparation step makes the data an example needs (a customer, a ticket,
an inquiry, holds, an unconfirmed notice) and fills in its ids with `--set FIELD=VALUE`, as
an ops engineer edits the placeholders; then the example must succeed. An example whose
function has no preparation here (a new function: adding an example is adding a JSON file)
runs unedited and must be at most refused harmlessly (`not_found`, `conflict`, ...): never a
validation error, never a crash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from devstack.config import REPO_ROOT
from devstack.functions import local_user
from infra.app_functions import app_functions
from infra.console_events import examples_of
from tests.helpers import PASSWORD

HARMLESS_REFUSALS = {"not_found", "conflict", "forbidden", "notice_period_too_short"}
NOW = datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def customer() -> str:
    from chalicelib.services import accounts

    signup = {"name": "Ann Example", "email": f"ann.{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD}
    return accounts.signup(signup, None).customer_number


def sent_campaign() -> str:
    from chalicelib.services import marketing

    return marketing.send_campaign("products", "An example campaign", "Its text.")["campaign_id"]


def customer_with_holds(count: int) -> tuple[str, list[str]]:
    from chalicelib.services import retention

    number = customer()
    for index in range(count):
        holds = retention.change_legal_hold(number, "place", f"hold {index}")["holds"]
    return number, [h["hold_id"] for h in holds]


def prepare_legal_hold(example: str) -> dict:
    if example == "place-hold":
        return {"customer_number": customer()}
    number, holds = customer_with_holds(1 if example == "release-hold" else 2)
    return (
        {"customer_number": number, "hold_id": holds[0]}
        if example == "release-one-of-several"
        else {"customer_number": number}
    )


def prepare_anonymize(example: str, monkeypatch) -> dict:
    from chalicelib.services import retention
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("PLEDGE_RETENTION_DAYS", "0")  # due for review at once (and for the child)
    reset_settings()
    number = customer()
    retention.deactivate_customer(number, "ops", "example run")
    return {"customer_number": number}


def prepare_ticket(example: str) -> dict:
    from chalicelib.services import support

    return {"ticket_id": support.open_ticket(customer(), "Disk full", "Please help.")}


def prepare_inquiry(example: str) -> dict:
    from chalicelib.services import inquiries

    inquiry = {
        "name": "Ann Example",
        "email": f"ann.{uuid.uuid4().hex[:8]}@example.com",
        "topic": "sales",
        "message": "How much is a VPS?",
    }
    return {"inquiry_id": inquiries.receive_inquiry(inquiry, None)}


def prepare_suppressed_customer(example: str) -> dict:
    from chalicelib.services import suppression
    from chalicelib.store.customers import Customer

    number = customer()
    bounce = dict(examples_of("record_mail_suppressions")["hard-bounce"])
    bounce["detail"] = json.loads(json.dumps(bounce["detail"]))
    bounce["detail"]["bounce"]["bouncedRecipients"] = [{"emailAddress": Customer.get(number).email}]
    suppression.record_ses_event(bounce)
    return {"customer_number": number}


def prepare_publish(example: str) -> dict:
    return {"version": f"ex-{uuid.uuid4().hex[:8]}", "effective_at": _iso(NOW + timedelta(days=31))}


def prepare_unconfirmed_notice(example: str) -> dict:
    from chalicelib.services.policy import publish_policy
    from chalicelib.store import notices
    from chalicelib.store.transact import commit

    version = prepare_publish(example)
    publish_policy({**version, "summary": "s", "body": "b", "material": True})
    number = customer()
    commit([notices.claim(version["version"], number, "Rdead", _iso(NOW - timedelta(hours=1)), True)])
    commit([notices.settle(version["version"], number, "Rdead", "unconfirmed", error="claim_orphaned")])
    return {"version": version["version"], "customer_number": number}


PREPARE = {
    "ops_customer_record": lambda example, mp: {"customer_number": customer()},
    "ops_deactivate_customer": lambda example, mp: {"customer_number": customer()},
    "ops_set_preferences": lambda example, mp: {"customer_number": customer()},
    "ops_legal_hold": lambda example, mp: prepare_legal_hold(example),
    "ops_anonymize_customer": prepare_anonymize,
    "ops_record_support": lambda example, mp: prepare_ticket(example),
    "ops_review_inquiry": lambda example, mp: prepare_inquiry(example),
    "ops_lift_suppression": lambda example, mp: prepare_suppressed_customer(example),
    "ops_publish_policy": lambda example, mp: prepare_publish(example),
    "ops_resolve_notice": lambda example, mp: prepare_unconfirmed_notice(example),
    "ops_campaign_status": lambda example, mp: {"campaign_id": sent_campaign()},
    # These need nothing: they run as written.
    "ops_retention_review": None,
    "ops_send_marketing": None,
    "record_mail_suppressions": None,
    "dispatch_policy_notices": None,
    "dispatch_marketing": None,
    "activate_policy_versions": None,
}


def examples():
    for function in app_functions():
        for name in examples_of(function.name):
            yield pytest.param(function.name, name, id=f"{function.name}:{name}")


def invoke_example(function: str, example: str, overrides: dict) -> tuple[int, dict]:
    sets = [arg for field, value in overrides.items() for arg in ("--set", f"{field}={value}")]
    proc = subprocess.run(
        [sys.executable, "-m", "devstack", "invoke", function, "--example", example, *sets],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize("function, example", list(examples()))
def test_every_example_runs_on_the_local_stack(clean_stack, monkeypatch, function, example):
    known = function in PREPARE
    prepare = PREPARE.get(function)
    overrides = prepare(example, monkeypatch) if prepare else {}
    code, result = invoke_example(function, example, overrides)
    if known:
        assert code == 0, result
    else:
        assert code == 0 or result["error"]["code"] in HARMLESS_REFUSALS, result


def test_an_unedited_example_touches_nothing_real(clean_stack):
    code, result = invoke_example("ops_anonymize_customer", "anonymize-customer", {})
    assert (code, result["error"]["code"]) == (1, "not_found")
    code, result = invoke_example("ops_publish_policy", "publish-material-change", {})
    assert (code, result["error"]["code"]) == (1, "notice_period_too_short")


def test_an_ops_audit_entry_names_the_invocation_and_its_caller(clean_stack):
    from chalicelib.services.records import customer_record

    number = customer()
    code, _ = invoke_example("ops_legal_hold", "place-hold", {"customer_number": number})
    assert code == 0
    [entry] = [e for e in customer_record(number)["audit_trail"] if e["action"] == "legal_hold_placed"]
    assert entry["caller"] == f"declared:{local_user()}@local"
    uuid.UUID(entry["request_id"])  # the Lambda request id: the key to the invocation's CloudTrail record


def test_an_unknown_example_is_refused_with_the_known_ones(clean_stack):
    code, result = invoke_example("ops_legal_hold", "no-such-example", {})
    assert code == 1 and result["error"]["code"] == "unknown_example"
    assert "place-hold" in result["error"]["known"]
