"""Publishing policy versions (the 30-day rule, immutability) and the public policy routes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.services.policy import ensure_initial_policy
from chalicelib.store.base import iso, utc_now
from tests.helpers import call, signup
from tests.stack import outbox


@pytest.fixture
def client(clean_stack):
    ensure_initial_policy()
    with Client(app, stage_name="local") as test_client:
        yield test_client


def publish(client, version: str = "2", days: float = 31, material: bool = True, **overrides) -> dict:
    event = {
        "version": version,
        "summary": "We now keep invoices for 10 years.",
        "body": "The new policy text.",
        "effective_at": iso(utc_now() + timedelta(days=days)),
        "material": material,
        **overrides,
    }
    return client.lambda_.invoke("ops_publish_policy", event).payload


def scheduled(client, name: str) -> dict:
    return client.lambda_.invoke(name, client.events.generate_cw_event("Scheduled Event", "aws.events", {}, [])).payload


def test_initial_policy_is_in_force_and_loading_it_again_changes_nothing(client):
    assert ensure_initial_policy()["version"] == "1"
    policy = call(client, "GET", "/policy").json
    assert policy["version"] == "1" and policy["body"] and policy["summary"]
    versions = call(client, "GET", "/policy/versions").json["versions"]
    assert [(v["version"], v["status"], v["material"]) for v in versions] == [("1", "in_force", False)]
    assert call(client, "GET", "/policy/notice").json == {"upcoming": []}


def test_a_material_change_needs_30_days_notice(client):
    too_soon = publish(client, days=29.9)
    assert too_soon["error"]["code"] == "notice_period_too_short"
    assert too_soon["error"]["details"][0]["path"] == "effective_at"
    assert call(client, "GET", "/policy/versions").json["versions"][-1]["version"] == "1"
    record = publish(client, days=30.01)
    assert record["status"] == "published" and record["material"] is True
    assert record["body"] == "The new policy text." and record["published_at"].endswith("Z")


def test_a_non_material_change_may_take_effect_at_once(client):
    record = publish(client, "1.1", days=0, material=False)
    assert record["status"] == "published"
    assert publish(client, "1.0.1", days=-1, material=False)["status"] == "published"


def test_a_version_id_is_used_once(client):
    first = publish(client, "2024-06")
    assert publish(client, "2024-06", effective_at=first["effective_at"]) == first
    changed = publish(client, "2024-06", effective_at=first["effective_at"], summary="Something else")
    assert changed["error"]["code"] == "conflict"
    assert publish(client, "2024-06", effective_at=first["effective_at"], material=False)["error"]["code"] == "conflict"
    assert call(client, "GET", "/policy/versions/2024-06").json["summary"] == first["summary"]


@pytest.mark.parametrize(
    "change",
    [
        {"version": "two words"},
        {"version": "x" * 65},
        {"version": ""},
        {"effective_at": "2031-02-30T00:00:00Z"},
        {"effective_at": "2031-01-01T00:00:00+01:00"},
        {"material": "yes"},
        {"summary": ""},
        {"colour": "blue"},
    ],
)
def test_bad_events_are_refused_with_the_field(client, change):
    result = publish(client, **change)
    assert result["error"]["code"] == "validation_error"
    assert result["error"]["details"][0]["path"] == next(iter(change))


def test_upcoming_versions_show_on_the_home_page_until_in_force(client):
    publish(client, "3", days=45)
    publish(client, "2", days=31)
    publish(client, "1.1", days=0, material=False)
    upcoming = call(client, "GET", "/policy/notice").json["upcoming"]
    assert [u["version"] for u in upcoming] == ["1.1", "2", "3"]
    assert set(upcoming[1]) == {"version", "effective_at", "summary"}

    assert scheduled(client, "activate_policy_versions")["activated"] == ["1.1"]
    assert call(client, "GET", "/policy").json["version"] == "1.1"
    assert [u["version"] for u in call(client, "GET", "/policy/notice").json["upcoming"]] == ["2", "3"]
    statuses = {v["version"]: v["status"] for v in call(client, "GET", "/policy/versions").json["versions"]}
    assert statuses == {"1": "superseded", "1.1": "in_force", "2": "published", "3": "published"}
    assert scheduled(client, "activate_policy_versions") == {"activated": [], "held_back": []}


def test_a_version_can_be_read_before_it_is_in_force(client):
    publish(client, "2")
    assert call(client, "GET", "/policy/versions/2").json["body"] == "The new policy text."
    assert call(client, "GET", "/policy/versions/9").status_code == 404
    assert call(client, "GET", "/policy/versions/" + "x" * 300).json["error"]["code"] == "not_found"


def test_the_scheduled_dispatch_emails_customers_and_the_export_proves_it(client):
    assert scheduled(client, "dispatch_policy_notices") == {"sent": 0, "remaining": 0}
    account = signup(client)
    publish(client, "2")
    assert scheduled(client, "dispatch_policy_notices") == {"sent": 1, "remaining": 0}
    notices = [m for m in outbox() if m["to"] == [account.email] and "privacy policy" in m["subject"]]
    assert len(notices) == 1 and "/policy/versions/2" in notices[0]["html"]
    proof = call(client, "GET", "/account/export", account=account).json["notices"]
    assert [(n["version"], n["status"]) for n in proof] == [("2", "sent")] and proof[0]["message_id"]


@pytest.mark.parametrize("event", [{}, {"note": "run by hand"}, ["not", "an", "object"]])
def test_scheduled_functions_accept_any_event(client, event):
    assert client.lambda_.invoke("activate_policy_versions", event).payload["activated"] == []
    assert client.lambda_.invoke("dispatch_policy_notices", event).payload == {"sent": 0, "remaining": 0}
