"""Foundation benchmarks (issues 2 and 17): cold-start proxy, request overhead, DynamoDB
calls per request. Each figure is printed beside its baseline (measured on main before
issue 17's work) and its target; ratios divide by a baseline measured in the same run.
Never asserted."""

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


def median_import_seconds(*modules: str) -> list[float]:
    """The median wall time of `python -c "import <module>"`, per module, the modules
    taking turns so that all see the same file cache and the same load on the machine."""
    times: list[list[float]] = [[] for _ in modules]
    for _ in range(RUNS):
        for samples, module in zip(times, modules, strict=True):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {module}"], cwd=REPO, check=True)
            samples.append(time.perf_counter() - started)
    return [statistics.median(samples) for samples in times]


# Before issue 17's speed work (main, with every feature in), and issue 17's targets.
BEFORE = {
    "import": 1.57,
    "signup": 7,
    "login": 6,
    "GET /account": 2,
    "PATCH /account": 3,
    "request": 3.65,
}


def cold_start() -> None:
    app_seconds, boto3_seconds = median_import_seconds("app", "boto3")
    ratio = app_seconds / boto3_seconds
    print(
        f"cold start   import app {app_seconds * 1000:.0f} ms, import boto3 {boto3_seconds * 1000:.0f} ms, "
        f"ratio {BEFORE['import']:.2f} -> {ratio:.2f} (target <= 1.15)"
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


CALL_TARGETS = {
    "signup": "1 transaction (+ the verification email's)",
    "login": "-",
    "GET /account": "1",
    "PATCH /account": "<= 2, 1 write",
}
WHAT = {
    "signup": "the signup transaction; the abuse rule's window; the verification email's mail-log record",
    "login": "email claim, customer; throttle slot taken, given back; the session transaction",
    "GET /account": "session and customer together",
    "PATCH /account": "session and customer together; the profile transaction",
}


def writes(calls: dict[str, int]) -> int:
    from bench.calls import WRITE_OPERATIONS

    return sum(n for operation, n in calls.items() if operation in WRITE_OPERATIONS)


def detail(calls: dict[str, int]) -> str:
    return ", ".join(f"{operation} {n}" for operation, n in sorted(calls.items()))


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
            assert response.status_code < 300, response.body
            return response, dict(counter.calls)

        def signup(email):
            return send("post", "/signup", {"name": "Bench", "email": email, "password": "benchmark password"})

        first = signup("bench.first@example.com")  # the process's first: it reads the policy pointer
        rows = {"signup": signup("bench@example.com")}
        cookie = rows["signup"][0].headers["Set-Cookie"].split(";")[0]
        csrf = json.loads(rows["signup"][0].body)["csrf_token"]
        rows["login"] = send("post", "/login", {"email": "bench@example.com", "password": "benchmark password"})
        rows["GET /account"] = send("get", "/account", extra={"Cookie": cookie})
        rows["PATCH /account"] = send(
            "patch", "/account", {"name": "Bench 2"}, {"Cookie": cookie, "X-CSRF-Token": csrf}
        )
        for name, target in CALL_TARGETS.items():
            _, calls = rows[name]
            report(
                f"dynamodb     {name:15} {BEFORE[name]} -> {sum(calls.values())} calls, {writes(calls)} write "
                f"(target {target}): {detail(calls)}: {WHAT[name]}"
            )
        first_calls = sum(first[1].values())
        report(f"             {'':15} a process's first signup: {first_calls} calls (+ the policy pointer's GetItem)")
        signup_response = rows["signup"][0]

        raw_client = stack.dynamodb()
        key = {"customer_number": {"S": json.loads(signup_response.body)["customer_number"]}}
        request, raw = [], []
        for _ in range(REQUESTS):  # taking turns, so both see the same load on the machine
            request += timed(lambda: client.http.get("/account", headers={"Cookie": cookie}), 1)
            raw += timed(lambda: raw_client.get_item(TableName="pledge-bench-customers", Key=key), 1)
    ratio = statistics.median(request) / statistics.median(raw)
    report(
        f"request      GET /account median {statistics.median(request) * 1000:.2f} ms, "
        f"p99 {percentile(request, 0.99) * 1000:.2f} ms; raw GetItem median {statistics.median(raw) * 1000:.2f} ms, "
        f"p99 {percentile(raw, 0.99) * 1000:.2f} ms; ratio {BEFORE['request']:.2f} -> {ratio:.2f} (target <= 2.0)"
    )


def main() -> None:
    from devstack.ephemeral import ephemeral_stack

    print("== foundation (issues 2 and 17): before -> now ==")
    cold_start()
    report = []
    # The app's JSON logs and metrics would drown the figures: they go to a buffer.
    with contextlib.redirect_stdout(io.StringIO()), ephemeral_stack("pledge-bench-") as stack:
        request_overhead_and_calls(stack, report.append)
    print("\n".join(report))


if __name__ == "__main__":
    main()
