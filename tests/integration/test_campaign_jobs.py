"""Marketing campaigns as jobs: stopped by a deadline, finished by the scheduled dispatcher,
split into scan segments worked separately, never two emails to one customer, however the
runs overlap or die; and their status for ops."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.mail.pacing import Pacer
from chalicelib.services import campaigns, delivery, marketing
from chalicelib.settings import reset_settings
from chalicelib.store import campaigns as campaign_store
from tests.helpers import Crash, add_customers, simultaneously
from tests.iam_guard import running
from tests.stack import outbox

TOPIC = "special_offers"
CAMPAIGN = {"topic": TOPIC, "subject": "Spring sale", "text": "Everything half price."}


@pytest.fixture
def stack(clean_stack, monkeypatch):
    monkeypatch.setenv("PLEDGE_SES_MAX_SEND_RATE", "1000")
    monkeypatch.setenv("PLEDGE_NOTICE_DISPATCH_WORKERS", "4")
    reset_settings()
    yield clean_stack
    reset_settings()


def configure(monkeypatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(f"PLEDGE_{name.upper()}", value)
    reset_settings()


def subscribers(count: int) -> list[str]:
    return add_customers(count, "2026-01-01T00:00:00.000Z", subscribed_to=TOPIC)


def received() -> Counter:
    """Campaign emails per recipient customer number."""
    return Counter(m["to"][0].split("@")[0].upper() for m in outbox() if m["subject"] == CAMPAIGN["subject"])


class SendBudget:
    """An invocation's time_left that runs out (below any margin) once `sends` emails went to SES."""

    def __init__(self, monkeypatch, sends: int):
        self.sends, self.sent = sends, 0
        self._real = delivery.mailer.deliver
        self._lock = threading.Lock()
        monkeypatch.setattr(delivery.mailer, "deliver", self.deliver)

    def deliver(self, *args, **kwargs):
        delivered = self._real(*args, **kwargs)
        with self._lock:
            self.sent += 1
        return delivered

    def __call__(self) -> float:
        return 100.0 if self.sent < self.sends else 5.0


def send(time_left=None, **kwargs) -> dict:
    with running("ops_send_marketing"):
        return marketing.send_campaign(**CAMPAIGN, time_left=time_left, **kwargs)


def dispatch(**kwargs) -> dict:
    with running("dispatch_marketing"):
        return campaigns.dispatch_campaigns(lambda: 600.0, **kwargs)


def deliver_segment(campaign_id: str, segment: int, **kwargs) -> dict:
    with running("dispatch_marketing"):  # the worker needs what the dispatcher may do
        return campaigns.deliver_segment(campaign_id, segment, lambda: 600.0, **kwargs)


def status(campaign_id: str) -> dict:
    with Client(app, stage_name="local") as client:
        return client.lambda_.invoke("ops_campaign_status", {"campaign_id": campaign_id}).payload


def test_a_campaign_stopped_by_its_deadline_is_finished_by_the_scheduled_dispatcher(stack, monkeypatch):
    configure(monkeypatch, notice_dispatch_workers="1")
    monkeypatch.setattr(delivery, "CHUNK", 4)
    customers = subscribers(30)

    first = send(SendBudget(monkeypatch, 6))

    assert 0 < first["sent"] < 30 and first["complete"] is False
    assert first["remaining"] == 30 - first["sent"]
    assert status(first["campaign_id"])["complete"] is False
    finished = dispatch()
    assert finished["sent"] == 30 - first["sent"] and finished["completed"] == [first["campaign_id"]]
    assert received() == Counter(dict.fromkeys(customers, 1))
    assert dispatch() == {**campaigns.tally({}), "completed": [], "unfinished": []}  # nothing left to do
    report = status(first["campaign_id"])
    assert (report["complete"], report["counts"], report["open"]) == (True, {"sent": 30}, 0)


def test_the_scheduled_function_is_wired_and_finishes_campaigns(stack, monkeypatch):
    configure(monkeypatch, notice_dispatch_workers="1")
    customers = subscribers(3)
    stopped = send(SendBudget(monkeypatch, 1))
    assert stopped["complete"] is False
    with Client(app, stage_name="local") as client:
        result = client.lambda_.invoke("dispatch_marketing", {}).payload
    assert result["completed"] == [stopped["campaign_id"]]
    assert received() == Counter(dict.fromkeys(customers, 1))


