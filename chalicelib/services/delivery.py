"""The one delivery engine for bulk mail (policy notices, marketing campaigns): claim,
send through SES at a bounded rate, record; at most once per (notice or campaign, customer).

A `Kind` supplies what differs: the claim and record writes, who is still eligible, the
email, and how failures are named, counted and retried. The engine supplies the rest:
- `Run`: one invocation's id (written into every claim), clock, time budget (it stops a
  margin before the deadline), deferral streak and first failure;
- `WorkerPool` of `Courier`s: each claims (conditional write), sends through the mailer and
  records the outcome. A courier commits the record of one email, with its mail log entry,
  in the same transaction as the claim of its next one (one DynamoDB call per email); the
  last waits for `flush`. A record that never lands leaves a claim without a record, which a
  later run settles as `unconfirmed` (never resent);
- `walk`: a scan segment fed to the pool chunk by chunk, the suppression list read once per
  chunk (BatchGetItem), the next chunk read while the current one is sent, and the cursor
  saved once every email of a chunk is settled. A job left in the queue when the run stops
  is dropped; the cursor then goes just past the jobs delivered before the first dropped
  one, and a later run reads the rest again (the claims make any overlap harmless).
"""

from __future__ import annotations

import itertools
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.mail.pacing import Pacer
from chalicelib.observability import count, get_logger
from chalicelib.services import mailer, suppression
from chalicelib.settings import get_settings
from chalicelib.store.base import iso
from chalicelib.store.customers import Customer
from chalicelib.store.states import DeliveryStatus
from chalicelib.store.transact import Write, WriteConflict, commit

RETRY_BACKOFF = timedelta(minutes=5)
RETRY_BACKOFF_MAX = timedelta(hours=1)
# This many deferrals in a row (SES down, sending paused) end the run: later runs retry.
DEFERRAL_STREAK_LIMIT = 10
CHUNK = 500  # customers submitted between cursor saves (scan pages are DynamoDB's 1 MB)
LEASE_GRACE = timedelta(seconds=60)  # a lease outlives its run's deadline by this much
# No Lambda invocation lives longer than 15 minutes: an older claim of another run is an
# orphan even if a lease were ever broken.
ORPHAN_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Job:
    key: str  # the policy version or the campaign id
    customer_number: str
    customer: Customer | None = None  # from the scan; None for a retry (loaded after the claim)
    retry: bool = False  # claiming a deferred (or failed) record again
    attempts: int = 0
    suppressed: bool | None = None  # from the chunk's batched lookup; None: the mailer looks it up


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    fields: dict = field(default_factory=dict)
    records: list = field(default_factory=list)  # writes to commit with the email's own record


class Kind(Protocol):
    """What a kind of bulk mail tells the engine."""

    metric: str  # metric prefix: PolicyNotice, MarketingDelivery
    label: str  # for logs: "policy notice"
    retry_failed: bool  # a failed record is tried again after the backoff (else it is final)
    backoff: bool  # a deferred record waits the backoff (else the next run retries it)

    def claim(self, job: Job, run: Run) -> dict[str, Write]:
        """The claim (labelled writes; any of them failing means: not ours to send)."""

    def settle(self, job: Job, run: Run, outcome: Outcome) -> Write:
        """The record of what became of a claim."""

    def recipient(self, job: Job) -> Customer | None:
        """The customer to send to after the claim, or None: no longer eligible (skipped)."""

    def email(self, job: Job, customer: Customer) -> mailer.Email:
        """The email for the customer."""

    def log_fields(self, job: Job) -> dict:
        """What identifies the job in a log line (never an address)."""


def new_run_id() -> str:
    return "R" + uuid.uuid4().hex


def lease_until(time_left: Callable[[], float], clock: Callable[[], datetime]) -> str:
    """When a lease taken now by an invocation with `time_left()` seconds left expires."""
    return iso(clock() + timedelta(seconds=time_left()) + LEASE_GRACE)


