"""The home page and the Client Area in a real browser: forms, sessions, errors, headers."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import SCREENS
from tests.browser.flows import api, login, signup, wait_for_lists
from tests.helpers import PASSWORD

PUBLIC_PAGES = [
    "/",
    "/privacy",
    "/privacy/versions/1",
    "/contact-us",
    "/client-area/login",
    "/client-area/signup",
    "/client-area/password-reset",
]
CLIENT_PAGES = [
    "/client-area/",
    "/client-area/profile",
    "/client-area/preferences",
    "/client-area/tickets",
    "/client-area/cart",
    "/client-area/orders",
    "/client-area/payment-methods",
    "/client-area/identity-document",
    "/client-area/disclosures",
    "/client-area/privacy",
]
README = SCREENS / "readme"


def test_signup_through_the_form_lands_on_the_dashboard_showing_the_customer_number(page):
    number, email = signup(page, topics=("website", "new_services"))
    assert page.url.endswith("/client-area/")
    status, profile = api(page, "GET", "/account")
    assert status == 200 and profile["customer_number"] == number and profile["email"] == email
    _, preferences = api(page, "GET", "/account/preferences")
    assert preferences["topics"] == {"products": False, "website": True, "new_services": True, "special_offers": False}
    README.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 800})
    page.screenshot(path=str(README / "dashboard.png"), full_page=True)


def test_profile_and_preference_edits_show_up_through_the_api(page):
    signup(page)
    page.goto("/client-area/profile")
    page.fill("#profile [name=name]", "Ada King")
    page.fill("#profile [name=phone]", "+31201234567")
    page.fill("#profile [name='address.line1']", "Keizersgracht 1")
    page.fill("#profile [name='address.city']", "Amsterdam")
    page.fill("#profile [name='address.postal_code']", "1015 CJ")
    page.fill("#profile [name='address.country']", "NL")
    page.click("#profile button[type=submit]")
    expect(page.locator("#profile .form-status")).to_contain_text("saved")
    _, profile = api(page, "GET", "/account")
    assert profile["name"] == "Ada King" and profile["phone"] == "+31201234567"
    assert profile["address"] == {
        "line1": "Keizersgracht 1",
        "city": "Amsterdam",
        "postal_code": "1015 CJ",
        "country": "NL",
    }

    page.goto("/client-area/preferences")
    for topic in ("products", "special_offers"):
        page.check(f"#preferences input[type=checkbox][name={topic}]")
    page.uncheck("#preferences input[name=website]")
    page.click("#preferences button[type=submit]")
    expect(page.locator("#preferences .form-status")).to_contain_text("saved")
    _, preferences = api(page, "GET", "/account/preferences")
    assert preferences["topics"] == {"products": True, "website": False, "new_services": False, "special_offers": True}
    page.reload()
    expect(page.locator("#preferences input[name=special_offers]")).to_be_checked()


def test_a_server_side_validation_error_appears_beside_the_field(page):
    page.goto("/client-area/signup")
    page.fill("#signup [name=name]", "Ada")
    page.fill("#signup [name=email]", "ada@example.com")
    page.fill("#signup [name=password]", "short")
    page.fill("#signup [name=phone]", "020 123")
    page.click("#signup button[type=submit]")
    expect(page.locator("#signup-password-error")).to_have_text("must be at least 12 characters")
    expect(page.locator("#signup-phone-error")).to_contain_text("has an invalid format")
    expect(page.locator("#signup .form-error")).to_contain_text("The request is not valid.")
    expect(page.locator("#signup [name=password]")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/client-area/signup")

    page.fill("#signup [name=password]", PASSWORD)
    page.fill("#signup [name=phone]", "")
    page.fill("#signup [name='address.line1']", "Dam 1")  # an address needs city, postal code, country
    page.click("#signup button[type=submit]")
    expect(page.locator("#signup-address\\.city-error")).to_have_text("is required")
    expect(page.locator("#signup-password-error")).to_have_text("")


def test_a_taken_email_shows_the_apis_message(page):
    _, email = signup(page)
    page.click("#logout button[type=submit]")
    page.wait_for_url("**/client-area/login")
    page.goto("/client-area/signup")
    page.fill("#signup [name=name]", "Someone Else")
    page.fill("#signup [name=email]", email.upper())
    page.fill("#signup [name=password]", PASSWORD)
    page.click("#signup button[type=submit]")
    expect(page.locator("#signup .form-error")).to_contain_text("already exists")


def test_login_logout_and_the_redirect_when_logged_out(page, site):
    for path in CLIENT_PAGES:
        answer = requests.get(f"{site}{path}", allow_redirects=False, timeout=30)
        assert (answer.status_code, answer.headers.get("Location")) == (303, "/client-area/login"), path
    _, email = signup(page)
    page.click("#logout button[type=submit]")
    page.wait_for_url("**/client-area/login")
    page.goto("/client-area/profile")
    assert page.url.endswith("/client-area/login")
    assert page.evaluate("sessionStorage.getItem('pledge.csrf')") is None

    login(page, email, "not the right password")
    expect(page.locator("#login .form-error")).not_to_be_empty()
    login(page, email)
    page.wait_for_url("**/client-area/")
    page.goto("/client-area/profile")
    expect(page.locator("#profile [name=email]")).to_have_value(email)
    page.goto("/client-area/login")  # already logged in
    assert page.url.endswith("/client-area/")
    page.click("header a.logout-link")  # the header's link sends the same form
    page.wait_for_url("**/client-area/login")
    assert requests.get(f"{site}/client-area/", allow_redirects=False, timeout=30).status_code == 303


def test_the_keyboard_alone_logs_in_with_visible_focus(page):
    _, email = signup(page)
    page.click("#logout button[type=submit]")
    page.wait_for_url("**/client-area/login")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "login-email":
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/client-area/")


def test_the_home_page_notice_appears_after_a_material_version_is_published(page):
    from chalicelib.services.policy import publish_policy
    from chalicelib.store.base import iso, utc_now

    page.goto("/")
    expect(page.locator(".policy-notice")).to_have_count(0)
    effective = iso(utc_now() + timedelta(days=31))
    publish_policy(
        {
            "version": "2026-12",
            "summary": "We now name our payment processor.",
            "body": "# Policy\n\n## Payments\nCards are processed by a processor we name.",
            "effective_at": effective,
            "material": True,
        }
    )
    page.reload()
    notice = page.locator(".policy-notice")
    expect(notice).to_contain_text("2026-12")
    expect(notice).to_contain_text(effective[:10])
    README.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 800})
    page.screenshot(path=str(README / "home-notice.png"), full_page=True)
    notice.get_by_role("link").click()
    page.wait_for_url("**/privacy/versions/2026-12")
    expect(page.locator("main")).to_contain_text("Cards are processed by a processor we name.")
    page.goto("/privacy")
    expect(page.locator("main table")).to_contain_text("2026-12")


def test_the_contact_form_sends_and_answers_with_a_reference(page):
    page.goto("/contact-us")
    page.fill("#contact [name=name]", "Grace")
    page.fill("#contact [name=email]", "grace@example.com")
    page.select_option("#contact [name=topic]", "sales")
    page.fill("#contact [name=message]", "Do you offer IPv6?")
    page.click("#contact button[type=submit]")
    expect(page.locator("#contact .form-status")).to_contain_text("your reference is")
    page.click("#contact button[type=submit]")  # the form was emptied: the API says what is missing
    expect(page.locator("#contact-name-error")).to_have_text("is required")


def test_a_ticket_opened_in_the_client_area_is_listed_and_readable(page):
    signup(page)
    page.goto("/client-area/tickets")
    page.fill("#ticket [name=subject]", "Server unreachable")
    page.fill("#ticket [name=message]", "My VPS does not answer.\nSince this morning.")
    page.click("#ticket button[type=submit]")
    link = page.get_by_role("link", name="Server unreachable")
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("main")).to_contain_text("Since this morning.")


def test_the_export_downloads_as_a_json_file(page):
    number, email = signup(page)
    page.goto("/client-area/privacy")
    with page.expect_download() as download_info:
        page.click("#export")
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    import json

    exported = json.loads(Path(download.path()).read_text())
    assert number in json.dumps(exported) and email in json.dumps(exported)


def test_deactivation_rechecks_the_password(page):
    _, email = signup(page)
    page.goto("/client-area/privacy")
    page.fill("#deactivate [name=password]", "not the right password")
    page.click("#deactivate button[type=submit]")
    expect(page.locator("#deactivate .form-error")).not_to_be_empty()
    page.fill("#deactivate [name=password]", PASSWORD)
    page.click("#deactivate button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    login(page, email)
    expect(page.locator("#login .form-error")).to_contain_text("deactivated")


def test_every_page_sends_the_security_headers_and_no_inline_script(site):
    browser = requests.Session()
    answer = browser.post(
        f"{site}/signup", json={"name": "H", "email": "headers@example.com", "password": PASSWORD}, timeout=30
    )
    assert answer.status_code == 201
    for path in PUBLIC_PAGES + CLIENT_PAGES:
        response = browser.get(f"{site}{path}", allow_redirects=False, timeout=30)
        if path in ("/client-area/login", "/client-area/signup"):
            assert response.status_code == 303  # logged in: on to the dashboard
            response = requests.get(f"{site}{path}", timeout=30)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Referrer-Policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), path
        assert not re.search(r"\son[a-z]+=|style=", response.text), path
        for anchor in re.findall(r"<a\s[^>]*href=\"https?://[^\"]*\"[^>]*>", response.text):
            assert 'rel="noopener noreferrer"' in anchor, anchor


@pytest.mark.parametrize("width", [360, 1280])
def test_pages_fit_the_screen(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    signup(page)
    for path in CLIENT_PAGES:
        page.goto(path)
        wait_for_lists(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_each_page_sends_a_page_view_without_its_query_or_cookies(page):
    signup(page)
    with page.expect_request(
        lambda r: r.url.endswith("/stats/event") and "password-reset" in (r.post_data or "")
    ) as sent:
        page.goto("/client-area/password-reset?token=secret-token")
    request = sent.value
    assert request.method == "POST"
    event = request.post_data_json
    assert event["name"] == "pageview" and event["url"].endswith("/client-area/password-reset")
    assert "secret-token" not in request.post_data and isinstance(event["screen_width"], int)
    assert "cookie" not in {name.lower() for name in request.all_headers()}
