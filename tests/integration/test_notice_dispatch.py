"""Policy-change notices: every customer held is emailed exactly once per material version,
through overlapping runs, crashes, SES failures and customers joining mid-campaign; the
version comes into force only once the notices are proven."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import (
    activation,
    delivery,
    mailer,
    notices,
    policy,
    records,
)
from chalicelib.settings import reset_settings
from chalicelib.store import customers as customer_store
from chalicelib.store import notices as notice_store
from chalicelib.store import policy as policy_store
from chalicelib.store.base import iso, parse_iso
from tests.helpers import Crash, add_customers, simultaneously
from tests.iam_guard import running
from tests.stack import outbox

T0 = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
NOTICE_SUBJECT = "our privacy policy changes on"


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> Clock:
        self.now += timedelta(**delta)
        return self


@pytest.fixture
def stack(clean_stack, monkeypatch):
    monkeypatch.setenv("PLEDGE_SES_MAX_SEND_RATE", "1000")
    monkeypatch.setenv("PLEDGE_NOTICE_DISPATCH_WORKERS", "4")
    reset_settings()
    policy.ensure_initial_policy()
    yield clean_stack
    reset_settings()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def metrics(monkeypatch):
    recorded = []
    monkeypatch.setattr(notices, "count", lambda name, value=1: recorded.append(name))
    monkeypatch.setattr(delivery, "count", lambda name, value=1: recorded.append(name))
    return recorded


def publish(clock: Clock, version: str = "2", days: int = 40, material: bool = True) -> dict:
    return policy.publish_policy(
        {
            "version": version,
            "summary": f"Changes in {version}",
            "body": "New terms.",
            "effective_at": iso(clock() + timedelta(days=days)),
            "material": material,
        },
        now=clock(),
    )


def dispatch(clock: Clock, time_left=lambda: 600.0) -> dict:
    with running("dispatch_policy_notices"):
        return notices.dispatch_notices(time_left, clock)


def activate(now: datetime) -> dict:
    with running("activate_policy_versions"):
        return activation.activate_policy_versions(now)


def notified() -> Counter:
    """Notice emails per recipient customer number."""
    return Counter(m["to"][0].split("@")[0].upper() for m in outbox() if NOTICE_SUBJECT in m["subject"])


def status_of(version: str, customer_number: str) -> str:
    return notice_store.get_notice(version, customer_number).status


class Failure:
    """mailer.deliver as the dispatcher sees it, failing for one customer (before SES, or
    after SES accepted the message) until healed."""

    def __init__(self, monkeypatch, customer_number: str, error: BaseException, after_send: bool = False):
        self.customer_number, self.error, self.after_send = customer_number, error, after_send
        self.armed = True
        self._real_send = mailer.deliver
        monkeypatch.setattr(delivery.mailer, "deliver", self.send)

    def send(self, email, *args, **kwargs):
        if not self.armed or email.customer_number != self.customer_number:
            return self._real_send(email, *args, **kwargs)
        if self.after_send:
            self._real_send(email, *args, **kwargs)
        raise self.error

    def heal(self) -> None:
        self.armed = False


def test_every_customer_held_is_notified_once_with_proof(stack, clock):
    active = add_customers(3, iso(clock() - timedelta(days=9)))
    deactivated = add_customers(1, iso(clock() - timedelta(days=9)), status="deactivated")
    add_customers(1, iso(clock() - timedelta(days=9)), status="anonymized")
    publish(clock, "minor", material=False)
    publish(clock)

    assert dispatch(clock) == {"sent": 4, "remaining": 0}
    assert notified() == Counter(dict.fromkeys(active + deactivated, 1))
    message = next(m for m in outbox() if NOTICE_SUBJECT in m["subject"])
    assert "Changes in 2" in message["text"] and "/policy/versions/2" in message["text"]
    assert "List-Unsubscribe" not in message["headers"]

    assert dispatch(clock.advance(hours=2)) == {"sent": 0, "remaining": 0}
    assert sum(notified().values()) == 4
    proof = records.customer_record(deactivated[0])["notices"]
    assert [(n["version"], n["status"]) for n in proof] == [("2", "sent")]
    assert proof[0]["message_id"] and proof[0]["sent_at"] == iso(T0)


def test_two_overlapping_runs_send_once(stack, clock):
    customers = add_customers(30, iso(clock() - timedelta(days=1)))
    publish(clock)
    results = simultaneously([lambda: dispatch(clock)] * 2)
    assert sum(r["sent"] for r in results) == 30
    assert notified() == Counter(dict.fromkeys(customers, 1))


def test_claims_keep_it_exactly_once_even_without_the_lease(stack, clock, monkeypatch):
    monkeypatch.setattr(notices.store, "acquire_lease", lambda *args: True)  # e.g. a lease that expired too early
    customers = add_customers(40, iso(clock() - timedelta(days=1)))
    publish(clock)
    simultaneously([lambda: dispatch(clock)] * 3)
    dispatch(clock.advance(minutes=20))  # whatever a run left to the others
    assert notified() == Counter(dict.fromkeys(customers, 1))
    assert {status_of("2", number) for number in customers} == {"sent"}


def test_the_claim_lets_one_of_two_simultaneous_senders_through(stack, clock):
    number = add_customers(1, iso(clock() - timedelta(days=1)))[0]
    publish(clock)
    kind = notices.NoticeKind(policy_store.get_version("2"))
    job = delivery.Job("2", number, customer_store.get_customer(number))
    runs = [delivery.Run(lambda: 600.0, clock) for _ in range(2)]
    couriers = [delivery.Courier(run, kind) for run in runs]
    simultaneously([lambda courier=courier: (courier.deliver(job), courier.flush()) for courier in couriers])
    assert sorted(run.sent for run in runs) == [0, 1]
    assert notified() == Counter({number: 1}) and status_of("2", number) == "sent"


def test_a_crash_after_the_send_is_never_resent(stack, clock, monkeypatch):
    customers = add_customers(12, iso(clock() - timedelta(days=1)))
    victim = customers[5]
    publish(clock)
    crash = Failure(monkeypatch, victim, Crash(), after_send=True)
    with pytest.raises(Crash):
        dispatch(clock)
    assert notified()[victim] == 1
    assert status_of("2", victim) == "claimed"

    crash.heal()
    dispatch(clock.advance(minutes=5))
    assert status_of("2", victim) == "claimed"  # a young claim may belong to a run still alive
    dispatch(clock.advance(minutes=15))
    assert notified() == Counter(dict.fromkeys(customers, 1))
    assert status_of("2", victim) == "unconfirmed"  # SES has it, but nothing proves it: ops decide


def test_a_connection_lost_after_the_request_is_unconfirmed_not_deferred(stack, clock, monkeypatch):
    customers = add_customers(4, iso(clock() - timedelta(days=1)))
    victim = customers[1]
    publish(clock)
    Failure(monkeypatch, victim, mailer.MailUncertain("ReadTimeoutError"), after_send=True)
    dispatch(clock)
    dispatch(clock.advance(hours=2))
    assert status_of("2", victim) == "unconfirmed"
    assert notified() == Counter(dict.fromkeys(customers, 1))


def test_a_send_without_any_record_is_unconfirmed_held_back_and_settled_by_ops(stack, clock, monkeypatch, metrics):
    customers = add_customers(6, iso(clock() - timedelta(days=1)))
    victim = customers[2]
    effective_at = publish(clock)["effective_at"]
    crash = Failure(monkeypatch, victim, Crash(), after_send=True)  # SES accepted it, then the run died
    with pytest.raises(Crash):
        dispatch(clock)
    crash.heal()

    result = dispatch(clock.advance(minutes=20))
    assert result["remaining"] == 1
    assert status_of("2", victim) == "unconfirmed" and "PolicyNoticeUnconfirmed" in metrics
    assert notified() == Counter(dict.fromkeys(customers, 1))

    clock.now = parse_iso(effective_at)
    dispatch(clock)
    assert activate(clock()) == {
        "activated": [],
        "held_back": [{"version": "2", "reason": "notices_missing", "missing": 1}],
    }
    assert "PolicyNoticeDeadlineMissed" in metrics

    with Client(app, stage_name="local") as client:
        settled = client.lambda_.invoke(
            "ops_resolve_notice",
            {"version": "2", "customer_number": victim, "outcome": "sent", "ses_message_id": "ses-id-from-logs"},
        ).payload
        again = client.lambda_.invoke(
            "ops_resolve_notice", {"version": "2", "customer_number": victim, "outcome": "not_sent"}
        ).payload
    assert settled["status"] == "sent" and settled["message_id"] == "ses-id-from-logs"
    assert again["error"]["code"] == "conflict"
    assert activate(clock())["activated"] == ["2"]
    assert notified()[victim] == 1


def test_an_unsent_unconfirmed_notice_is_sent_after_ops_say_so(stack, clock, monkeypatch):
    customers = add_customers(3, iso(clock() - timedelta(days=1)))
    victim = customers[0]
    publish(clock)
    crash = Failure(monkeypatch, victim, Crash())
    with pytest.raises(Crash):
        dispatch(clock)
    crash.heal()
    dispatch(clock.advance(minutes=20))
    assert status_of("2", victim) == "unconfirmed" and notified()[victim] == 0

    notices.resolve_notice("2", victim, "not_sent", now=clock())
    assert dispatch(clock)["sent"] == 1
    assert notified() == Counter(dict.fromkeys(customers, 1))


def test_a_customer_joining_mid_campaign_is_notified(stack, clock):
    add_customers(5, iso(clock() - timedelta(days=3)))
    publish(clock)
    assert dispatch(clock)["sent"] == 5

    joiner = add_customers(1, iso(clock.advance(minutes=10)()))[0]
    assert dispatch(clock.advance(minutes=10))["sent"] == 0  # the next sweep is not due yet
    assert dispatch(clock.advance(minutes=45))["sent"] == 1
    assert notified()[joiner] == 1
    assert notice_store.get_notice("2", joiner).held_at_publication is False


def test_the_campaign_ends_with_a_sweep_after_the_version_is_in_force(stack, clock):
    add_customers(2, iso(clock() - timedelta(days=3)))
    publish(clock, days=31)
    dispatch(clock)
    clock.advance(days=31)
    late_joiner = add_customers(1, iso(clock() - timedelta(hours=2)))[0]
    assert activate(clock())["activated"] == ["2"]
    signed_up_under_it = add_customers(1, iso(clock.advance(minutes=30)()))[0]

    assert dispatch(clock.advance(minutes=31)) == {"sent": 1, "remaining": 0}
    assert notice_store.get_campaign("2").done_at is not None  # that sweep began after activation
    assert dispatch(clock.advance(hours=1)) == {"sent": 0, "remaining": 0}
    assert notified()[late_joiner] == 1 and notified()[signed_up_under_it] == 0


def test_a_run_stops_before_its_time_is_up_and_the_next_resumes(stack, clock, monkeypatch):
    monkeypatch.setattr(delivery, "CHUNK", 4)
    customers = add_customers(15, iso(clock() - timedelta(days=1)))
    publish(clock)
    budget = iter([100.0] * 7)
    first = dispatch(clock, time_left=lambda: next(budget, 5.0))
    assert 0 < first["sent"] < 15 and first["remaining"] == 15 - first["sent"]

    second = dispatch(clock.advance(minutes=5))
    assert first["sent"] + second["sent"] == 15 and second["remaining"] == 0
    assert notified() == Counter(dict.fromkeys(customers, 1))


def test_ses_failures_defer_then_activation_waits_30_days_after_the_last_notice(stack, clock, monkeypatch, metrics):
    customers = add_customers(4, iso(clock() - timedelta(days=1)))
    victim = customers[1]
    effective_at = parse_iso(publish(clock, days=35)["effective_at"])
    outage = Failure(monkeypatch, victim, mailer.MailDeferred("ServiceUnavailable"))
    assert dispatch(clock) == {"sent": 3, "remaining": 1}
    assert status_of("2", victim) == "deferred"

    clock.now = effective_at - timedelta(days=29)  # past the last day to notify
    dispatch(clock)
    assert metrics.count("PolicyNoticeDeadlineMissed") == 1

    outage.heal()
    clock.now = effective_at
    assert activate(clock())["held_back"][0]["reason"] == "notices_missing"
    assert dispatch(clock) == {"sent": 1, "remaining": 0}
    held = activate(clock())
    assert held == {
        "activated": [],
        "held_back": [
            {"version": "2", "reason": "notice_period_running", "in_force_from": iso(effective_at + timedelta(days=30))}
        ],
    }
    assert policy.policy_in_force()["version"] == "1"

    assert activate(effective_at + timedelta(days=30))["activated"] == ["2"]
    assert policy.policy_in_force()["version"] == "2"
    assert notified() == Counter(dict.fromkeys(customers, 1))


def test_a_rejected_recipient_is_marked_not_retried_and_does_not_hold_activation(stack, clock, monkeypatch):
    customers = add_customers(3, iso(clock() - timedelta(days=1)))
    victim = customers[0]
    effective_at = parse_iso(publish(clock)["effective_at"])
    Failure(monkeypatch, victim, mailer.MailRejected("MessageRejected"))
    assert dispatch(clock) == {"sent": 2, "remaining": 0}
    assert status_of("2", victim) == "rejected"
    assert dispatch(clock.advance(hours=3))["sent"] == 0
    assert activate(effective_at)["activated"] == ["2"]


def test_customers_created_after_publication_cannot_hold_activation_back(stack, clock, monkeypatch):
    add_customers(2, iso(clock() - timedelta(days=1)))
    effective_at = parse_iso(publish(clock)["effective_at"])
    dispatch(clock)
    joiner = add_customers(1, iso(clock.advance(days=2)()))[0]
    Failure(monkeypatch, joiner, mailer.MailDeferred("ServiceUnavailable"))
    dispatch(clock.advance(hours=2))
    assert status_of("2", joiner) == "deferred"
    assert activate(effective_at)["activated"] == ["2"]


def plant_customer(stack, number: str, created_at: str, **attributes) -> None:
    """A customer item written with the low-level client, bypassing every validation: the
    kind of record an old bug or a manual fix could leave behind."""
    item = {
        "customer_number": {"S": number},
        "name": {"S": "Bad Record"},
        "password_hash": {"S": "!"},
        "status": {"S": "active"},
        "created_at": {"S": created_at},
        "updated_at": {"S": created_at},
        "version": {"N": "1"},
        **attributes,
    }
    stack.dynamodb().put_item(TableName=f"{stack.table_prefix}customers", Item=item)


def test_a_bad_customer_record_is_recorded_and_the_run_goes_on(stack, clock, monkeypatch, caplog, capsys):
    from chalicelib.observability import get_logger

    created = iso(clock() - timedelta(days=1))
    good = add_customers(4, created)
    plant_customer(stack, "C100000000001", created, email={"S": "broken@example.com\r\nBcc: victim@example.com"})
    plant_customer(stack, "C100000000002", created)  # no email at all
    failures = []
    monkeypatch.setattr(delivery, "count", lambda name, value=1: failures.append(name))
    caplog.set_level("ERROR")
    effective_at = parse_iso(publish(clock)["effective_at"])

    assert dispatch(clock) == {"sent": 4, "remaining": 2}
    assert notified() == Counter(dict.fromkeys(good, 1))
    assert all("victim" not in ",".join(m["to"]) for m in outbox())
    for bad in ("C100000000001", "C100000000002"):
        notice = notice_store.get_notice("2", bad)
        assert notice.status == "failed" and notice.error.startswith("unexpected:")
    assert failures.count("PolicyNoticeFailed") == 2
    logged = "\n".join(get_logger().registered_formatter.format(r) for r in caplog.records) + capsys.readouterr().out
    assert "C100000000001" in logged and "C100000000002" in logged
    assert "broken@example.com" not in logged and "victim" not in logged

    assert activate(effective_at)["held_back"][0]["reason"] == "notices_missing"
    plant_customer(stack, "C100000000001", created, email={"S": "fixed@example.com"})  # ops fix the record
    dispatch(clock.advance(minutes=6))  # after the backoff: tried again, and sent now
    assert status_of("2", "C100000000001") == "sent"
    assert status_of("2", "C100000000002") == "failed"
    assert activate(effective_at)["held_back"][0]["reason"] == "notices_missing"
