"""Cart, orders, payment methods, the identity document, disclosure permissions and the
password reset, in a real browser. Their JSON APIs are built on other branches: each test
skips, saying so, while its route answers 404, and runs once the branches are merged."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.browser.conftest import require_routes
from tests.browser.flows import add_card, api, login, signup, wait_for_lists

CARD = "4242 4242 4242 4242"


def test_adding_a_card_shows_only_the_last_4(page, site):
    require_routes(site, ("GET", "/account/payment-methods"))
    signup(page)
    add_card(page, CARD)
    listed = page.locator("[data-view=payment-methods] li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("•••• 4242")
    content = page.content()
    assert "4242424242424242" not in content and CARD not in content
    assert page.input_value("#payment-method [name='card.number']") == ""  # the form was emptied
    _, methods = api(page, "GET", "/account/payment-methods")
    assert [m["last4"] for m in methods["payment_methods"]] == ["4242"]

    page.fill("#payment-method [name='card.number']", "4242 4242 4242 4241")  # not Luhn-valid
    page.fill("#payment-method [name='card.holder_name']", "Ada")
    page.fill("#payment-method [name='card.exp_month']", "12")
    page.fill("#payment-method [name='card.exp_year']", "2040")
    page.fill("#payment-method [name='card.cvc']", "123")
    page.click("#payment-method button[type=submit]")
    expect(page.locator("#payment-method-card\\.number-error")).not_to_be_empty()

    listed.get_by_role("button", name=re.compile("Remove")).click()
    expect(page.locator("[data-view=payment-methods]")).to_contain_text("No payment method on file.")


def test_an_order_from_cart_to_receipt(page, site):
    require_routes(site, ("GET", "/catalog"), ("GET", "/orders"), ("GET", "/account/payment-methods"))
    products = requests.get(f"{site}/catalog", timeout=30).json()["products"]
    product = next(p for p in products if not p["requires"])
    signup(page)
    add_card(page, CARD)
    page.goto("/client-area/cart")
    wait_for_lists(page)
    item = page.locator(f"li[data-sku='{product['sku']}']")
    item.locator("[name=quantity]").fill("2")
    item.get_by_role("button", name=re.compile("Add to cart")).click()
    expect(item.locator(".form-status")).to_contain_text("Added")
    expect(page.locator("[data-view=cart]")).to_contain_text(product["name"])
    expect(page.locator("#checkout [name=payment_method_id]")).to_contain_text("4242")
    page.click("#checkout button[type=submit]")
    status = page.locator("#checkout .form-status")
    expect(status).to_contain_text("is placed")
    order_id = re.search(r"Order (\S+) is placed", status.inner_text()).group(1)
    expect(page.locator("[data-view=cart]")).to_contain_text("Your cart is empty.")

    page.goto("/client-area/orders")
    wait_for_lists(page)
    expect(page.locator("[data-view=orders]")).to_contain_text(order_id)
    page.locator("[data-view=orders]").get_by_role("link", name=re.compile("Receipt")).first.click()
    page.wait_for_url(f"**/orders/{order_id}/receipt")
    expect(page.locator("body")).to_contain_text(order_id)
    expect(page.locator("body")).to_contain_text("4242")


def test_an_order_needing_an_identity_document_says_so_beside_the_form(page, site):
    require_routes(site, ("GET", "/catalog"), ("GET", "/orders"), ("GET", "/account/identity-document"))
    products = requests.get(f"{site}/catalog", timeout=30).json()["products"]
    product = next(p for p in products if p["requires"] == ["identity_document"])
    signup(page)
    add_card(page, CARD)
    page.goto("/client-area/cart")
    wait_for_lists(page)
    page.locator(f"li[data-sku='{product['sku']}']").get_by_role("button", name=re.compile("Add to cart")).click()
    expect(page.locator("[data-view=cart]")).to_contain_text(product["name"])
    page.click("#checkout button[type=submit]")
    expect(page.locator("#checkout [data-error-for=identity_document]")).not_to_be_empty()

    page.goto("/client-area/identity-document")
    wait_for_lists(page)
    expect(page.locator("[data-view=identity-document]")).to_contain_text("No identity document on file.")
    page.select_option("#identity-document [name=type]", "passport")
    page.fill("#identity-document [name=country]", "NL")
    page.fill("#identity-document [name=number]", "NX-12 34 5678")
    page.click("#identity-document button[type=submit]")
    expect(page.locator("[data-view=identity-document]")).to_contain_text("5678")
    assert "NX-12 34 5678" not in page.content()


def test_granting_and_revoking_a_disclosure_permission(page, site):
    require_routes(site, ("GET", "/account/disclosures"))
    signup(page)
    page.goto("/client-area/disclosures")
    wait_for_lists(page)
    page.fill("#disclosure [name=recipient]", "Acme Accountants")
    page.fill("#disclosure [name=purpose]", "Yearly audit of our invoices")
    page.click("#disclosure button[type=submit]")
    expect(page.locator("#disclosure-categories-error")).not_to_be_empty()  # no category chosen: the API says so
    page.check("#disclosure input[name=categories][value=contact]")
    page.check("#disclosure input[name=categories][value=orders]")
    page.click("#disclosure button[type=submit]")
    permissions = page.locator("[data-view=permissions]")
    expect(permissions).to_contain_text("Acme Accountants")
    expect(permissions.locator("[data-status]")).to_have_text("active")
    _, listed = api(page, "GET", "/account/disclosures")
    assert [(p["recipient"], sorted(p["categories"]), p["status"]) for p in listed["permissions"]] == [
        ("Acme Accountants", ["contact", "orders"], "active")
    ]

    permissions.get_by_role("button", name=re.compile("Revoke")).click()
    expect(permissions.locator("[data-status]")).to_have_text("revoked")
    _, listed = api(page, "GET", "/account/disclosures")
    assert listed["permissions"][0]["status"] == "revoked"


def test_asking_for_a_password_reset(page, site):
    require_routes(site, ("POST", "/password-reset"))
    page.goto("/client-area/password-reset")
    page.fill("#password-reset [name=email]", "nobody@example.com")
    page.click("#password-reset button[type=submit]")
    expect(page.locator("#password-reset .form-status")).to_contain_text("we have sent it a link")


def test_a_password_reset_link_sets_a_new_password(page, site):
    require_routes(site, ("POST", "/password-reset"), ("POST", "/password-reset/confirm"))
    from tests.stack import outbox

    _, email = signup(page)
    page.click("#logout button[type=submit]")
    page.wait_for_url("**/client-area/login")
    page.goto("/client-area/password-reset")
    page.fill("#password-reset [name=email]", email)
    page.click("#password-reset button[type=submit]")
    expect(page.locator("#password-reset .form-status")).to_contain_text("we have sent it a link")
    mail = [m for m in outbox() if email in m["to"] and "token=" in (m["text"] or "")][-1]
    token = re.search(r"token=([A-Za-z0-9_.~%-]+)", mail["text"]).group(1)
    page.goto(f"/client-area/password-reset?token={token}")
    page.fill("#password-reset-confirm [name=password]", "a brand new passphrase")
    page.click("#password-reset-confirm button[type=submit]")
    page.wait_for_url("**/client-area/login")
    login(page, email, "a brand new passphrase")
    page.wait_for_url("**/client-area/")
