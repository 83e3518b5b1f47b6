"""The statistics beacon: no login, no cookie, nothing answered but 202."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.lazy import lazy_module
from chalicelib.web import handles_errors, json_body, source_ip

if TYPE_CHECKING:
    from chalicelib.services import statistics
else:  # loaded on first use (chalicelib/lazy.py)
    statistics = lazy_module("chalicelib.services.statistics")

stats = Blueprint(__name__)


@stats.route("/stats/event", methods=["POST"])
@handles_errors
def stats_event() -> Response:
    request = stats.current_request
    event = json_body(request, "stats_event")
    statistics.record_event(
        event,
        source_ip(request),
        request.headers.get("user-agent", ""),
        request.headers.get("cloudfront-viewer-country"),
    )
    return Response(body="", status_code=202, headers={"Cache-Control": "no-store"})
