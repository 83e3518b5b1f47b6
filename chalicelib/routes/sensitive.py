"""Payment methods and the identity document of the logged-in customer (masked only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chalice import Blueprint, Response

from chalicelib.errors import NotFound, RateLimited, ValidationFailed
from chalicelib.services import abuse, identity_documents, payment_methods
from chalicelib.web import (
    Caller,
    authenticate,
    handles_errors,
    json_body,
    json_response,
    request_id,
    source_ip,
    with_session_cookie,
)

sensitive = Blueprint(__name__)


def _no_content(caller: Caller) -> Response:
    return with_session_cookie(Response(body="", status_code=204, headers={"Cache-Control": "no-store"}), caller)


@sensitive.route("/account/payment-methods", methods=["POST"])
@handles_errors
def add_payment_method() -> Response:
    request = sensitive.current_request
    caller = authenticate(request)
    with card_testing_watch(source_ip(request), caller.customer_number):
        data = json_body(request, "payment_method_create")
        if data["type"] == "card" and abuse.card_submissions_blocked(source_ip(request)):
            raise RateLimited("Too many rejected card numbers from this address; try again later.")
        created = payment_methods.add_payment_method(caller.customer_number, data, request_id(request))
    return with_session_cookie(json_response(created, 201), caller)


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
@handles_errors
def list_payment_methods() -> Response:
    caller = authenticate(sensitive.current_request)
    listed = {"payment_methods": payment_methods.payment_methods_of(caller.customer_number)}
    return with_session_cookie(json_response(listed), caller)


@sensitive.route("/account/payment-methods/{payment_method_id}", methods=["DELETE"])
@handles_errors
def delete_payment_method(payment_method_id: str) -> Response:
    request = sensitive.current_request
    caller = authenticate(request)
    payment_methods.delete_payment_method(caller.customer_number, payment_method_id, request_id(request))
    return _no_content(caller)


@sensitive.route("/account/identity-document", methods=["PUT"])
@handles_errors
def put_identity_document() -> Response:
    request = sensitive.current_request
    caller = authenticate(request)
    data = json_body(request, "identity_document_put")
    document = identity_documents.put_identity_document(caller.customer_number, data, request_id(request))
    return with_session_cookie(json_response(document), caller)


@sensitive.route("/account/identity-document", methods=["GET"])
@handles_errors
def get_identity_document() -> Response:
    caller = authenticate(sensitive.current_request)
    document = identity_documents.identity_document_of(caller.customer_number)
    if document is None:
        raise NotFound("No identity document on file.")
    return with_session_cookie(json_response(document), caller)


@sensitive.route("/account/identity-document", methods=["DELETE"])
@handles_errors
def delete_identity_document() -> Response:
    request = sensitive.current_request
    caller = authenticate(request)
    identity_documents.delete_identity_document(caller.customer_number, request_id(request))
    return _no_content(caller)
