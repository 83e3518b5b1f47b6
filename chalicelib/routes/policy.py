"""The privacy policy, public: the version in force, every version, the home-page notice."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.services import policy as policies
from chalicelib.web import handles_errors, json_response

policy = Blueprint(__name__)


@policy.route("/policy", methods=["GET"])
@handles_errors
def get_policy():
    return json_response(policies.policy_in_force())


@policy.route("/policy/versions", methods=["GET"])
@handles_errors
def list_versions():
    return json_response(policies.published_versions())


@policy.route("/policy/versions/{version}", methods=["GET"])
@handles_errors
def get_version(version):
    return json_response(policies.published_version(version))


@policy.route("/policy/notice", methods=["GET"])
@handles_errors
def get_notice():
    return json_response(policies.upcoming_notice())
