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


def segment_sender(client: Any, queue_url: str) -> HandOut:
    """`hand_out(campaign_id, segment)`: one message on the queue per segment."""

    def hand_out(campaign_id: str, segment: int) -> None:
        body = json.dumps({"campaign_id": campaign_id, "segment": segment}, separators=(",", ":"))
        client.send_message(QueueUrl=queue_url, MessageBody=body)

    return hand_out


def message_bodies(event: Any) -> list[Any]:
    """The decoded bodies of a Lambda SQS event's records (None for a body that is not JSON)."""
    bodies = []
    for record in event:
        try:
            bodies.append(json.loads(record.body))
        except ValueError:
            bodies.append(None)
    return bodies
