"""The privacy policy, public."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.services import policy as policies
from chalicelib.web import handles_errors, json_response

policy = Blueprint(__name__)


@policy.route("/policy", methods=["GET"])
@handles_errors
def get_policy():
    return json_response(policies.policy_in_force())
