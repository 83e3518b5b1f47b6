"""Policy-change notices: the scheduled dispatch, the notice deadline, proof of notice.

Exactly once: claim-before-send, not SES idempotency
-----------------------------------------------------
SES's SendEmail takes no idempotency key, so exactly-once rests on our own records: each
notice is claimed with a conditional write (only if the version has no notice for the
customer) before its email is sent, and its outcome recorded after. Overlapping runs,
retries and restarts never send twice; a notice is sent again only when its record
proves the first attempt was not sent (SES refused it transiently: `deferred`; or it
failed before SES had it, on a bad customer record, say: `failed`, which is counted and
logged and holds activation back like any missing notice, and does not stop the run).
The price is the moment between SES accepting a message and its record (written with its
mail log entry in one transaction): if the run dies there, or the connection drops after
the request went out, a later run finds a claim without an outcome. It becomes
`unconfirmed`: counted (PolicyNoticeUnconfirmed), logged, never resent automatically, and
holding activation back until ops settle it with `ops_resolve_notice`. At-most-once plus
an alarm, rather than at-least-once: a duplicate legal notice cannot be taken back,
while a missing one is caught before the version can come into force.

Resuming and late joiners
-------------------------
Only one run works at a time (a lease), so the SES send rate holds across overlapping
invocations. A campaign walks the customers table in passes and stores its scan cursor
after every chunk, so a run that stops for time resumes where the last one stopped. Pass
1 covers every customer held; a customer who signs up meanwhile may land behind the
cursor (scans go in hash order), so further passes ("sweeps", every
`notice_sweep_minutes`) cover the customers created since the previous pass started
(with an overlap for clock skew and scan consistency), until a pass has started after
the version came into force. Customers who join later accepted that version at signup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pynamodb.pagination import ResultIterator

from chalicelib.errors import Conflict, NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services.notice_delivery import Job, Run, WorkerPool
from chalicelib.services.policy import effective_moment, in_effective_order
from chalicelib.settings import get_settings
from chalicelib.store import customers as customer_store
from chalicelib.store import notices as store
from chalicelib.store import policy as policy_store
from chalicelib.store.base import iso, parse_iso, utc_now
from chalicelib.store.customers import Customer
from chalicelib.store.notices import NoticeCampaign, PolicyNotice
from chalicelib.store.policy import PolicyVersion
from chalicelib.store.transact import WriteConflict, commit

CHUNK = 500  # customers submitted between cursor saves (scan pages are DynamoDB's 1 MB)
SWEEP_OVERLAP = timedelta(minutes=10)
LEASE_GRACE = timedelta(seconds=60)  # a lease outlives its run's deadline by this much
# No Lambda invocation lives longer than 15 minutes: an older claim of another run is an
# orphan even if the lease were ever broken.
ORPHAN_AFTER = timedelta(minutes=15)


def dispatch_notices(time_left: Callable[[], float], clock: Callable[[], datetime] = utc_now) -> dict:
    """The scheduled dispatch. `time_left()` is the invocation's remaining time in seconds."""
    campaigns = store.unfinished_campaigns()
    if not campaigns:
        return {"sent": 0, "remaining": 0}
    versions = {v.version: v for v in policy_store.all_versions()}
    run = Run(time_left, clock)
    now = clock()
    if not store.acquire_lease(run.id, iso(now), iso(now + timedelta(seconds=time_left()) + LEASE_GRACE)):
        count("PolicyNoticeDispatchBusy")
        remaining = sum(_remaining(c, store.open_notices(c.version)) for c in campaigns)
        return {"sent": 0, "remaining": remaining, "busy": True}
    try:
        ordered = in_effective_order([versions[c.version] for c in campaigns])
        by_version = {c.version: c for c in campaigns}
        remaining = sum(_run_campaign(by_version[v.version], v, run) for v in ordered)
    finally:
        store.release_lease(run.id)
    count("PolicyNoticesRemaining", remaining)  # the ops dashboard's campaign progress
    return {"sent": run.sent, "remaining": remaining}


