"""Fanning a campaign's scan segments out to concurrent workers through an SQS queue.

The scheduled dispatcher hands each unfinished segment out as one message; the queue's
event source runs `deliver_campaign_segments` (app.py) on it, as many at once as the
event source's maximum concurrency (the stack's `MarketingWorkers`). A segment handed
out twice is harmless: a worker takes the segment's lease before sending, and a second
one finds it taken. This module is the adapter: it takes its SQS client as an argument.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

HandOut = Callable[[str, int], None]


def hand_out_to_workers() -> HandOut | None:
    """How the dispatcher hands segments out on this stage: through the queue when the
    stage fans out (PLEDGE_MARKETING_WORKERS > 1), None when the dispatcher sends itself."""
    from chalicelib.aws import sqs_client
    from chalicelib.settings import get_settings

    settings = get_settings()
    if settings.marketing_workers <= 1 or not settings.campaign_queue_url:
        return None
    return segment_sender(sqs_client(), settings.campaign_queue_url)


def segment_sender(client: Any, queue_url: str) -> HandOut:
    """`hand_out(campaign_id, segment)`: one message on the queue per segment."""

    def hand_out(campaign_id: str, segment: int) -> None:
        body = json.dumps({"campaign_id": campaign_id, "segment": segment}, separators=(",", ":"))
        client.send_message(QueueUrl=queue_url, MessageBody=body)

    return hand_out


def message_bodies(event: dict) -> list[Any]:
    """The decoded bodies of a Lambda SQS event's records (None for one that is not JSON:
    the event may be typed by hand in the console)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return [_body(record) for record in (records if isinstance(records, list) else [None])]


def _body(record: Any) -> Any:
    try:
        return json.loads(record["body"])
    except (TypeError, KeyError, ValueError):
        return None
