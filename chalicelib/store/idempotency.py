"""Powertools idempotency on the `idempotency` table (infra/tables.json): a request
retried with the same key answers what the first answered, for 24 hours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.settings import get_settings
from chalicelib.store.transact import client

WINDOW_SECONDS = 24 * 3600


def run_once(name: str, key: str, payload: dict, action: Callable[[], Any], lambda_context: Any = None) -> Any:
    """Run `action` once per `key` (within `name`): a retry with the same payload gets the
    first answer (JSON) without running it again. Raises Powertools' IdempotencyValidationError
    for the same key with another payload and IdempotencyAlreadyInProgressError while the
    first run is going on (until the invocation's time is up, by `lambda_context`).
    An action that raises leaves nothing behind: a retry runs it again."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=WINDOW_SECONDS,
        lambda_context=lambda_context,
    )
    layer = DynamoDBPersistenceLayer(table_name=get_settings().table_name("idempotency"), boto3_client=client())

    def run(request: dict) -> Any:
        return action()

    guarded = idempotent_function(
        run, data_keyword_argument="request", persistence_store=layer, config=config, key_prefix=name
    )
    return guarded(request={"key": key, "payload": payload})
