"""The privacy policy, public: the version in force, every version, the home-page notice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.lazy import lazy_module
from chalicelib.web import handles_errors, json_response

if TYPE_CHECKING:
    from chalicelib.services import policy as policies
else:  # loaded on first use (chalicelib/lazy.py)
    policies = lazy_module("chalicelib.services.policy")

policy = Blueprint(__name__)


@policy.route("/policy", methods=["GET"])
@handles_errors
def get_policy() -> Response:
    return json_response(policies.policy_in_force())


@policy.route("/policy/versions", methods=["GET"])
@handles_errors
def list_versions() -> Response:
    return json_response(policies.published_versions())


@policy.route("/policy/versions/{version}", methods=["GET"])
@handles_errors
def get_version(version: str) -> Response:
    return json_response(policies.published_version(version))


@policy.route("/policy/notice", methods=["GET"])
@handles_errors
def get_notice() -> Response:
    return json_response(policies.upcoming_notice())
