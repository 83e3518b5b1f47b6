"""pytest plugin: the IAM policies generated from infra/function_access.json, enforced on
the local stack.

While a test runs an app function through the Chalice test client (HTTP requests are
the `api_handler` function; `lambda_.invoke(name)` is `name`; `running(name)` marks
others, e.g. a scheduled function's handler called directly), every DynamoDB call
PynamoDB makes, every email handed to SES, every secret document read and every KMS call
of the envelope adapter (kms:GenerateDataKey to seal, kms:Decrypt to open, with its
encryption context) and every segment handed out on the campaign queue is checked against that function's entry.
A call its deployed role would not allow fails the test at teardown (the app may catch
the error a real AccessDenied would raise, so raising here could hide it). Calls made
outside a function (tests calling services directly) are not checked.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from functools import lru_cache

import pytest

VERBS = {
    "GetItem": "read",
    "BatchGetItem": "read",
    "Query": "read",
    "ConditionCheckItem": "read",
    "Scan": "scan",
    "PutItem": "put",
    "UpdateItem": "update",
    "DeleteItem": "delete",
    # parts of TransactWriteItems / TransactGetItems / BatchWriteItem
    "Get": "read",
    "ConditionCheck": "read",
    "Put": "put",
    "Update": "update",
    "Delete": "delete",
    "PutRequest": "put",
    "DeleteRequest": "delete",
}
TABLE_NAME = re.compile(r"^pledge-[a-z0-9]+-(.+)$")

_running: list[str] = []  # the function a test client is running (a list: calls may nest)
_denied: list[str] = []


def table_calls(operation: str, kwargs: dict) -> list[tuple[str, str]]:
    """(table name, verb) for each table one DynamoDB call touches."""
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [(part["TableName"], VERBS[kind]) for item in kwargs["TransactItems"] for kind, part in item.items()]
    if operation == "BatchWriteItem":
        return [
            (table, VERBS[kind])
            for table, requests in kwargs["RequestItems"].items()
            for request in requests
            for kind in request
        ]
    if operation == "BatchGetItem":
        return [(table, "read") for table in kwargs["RequestItems"]]
    return [(kwargs["TableName"], VERBS[operation])] if operation in VERBS else []


def check(function: str, what: str, allowed: bool) -> None:
    if not allowed:
        _denied.append(f"{function}: {what} (add it to infra/function_access.json if the function needs it)")


@lru_cache(maxsize=1)
def access() -> dict:
    from infra.iam import load_access

    return load_access()


def check_dynamodb(operation: str, kwargs: dict) -> None:
    if not _running:
        return
    function = _running[-1]
    tables = access().get(function, {}).get("tables", {})
    for table_name, verb in table_calls(operation, kwargs):
        match = TABLE_NAME.match(table_name)
        suffix = match.group(1) if match else table_name
        check(function, f"{operation} ({verb}) on table {suffix}", verb in tables.get(suffix, []))


def check_secret(name: str) -> None:
    if _running:
        check(_running[-1], f"reads the {name} secret", name in access().get(_running[-1], {}).get("secrets", []))


def check_queue_send() -> None:
    if _running:
        allowed = access().get(_running[-1], {}).get("queue") == "send"
        check(_running[-1], "hands segments out on the campaign segment queue", allowed)


def check_mail() -> None:
    if _running:
        check(_running[-1], "sends email", bool(access().get(_running[-1], {}).get("mail")))


# sensitive_key in infra/function_access.json -> the KMS actions its IAM statement grants
KMS_GRANTS = {"seal": {"kms:GenerateDataKey"}, "open": {"kms:GenerateDataKey", "kms:Decrypt"}}
KMS_CONTEXT_KEYS = ["customer_number", "item"]  # the statement's condition on the encryption context


def check_kms(action: str, context: dict) -> None:
    if not _running:
        return
    function = _running[-1]
    granted = KMS_GRANTS.get(access().get(function, {}).get("sensitive_key"), set())
    check(function, f"{action} on the sensitive key", action in granted)
    context_allowed = sorted(context) == KMS_CONTEXT_KEYS and str(context["customer_number"]).startswith("C")
    check(function, f"{action} with encryption context keys {sorted(context)}", context_allowed)


@contextmanager
def running(function: str):
    """Check the calls made inside as `function`'s (the test client does this itself)."""
    _running.append(function)
    try:
        yield
    finally:
        _running.pop()


def _as_function(name_of, method):
    def wrapped(self, *args, **kwargs):
        with running(name_of(args)):
            return method(self, *args, **kwargs)

    return wrapped


@pytest.fixture(autouse=True)
def iam_guard(monkeypatch):
    from chalice.test import TestHTTPClient, TestLambdaClient
    from pynamodb.connection.base import Connection

    from chalicelib import campaign_queue, envelope, settings
    from chalicelib.services import mailer

    dispatch, send_raw, read_secret = Connection.dispatch, mailer.send_raw, settings._read_secret
    seal, unseal = envelope.seal, envelope.unseal
    segment_sender = campaign_queue.segment_sender

    def guarded_segment_sender(client, queue_url):
        hand_out = segment_sender(client, queue_url)

        def guarded_hand_out(campaign_id, segment):
            check_queue_send()
            return hand_out(campaign_id, segment)

        return guarded_hand_out

    def guarded_dispatch(self, operation, kwargs):
        check_dynamodb(operation, kwargs)
        return dispatch(self, operation, kwargs)

    def guarded_send_raw(*args, **kwargs):
        check_mail()
        return send_raw(*args, **kwargs)

    def guarded_read_secret(name):
        check_secret(name)
        return read_secret(name)

    def guarded_seal(client, key_id, plaintext, context):
        check_kms("kms:GenerateDataKey", context)
        return seal(client, key_id, plaintext, context)

    def guarded_unseal(client, key_id, sealed, context):
        check_kms("kms:Decrypt", context)
        return unseal(client, key_id, sealed, context)

    guarded_read_secret.cache_clear = read_secret.cache_clear  # reset_settings() calls it
    monkeypatch.setattr(Connection, "dispatch", guarded_dispatch)
    monkeypatch.setattr(settings, "_read_secret", guarded_read_secret)
    monkeypatch.setattr(envelope, "seal", guarded_seal)
    monkeypatch.setattr(envelope, "unseal", guarded_unseal)
    monkeypatch.setattr(mailer, "send_raw", guarded_send_raw)
    monkeypatch.setattr(campaign_queue, "segment_sender", guarded_segment_sender)
    monkeypatch.setattr(TestHTTPClient, "request", _as_function(lambda args: "api_handler", TestHTTPClient.request))
    monkeypatch.setattr(TestLambdaClient, "invoke", _as_function(lambda args: args[0], TestLambdaClient.invoke))
    _denied.clear()
    yield
    denied, _running[:] = list(_denied), []
    _denied.clear()
    assert not denied, "calls the deployed IAM role would deny:\n" + "\n".join(sorted(set(denied)))
