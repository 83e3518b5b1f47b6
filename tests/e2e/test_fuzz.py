"""schemathesis against `chalice local` on the test stack, driven by chalicelib/openapi.json
(the document GET /openapi.json serves): every operation, positive and negative cases, a bounded number per operation.

Checks: no 5xx; status codes, content types, headers and bodies conform to the spec; data
the spec forbids is refused; every 4xx body has the contract's error shape. The number of
requests sent per operation is printed at the end of the run (tests/e2e/conftest.py)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devstack.openapi import SPEC
from tests.helpers import PASSWORD, unique_email

MAX_EXAMPLES = 10  # per operation in the fuzzing phase; the coverage phase adds its own boundary cases
REQUESTS_SENT: Counter[str] = Counter()
PAYMENT_METHOD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # order_create's pattern
CONFIG = {
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "with-security-parameters": False},
    "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
    "seed": 10,
    "request-timeout": 30,
}


@schemathesis.check
def contract_error_shape(ctx, response, case):
    """Every 4xx is JSON `{"error": {"code", "message", "details"}}`, except an HTML page
    the operation documents for that status (a page's own form post, a page's bad link);
    content_type_conformance fails an HTML 4xx the spec does not name."""
    documented = case.operation.definition.raw["responses"].get(str(response.status_code), {})
    is_html = response.headers.get("content-type", [""])[0].startswith("text/html")
    if is_html and "text/html" in documented.get("content", {}):
        return
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error"}, f"not the contract's error shape: {response.text[:200]}"
        assert set(body["error"]) == {"code", "message", "details"}, response.text[:200]


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    contract_error_shape,
]


class Visitor:
    """A logged-in customer whose cookie and CSRF token go with every request the
    fuzzer does not fill itself (a generated X-CSRF-Token goes out one time in five;
    the others would all end in 403); signs up again once the fuzzer logs it out. It
    keeps the `cart` cookie the shop sets and a bank account on file (cards from this
    address are soon refused as card testing); before a checkout with a well-formed
    generated `payment_method_id` (which becomes its own) it puts a product that needs
    an identity document in the cart and a document on file, so checkout gets past the
    empty cart, the unknown payment method and the document check.
    Every other GET of an order or receipt asks for the last order it placed."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.headers: dict[str, str] | None = None
        self.cart: str | None = None
        self.payment_method_id: str | None = None
        self.order_id: str | None = None
        self.filled = 0

    def default_headers(self) -> dict[str, str]:
        if self.headers is None:
            self._sign_up()
        if self.cart:
            return {**self.headers, "Cookie": f"{self.headers['Cookie']}; {self.cart}"}
        return self.headers

    def _sign_up(self) -> None:
        response = requests.post(
            f"{self.base_url}/signup",
            timeout=30,
            json={"name": "Fuzz", "email": unique_email("fuzz"), "password": PASSWORD},
        )
        assert response.status_code == 201, response.text
        self.headers = {
            "Cookie": response.headers["Set-Cookie"].split(";", 1)[0],
            "X-CSRF-Token": response.json()["csrf_token"],
        }
        response = requests.post(
            f"{self.base_url}/account/payment-methods",
            headers=self.headers,
            timeout=30,
            json={"type": "bank_account", "bank_account": {"iban": "NL91ABNA0417164300", "holder_name": "Fuzz"}},
        )
        assert response.status_code == 201, response.text
        self.payment_method_id = response.json()["payment_method_id"]

    def fill(self, case) -> None:
        self.filled += 1
        if self.filled % 5:
            case.headers = {**case.headers, "X-CSRF-Token": self.headers["X-CSRF-Token"]}
        body = case.body
        if (
            (case.method, case.path) == ("POST", "/orders")
            and isinstance(body, dict)
            and isinstance(body.get("payment_method_id"), str)
            and PAYMENT_METHOD_ID.fullmatch(body["payment_method_id"])
        ):
            case.body = {**body, "payment_method_id": self.payment_method_id}
            self._stock_up()
            case.headers["Cookie"] = self.default_headers()["Cookie"]
        if case.path.startswith("/orders/{order_id}") and self.order_id and self.filled % 2:
            case.path_parameters = {**(case.path_parameters or {}), "order_id": self.order_id}

    def _stock_up(self) -> None:
        response = requests.put(
            f"{self.base_url}/cart/items/dedicated-ipv4",
            headers=self.default_headers(),
            json={"billing_cycle": "monthly", "quantity": 1},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        if response.headers.get("Set-Cookie"):
            self.cart = response.headers["Set-Cookie"].split(";", 1)[0]
        response = requests.put(
            f"{self.base_url}/account/identity-document",
            headers=self.headers,
            timeout=30,
            json={"type": "passport", "country": "NL", "number": "X1234567"},
        )
        assert response.status_code == 200, response.text

    def after(self, case, response) -> None:
        for cookie in response.headers.get("set-cookie", []):
            if cookie.startswith("cart="):
                self.cart = cookie.split(";", 1)[0]
        if (case.method, case.path, response.status_code) == ("POST", "/orders", 201):
            self.order_id = response.json()["order_id"]
        if (case.method, case.path, response.status_code) in {
            ("POST", "/logout", 204),
            ("POST", "/account/deactivate", 200),
        }:
            self.headers = None


@pytest.fixture(scope="module")
def fuzz_target(api_server, local_stack):
    from chalicelib.services.policy import ensure_initial_policy

    local_stack.clean()
    ensure_initial_policy()
    yield api_server, Visitor(api_server)
    local_stack.clean()


# The file the app serves (the e2e test below checks they are the same); loaded at import
# because schemathesis' lazy fixture loader does not work with pytest 9.
schema = schemathesis.openapi.from_path(SPEC, config=schemathesis.Config.from_dict(CONFIG))


def test_the_served_spec_is_the_one_in_the_repo(fuzz_target):
    base_url, _ = fuzz_target
    assert requests.get(f"{base_url}/openapi.json", timeout=30).json() == json.loads(SPEC.read_text())


@schema.parametrize()
def test_the_api_keeps_its_spec_under_generated_input(case, fuzz_target):
    base_url, visitor = fuzz_target
    case.headers = {**visitor.default_headers(), **(case.headers or {})}
    visitor.fill(case)
    REQUESTS_SENT[case.operation.label] += 1
    response = case.call(base_url=base_url)
    visitor.after(case, response)
    case.validate_response(response, checks=CHECKS)
