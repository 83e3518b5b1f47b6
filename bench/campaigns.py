"""Marketing campaign benchmark (issue 17): campaigns to 2,000 and then 20,000 subscribers
in DynamoDB Local, through the SES stand-in, with the send rate set high, split over 1, 2
and 4 workers. Each campaign is registered by `ops_send_marketing` with a short time
budget and finished by scheduled `dispatch_marketing` runs, each with a short simulated
budget (no manual re-invocation). With more than one worker the dispatcher hands the
segments out on the SQS queue (moto) and devstack's poller, the local event source, runs
`deliver_campaign_segments` that many at once, each invocation with a short budget too.
Prints emails per second and DynamoDB calls per email for each size and worker count (the
cost per email must stay flat as the list grows), never asserted."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time

from bench.notice_dispatch import configure

SIZES = (2_000, 20_000)
WORKERS = (1, 2, 4)
TICK_SECONDS = 1.0  # between dispatcher runs when workers send (on AWS: a minute)
TOPIC = "special_offers"
RUN_SECONDS = 4.0  # sending time per simulated invocation, before its deadline margin
MAX_RUNS = 500


def budget(seconds: float):
    """An invocation's time_left: `seconds` of work, then a margin as long (margin = half)."""
    deadline = time.monotonic() + 2 * seconds
    return lambda: deadline - time.monotonic()


class SendCount:
    """SES SendEmail calls (a botocore before-call hook): emails sent, whoever sent them."""

    def __init__(self):
        self.sent = 0
        self._lock = threading.Lock()

    def __call__(self, **kwargs):
        with self._lock:
            self.sent += 1


@contextlib.contextmanager
def workers_fed_by_the_queue(workers: int):
    """devstack's poller as the queue's event source, `workers` invocations at once."""
    if workers == 1:
        yield
        return
    from devstack.aws_setup import aws_client
    from devstack.functions import discover, load_app_module
    from devstack.queue_poller import QueuePoller

    worker = discover(load_app_module())["deliver_campaign_segments"]
    url = os.environ["PLEDGE_CAMPAIGN_QUEUE_URL"]
    port = int(os.environ["PLEDGE_AWS_PORT"])
    timeout_ms = int(2 * RUN_SECONDS * 1000)  # stops at half, like the dispatcher's runs
    poller = QueuePoller(worker, url, aws_client("sqs", port), workers, io.StringIO(), timeout_ms).start()
    try:
        yield
    finally:
        poller.stop()


def campaign(size: int, workers: int, report, counter, sends: SendCount) -> None:
    from chalicelib import campaign_queue
    from chalicelib.services import campaigns, marketing
    from chalicelib.settings import reset_settings

    os.environ["PLEDGE_MARKETING_WORKERS"] = str(workers)
    reset_settings()
    subject = f"Offer for {size} over {workers} workers"
    with workers_fed_by_the_queue(workers):
        counter.reset()
        sent_before = sends.sent
        started = time.perf_counter()
        first = marketing.send_campaign(TOPIC, subject, "Half price.", time_left=budget(RUN_SECONDS))
        runs, complete = 1, first["complete"]
        while not complete and runs < MAX_RUNS:
            if workers > 1:
                time.sleep(TICK_SECONDS)
            result = campaigns.dispatch_campaigns(budget(RUN_SECONDS), campaign_queue.hand_out_to_workers())
            runs += 1
            complete = first["campaign_id"] in result["completed"]
        elapsed = time.perf_counter() - started
        sent, calls = sends.sent - sent_before, counter.total
    report(
        f"campaign     {size:>6} subscribers, {workers} worker(s): {sent} emails, complete={complete} after "
        f"1 ops_send_marketing + {runs - 1} dispatch_marketing runs ({RUN_SECONDS:.0f} s budgets): "
        f"{sent / elapsed:.0f} emails/s, {calls / max(sent, 1):.3f} DynamoDB calls per email ("
        + ", ".join(f"{name} {n}" for name, n in sorted(counter.calls.items()))
        + ")"
    )


def run(report) -> None:
    from bench.calls import counting_dynamodb_calls
    from chalicelib.aws import ses_client
    from chalicelib.store.base import iso, utc_now
    from tests.helpers import add_customers

    configure(100_000.0)
    sends = SendCount()
    ses_client().meta.events.register("before-call.sesv2.SendEmail", sends)
    added = 0
    with counting_dynamodb_calls() as counter:
        for size in SIZES:
            add_customers(size - added, iso(utc_now()), subscribed_to=TOPIC)
            added = size
            for workers in WORKERS:
                campaign(size, workers, report, counter, sends)


def main() -> None:
    from devstack.ephemeral import ephemeral_stack

    print("== marketing campaigns as jobs (issue 17) ==")
    report = []
    with contextlib.redirect_stdout(io.StringIO()), ephemeral_stack("pledge-bench-"):
        run(report.append)
    print("\n".join(report))
    print(
        "(target: calls per email flat from 2,000 to 20,000; every campaign complete without re-invocation;"
        " emails/s growing with workers where one process is the limit: on a 2-core machine running"
        " DynamoDB Local and moto too, the cores are)"
    )


if __name__ == "__main__":
    main()
