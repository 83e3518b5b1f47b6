"""Helpers shared by integration and end-to-end tests (HTTP through the Chalice test client)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    customer_number: str
    email: str
    password: str
    cookie: str
    csrf: str


def call(
    client,
    method: str,
    path: str,
    body=None,
    account: Account | None = None,
    csrf: bool = True,
    headers: dict | None = None,
    raw: str | bytes | None = None,
):
    """One request through `chalice.test.Client`; the response body is decoded as `.json`."""
    sent = {"Content-Type": "application/json"}
    if account is not None:
        sent["Cookie"] = account.cookie
        if csrf:
            sent["X-CSRF-Token"] = account.csrf
    sent.update(headers or {})
    payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
    response = getattr(client.http, method.lower())(path, headers=sent, body=payload)
    response.json = json.loads(response.body) if response.body and response.body[:1] in (b"{", b"[") else None
    return response


def unique_email(prefix: str = "customer") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.com"


def cookie_of(response) -> str:
    return response.headers["Set-Cookie"].split(";", 1)[0]


def signup(client, email: str | None = None, password: str = PASSWORD, **fields) -> Account:
    email = email or unique_email()
    body = {"name": fields.pop("name", "Jane Doe"), "email": email, "password": password, **fields}
    response = call(client, "POST", "/signup", body)
    assert response.status_code == 201, response.body
    return Account(response.json["customer_number"], email, password, cookie_of(response), response.json["csrf_token"])


def login(client, email: str, password: str = PASSWORD):
    return call(client, "POST", "/login", {"email": email, "password": password})


def add_customers(count: int, created_at: str, status: str = "active", subscribed_to: str | None = None) -> list[str]:
    """Customer items written straight to the table in batches (no password hashing, no
    consent events): for notice dispatch and campaign tests and the benchmarks (with
    `subscribed_to`: a verified email subscribed to that marketing topic). Returns their numbers."""
    import secrets

    from chalicelib.store.customers import Customer

    numbers = ["C" + str(secrets.randbelow(9 * 10**11) + 10**11) for _ in range(count)]
    with Customer.batch_write() as batch:
        for number in numbers:
            batch.save(
                Customer(
                    number,
                    name=f"Customer {number}",
                    email=f"{number.lower()}@example.com",
                    password_hash="!",
                    status=status,
                    created_at=created_at,
                    updated_at=created_at,
                    version=1,
                    **({"marketing": {subscribed_to: True}, "email_verified_at": created_at} if subscribed_to else {}),
                )
            )
    return numbers


def link_token(message: dict, path: str) -> str:
    """The token of the `path?token=` link in an email's text."""
    import re

    return re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", message["text"]).group(1)


def last_mail(to: str, subject: str) -> dict:
    from tests.stack import outbox

    return [m for m in outbox() if m["to"] == [to] and subject in m["subject"]][-1]


def verify_email(email: str) -> None:
    """Use the verification link last sent to `email` (as its owner would)."""
    from chalicelib.services import email_ownership

    email_ownership.verify(link_token(last_mail(email, "Confirm your email address"), "/verify-email"), None)


def simultaneously(actions: list) -> list:
    """Run the actions in threads released at the same moment; their results."""
    import threading

    start = threading.Barrier(len(actions))
    results, errors = [], []

    def run(action):
        start.wait()
        try:
            results.append(action())
        except BaseException as error:  # surfaced below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    return results


class Crash(BaseException):
    """Stands for the process dying (not an error the code could catch and handle)."""
