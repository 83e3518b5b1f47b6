"""Payment methods and the identity document of the logged-in customer (masked only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.errors import NotFound, RateLimited, ValidationFailed
from chalicelib.lazy import lazy_modules
from chalicelib.web import (
    Caller,
    customer_route,
    json_body,
    json_response,
    no_content,
    request_id,
    source_ip,
)

if TYPE_CHECKING:
    from chalicelib.services import abuse, identity_documents, payment_methods
else:  # loaded on first use (chalicelib/lazy.py)
    abuse, identity_documents, payment_methods = lazy_modules(
        "chalicelib.services.abuse", "chalicelib.services.identity_documents", "chalicelib.services.payment_methods"
    )

sensitive = Blueprint(__name__)


@sensitive.route("/account/payment-methods", methods=["POST"])
@customer_route(sensitive)
def add_payment_method(caller: Caller, request: Request) -> Response:
    with card_testing_watch(source_ip(request), caller.customer_number):
        data = json_body(request, "payment_method_create")
        if data["type"] == "card" and abuse.card_submissions_blocked(source_ip(request)):
            raise RateLimited("Too many rejected card numbers from this address; try again later.")
        created = payment_methods.add_payment_method(caller.customer_number, data, request_id(request))
    return json_response(created, 201)


@contextmanager
def card_testing_watch(ip: str, customer_number: str) -> Iterator[None]:
    """A refused card number counts towards the card-testing rule (ops_abuse_cases)."""
    try:
        yield
    except ValidationFailed as error:
        if any(detail["path"] == "card.number" for detail in error.details):
            abuse.record_rejected_card(ip, customer_number)
        raise


@sensitive.route("/account/payment-methods", methods=["GET"])
@customer_route(sensitive)
def list_payment_methods(caller: Caller, request: Request) -> dict:
    return {"payment_methods": payment_methods.payment_methods_of(caller.customer_number)}


@sensitive.route("/account/payment-methods/{payment_method_id}", methods=["DELETE"])
@customer_route(sensitive)
def delete_payment_method(caller: Caller, request: Request, payment_method_id: str) -> Response:
    payment_methods.delete_payment_method(caller.customer_number, payment_method_id, request_id(request))
    return no_content()


@sensitive.route("/account/identity-document", methods=["PUT"])
@customer_route(sensitive)
def put_identity_document(caller: Caller, request: Request) -> dict:
    data = json_body(request, "identity_document_put")
    return identity_documents.put_identity_document(caller.customer_number, data, request_id(request))


@sensitive.route("/account/identity-document", methods=["GET"])
@customer_route(sensitive)
def get_identity_document(caller: Caller, request: Request) -> dict:
    document = identity_documents.identity_document_of(caller.customer_number)
    if document is None:
        raise NotFound("No identity document on file.")
    return document


@sensitive.route("/account/identity-document", methods=["DELETE"])
@customer_route(sensitive)
def delete_identity_document(caller: Caller, request: Request) -> Response:
    identity_documents.delete_identity_document(caller.customer_number, request_id(request))
    return no_content()
