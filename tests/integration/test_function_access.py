"""The scheduled functions' handlers run as Lambda runs them, under the IAM guard
(tests/iam_guard.py): what they touch must be what infra/function_access.json grants.
(HTTP routes and ops functions are guarded wherever tests use the Chalice test client.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalice.test import Client

import app as app_module
from app import app
from chalicelib.services import policy
from chalicelib.settings import reset_settings
from chalicelib.store.base import iso, utc_now
from devstack.functions import call, discover
from tests.helpers import call as http
from tests.helpers import signup
from tests.iam_guard import running
from tests.stack import outbox


@pytest.fixture
def client(clean_stack, monkeypatch):
    monkeypatch.setenv("PLEDGE_SES_MAX_SEND_RATE", "1000")
    reset_settings()
    policy.ensure_initial_policy()
    with Client(app, stage_name="local") as test_client:
        yield test_client
    reset_settings()


def run(name: str) -> dict:
    function = discover(app_module)[name]
    with running(name):
        return call(function, {})


def test_notice_dispatch_and_activation_stay_within_their_roles(client):
    customers = [signup(client), signup(client)]
    published = client.lambda_.invoke(
        "ops_publish_policy",
        {
            "version": "2",
            "summary": "We add a data processor.",
            "body": "The new policy text.",
            "effective_at": iso(utc_now() + timedelta(days=31)),
            "material": True,
        },
    ).payload
    assert published["version"] == "2"

    dispatched = run("dispatch_policy_notices")
    activated = run("activate_policy_versions")

    assert dispatched["sent"] == len(customers)
    notices = [m for m in outbox() if "privacy policy changes" in m["subject"]]
    assert sorted(m["to"][0] for m in notices) == sorted(c.email for c in customers)
    assert activated["activated"] == []  # the effective date is a month away
    export = http(client, "GET", "/account/export", account=customers[0])
    assert export.status_code == 200