class Run:
    """One invocation's work: its id (written into every claim), its clock, its time
    budget, its pacer, and what it has done so far."""

    def __init__(
        self,
        time_left: Callable[[], float],
        clock: Callable[[], datetime],
        pacer: Pacer | None = None,
        client: Any = None,
    ):
        settings = get_settings()
        self.id = new_run_id()
        self.clock = clock
        self.time_left = time_left
        self.pacer = pacer
        self.client = client  # the SES client (None: the default one)
        # Stop this long before the deadline; never more than half of a short invocation.
        self.margin = min(settings.notice_dispatch_margin_seconds, time_left() / 2)
        self.counts: dict[str, int] = {}
        self.failure: BaseException | None = None
        self._stopped = False
        self._deferral_streak = 0
        self._lock = threading.Lock()

    @property
    def sent(self) -> int:
        return self.counts.get(DeliveryStatus.SENT, 0)

    def note(self, status: str) -> None:
        with self._lock:
            self.counts[status] = self.counts.get(status, 0) + 1
            self._deferral_streak = self._deferral_streak + 1 if status == DeliveryStatus.DEFERRED else 0

    def fail(self, error: BaseException) -> None:
        with self._lock:
            self.failure = self.failure or error

    def stop(self) -> None:
        self._stopped = True

    def until(self) -> str:
        """When a lease taken by this run expires."""
        return lease_until(self.time_left, self.clock)

    def should_stop(self) -> bool:
        return (
            self._stopped
            or self.failure is not None
            or self._deferral_streak >= DEFERRAL_STREAK_LIMIT
            or self.time_left() < self.margin
        )


class Courier:
    """One worker's deliveries, with the records of its last email not yet written (they
    ride along with the claim of its next one: one DynamoDB call per email)."""

    def __init__(self, run: Run, kind: Kind):
        self.run, self.kind = run, kind
        self._unrecorded: list[Write] = []

    def deliver(self, job: Job) -> None:
        if not self._claim(job):
            self.run.note(DeliveryStatus.SKIPPED)  # sent already, being sent by someone else, or no longer eligible
            return
        try:
            customer = self.kind.recipient(job)
            outcome = Outcome(DeliveryStatus.SKIPPED) if customer is None else self._send(job, customer)
        except Exception as error:  # one customer's bad record must not stop the run for everyone
            outcome = self._failed(job, error)
        self._unrecorded = [self.kind.settle(job, self.run, outcome), *outcome.records]
        self.run.note(outcome.status)

    def flush(self) -> None:
        if self._unrecorded:
            writes, self._unrecorded = self._unrecorded, []
            commit(writes, token=uuid.uuid4().hex)

    def _claim(self, job: Job) -> bool:
        claim = self.kind.claim(job, self.run)
        writes = {**claim, **{f"record_{i}": w for i, w in enumerate(self._unrecorded)}}
        try:
            # The token makes a retried request (lost response) idempotent, not a failed claim.
            commit(writes, token=uuid.uuid4().hex)
        except WriteConflict as conflict:
            if not conflict.failed <= set(claim):
                raise  # our own claim was taken from us: the lease was broken; stop here
            self.flush()
            return False
        self._unrecorded = []
        return True

    def _failed(self, job: Job, error: Exception) -> Outcome:
        """Counted and logged by customer number and error type only: the error's text may
        quote the email. Retried after the backoff if the kind says so (then it goes out
        once the record is fixed), else final."""
        count(f"{self.kind.metric}Failed")
        get_logger().error(
            f"{self.kind.label} failed for one customer; the run goes on",
            extra={
                **self.kind.log_fields(job),
                "customer_number": job.customer_number,
                "error_type": type(error).__name__,
            },
        )
        retry_at = iso(self.run.clock() + backoff(job)) if self.kind.retry_failed else None
        return Outcome(DeliveryStatus.FAILED, {"error": f"unexpected:{type(error).__name__}", "retry_at": retry_at})

    def _send(self, job: Job, customer: Customer) -> Outcome:
        try:
            delivered = mailer.deliver(
                self.kind.email(job, customer), self.run.client, pacer=self.run.pacer, suppressed=job.suppressed
            )
        except mailer.MailRejected as error:
            return Outcome(DeliveryStatus.REJECTED, {"error": error.code})
        except mailer.MailUncertain as error:
            # SES may have accepted it: never "deferred" (which would send again), but
            # "unconfirmed", like a crash after the send.
            count(f"{self.kind.metric}Unconfirmed")
            get_logger().error(
                f"{self.kind.label} may or may not have been sent: not resending",
                extra={**self.kind.log_fields(job), "customer_number": job.customer_number, "error_code": error.code},
            )
            return Outcome(DeliveryStatus.UNCONFIRMED, {"error": error.code})
        except mailer.MailDeferred as error:
            count(f"{self.kind.metric}Deferred")
            get_logger().warning(
                f"{self.kind.label} deferred",
                extra={**self.kind.log_fields(job), "error_code": error.code, "attempts": job.attempts},
            )
            retry_at = self.run.clock() + (backoff(job) if self.kind.backoff else timedelta(0))
            return Outcome(DeliveryStatus.DEFERRED, {"error": error.code, "retry_at": iso(retry_at)})
        return Outcome(
            DeliveryStatus.SENT,
            {"message_id": delivered.message_id, "sent_at": iso(self.run.clock()), "error": None, "retry_at": None},
            [delivered.record],
        )


