"""The marketing fan-out end to end on the local stack: the scheduled dispatcher hands a
campaign's segments out on the SQS queue (moto), the local event source (devstack's
poller, as `make run` runs it) feeds them to `deliver_campaign_segments`, and every
subscriber gets the campaign once; malformed messages are dropped, not retried."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from chalice.test import Client

from app import app
from chalicelib.settings import get_settings
from chalicelib.store import campaigns as campaign_store
from devstack.functions import call, discover, load_app_module
from devstack.queue_poller import QueuePoller
from tests.integration.test_campaign_jobs import SendBudget, configure, received, send, subscribers


@pytest.fixture
def fanout(clean_stack, monkeypatch):
    configure(monkeypatch, ses_max_send_rate="1000", notice_dispatch_workers="2", marketing_workers="3")
    yield clean_stack
    configure(monkeypatch)


def queued(stack) -> list[dict]:
    """The segment messages waiting on the queue (taken off it: hidden for a minute)."""
    sqs = stack.client("sqs")
    url = get_settings().campaign_queue_url
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
        bodies += [json.loads(m["Body"]) for m in messages]
    return sorted(bodies, key=lambda body: body["segment"])


def unfinished_segments(campaign_id: str) -> list[int]:
    campaign = campaign_store.get_campaign(campaign_id)
    assert campaign is not None
    return [n for n, item in campaign_store.segments_of(campaign).items() if item is None or item.done_at is None]


def dispatch_marketing() -> dict:
    with Client(app, stage_name="local") as client:
        return client.lambda_.invoke("dispatch_marketing", {}).payload


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_dispatcher_hands_each_free_segment_out_once_per_tick(fanout, monkeypatch):
    subscribers(60)
    started = send(SendBudget(monkeypatch, 1))  # ops_send_marketing's own time runs out after one send
    assert started["complete"] is False
    sent_inline = sum(received().values())

    result = dispatch_marketing()

    assert result["sent"] == 0 and result["unfinished"] == [started["campaign_id"]]
    unfinished = unfinished_segments(started["campaign_id"])
    assert unfinished and queued(fanout) == [{"campaign_id": started["campaign_id"], "segment": n} for n in unfinished]
    assert sum(received().values()) == sent_inline < 60  # the dispatcher itself sent nothing


def test_workers_fed_by_the_queue_send_every_subscriber_the_campaign_once(fanout, monkeypatch):
    customers = subscribers(24)
    campaign_id = send(SendBudget(monkeypatch, 1))["campaign_id"]
    worker = discover(load_app_module())["deliver_campaign_segments"]
    poller = QueuePoller(worker, get_settings().campaign_queue_url, fanout.client("sqs"), concurrency=3).start()
    try:
        dispatch_marketing()
        wait_for(lambda: sum(received().values()) == 24)
        wait_for(lambda: poller.handled >= 3)
    finally:
        poller.stop()

    assert received() == Counter(dict.fromkeys(customers, 1))
    finished = dispatch_marketing()  # the next tick sees every segment done and closes the campaign
    assert finished["completed"] == [campaign_id] and finished["sent"] == 0
    assert queued(fanout) == []


def test_a_malformed_message_is_refused_and_sends_nothing(fanout):
    subscribers(3)
    worker = discover(load_app_module())["deliver_campaign_segments"]
    for message in ({"campaign_id": "x", "segment": -1}, {"segment": 0}, {"campaign_id": "\u0000", "segment": 0}):
        (result,) = call(worker, message)["results"]
        assert result["error"]["code"] == "validation_error"
    assert received() == Counter()
