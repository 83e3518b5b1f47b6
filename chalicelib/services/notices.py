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

from chalicelib.errors import Conflict, NotFound
from chalicelib.observability import count, get_logger
from chalicelib.services import delivery, mailer
from chalicelib.services.delivery import ORPHAN_AFTER, Job, Outcome, Run, WorkerPool, settle_orphans, walk
from chalicelib.services.policy import effective_moment, in_effective_order
from chalicelib.settings import get_settings
from chalicelib.store import customers as customer_store
from chalicelib.store import notices as store
from chalicelib.store import policy as policy_store
from chalicelib.store.base import iso, parse_iso, utc_now
from chalicelib.store.customers import Customer
from chalicelib.store.notices import NoticeCampaign, PolicyNotice
from chalicelib.store.policy import PolicyVersion
from chalicelib.store.states import CustomerStatus, DeliveryStatus, PolicyStatus
from chalicelib.store.transact import Write, WriteConflict, commit

SWEEP_OVERLAP = timedelta(minutes=10)
SEGMENTS = 1  # parallel scan segments of a pass: more once one run can no longer keep up


class NoticeKind:
    """Policy notices for the delivery engine: one version's notices."""

    metric = "PolicyNotice"
    label = "policy notice"
    retry_failed = True  # open (activation waits for it) and tried again once the record is fixed
    backoff = True
    settle_hint = "; settle it with ops_resolve_notice"

    def __init__(self, version: PolicyVersion):
        self.version = version

    def claim(self, job: Job, run: Run) -> dict[str, Write]:
        held = None if job.retry else job.customer is not None and job.customer.created_at <= self.version.published_at
        return {"claim": store.claim(self.version.version, job.customer_number, run.id, iso(run.clock()), held)}

    def settle(self, job: Job, run: Run, outcome: Outcome) -> Write:
        return store.settle(self.version.version, job.customer_number, run.id, outcome.status, **outcome.fields)

    def recipient(self, job: Job) -> Customer | None:
        customer = job.customer or customer_store.get_customer(job.customer_number)
        return None if customer is None or customer.status == CustomerStatus.ANONYMIZED else customer

    def email(self, job: Job, customer: Customer) -> mailer.Email:
        return notice_email(self.version, customer)

    def log_fields(self) -> dict:
        return {"version": self.version.version}

    def job_for(self, customer: Customer) -> Job | None:
        if self.version.in_force_at and customer.created_at > self.version.in_force_at:
            return None  # joined under this version: accepted it at signup
        return Job(self.version.version, customer.customer_number, customer)


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


def dispatch_notices(time_left: Callable[[], float], clock: Callable[[], datetime] = utc_now) -> dict:
    """The scheduled dispatch. `time_left()` is the invocation's remaining time in seconds."""
    campaigns = store.unfinished_campaigns()
    if not campaigns:
        return {"sent": 0, "remaining": 0}
    versions = {v.version: v for v in policy_store.all_versions()}
    run = Run(time_left, clock)
    if not store.acquire_lease(run.id, iso(clock()), run.until()):
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
    kind = NoticeKind(version)
    _settle_orphans(open_notices, kind, run)
    with WorkerPool(run, kind, get_settings().notice_dispatch_workers) as pool:
        _retry_deferred(open_notices, version, run, pool)
        _advance_passes(campaign, kind, run, pool)
    still_open = store.open_notices(version.version)
    _check_deadline(campaign, version, still_open, run.clock())
    if not campaign.pass_open and not still_open and _covers_activation(campaign, version):
        store.finish_campaign(campaign, iso(run.clock()))
    return _remaining(campaign, still_open)


def _settle_orphans(open_notices: list[PolicyNotice], kind: NoticeKind, run: Run) -> None:
    """Orphaned claims become `unconfirmed` (a second legal notice cannot be taken back): they
    hold activation back until ops settle them."""
    version = kind.version.version

    def orphaned(notice: PolicyNotice) -> Write:
        return store.settle(
            version, notice.customer_number, notice.claimed_by, DeliveryStatus.UNCONFIRMED, error="claim_orphaned"
        )

    settle_orphans(kind, open_notices, {run.id}, iso(run.clock() - ORPHAN_AFTER), orphaned)


