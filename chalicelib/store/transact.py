"""Multi-item writes in one DynamoDB transaction.

Store modules describe each write as a `Write` (a function that adds itself to a
TransactWrite); services pick the writes and `commit` them together, so an account and
its email claim, audit entry, consent events and session land all at once or not at all.
"""

from __future__ import annotations

from typing import Callable

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

Write = Callable[[TransactWrite], None]


class WriteConflict(Exception):
    """A condition in the transaction failed. `failed` holds the indexes of the writes
    whose condition failed (in the order given to `commit`)."""

    def __init__(self, failed: list[int]):
        super().__init__(f"transaction condition failed at {failed}")
        self.failed = failed


def commit(writes: list[Write], token: str | None = None) -> None:
    try:
        with TransactWrite(connection=Connection(), client_request_token=token) as transaction:
            for write in writes:
                write(transaction)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons or []
        failed = [i for i, reason in enumerate(reasons) if reason and reason.code == "ConditionalCheckFailed"]
        if failed:
            raise WriteConflict(failed) from None
        raise


def put(item, condition=None) -> Write:
    return lambda transaction: transaction.save(item, condition=condition)


def put_new(item) -> Write:
    """Put an item that must not exist yet."""
    hash_key = item._hash_key_attribute()
    return put(item, condition=hash_key.does_not_exist())
