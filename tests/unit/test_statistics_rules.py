"""What a statistics event is reduced to, and how small rows are folded (no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.services import statistics
from chalicelib.services.stats_dimensions import clean_path, client_of, country_of, referrer_host

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "path, cleaned",
    [
        ("", "/"),
        ("/pricing", "/pricing"),
        ("/users/jane.doe@example.com/orders", "/users/:redacted/orders"),
        ("/users/jane.doe%40example.com", "/users/:redacted"),
        ("/customers/C1234567890", "/customers/:redacted"),
        ("/from/192.168.10.20/x", "/from/:redacted/x"),
        ("/from/2001:db8::1", "/from/:redacted"),
        ("/C3/plans", "/C3/plans"),
        ("/" + "a" * 500, "/" + "a" * 199),
    ],
)
def test_paths_lose_what_could_name_a_person_and_are_bounded(path, cleaned):
    assert clean_path(path) == cleaned


def test_referrers_keep_only_the_host_and_links_within_the_site_count_as_direct():
    assert referrer_host("https://www.Search.example/q?email=jane@example.com", "hostbay.example") == "search.example"
    assert referrer_host("https://hostbay.example/pricing", "www.hostbay.example") == "direct"
    assert referrer_host("", "hostbay.example") == "direct"
    assert referrer_host(None, "hostbay.example") == "direct"
    assert referrer_host("android-app://com.google.android.gm/", "hostbay.example") == "com.google.android.gm"


def test_country_comes_from_a_two_letter_header_else_unknown():
    assert [country_of(v) for v in ("NL", "nl", " DE ", "", None, "NLD", "1A")] == [
        "NL",
        "NL",
        "DE",
        "unknown",
        "unknown",
        "unknown",
        "unknown",
    ]


@pytest.mark.parametrize(
    "agent, width, expected",
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            None,
            ("desktop", "Chrome", "Windows"),
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1",
            390,
            ("mobile", "Mobile Safari", "iOS"),
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 "
            "Mobile/15E148 Safari/604.1",
            None,
            ("tablet", "Mobile Safari", "iOS"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            None,
            ("tablet", "Chrome", "Android"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile "
            "Safari/537.36",
            None,
            ("mobile", "Chrome", "Android"),
        ),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            None,
            ("bot", "Googlebot", "unknown"),
        ),
        ("curl/8.4.0", None, ("bot", "curl", "unknown")),
        ("", 1920, ("bot", "unknown", "unknown")),
        ("SomeNewBrowser/1.0", 400, ("mobile", "unknown", "unknown")),
        ("SomeNewBrowser/1.0", 1920, ("desktop", "unknown", "unknown")),
    ],
)
def test_device_type_browser_and_os_family(agent, width, expected):
    client = client_of(agent, width)
    assert (client["device"], client["browser"], client["os"]) == expected


def rows(*days: dict[str, int]) -> dict:
    """Rows over several days: {key: visitors that day} per day."""
    result = {}
    for day in days:
        for key, visitors in day.items():
            daily = statistics._Row()
            daily.add(visitors, visitors * 2)
            result.setdefault(key, statistics._Row()).add_day(daily)
    return result


def test_rows_under_five_visitors_are_folded_into_other():
    folded = statistics._fold(rows({"/a": 9, "/b": 5, "/c": 4, "/d": 1}), "pageviews")
    assert folded == [
        {"key": "/a", "visitors": 9, "pageviews": 18},
        {"key": "/b", "visitors": 5, "pageviews": 10},
        {"key": "other", "visitors": 5, "pageviews": 10},
    ]


def test_a_row_shown_over_a_range_had_five_visitors_on_one_day():
    # One visitor a day for five days may be one person: folded. Five on one day are five people.
    folded = statistics._fold(
        rows({"/rare": 1, "/b": 5}, {"/rare": 1}, {"/rare": 1}, {"/rare": 1}, {"/rare": 1}), "pageviews"
    )
    assert folded == [{"key": "/b", "visitors": 5, "pageviews": 10}, {"key": "other", "visitors": 5, "pageviews": 10}]


def test_nothing_folded_means_no_other_row():
    assert statistics._fold(rows({"/a": 6}), "pageviews") == [{"key": "/a", "visitors": 6, "pageviews": 12}]
    assert statistics._fold({}, "pageviews") == []


def test_only_the_stats_route_loads_ua_parser():
    probe = "import sys, app; print('ua_parser' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
