"""Statistics beacon benchmark (issue 15): DynamoDB calls per POST /stats/event and its
latency against one raw UpdateItem ADD, through the Chalice test client against DynamoDB
Local. Figures are printed beside their targets, never asserted."""

from __future__ import annotations

import contextlib
import io
import json
import statistics

EVENTS = 200
VISITORS = 20
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0 bench-{}"


def run(stack, report) -> None:
    from chalice.test import Client

    from app import app
    from bench.calls import counting_dynamodb_calls
    from bench.foundation import percentile, timed

    def beacon(n: int):
        body = {"name": "pageview", "url": f"https://hostbay.example/page-{n % 7}?utm=bench", "screen_width": 1440}
        headers = {
            "Content-Type": "application/json",
            "User-Agent": AGENT.format(n % VISITORS),
            "CloudFront-Viewer-Country": "NL",
        }
        response = client.http.post("/stats/event", headers=headers, body=json.dumps(body))
        assert response.status_code == 202, response.body

    with counting_dynamodb_calls() as counter, Client(app, stage_name="local") as client:
        beacon(0)
        first_calls = counter.total
        counter.reset()
        sequence = iter(range(1, EVENTS + 1))
        samples = timed(lambda: beacon(next(sequence)), EVENTS)
        per_event, writes = counter.total / EVENTS, counter.writes() / EVENTS

    raw_client = stack.dynamodb()
    key = {"day": {"S": "2000-01-01"}, "bucket": {"S": "bench"}}
    raw = timed(
        lambda: raw_client.update_item(
            TableName="pledge-bench-stats_daily",
            Key=key,
            UpdateExpression="ADD hits :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
        EVENTS,
    )
    ratio = statistics.median(samples) / statistics.median(raw)
    report(
        f"dynamodb     POST /stats/event {per_event:.2f} calls, {writes:.2f} write calls per event "
        f"(first event of a container's day: {first_calls}; target 2 writes, no buffering)"
    )
    report(
        f"beacon       median {statistics.median(samples) * 1000:.2f} ms, "
        f"p99 {percentile(samples, 0.99) * 1000:.2f} ms; raw UpdateItem median {statistics.median(raw) * 1000:.2f} ms; "
        f"ratio {ratio:.2f} (two dependent writes in sequence: 2 + the app's overhead)"
    )


def main() -> None:
    from devstack.ephemeral import ephemeral_stack

    print("== statistics beacon (issue 15) ==")
    report = []
    with contextlib.redirect_stdout(io.StringIO()), ephemeral_stack("pledge-bench-") as stack:
        run(stack, report.append)
    print("\n".join(report))


if __name__ == "__main__":
    main()
