"""AWS clients, created on first use (boto3 costs ~200 ms to import)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def client(service: str):
    import boto3

    return boto3.client(service)


def ses_client():
    return client("sesv2")