def _retry_deferred(open_notices: list[PolicyNotice], version: PolicyVersion, run: Run, pool: WorkerPool) -> None:
    now = iso(run.clock())
    due = [
        Job(version.version, notice.customer_number, retry=True, attempts=int(notice.attempts))
        for notice in open_notices
        if notice.status in store.RETRIED_STATUSES and (notice.retry_at or "") <= now
    ]
    if due and not run.should_stop():
        pool.deliver(due)


def _advance_passes(campaign: NoticeCampaign, kind: NoticeKind, run: Run, pool: WorkerPool) -> None:
    version = kind.version
    while not run.should_stop():
        if not campaign.pass_open:
            if not _pass_due(campaign, version, run.clock()):
                return
            since = iso(parse_iso(campaign.pass_started_at) - SWEEP_OVERLAP) if campaign.passes else None
            if not store.start_pass(campaign, since, iso(run.clock()), SEGMENTS):
                return  # another run is advancing this campaign
        if not _scan(campaign, kind, run, pool) or not store.finish_pass(campaign, iso(run.clock())):
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


def _scan(campaign: NoticeCampaign, kind: NoticeKind, run: Run, pool: WorkerPool) -> bool:
    """Walk the pass's scan segments one after the other, each from its own cursor. True
    when every segment reached the end of the table."""
    for segment in campaign.unfinished_segments():
        customers = customer_store.held_customers(
            campaign.pass_since,
            campaign.segment_cursor(segment),
            segment=(segment, campaign.pass_segments()),
            page_size=delivery.CHUNK,  # a page per chunk: the first emails go out without waiting for 1 MB
        )

        def save(cursor: dict, segment: int = segment) -> bool:
            return store.save_cursor(campaign, segment, cursor)

        if not walk(customers, kind.job_for, run, pool, save) or not store.finish_segment(campaign, segment):
            return False
    return True


def _check_deadline(
    campaign: NoticeCampaign, version: PolicyVersion, open_notices: list[PolicyNotice], now: datetime
) -> None:
    """The alarm: past the last day to notify (effective date minus the notice period),
    some customer held at publication still has no notice."""
    if version.status != PolicyStatus.PUBLISHED:
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
        segments = campaign.unfinished_segments() if campaign.pass_open else range(SEGMENTS)
        for segment in segments:
            unreached += sum(
                1
                for _ in customer_store.held_customers(
                    campaign.pass_since,
                    campaign.segment_cursor(segment),
                    fields=("customer_number",),
                    segment=(segment, campaign.pass_segments() if campaign.pass_open else SEGMENTS),
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
        if not notice.held_at_publication or notice.status == DeliveryStatus.SKIPPED:
            continue
        if notice.status not in (DeliveryStatus.SENT, DeliveryStatus.REJECTED):
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
    if notice.status != DeliveryStatus.UNCONFIRMED:
        raise Conflict(f"Only an unconfirmed notice can be resolved; this one is {notice.status}.")
    if outcome == "sent":
        write = store.resolve(
            version,
            customer_number,
            DeliveryStatus.SENT,
            message_id=message_id,
            sent_at=iso(parse_iso(sent_at)) if sent_at else notice.claimed_at,
            error=None,
        )
    else:
        write = store.resolve(version, customer_number, DeliveryStatus.DEFERRED, retry_at=iso(now or utc_now()))
    try:
        commit([write])
    except WriteConflict:
        raise Conflict("The notice changed meanwhile; read it again.") from None
    count(f"policy_notice_resolved_{outcome}")
    notice = store.get_notice(version, customer_number)
    assert notice is not None  # it was just resolved
    return notice_view(notice)
