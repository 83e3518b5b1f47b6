"""The Client Area: the logged-in customer's own account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.lazy import lazy_modules
from chalicelib.web import (
    Caller,
    authenticate,
    customer_route,
    expired_session_cookie,
    handles_errors,
    json_body,
    json_response,
    request_id,
)

if TYPE_CHECKING:
    from chalicelib.services import accounts, records, retention
else:  # loaded on first use (chalicelib/lazy.py)
    accounts, records, retention = lazy_modules(
        "chalicelib.services.accounts", "chalicelib.services.records", "chalicelib.services.retention"
    )

account = Blueprint(__name__)


@account.route("/account", methods=["GET"])
@customer_route(account)
def get_account(caller: Caller, request: Request) -> dict:
    return accounts.profile(caller.customer)


@account.route("/account", methods=["PATCH"])
@customer_route(account)
def patch_account(caller: Caller, request: Request) -> dict:
    changes = json_body(request, "account_patch")
    return accounts.update_profile(caller.customer_number, changes, request_id(request), caller.customer)


@account.route("/account/export", methods=["GET"])
@customer_route(account)
def export_account(caller: Caller, request: Request) -> dict:
    return records.personal_records(caller.customer_number)


@account.route("/account/deactivate", methods=["POST"])
@handles_errors
def deactivate_account() -> Response:
    request = account.current_request
    caller = authenticate(request)
    data = json_body(request, "account_deactivate")
    retention.deactivate_by_customer(caller.customer_number, data["password"], data.get("reason"), request_id(request))
    return json_response({"status": "deactivated"}, 200, {"Set-Cookie": expired_session_cookie()})
