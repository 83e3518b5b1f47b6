"""The fan-out adapter's reading of SQS events: whatever the event (a hand-typed console
test included), every record gives a body or None (refused by the worker's schema)."""

from __future__ import annotations

import json

import pytest

from chalicelib.campaign_queue import message_bodies, segment_sender
from infra.console_events import sqs_event


def test_a_real_event_gives_its_message():
    assert message_bodies(sqs_event({"campaign_id": "c1", "segment": 2})) == [{"campaign_id": "c1", "segment": 2}]


@pytest.mark.parametrize(
    "event",
    [{}, {"Records": "x"}, {"Records": [{}]}, {"Records": [{"body": "not json"}]}, {"Records": [None]}, []],
)
def test_anything_else_gives_none_for_the_worker_to_refuse(event):
    assert message_bodies(event) == [None]


def test_the_sender_puts_one_message_per_segment():
    class Recorder:
        def __init__(self):
            self.sent = []

        def send_message(self, **kwargs):
            self.sent.append(kwargs)

    client = Recorder()
    hand_out = segment_sender(client, "https://sqs.example/123/q")
    hand_out("c1", 0)
    hand_out("c1", 1)
    assert [(m["QueueUrl"], json.loads(m["MessageBody"])) for m in client.sent] == [
        ("https://sqs.example/123/q", {"campaign_id": "c1", "segment": 0}),
        ("https://sqs.example/123/q", {"campaign_id": "c1", "segment": 1}),
    ]
