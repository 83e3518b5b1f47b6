"""Delivering policy-change notices: claim, send through SES at a bounded rate, record.

Each worker thread runs a `Courier`, which claims a notice (conditional write), sends
through the mailer (which paces every sender of the process to the SES rate), and records
the outcome. To keep DynamoDB calls per email at two (the claim, and the mailer's
suppression check), a courier commits the record of one notice, and the mail log entry of
its email, in the same transaction as the claim of its next one; the last waits for `flush`. A
record that never lands leaves a claim without a record, which the next run settles (see
notices.py): the transaction does not widen the crash window, it happens right after the
send just as a lone record would.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.observability import count, get_logger
from chalicelib.services import mailer
from chalicelib.services.policy import effective_moment
from chalicelib.settings import get_settings
from chalicelib.store import customers as customer_store
from chalicelib.store import notices as notice_store
from chalicelib.store.base import iso
from chalicelib.store.customers import Customer
from chalicelib.store.policy import PolicyVersion
from chalicelib.store.transact import Write, WriteConflict, commit

RETRY_BACKOFF = timedelta(minutes=5)
RETRY_BACKOFF_MAX = timedelta(hours=1)
# This many deferrals in a row (SES down, sending paused) end the run: later runs retry.
DEFERRAL_STREAK_LIMIT = 10


@dataclass(frozen=True)
class Job:
    version: PolicyVersion
    customer_number: str
    customer: Customer | None = None  # from the scan; None for a retry (loaded after the claim)
    held_at_publication: bool | None = None  # None: a retry of a deferred notice
    attempts: int = 0


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | deferred | failed | rejected | unconfirmed | skipped
    fields: dict = field(default_factory=dict)
    records: list = field(default_factory=list)  # writes to commit with the notice's own record


class Run:
    """One invocation of the dispatcher: its id (written into every claim), its clock, its
    time budget, and what it has done so far."""

    def __init__(self, time_left: Callable[[], float], clock: Callable[[], datetime]):
        settings = get_settings()
        self.id = "R" + uuid.uuid4().hex
        self.clock = clock
        self.time_left = time_left
        # Stop this long before the deadline; never more than half of a short invocation.
        self.margin = min(settings.notice_dispatch_margin_seconds, time_left() / 2)
        self.sent = 0
        self.failure: BaseException | None = None
        self._deferral_streak = 0
        self._lock = threading.Lock()

    def note(self, outcome: Outcome) -> None:
        with self._lock:
            self.sent += outcome.status == "sent"
            self._deferral_streak = self._deferral_streak + 1 if outcome.status == "deferred" else 0

    def fail(self, error: BaseException) -> None:
        with self._lock:
            self.failure = self.failure or error

    def should_stop(self) -> bool:
        return (
            self.failure is not None or self._deferral_streak >= DEFERRAL_STREAK_LIMIT or self.time_left() < self.margin
        )


def notice_email(version: PolicyVersion, customer: Customer) -> mailer.Email:
    settings = get_settings()
    effective = effective_moment(version).strftime("%d %B %Y, %H:%M UTC")
    return mailer.Email(
        recipient=customer.email,
        subject=f"{settings.company_name}: our privacy policy changes on {effective}",
        template="policy_notice",
        context={
            "name": customer.name,
            "version": version.version,
            "summary": version.summary,
            "effective_date": effective,
            "notice_days": settings.notice_period_days,
            "version_url": f"{settings.public_base_url}/policy/versions/{version.version}",
        },
        kind="notice",
        customer_number=customer.customer_number,
        campaign_id=version.version,
    )


class Courier:
    """One worker's deliveries, with the records of its last notice not yet written (they
    ride along with the claim of its next one: one DynamoDB call per notice)."""

    def __init__(self, run: Run):
        self.run = run
        self._unrecorded: list[Write] = []

    def deliver(self, job: Job) -> None:
        if not self._claim(job):
            return  # notified already, or being notified by someone else
        try:
            customer = job.customer or customer_store.get_customer(job.customer_number)
            if customer is None or customer.status == "anonymized":
                outcome = Outcome("skipped")
            else:
                outcome = self._send(job, customer)
        except Exception as error:  # one customer's bad record must not stop the run for everyone
            outcome = self._failed(job, error)
        settled = notice_store.settle(
            job.version.version, job.customer_number, self.run.id, outcome.status, **outcome.fields
        )
        self._unrecorded = [settled] + outcome.records
        self.run.note(outcome)

    def flush(self) -> None:
        if self._unrecorded:
            writes, self._unrecorded = self._unrecorded, []
            commit(writes, token=uuid.uuid4().hex)

    def _claim(self, job: Job) -> bool:
        claim = notice_store.claim(
            job.version.version, job.customer_number, self.run.id, iso(self.run.clock()), job.held_at_publication
        )
        writes = {"claim": claim, **{f"record_{i}": w for i, w in enumerate(self._unrecorded)}}
        try:
            # The token makes a retried request (lost response) idempotent, not a failed claim.
            commit(writes, token=uuid.uuid4().hex)
        except WriteConflict as conflict:
            if conflict.failed != {"claim"}:
                raise  # our own claim was taken from us: the lease was broken; stop here
            self.flush()
            return False
        self._unrecorded = []
        return True

    def _failed(self, job: Job, error: Exception) -> Outcome:
        """Recorded against the customer's notice (open: activation waits for it; retried
        after the backoff, so it goes out once the record is fixed), counted and logged by
        customer number and error type only: the error's text may quote the email."""
        count("PolicyNoticeFailed")
        get_logger().error(
            "policy notice failed for one customer; the run goes on",
            extra={
                "version": job.version.version,
                "customer_number": job.customer_number,
                "error_type": type(error).__name__,
            },
        )
        return Outcome(
            "failed", {"error": f"unexpected:{type(error).__name__}", "retry_at": iso(self.run.clock() + _backoff(job))}
        )

    def _send(self, job: Job, customer: Customer) -> Outcome:
        try:
            delivered = mailer.deliver(notice_email(job.version, customer))
        except mailer.MailRejected as error:
            return Outcome("rejected", {"error": error.code})
        except mailer.MailUncertain as error:
            # SES may have accepted it: never "deferred" (which would send again), but
            # "unconfirmed", like a crash after the send.
            count("PolicyNoticeUnconfirmed")
            get_logger().error(
                "policy notice may or may not have been sent: not resending; settle it with ops_resolve_notice",
                extra={
                    "version": job.version.version,
                    "customer_number": job.customer_number,
                    "error_code": error.code,
                },
            )
            return Outcome("unconfirmed", {"error": error.code})
        except mailer.MailDeferred as error:
            count("PolicyNoticeDeferred")
            get_logger().warning(
                "policy notice deferred",
                extra={"version": job.version.version, "error_code": error.code, "attempts": job.attempts},
            )
            return Outcome("deferred", {"error": error.code, "retry_at": iso(self.run.clock() + _backoff(job))})
        return Outcome(
            "sent",
            {"message_id": delivered.message_id, "sent_at": iso(self.run.clock()), "error": None, "retry_at": None},
            [delivered.record],
        )


