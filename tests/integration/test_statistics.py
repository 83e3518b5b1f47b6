"""Website statistics through the beacon and ops_site_statistics, against DynamoDB Local:
counts, dropped query strings, folded small rows, nothing personal stored, and days
that cannot be linked once the salt rotates."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.services import statistics
from chalicelib.store.base import utc_now
from tests.helpers import call
from tests.iam_guard import running
from tests.stack import TEST_TABLE_PREFIX

STATS_TABLES = ("stats_daily", "stats_seen", "stats_salts")
BROWSERS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
]


@pytest.fixture
def client(clean_stack):
    statistics.forget_cached_salt()
    with Client(app, stage_name="local") as test_client:
        yield test_client


def visitor_agent(n: int) -> str:
    """A real browser's User-Agent made unique, so a scan can look for it."""
    return f"{BROWSERS[1 if n % 3 == 2 else 0]} visitor-{n}-{uuid.uuid4().hex[:8]}"


def send(client, body: dict, agent: str, country: str | None = None):
    headers = {"User-Agent": agent, **({"CloudFront-Viewer-Country": country} if country else {})}
    return call(client, "POST", "/stats/event", body, headers=headers)


def pageview(client, url: str, agent: str, country: str | None = "NL", referrer: str | None = None):
    body = {"name": "pageview", "url": url, "screen_width": 1440, **({"referrer": referrer} if referrer else {})}
    response = send(client, body, agent, country)
    assert response.status_code == 202, response.body
    return response


def report(client, first: str, last: str | None = None) -> dict:
    return client.lambda_.invoke("ops_site_statistics", {"from": first, "to": last or first}).payload


def row(rows: list[dict], key: str) -> dict | None:
    return next((r for r in rows if r["key"] == key), None)


def raw_scan(stack) -> str:
    dynamodb = stack.dynamodb()
    items = [dynamodb.scan(TableName=f"{TEST_TABLE_PREFIX}{t}")["Items"] for t in STATS_TABLES]
    return json.dumps(items)


def test_counts_drop_query_strings_fold_small_rows_and_store_nothing_personal(client, clean_stack):
    path = f"/pricing-{uuid.uuid4().hex[:8]}"
    agents = [visitor_agent(n) for n in range(7)]
    for n, agent in enumerate(agents[:6]):
        for _ in range(n % 3 + 1):  # 1, 2 or 3 views each: 12 in all
            pageview(
                client,
                f"https://hostbay.example{path}?email=jane.doe%40example.com&ref=mail#plans",
                agent,
                referrer="https://www.search.example/results?q=jane.doe@example.com",
            )
    pageview(client, f"https://hostbay.example/rare-{uuid.uuid4().hex[:6]}", agents[6], country="IS")

    stats = report(client, utc_now().date().isoformat())

    assert (stats["visitors"], stats["pageviews"]) == (7, 13)
    assert stats["pages"] == [
        {"key": path, "visitors": 6, "pageviews": 12},
        {"key": "other", "visitors": 1, "pageviews": 1},
    ]
    assert stats["countries"] == [
        {"key": "NL", "visitors": 6, "pageviews": 12},
        {"key": "other", "visitors": 1, "pageviews": 1},
    ]
    assert stats["referrers"] == [
        {"key": "search.example", "visitors": 6, "pageviews": 12},
        {"key": "other", "visitors": 1, "pageviews": 1},
    ]
    assert stats["devices"] == [{"key": "desktop", "visitors": 7, "pageviews": 13}]
    assert [(r["key"], r["visitors"]) for r in stats["browsers"]] == [("Firefox", 5), ("other", 2)]  # 2 Chrome
    assert [(r["key"], r["visitors"]) for r in stats["operating_systems"]] == [("Linux", 5), ("other", 2)]
    stored = raw_scan(clean_stack)
    assert path in stored and "jane" not in stored and "%40" not in stored and "127.0.0.1" not in stored
    assert not [agent for agent in agents if agent in stored or agent.split(" visitor-")[1] in stored]


