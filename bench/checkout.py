"""Checkout benchmark (issue 13): the DynamoDB calls of placing an order, of its retry
with the same Idempotency-Key, and of reading orders back. Printed, never asserted."""

from __future__ import annotations

import contextlib
import io
import json

CARD = {
    "type": "card",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123", "holder_name": "Bench"},
}


def checkout_calls(report) -> None:
    from chalice.test import Client

    from app import app
    from bench.calls import counting_dynamodb_calls

    with counting_dynamodb_calls() as counter, Client(app, stage_name="local") as client:
        cookies: dict[str, str] = {}
        csrf = {}

        def send(method, path, body=None, extra=None):
            headers = {
                "Content-Type": "application/json",
                "Cookie": "; ".join(cookies.values()),
                **csrf,
                **(extra or {}),
            }
            counter.reset()
            response = getattr(client.http, method)(
                path, headers=headers, body=json.dumps(body) if body is not None else None
            )
            if "Set-Cookie" in response.headers:
                name_value = response.headers["Set-Cookie"].split(";")[0]
                cookies[name_value.split("=")[0]] = name_value
            return response, dict(counter.calls)

        signup, _ = send(
            "post", "/signup", {"name": "Bench", "email": "bench.shop@example.com", "password": "benchmark password"}
        )
        csrf["X-CSRF-Token"] = json.loads(signup.body)["csrf_token"]
        pm = json.loads(send("post", "/account/payment-methods", CARD)[0].body)["payment_method_id"]
        send("put", "/cart/items/vps-small", {"billing_cycle": "monthly", "quantity": 1})
        _, put_calls = send("put", "/cart/items/backup-daily", {"billing_cycle": "monthly", "quantity": 2})
        key = {"Idempotency-Key": "bench-1"}
        placed, order_calls = send("post", "/orders", {"payment_method_id": pm}, key)
        assert placed.status_code == 201, placed.body
        _, retry_calls = send("post", "/orders", {"payment_method_id": pm}, key)
        _, list_calls = send("get", "/orders")
        for name, calls, target in (
            ("PUT /cart/items", put_calls, "1 read + 1 write, no session"),
            (
                "POST /orders",
                order_calls,
                "1 checkout transaction; reads: session, customer, cart, payment method, "
                "the order read back; idempotency put + update; mail: suppression read "
                "+ log transaction",
            ),
            (
                "POST /orders retry",
                retry_calls,
                "session + the idempotency put that finds the first order id + the order read",
            ),
            ("GET /orders", list_calls, "session + 1 query + 1 batch get"),
        ):
            detail = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))
            report(f"dynamodb     {name:19} {sum(calls.values())} calls: {detail} (target {target})")


def main() -> None:
    from devstack.ephemeral import ephemeral_stack

    print("== checkout (issue 13) ==")
    report = []
    with contextlib.redirect_stdout(io.StringIO()), ephemeral_stack("pledge-bench-"):
        checkout_calls(report.append)
    print("\n".join(report))


if __name__ == "__main__":
    main()