def _run_campaign(campaign: NoticeCampaign, version: PolicyVersion, run: Run) -> int:
    """Settle orphaned claims, retry deferred notices, advance the passes; then check the
    deadline. Returns how many notices are still to be sent."""
    open_notices = store.open_notices(version.version)
    _settle_orphans(open_notices, version, run)
    with WorkerPool(run, get_settings().notice_dispatch_workers) as pool:
        _retry_deferred(open_notices, version, run, pool)
        _advance_passes(campaign, version, run, pool)
    still_open = store.open_notices(version.version)
    _check_deadline(campaign, version, still_open, run.clock())
    if not campaign.pass_open and not still_open and _covers_activation(campaign, version):
        store.finish_campaign(campaign, iso(run.clock()))
    return _remaining(campaign, still_open)


def _settle_orphans(open_notices: list[PolicyNotice], version: PolicyVersion, run: Run) -> None:
    """Claims left by a run that died between claim and record. The notice's record and
    its mail log entry are written in one transaction, so neither exists: whether SES
    accepted the email is unknown. It is never resent automatically (a second legal notice
    cannot be taken back): it becomes `unconfirmed`, holds activation back, and ops settle it."""
    orphaned_before = iso(run.clock() - ORPHAN_AFTER)
    for notice in open_notices:
        if notice.status != "claimed" or notice.claimed_by == run.id or notice.claimed_at > orphaned_before:
            continue
        try:
            commit(
                [
                    store.settle(
                        version.version,
                        notice.customer_number,
                        notice.claimed_by,
                        "unconfirmed",
                        error="claim_orphaned",
                    )
                ]
            )
        except WriteConflict:
            continue  # settled meanwhile
        count("PolicyNoticeUnconfirmed")
        get_logger().error(
            "policy notice may or may not have been sent: not resending; settle it with ops_resolve_notice",
            extra={"version": version.version, "customer_number": notice.customer_number},
        )


def _retry_deferred(open_notices: list[PolicyNotice], version: PolicyVersion, run: Run, pool: WorkerPool) -> None:
    now = iso(run.clock())
    for notice in open_notices:
        if run.should_stop():
            return
        if notice.status in store.RETRIED_STATUSES and (notice.retry_at or "") <= now:
            pool.submit(Job(version, notice.customer_number, attempts=int(notice.attempts)))
    pool.drain()


def _advance_passes(campaign: NoticeCampaign, version: PolicyVersion, run: Run, pool: WorkerPool) -> None:
    while not run.should_stop():
        if not campaign.pass_open:
            if not _pass_due(campaign, version, run.clock()):
                return
            since = iso(parse_iso(campaign.pass_started_at) - SWEEP_OVERLAP) if campaign.passes else None
            if not store.start_pass(campaign, since, iso(run.clock())):
                return  # another run is advancing this campaign
        if not _scan(campaign, version, run, pool) or not store.finish_pass(campaign, iso(run.clock())):
            return


def _pass_due(campaign: NoticeCampaign, version: PolicyVersion, now: datetime) -> bool:
    if campaign.passes == 0:
        return True
    if _covers_activation(campaign, version):
        return False
    return now >= parse_iso(campaign.pass_started_at) + timedelta(minutes=get_settings().notice_sweep_minutes)


def _covers_activation(campaign: NoticeCampaign, version: PolicyVersion) -> bool:
    """Whether the last pass started after the version came into force (with the overlap):
    then everyone who joined before it is covered."""
    return bool(
        version.in_force_at
        and campaign.pass_started_at
        and parse_iso(campaign.pass_started_at) >= parse_iso(version.in_force_at) + SWEEP_OVERLAP
    )


def _scan(campaign: NoticeCampaign, version: PolicyVersion, run: Run, pool: WorkerPool) -> bool:
    """Submit the pass's customers chunk by chunk, saving the cursor after each chunk is
    claimed. True when the pass reached the end of the table."""
    customers = customer_store.held_customers(campaign.pass_since, campaign.scan_cursor())
    while True:
        taken, exhausted = _submit_chunk(customers, version, run, pool)
        pool.drain()
        cursor = customers.last_evaluated_key
        if exhausted or (taken and cursor is None):  # None after a last full page: nothing follows
            return True
        if taken and cursor is not None and not store.save_cursor(campaign, cursor):
            return False
        if run.should_stop():
            return False


