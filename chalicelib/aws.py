"""AWS clients, created on first use (boto3 costs ~200 ms to import)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def ses_client() -> Any:
    """SES v2 without botocore's own retries: a retried send after a read timeout could
    deliver a message twice, so mail/sender.py alone decides what to retry."""
    import boto3
    from botocore.config import Config

    return boto3.client("sesv2", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


@lru_cache(maxsize=1)
def kms_client() -> Any:
    import boto3

    return boto3.client("kms")


@lru_cache(maxsize=1)
def sqs_client() -> Any:
    import boto3

    return boto3.client("sqs")


def forget_clients() -> None:
    """Drop the cached clients, so the next call builds them for the current environment
    (a new local stack's endpoints)."""
    for cached in (ses_client, kms_client, sqs_client):
        cached.cache_clear()
