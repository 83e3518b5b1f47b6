"""Policy-notice dispatch benchmark (issue 5): 10,000 customers in DynamoDB Local, the
notices sent through the SES stand-in. Prints emails per second with the send rate set
high, DynamoDB calls per email sent, and the achieved/configured rate with the limit at
50/s. Figures are printed beside their targets, never asserted."""

from __future__ import annotations

import contextlib
import io
import os
import time
from datetime import timedelta

CUSTOMERS = 10_000
HIGH_RATE = 100_000.0
LIMITED_RATE = 50.0
LIMITED_SECONDS = 40.0  # the rate-limited run is stopped after this much sending time
# Measured before the single delivery engine (issue 17's table): one GetItem per email for
# the suppression check beside the claim; the pacer losing each sleeper's wake-up lateness.
BASELINE_CALLS = 2.0
BASELINE_RATE = 0.94


class SendClock:
    """Monotonic times of every SES SendEmail call (a botocore before-call hook)."""

    def __init__(self):
        self.times: list[float] = []

    def __call__(self, **kwargs):
        self.times.append(time.monotonic())

    def busiest_second(self) -> int:
        most, start = 0, 0
        for end, moment in enumerate(self.times):
            while moment - self.times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most


def configure(rate: float) -> None:
    from chalicelib.settings import reset_settings

    os.environ["PLEDGE_SES_MAX_SEND_RATE"] = str(rate)
    reset_settings()


def publish(version: str) -> None:
    from chalicelib.services.policy import publish_policy
    from chalicelib.store.base import iso, utc_now

    publish_policy(
        {
            "version": version,
            "summary": "Benchmark change.",
            "body": "Benchmark policy text.",
            "effective_at": iso(utc_now() + timedelta(days=45)),
            "material": True,
        }
    )


def dispatch_until_done() -> int:
    from chalicelib.services.notices import dispatch_notices

    sent = 0
    while True:
        result = dispatch_notices(lambda: 900.0)
        sent += result["sent"]
        if result["remaining"] == 0:
            return sent


def dispatch_for(seconds: float) -> int:
    """One run whose Lambda deadline leaves `seconds` of sending before the safety margin."""
    from chalicelib.services.notices import dispatch_notices
    from chalicelib.settings import get_settings

    deadline = time.monotonic() + seconds + get_settings().notice_dispatch_margin_seconds
    return dispatch_notices(lambda: deadline - time.monotonic())["sent"]


def run(report) -> None:
    from bench.calls import counting_dynamodb_calls
    from chalicelib.aws import ses_client
    from chalicelib.services.policy import ensure_initial_policy
    from chalicelib.store.base import iso, utc_now
    from tests.helpers import add_customers

    ensure_initial_policy()
    add_customers(CUSTOMERS, iso(utc_now() - timedelta(days=1)))
    sends = SendClock()
    ses_client().meta.events.register("before-call.sesv2.SendEmail", sends)

    with counting_dynamodb_calls() as counter:
        configure(HIGH_RATE)
        publish("bench-high")
        counter.reset()
        started = time.perf_counter()
        sent = dispatch_until_done()
        elapsed = time.perf_counter() - started
        calls = counter.total
    report(f"dispatch     {sent} emails in {elapsed:.1f} s: {sent / elapsed:.0f} emails/s (send rate set high)")
    # The mailer's suppression check, read for a whole chunk at once (BatchGetItem); the
    # rest is the dispatcher's (claims, with the previous notice's record and mail log
    # entry, in one transaction; scan pages, cursors, lease).
    mailer_calls = counter.calls["BatchGetItem"] + counter.calls["GetItem"]
    report(
        f"dynamodb     calls per notice email {BASELINE_CALLS:.1f} before -> {calls / sent:.3f} now "
        f"(target <= 1.1); {(calls - mailer_calls) / sent:.3f} by the dispatcher, "
        f"{mailer_calls / sent:.3f} by the suppression check; "
        + ", ".join(f"{name} {n}" for name, n in sorted(counter.calls.items()))
    )

    configure(LIMITED_RATE)
    publish("bench-limited")
    sends.times.clear()
    started = time.perf_counter()
    sent = dispatch_for(LIMITED_SECONDS)
    elapsed = time.perf_counter() - started
    window = sends.times[-1] - sends.times[0]
    achieved = sent / elapsed / LIMITED_RATE
    report(
        f"rate limit   {sent} emails in a {elapsed:.1f} s run at {LIMITED_RATE:.0f}/s: achieved / configured "
        f"over the whole run {BASELINE_RATE:.2f} before -> {achieved:.3f} now (target >= 0.97); "
        f"{(len(sends.times) - 1) / window / LIMITED_RATE:.3f} between first and last send; "
        f"busiest second {sends.busiest_second()} sends"
    )


def main() -> None:
    from devstack.ephemeral import ephemeral_stack

    print("== policy notice dispatch (issue 5) ==")
    report = []
    # The app's JSON logs and metrics would drown the figures: they go to a buffer.
    with contextlib.redirect_stdout(io.StringIO()), ephemeral_stack("pledge-bench-"):
        run(report.append)
    print("\n".join(report))


if __name__ == "__main__":
    main()
