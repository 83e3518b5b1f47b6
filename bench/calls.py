"""Counting DynamoDB API calls through botocore's event hooks."""

from __future__ import annotations

import contextlib
from collections import Counter

import botocore.session

from chalicelib.store.transact import forget_connections


class DynamoDBCallCounter:
    def __init__(self):
        self.calls = Counter()

    def __call__(self, model, **kwargs):
        self.calls[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def writes(self) -> int:
        return sum(n for name, n in self.calls.items() if name in WRITE_OPERATIONS)

    def reset(self) -> None:
        self.calls.clear()


WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@contextlib.contextmanager
def counting_dynamodb_calls():
    """Every botocore client created inside the block reports its DynamoDB calls.
    PynamoDB's cached connections are dropped so they are re-created with the hook."""
    counter = DynamoDBCallCounter()
    original = botocore.session.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb", counter)
        return client

    botocore.session.Session.create_client = create_client
    forget_connections()
    try:
        yield counter
    finally:
        botocore.session.Session.create_client = original
        forget_connections()