def _submit_chunk(
    customers: ResultIterator[Customer], version: PolicyVersion, run: Run, pool: WorkerPool
) -> tuple[int, bool]:
    taken = 0
    while taken < CHUNK and not run.should_stop():
        customer = next(customers, None)
        if customer is None:
            return taken, True
        taken += 1
        if version.in_force_at and customer.created_at > version.in_force_at:
            continue  # joined under this version: accepted it at signup
        held = customer.created_at <= version.published_at
        pool.submit(Job(version, customer.customer_number, customer, held_at_publication=held))
    return taken, False


def _check_deadline(
    campaign: NoticeCampaign, version: PolicyVersion, open_notices: list[PolicyNotice], now: datetime
) -> None:
    """The alarm: past the last day to notify (effective date minus the notice period),
    some customer held at publication still has no notice."""
    if version.status != "published":
        return
    deadline = effective_moment(version) - timedelta(days=get_settings().notice_period_days)
    missing = [n for n in open_notices if n.held_at_publication]
    if now < deadline or (campaign.first_pass_done_at and not missing):
        return
    count("PolicyNoticeDeadlineMissed")
    get_logger().error(
        "policy notices missed their deadline: the version will not come into force until they are sent",
        extra={
            "version": version.version,
            "effective_at": version.effective_at,
            "deadline": iso(deadline),
            "notices_open": len(missing),
            "first_pass_done": bool(campaign.first_pass_done_at),
        },
    )


def _remaining(campaign: NoticeCampaign, open_notices: list[PolicyNotice]) -> int:
    """Notices not yet final, plus the customers the current pass has not reached."""
    unreached = 0
    if campaign.pass_open or campaign.passes == 0:
        unreached = sum(
            1
            for _ in customer_store.held_customers(
                campaign.pass_since, campaign.scan_cursor(), fields=("customer_number",)
            )
        )
    return len(open_notices) + unreached


# --- what activation needs -------------------------------------------------------------


def notified_by(version: PolicyVersion) -> tuple[int, datetime | None]:
    """For a material version: (how many customers held at publication still lack a
    notice, when the last of their notices was sent). -1 missing: pass 1 is unfinished,
    so it is not yet known who lacks one. A notice SES rejected for good counts as given
    at its attempt (nothing more can be sent; the home-page notice still applies)."""
    campaign = store.get_campaign(version.version)
    if campaign is None or campaign.first_pass_done_at is None:
        return -1, None
    missing, last = 0, None
    for notice in store.notices_for(version.version):
        if not notice.held_at_publication or notice.status == "skipped":
            continue
        if notice.status not in ("sent", "rejected"):
            missing += 1
            continue
        at = parse_iso(notice.sent_at or notice.claimed_at)
        last = max(last, at) if last else at
    return missing, last


# --- proof of notice and ops ----------------------------------------------------------


def notice_view(notice: PolicyNotice) -> dict:
    return {
        "version": notice.version,
        "status": notice.status,
        "sent_at": notice.sent_at,
        "message_id": notice.message_id,
        "error": notice.error,
    }


def notices_of(customer_number: str) -> list[dict]:
    """Every policy notice of the customer: proof of notice for the export and ops."""
    return [notice_view(n) for n in store.notices_of(customer_number)]


def resolve_notice(
    version: str,
    customer_number: str,
    outcome: str,
    message_id: str | None = None,
    sent_at: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Ops settle an unconfirmed notice after checking SES's records: `sent` (with the SES
    message id when known) makes it proof; `not_sent` lets the next run send it."""
    notice = store.get_notice(version, customer_number)
    if notice is None:
        raise NotFound("No notice of that version for that customer.")
    if notice.status != "unconfirmed":
        raise Conflict(f"Only an unconfirmed notice can be resolved; this one is {notice.status}.")
    if outcome == "sent":
        write = store.resolve(
            version,
            customer_number,
            "sent",
            message_id=message_id,
            sent_at=iso(parse_iso(sent_at)) if sent_at else notice.claimed_at,
            error=None,
        )
    else:
        write = store.resolve(version, customer_number, "deferred", retry_at=iso(now or utc_now()))
    try:
        commit([write])
    except WriteConflict:
        raise Conflict("The notice changed meanwhile; read it again.") from None
    count(f"policy_notice_resolved_{outcome}")
    notice = store.get_notice(version, customer_number)
    assert notice is not None  # it was just resolved
    return notice_view(notice)