def _backoff(job: Job) -> timedelta:
    return min(RETRY_BACKOFF * 2**job.attempts, RETRY_BACKOFF_MAX)


class WorkerPool:
    """Worker threads, each with its courier, fed from one queue. `drain` waits until every
    job submitted so far is delivered (claimed and sent); leaving the `with` block also
    writes the couriers' last records. A failure in any worker stops the run and is
    raised here."""

    def __init__(self, run: Run, size: int):
        self.run = run
        self._jobs: queue.Queue = queue.Queue()
        self._threads = [
            threading.Thread(target=self._work, name=f"notice-worker-{i}", daemon=True) for i in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        self._jobs.put(job)

    def drain(self) -> None:
        self._jobs.join()
        self._raise_failure()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        if exc_info[0] is None:
            self._raise_failure()

    def _raise_failure(self) -> None:
        if self.run.failure is not None:
            raise self.run.failure

    def _work(self) -> None:
        courier = Courier(self.run)
        while (job := self._jobs.get()) is not None:
            try:
                if self.run.failure is None:
                    courier.deliver(job)
            except BaseException as error:  # a crash of this worker stops the whole run
                self.run.fail(error)
            finally:
                self._jobs.task_done()
        try:
            courier.flush()
        except BaseException as error:
            self.run.fail(error)
        finally:
            self._jobs.task_done()
