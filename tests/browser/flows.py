"""What a customer does in the browser, step by step, shared by the browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.helpers import PASSWORD, unique_email


def signup(page: Page, name: str = "Ada Lovelace", email: str | None = None, topics: tuple = ()) -> tuple[str, str]:
    """Sign up through the form (opting in to `topics`); returns (customer number, email)
    from the dashboard."""
    email = email or unique_email("browser")
    page.goto("/client-area/signup")
    page.fill("#signup [name=name]", name)
    page.fill("#signup [name=email]", email)
    page.fill("#signup [name=password]", PASSWORD)
    for topic in topics:
        page.check(f"#signup input[type=checkbox][name={topic}]")
    page.click("#signup button[type=submit]")
    page.wait_for_url("**/client-area/")
    number = page.locator("#customer-number")
    expect(number).to_have_text(re.compile(r"^C\d+$"))
    return number.inner_text(), email


def login(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/client-area/login")
    page.fill("#login [name=email]", email)
    page.fill("#login [name=password]", password)
    page.click("#login button[type=submit]")


def api(page: Page, method: str, path: str, body: dict | None = None):
    """A JSON API call with the page's session cookie and the CSRF token its script kept."""
    headers = {"X-CSRF-Token": page.evaluate("sessionStorage.getItem('pledge.csrf') || ''")}
    response = page.request.fetch(path, method=method, data=body, headers=headers)
    return response.status, (response.json() if response.body() else None)


def wait_for_lists(page: Page) -> None:
    """The page's script has filled its lists from the API."""
    page.wait_for_selector("body[data-loaded=true]")


def add_card(page: Page, number: str = "4242 4242 4242 4242", holder: str = "Ada Lovelace") -> None:
    page.goto("/client-area/payment-methods")
    wait_for_lists(page)
    page.fill("#payment-method [name='card.holder_name']", holder)
    page.fill("#payment-method [name='card.number']", number)
    page.fill("#payment-method [name='card.exp_month']", "12")
    page.fill("#payment-method [name='card.exp_year']", "2040")
    page.fill("#payment-method [name='card.cvc']", "123")
    page.click("#payment-method button[type=submit]")
    expect(page.locator("#payment-method .form-status")).to_contain_text("added")
