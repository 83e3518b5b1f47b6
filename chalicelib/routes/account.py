"""The Client Area: the logged-in customer's own account."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.services import accounts, records
from chalicelib.web import (
    authenticate,
    handles_errors,
    json_body,
    json_response,
    request_id,
    with_session_cookie,
)

account = Blueprint(__name__)


@account.route("/account", methods=["GET"])
@handles_errors
def get_account():
    caller = authenticate(account.current_request)
    return with_session_cookie(json_response(accounts.get_profile(caller.customer_number)), caller)


@account.route("/account", methods=["PATCH"])
@handles_errors
def patch_account():
    request = account.current_request
    caller = authenticate(request)
    changes = json_body(request, "account_patch")
    updated = accounts.update_profile(caller.customer_number, changes, request_id(request))
    return with_session_cookie(json_response(updated), caller)


@account.route("/account/export", methods=["GET"])
@handles_errors
def export_account():
    caller = authenticate(account.current_request)
    return with_session_cookie(json_response(records.personal_records(caller.customer_number)), caller)