def backoff(job: Job) -> timedelta:
    return min(RETRY_BACKOFF * 2**job.attempts, RETRY_BACKOFF_MAX)


class Batch:
    """Jobs submitted together; `wait` tells how many of them, from the first, were delivered."""

    def __init__(self, size: int):
        self._delivered: list[bool | None] = [None] * size
        self._done = threading.Condition()

    def finished(self, index: int, delivered: bool) -> None:
        with self._done:
            self._delivered[index] = delivered
            self._done.notify_all()

    def wait(self) -> int:
        with self._done:
            self._done.wait_for(lambda: None not in self._delivered)
            return next((i for i, delivered in enumerate(self._delivered) if not delivered), len(self._delivered))


class WorkerPool:
    """Worker threads, each with its courier, fed from one queue. A job taken after the run
    should stop is dropped (not claimed). Leaving the `with` block writes the couriers' last
    records. A failure in any worker stops the run and is raised here."""

    def __init__(self, run: Run, kind: Kind, size: int):
        self.run, self.kind = run, kind
        self._jobs: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=self._work, name=f"courier-{i}", daemon=True) for i in range(size)]
        for thread in self._threads:
            thread.start()

    def submit(self, jobs: list[Job]) -> Batch:
        batch = Batch(len(jobs))
        for index, job in enumerate(jobs):
            self._jobs.put((job, batch, index))
        return batch

    def deliver(self, jobs: list[Job]) -> None:
        """Submit the jobs and wait for them (those left when the run stopped are dropped)."""
        self.submit(jobs).wait()
        self.raise_failure()

    def raise_failure(self) -> None:
        if self.run.failure is not None:
            raise self.run.failure

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        if exc_info[0] is None:
            self.raise_failure()

    def _work(self) -> None:
        courier = Courier(self.run, self.kind)
        while (item := self._jobs.get()) is not None:
            job, batch, index = item
            delivered = False
            try:
                if not self.run.should_stop():
                    courier.deliver(job)
                    delivered = True
            except BaseException as error:  # a crash of this worker stops the whole run
                self.run.fail(error)
            finally:
                batch.finished(index, delivered)
        try:
            courier.flush()
        except BaseException as error:
            self.run.fail(error)


@dataclass
class Chunk:
    jobs: list[Job]
    cursor: dict | None  # the scan's position after the chunk's customers
    end: bool  # the scan has nothing after this chunk


def walk(
    customers: Iterator[Customer],
    job_for: Callable[[Customer], Job | None],
    run: Run,
    pool: WorkerPool,
    save_cursor: Callable[[dict], bool],
) -> bool:
    """Deliver a scan (a `ResultIterator`: its `last_evaluated_key` is the cursor just past
    the last customer read) chunk by chunk, reading the next chunk while the workers send
    the current one. True when every customer to the end of the scan was delivered."""
    chunk = _read_chunk(customers, job_for)
    batch = pool.submit(chunk.jobs)
    while True:
        # The next chunk is read and queued while this one is sent: the workers never wait
        # for a scan page or a cursor save (a job queued after the run stops is dropped).
        following = None if chunk.end or run.should_stop() else _read_chunk(customers, job_for)
        following_batch = pool.submit(following.jobs) if following else None
        delivered = batch.wait()
        pool.raise_failure()
        if delivered < len(chunk.jobs):  # the run stopped: keep what was done
            if delivered:
                save_cursor(scan_key(chunk.jobs[delivered - 1]))
            return False
        if chunk.end:
            return True
        if chunk.cursor is not None and not save_cursor(chunk.cursor):
            run.stop()  # another run took the work over: the jobs queued are dropped
            return False
        if following is None or following_batch is None:
            return False
        chunk, batch = following, following_batch


def scan_key(job: Job) -> dict:
    """The scan cursor just past the job's customer (the customers table's key)."""
    return {"customer_number": {"S": job.customer_number}}


def _read_chunk(customers: Iterator[Customer], job_for: Callable[[Customer], Job | None]) -> Chunk:
    read = list(itertools.islice(customers, CHUNK))
    cursor = customers.last_evaluated_key  # type: ignore[attr-defined]
    jobs = [job for job in map(job_for, read) if job is not None]
    suppressed = suppression.suppressed_among([job.customer.email for job in jobs if job.customer is not None])
    jobs = [replace(job, suppressed=job.customer.email in suppressed) if job.customer else job for job in jobs]
    # None after a last full page: nothing follows
    return Chunk(jobs, cursor, end=len(read) < CHUNK or cursor is None)
