"""The home page and the Client Area as HTML pages, over the same services as the JSON API.

Pages only read; every change is made by the page's script through the JSON API. A
Client Area page that needs login sends a visitor without a valid session to the login
page (303)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from chalice import Blueprint, Response

from chalicelib.errors import NotFound, PledgeError
from chalicelib.lazy import lazy_modules
from chalicelib.pages.render import page, redirect, static_file
from chalicelib.web import Caller, authenticate, handles_errors

if TYPE_CHECKING:
    from chalicelib.services import accounts, preferences, sessions, support
    from chalicelib.services import policy as policies
else:  # loaded on first use (chalicelib/lazy.py)
    accounts, preferences, sessions, support, policies = lazy_modules(
        "chalicelib.services.accounts",
        "chalicelib.services.preferences",
        "chalicelib.services.sessions",
        "chalicelib.services.support",
        "chalicelib.services.policy",
    )

pages = Blueprint(__name__)

LOGIN_PAGE = "/client-area/login"
DASHBOARD = "/client-area/"
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


class ClientPage(NamedTuple):
    template: str
    title: str
    load: Callable[[str], dict] | None = None  # customer number -> template context


def _profile(customer_number: str) -> dict:
    return {"profile": accounts.get_profile(customer_number)}


CLIENT_PAGES = {
    "profile": ClientPage("profile", "Profile", _profile),
    "preferences": ClientPage(
        "preferences",
        "Marketing preferences",
        lambda c: {"topics": preferences.get_topics(c), "labels": preferences.TOPIC_LABELS},
    ),
    "tickets": ClientPage("tickets", "Support tickets", lambda c: {"tickets": support.tickets_of(c)}),
    "cart": ClientPage("cart", "Cart"),
    "orders": ClientPage("orders", "Orders"),
    "payment-methods": ClientPage("payment_methods", "Payment methods"),
    "identity-document": ClientPage("identity_document", "Identity document"),
    "disclosures": ClientPage("disclosures", "Disclosure permissions"),
    "privacy": ClientPage("privacy_tools", "Your data", _profile),
}
PUBLIC_CLIENT_PAGES = {"login": "Log in", "signup": "Sign up", "password-reset": "Reset your password"}


def _caller() -> Caller | None:
    try:
        return authenticate(pages.current_request)
    except PledgeError:
        return None


def _logged_in_page(caller: Caller, template: str, **context: Any) -> Response:
    return page(
        template,
        cookie=caller.refreshed_cookie,
        customer_number=caller.customer_number,
        csrf_token=sessions.csrf_token(caller.token),
        **context,
    )


@pages.route("/", methods=["GET"])
@handles_errors
def home() -> Response:
    upcoming = [v for v in policies.published_versions()["versions"] if v["status"] == "published" and v["material"]]
    return page(
        "home",
        title="Servers and hosting that keep their privacy promises",
        upcoming=upcoming,
        logged_in=_caller() is not None,
    )


@pages.route("/privacy", methods=["GET"])
@handles_errors
def privacy() -> Response:
    return page(
        "privacy",
        title="Privacy policy",
        policy=policies.policy_in_force(),
        versions=policies.published_versions()["versions"],
    )


@pages.route("/privacy/versions/{version}", methods=["GET"])
@handles_errors
def privacy_version(version: str) -> Response:
    found = policies.published_version(version)
    return page("policy_version", title=f"Privacy policy version {found['version']}", policy=found)


@pages.route("/contact-us", methods=["GET"])
@handles_errors
def contact_us() -> Response:
    return page("contact", title="Contact us")


@pages.route("/client-area", methods=["GET"])
@handles_errors
def dashboard() -> Response:
    caller = _caller()
    if caller is None:
        return redirect(LOGIN_PAGE)
    return _logged_in_page(caller, "dashboard", title="Client Area", **_profile(caller.customer_number))


@pages.route("/client-area/{name}", methods=["GET"])
@handles_errors
def client_page(name: str) -> Response:
    if name in PUBLIC_CLIENT_PAGES:
        return _public_client_page(name)
    found = CLIENT_PAGES.get(name)
    if found is None:
        raise NotFound("No such page.")
    caller = _caller()
    if caller is None:
        return redirect(LOGIN_PAGE)
    context = found.load(caller.customer_number) if found.load else {}
    return _logged_in_page(caller, found.template, title=found.title, **context)


def _public_client_page(name: str) -> Response:
    if name != "password-reset" and _caller() is not None:
        return redirect(DASHBOARD)
    query = pages.current_request.query_params
    token = query.get("token", "") if query else ""
    return page(name.replace("-", "_"), title=PUBLIC_CLIENT_PAGES[name], token=token[:512])


@pages.route("/client-area/tickets/{ticket_id}", methods=["GET"])
@handles_errors
def ticket_page(ticket_id: str) -> Response:
    caller = _caller()
    if caller is None:
        return redirect(LOGIN_PAGE)
    if not SAFE_ID.fullmatch(ticket_id):  # a malformed id never reaches the store
        raise NotFound("No such ticket.")
    ticket = support.ticket_of_customer(caller.customer_number, ticket_id)
    return _logged_in_page(caller, "ticket", title=f"Ticket: {ticket['subject']}", ticket=ticket)


@pages.route("/static/{name}", methods=["GET"])
@handles_errors
def static(name: str) -> Response:
    response = static_file(name)
    if response is None:
        raise NotFound("No such file.")
    return response
