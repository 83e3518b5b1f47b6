"""Foundation benchmarks (issue 2): cold-start proxy, request overhead, DynamoDB calls
per request. Figures are printed; targets are shown beside them, never asserted."""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 10
REQUESTS = 200


def median_import_seconds(module: str) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], cwd=REPO, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold_start() -> None:
    # Alternate so both see the same warm file cache.
    app_seconds = median_import_seconds("app")
    boto3_seconds = median_import_seconds("boto3")
    ratio = app_seconds / boto3_seconds
    print(
        f"cold start   import app {app_seconds * 1000:.0f} ms, import boto3 {boto3_seconds * 1000:.0f} ms, "
        f"ratio {ratio:.2f} (target <= 1.3)"
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def timed(action, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def request_overhead_and_calls(stack, report) -> None:
    from chalice.test import Client

    from app import app
    from bench.calls import counting_dynamodb_calls

    headers = {"Content-Type": "application/json"}
    with counting_dynamodb_calls() as counter, Client(app, stage_name="local") as client:

        def send(method, path, body=None, extra=None):
            counter.reset()
            response = getattr(client.http, method)(
                path, headers={**headers, **(extra or {})}, body=json.dumps(body) if body is not None else None
            )
            return response, counter.total, counter.writes()

        signup, signup_calls, signup_writes = send(
            "post", "/signup", {"name": "Bench", "email": "bench@example.com", "password": "benchmark password"}
        )
        cookie = signup.headers["Set-Cookie"].split(";")[0]
        csrf = json.loads(signup.body)["csrf_token"]
        _, login_calls, login_writes = send(
            "post", "/login", {"email": "bench@example.com", "password": "benchmark password"}
        )
        _, get_calls, get_writes = send("get", "/account", extra={"Cookie": cookie})
        _, patch_calls, patch_writes = send(
            "patch", "/account", {"name": "Bench 2"}, {"Cookie": cookie, "X-CSRF-Token": csrf}
        )
        for name, calls, writes, target in (
            ("signup", signup_calls, signup_writes, "1 write call"),
            ("login", login_calls, login_writes, "-"),
            ("GET /account", get_calls, get_writes, "<= 2 calls"),
            ("PATCH /account", patch_calls, patch_writes, "1 write call"),
        ):
            report(f"dynamodb     {name:15} {calls} calls, {writes} write calls (target {target})")

        request = timed(lambda: client.http.get("/account", headers={"Cookie": cookie}), REQUESTS)

    raw_client = stack.dynamodb()
    customer_number = json.loads(signup.body)["customer_number"]
    key = {"customer_number": {"S": customer_number}}
    raw = timed(lambda: raw_client.get_item(TableName="pledge-bench-customers", Key=key), REQUESTS)
    ratio = statistics.median(request) / statistics.median(raw)
    report(
        f"request      GET /account median {statistics.median(request) * 1000:.2f} ms, "
        f"p99 {percentile(request, 0.99) * 1000:.2f} ms; raw GetItem median {statistics.median(raw) * 1000:.2f} ms, "
        f"p99 {percentile(raw, 0.99) * 1000:.2f} ms; ratio {ratio:.2f} (target <= 3)"
    )


def main() -> None:
    from devstack.ephemeral import ephemeral_stack

    print("== foundation (issue 2) ==")
    cold_start()
    report = []
    # The app's JSON logs and metrics would drown the figures: they go to a buffer.
    with contextlib.redirect_stdout(io.StringIO()), ephemeral_stack("pledge-bench-") as stack:
        request_overhead_and_calls(stack, report.append)
    print("\n".join(report))


if __name__ == "__main__":
    main()