def test_yesterdays_visitors_cannot_be_linked_to_todays_after_the_salt_rotates(client, clean_stack, monkeypatch):
    today = utc_now()
    tomorrow = today + timedelta(days=1)
    agent = visitor_agent(1)
    path = f"/returning-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(statistics, "utc_now", lambda: today)
    pageview(client, f"https://hostbay.example{path}", agent)
    seen_today = scan_items(clean_stack, "stats_seen")
    with running("destroy_stats_salts"):
        assert statistics.destroy_old_salts() == {"destroyed": []}  # today's salt lives until today ends

    monkeypatch.setattr(statistics, "utc_now", lambda: tomorrow)
    with running("destroy_stats_salts"):
        assert statistics.destroy_old_salts() == {"destroyed": [today.date().isoformat()]}
    pageview(client, f"https://hostbay.example{path}", agent)  # the same person, the next day

    assert [s["day"]["S"] for s in scan_items(clean_stack, "stats_salts")] == [tomorrow.date().isoformat()]
    seen_tomorrow = [s for s in scan_items(clean_stack, "stats_seen") if s not in seen_today]
    assert len(seen_today) == len(seen_tomorrow) == 1
    assert seen_today[0]["visitor"] != seen_tomorrow[0]["visitor"]
    assert not set(seen_today[0]["seen"]["SS"]) & set(seen_tomorrow[0]["seen"]["SS"])
    both_days = report(client, today.date().isoformat(), tomorrow.date().isoformat())
    assert (both_days["visitors"], both_days["pageviews"]) == (2, 2)  # the days cannot be joined: counted twice
    assert both_days["pages"] == [{"key": "other", "visitors": 2, "pageviews": 2}]  # never 5 on one day


def scan_items(stack, table: str) -> list[dict]:
    return stack.dynamodb().scan(TableName=f"{TEST_TABLE_PREFIX}{table}")["Items"]


def test_the_beacon_answers_202_with_no_body_and_no_cookie_even_when_logged_in(client):
    from tests.helpers import signup

    account = signup(client)
    response = call(
        client, "POST", "/stats/event", {"name": "pageview", "url": "https://hostbay.example/"}, account=account
    )
    assert response.status_code == 202
    assert response.body == b"" and "Set-Cookie" not in response.headers


def test_custom_events_are_counted_apart_from_pageviews(client):
    for n in range(5):
        send(client, {"name": "signup_started", "url": "https://hostbay.example/client-area/signup"}, visitor_agent(n))
    stats = report(client, utc_now().date().isoformat())
    assert (stats["visitors"], stats["pageviews"], stats["pages"]) == (0, 0, [])
    assert stats["events"] == [{"key": "signup_started", "visitors": 5, "events": 5}]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://hostbay.example/"},
        {"name": "pageview"},
        {"name": "Page_View", "url": "https://hostbay.example/"},
        {"name": "x" * 41, "url": "https://hostbay.example/"},
        {"name": "pageview", "url": "/relative"},
        {"name": "pageview", "url": "ftp://hostbay.example/"},
        {"name": "pageview", "url": "https:///no-host"},
        {"name": "pageview", "url": "https://[::1/"},
        {"name": "pageview", "url": "https://hostbay.example/" + "a" * 2000},
        {"name": "pageview", "url": "https://hostbay.example/\ud800"},
        {"name": "pageview", "url": "https://hostbay.example/", "referrer": "not a url"},
        {"name": "pageview", "url": "https://hostbay.example/", "referrer": "https://[bad"},
        {"name": "pageview", "url": "https://hostbay.example/", "screen_width": "1440"},
        {"name": "pageview", "url": "https://hostbay.example/", "screen_width": 14.5},
        {"name": "pageview", "url": "https://hostbay.example/", "screen_width": -1},
        {"name": "pageview", "url": "https://hostbay.example/", "user_id": "C1234567"},
        ["pageview"],
    ],
)
def test_a_malformed_event_answers_400_and_counts_nothing(client, body):
    response = call(client, "POST", "/stats/event", body, headers={"User-Agent": BROWSERS[0]})
    assert response.status_code == 400, response.body
    assert response.json["error"]["code"] == "validation_error"
    assert report(client, utc_now().date().isoformat())["pageviews"] == 0


def test_a_body_that_is_not_json_answers_400(client):
    response = call(client, "POST", "/stats/event", raw=b'{"name": "pageview", "url": ')
    assert response.status_code == 400


def test_ops_site_statistics_refuses_a_bad_range(client):
    for event in (
        {"from": "2026-02-30", "to": "2026-03-01"},
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
        {"from": "2026-03-01"},
    ):
        assert client.lambda_.invoke("ops_site_statistics", event).payload["error"]["code"] == "validation_error"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    url=st.text(max_size=60),
    referrer=st.none() | st.text(max_size=60),
    agent=st.text(max_size=80),
    country=st.text(max_size=4),
    scheme=st.sampled_from(["https://", "http://", "HTTP://", ""]),
)
def test_no_event_or_header_gets_a_server_error(beacon_client, url, referrer, agent, country, scheme):
    body = {
        "name": "pageview",
        "url": scheme + url,
        **({"referrer": scheme + referrer} if referrer is not None else {}),
    }
    response = send(beacon_client, body, agent, country)
    assert response.status_code in (202, 400), response.body


@pytest.fixture(scope="module")
def beacon_client(local_stack):
    local_stack.clean()
    with Client(app, stage_name="local") as test_client:
        yield test_client
    local_stack.clean()
