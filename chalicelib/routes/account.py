"""The Client Area: the logged-in customer's own account."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.services import accounts, records, retention
from chalicelib.web import (
    authenticate,
    expired_session_cookie,
    handles_errors,
    json_body,
    json_response,
    request_id,
    with_session_cookie,
)

account = Blueprint(__name__)


@account.route("/account", methods=["GET"])
@handles_errors
def get_account() -> Response:
    caller = authenticate(account.current_request)
    return with_session_cookie(json_response(accounts.get_profile(caller.customer_number)), caller)


@account.route("/account", methods=["PATCH"])
@handles_errors
def patch_account() -> Response:
    request = account.current_request
    caller = authenticate(request)
    changes = json_body(request, "account_patch")
    updated = accounts.update_profile(caller.customer_number, changes, request_id(request))
    return with_session_cookie(json_response(updated), caller)


@account.route("/account/export", methods=["GET"])
@handles_errors
def export_account() -> Response:
    caller = authenticate(account.current_request)
    return with_session_cookie(json_response(records.personal_records(caller.customer_number)), caller)


@account.route("/account/deactivate", methods=["POST"])
@handles_errors
def deactivate_account() -> Response:
    request = account.current_request
    caller = authenticate(request)
    data = json_body(request, "account_deactivate")
    retention.deactivate_by_customer(caller.customer_number, data["password"], data.get("reason"), request_id(request))
    return json_response({"status": "deactivated"}, 200, {"Set-Cookie": expired_session_cookie()})
