"""Marketing campaign benchmark (issue 17): campaigns to 2,000 and then 20,000 subscribers
in DynamoDB Local, through the SES stand-in, with the send rate set high. Each campaign is
registered by `ops_send_marketing` with a short time budget and finished by scheduled
`dispatch_marketing` runs, each with a short simulated budget (no manual re-invocation).
Prints emails per second and DynamoDB calls per email at both sizes (the cost per email
must stay flat as the list grows), never asserted."""

from __future__ import annotations

import contextlib
import io
import os
import time

from bench.notice_dispatch import configure

SIZES = (2_000, 20_000)
TOPIC = "special_offers"
RUN_SECONDS = 4.0  # sending time per simulated invocation, before its deadline margin
MAX_RUNS = 500


def budget(seconds: float):
    """An invocation's time_left: `seconds` of work, then a margin as long (margin = half)."""
    deadline = time.monotonic() + 2 * seconds
    return lambda: deadline - time.monotonic()


def campaign(size: int, report, counter) -> None:
    from chalicelib.services import campaigns, marketing

    counter.reset()
    started = time.perf_counter()
    first = marketing.send_campaign(TOPIC, f"Offer for {size}", "Half price.", time_left=budget(RUN_SECONDS))
    sent, runs, complete = first["sent"], 1, first["complete"]
    while not complete and runs < MAX_RUNS:
        result = campaigns.dispatch_campaigns(budget(RUN_SECONDS))
        sent += result["sent"]
        runs += 1
        complete = first["campaign_id"] in result["completed"]
    elapsed = time.perf_counter() - started
    calls = counter.total
    report(
        f"campaign     {size:>6} subscribers: {sent} emails, complete={complete} after {runs} runs "
        f"(1 ops_send_marketing + {runs - 1} dispatch_marketing, {RUN_SECONDS:.0f} s budgets): "
        f"{sent / elapsed:.0f} emails/s, {calls / max(sent, 1):.3f} DynamoDB calls per email ("
        + ", ".join(f"{name} {n}" for name, n in sorted(counter.calls.items()))
        + ")"
    )


def run(report) -> None:
    from bench.calls import counting_dynamodb_calls
    from chalicelib.store.base import iso, utc_now
    from tests.helpers import add_customers

    os.environ["PLEDGE_MARKETING_WORKERS"] = "1"
    configure(100_000.0)
    added = 0
    with counting_dynamodb_calls() as counter:
        for size in SIZES:
            add_customers(size - added, iso(utc_now()), subscribed_to=TOPIC)
            added = size
            campaign(size, report, counter)


def main() -> None:
    from devstack.ephemeral import ephemeral_stack

    print("== marketing campaigns as jobs (issue 17) ==")
    report = []
    with contextlib.redirect_stdout(io.StringIO()), ephemeral_stack("pledge-bench-"):
        run(report.append)
    print("\n".join(report))
    print("(target: calls per email flat from 2,000 to 20,000; every campaign complete without re-invocation)")


if __name__ == "__main__":
    main()