def test_segments_are_handed_out_worked_separately_at_their_share_of_the_rate(stack, monkeypatch):
    configure(monkeypatch, marketing_workers="3", notice_dispatch_workers="1")
    customers = subscribers(24)
    rates = []
    monkeypatch.setattr(campaigns, "Pacer", lambda rate: rates.append(rate) or Pacer(rate))
    campaign_id = send(SendBudget(monkeypatch, 1))["campaign_id"]
    assert status(campaign_id)["segments"] == 3
    rates.clear()

    handed_out: list[tuple[str, int]] = []
    assert dispatch(hand_out=lambda *segment: handed_out.append(segment))["sent"] == 0
    assert handed_out and {c for c, _ in handed_out} == {campaign_id}
    assert len({s for _, s in handed_out}) == len(handed_out) and {s for _, s in handed_out} <= {0, 1, 2}
    results = [deliver_segment(campaign_id, segment) for _, segment in handed_out]
    assert all(r["done"] and not r["busy"] for r in results)
    assert rates == [1000 / 3] * len(handed_out)  # each worker sends at its share of the account's rate
    assert deliver_segment(campaign_id, handed_out[0][1])["sent"] == 0  # a done segment stays done
    report = status(campaign_id)
    assert (report["segments_done"], report["complete"]) == (3, False)  # the dispatcher finishes it

    assert dispatch()["completed"] == [campaign_id]
    assert received() == Counter(dict.fromkeys(customers, 1))


def test_a_segment_is_worked_by_one_run_at_a_time(stack, monkeypatch):
    configure(monkeypatch, marketing_workers="2", notice_dispatch_workers="1")
    subscribers(10)
    campaign_id = send(SendBudget(monkeypatch, 1))["campaign_id"]
    campaign = campaign_store.get_campaign(campaign_id)
    now = datetime.now(UTC).isoformat()
    held = campaign_store.acquire_segment(campaign, 1, "Rsomeone-else", now, "9999")
    assert held is not None
    handed_out: list[tuple[str, int]] = []
    dispatch(hand_out=lambda *segment: handed_out.append(segment))
    assert (campaign_id, 1) not in handed_out
    assert deliver_segment(campaign_id, 1)["busy"] is True


def test_overlapping_runs_send_each_email_once(stack, monkeypatch):
    configure(monkeypatch, marketing_workers="2", notice_dispatch_workers="1")
    customers = subscribers(40)
    budget = SendBudget(monkeypatch, 2)
    campaign_id = send(budget)["campaign_id"]
    budget.sends = 10**9
    configure(monkeypatch, notice_dispatch_workers="4")

    # (unguarded: the IAM guard tells functions apart by a stack, which threads would interleave)
    results = simultaneously(
        [
            lambda: campaigns.dispatch_campaigns(lambda: 600.0),
            lambda: campaigns.dispatch_campaigns(lambda: 600.0),
            lambda: campaigns.deliver_segment(campaign_id, 0, lambda: 600.0),
            lambda: campaigns.deliver_segment(campaign_id, 1, lambda: 600.0),
            lambda: marketing.send_campaign(**CAMPAIGN),
        ]
    )
    dispatch()  # whatever the others left

    assert received() == Counter(dict.fromkeys(customers, 1))
    assert status(campaign_id)["counts"] == {"sent": 40}
    assert len(results) == 5


def test_claims_keep_it_at_most_once_even_without_the_leases(stack, monkeypatch):
    configure(monkeypatch, notice_dispatch_workers="1")
    customers = subscribers(30)
    campaign_id = send(SendBudget(monkeypatch, 1))["campaign_id"]
    configure(monkeypatch, notice_dispatch_workers="4")
    real = campaign_store.acquire_segment
    monkeypatch.setattr(  # a lease that expired too early: anyone takes it
        campaigns.store, "acquire_segment", lambda c, s, owner, now, until: real(c, s, owner, "9999", until)
    )
    simultaneously([lambda: campaigns.deliver_segment(campaign_id, 0, lambda: 600.0)] * 3)
    dispatch()
    assert received() == Counter(dict.fromkeys(customers, 1))


def test_a_run_that_dies_after_a_send_never_sends_it_again(stack, monkeypatch):
    customers = subscribers(8)
    victim = customers[3]
    real = delivery.mailer.deliver

    def dying(email, *args, **kwargs):
        delivered = real(email, *args, **kwargs)
        if email.customer_number == victim:
            raise Crash()  # SES accepted it, then the process died before recording it
        return delivered

    monkeypatch.setattr(delivery.mailer, "deliver", dying)
    with pytest.raises(Crash):
        send()
    monkeypatch.setattr(delivery.mailer, "deliver", real)
    campaign_id = campaign_store.unfinished_campaigns()[0].campaign_id

    dispatch()  # a young claim may belong to a run still alive
    assert campaign_store.Delivery.get(campaign_id, victim).status == "claimed"
    later = datetime.now(UTC) + timedelta(minutes=20)
    assert dispatch(clock=lambda: later)["completed"] == [campaign_id]
    assert campaign_store.Delivery.get(campaign_id, victim).status == "unconfirmed"
    assert received() == Counter(dict.fromkeys(customers, 1))


def test_campaign_status_counts_by_status_and_refuses_an_unknown_id(stack):
    subscribers(3)
    result = send()
    report = status(result["campaign_id"])
    assert report["complete"] is True and report["counts"] == {"sent": 3}
    assert (report["topic"], report["subject"], report["segments"], report["segments_done"]) == (
        TOPIC,
        CAMPAIGN["subject"],
        1,
        1,
    )
    assert status("no-such-campaign")["error"]["code"] == "not_found"
