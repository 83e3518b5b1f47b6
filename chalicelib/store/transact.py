"""Multi-item writes in one DynamoDB transaction.

Store modules describe each write as a `Write` (a function that adds itself to a
TransactWrite); services pick the writes and `commit` them together, so an account and
its email claim, audit entry, consent events and session land all at once or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

Write = Callable[[TransactWrite], None]


class WriteConflict(Exception):
    """A condition in the transaction failed. `failed` names the writes whose condition
    failed: their labels when `commit` was given labelled writes (a dict), else "#<index>".
    Empty when no condition failed but another transaction held one of the items at that
    moment (TransactionConflict): nothing was written; read again and retry."""

    def __init__(self, failed: frozenset[str]):
        super().__init__(f"transaction condition failed: {sorted(failed)}")
        self.failed = failed


@lru_cache(maxsize=1)
def _connection() -> Connection:
    """One connection (and botocore client) reused by every transaction in the process."""
    return Connection()


def client() -> Any:
    """The shared botocore DynamoDB client, for the few calls PynamoDB has no model API for."""
    return _connection().client


# PynamoDB sends a transaction's parts grouped by kind, in this order, whatever order they
# were added in; DynamoDB's cancellation reasons follow the order sent.
SENT_ORDER = ("condition_check", "delete", "save", "update")


class _Recorder:
    """Hands each write the transaction and notes which kind of part it added."""

    def __init__(self, transaction: TransactWrite) -> None:
        self._transaction = transaction
        self.kinds: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.kinds.append(name)
        return getattr(self._transaction, name)


def commit(writes: Mapping[str, Write] | Sequence[Write], token: str | None = None) -> None:
    """Write all or nothing. Label the writes (a dict) when a conflict's meaning depends on
    which write failed: `commit({"email_claim": ..., "customer": ...})`."""
    labelled = dict(writes) if isinstance(writes, Mapping) else {f"#{i}": w for i, w in enumerate(writes)}
    labels = list(labelled)
    recorder: _Recorder | None = None
    try:
        with TransactWrite(connection=_connection(), client_request_token=token) as transaction:
            recorder = _Recorder(transaction)
            for write in labelled.values():
                write(cast(TransactWrite, recorder))  # it stands in for the transaction
    except TransactWriteError as error:
        reasons = error.cancellation_reasons or []
        assert recorder is not None  # the transaction is sent (and fails) on leaving the block
        sent = sorted(range(len(recorder.kinds)), key=lambda i: SENT_ORDER.index(recorder.kinds[i]))
        failed = frozenset(
            labels[sent[i]] for i, reason in enumerate(reasons) if reason and reason.code == "ConditionalCheckFailed"
        )
        if failed:
            raise WriteConflict(failed) from None
        if any(reason and reason.code == "TransactionConflict" for reason in reasons):
            raise WriteConflict(frozenset()) from None  # another transaction had one of its items: retry
        raise


def put(item: Model, condition: Condition | None = None) -> Write:
    return lambda transaction: transaction.save(item, condition=condition)


def put_new(item: Model) -> Write:
    """Put an item that must not exist yet."""
    hash_key = item._hash_key_attribute()
    return put(item, condition=hash_key.does_not_exist())


def forget_connections() -> None:
    """Drop every cached DynamoDB connection, so the next call builds a fresh client
    (after the endpoint changed, or to attach botocore event hooks)."""
    import importlib
    import pkgutil

    import chalicelib.store
    from chalicelib.store.base import MODELS

    for module in pkgutil.iter_modules(chalicelib.store.__path__):
        importlib.import_module(f"chalicelib.store.{module.name}")
    for model in MODELS:
        model._connection = None
    _connection.cache_clear()
