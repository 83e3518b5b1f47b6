"""The one place that hands mail to SES (v2 API, raw MIME). Takes its client as an argument.

SES errors come out as one of three exceptions, so callers decide without knowing botocore:
`MailDeferred` (nothing was sent; trying again later may work), `MailRejected` (SES
refused this message for good: retrying it will not help) and `MailUncertain` (the
connection failed after the request went out: SES may have accepted it, so sending again
could deliver it twice). The SES client must not retry by itself (aws.ses_client).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

# SES v2 error codes that refuse this message itself (bad or blocked address, content).
REJECTED_CODES = frozenset({"MessageRejected", "BadRequestException"})
# Worth retrying at once (with backoff); other service errors (sending paused, identity or
# configuration set missing) defer without retrying: they need an operator, not a second.
RETRY_NOW_CODES = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "ServiceUnavailable",
        "InternalFailure",
    }
)
ATTEMPTS = 3
BACKOFF_SECONDS = 0.5


class MailError(Exception):
    """A message SES did not accept. `code` is SES's error code (or the exception's name)."""

    def __init__(self, code: str, message: str = "", retry_now: bool = False):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.retry_now = retry_now


class MailDeferred(MailError):
    """Transient: throttling, SES 5xx, connection trouble, sending paused, configuration not
    found. Raised after the bounded retries; the caller may try again later."""


class MailRejected(MailError):
    """Permanent for this message and recipient (e.g. MessageRejected)."""


class MailUncertain(MailError):
    """The request was sent but no answer came back (read timeout, connection closed):
    whether SES accepted the message is unknown. Never retried here."""


def send_raw(
    client: Any,
    sender: str,
    recipient: str,
    raw: bytes,
    configuration_set: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Send one message, retrying transient failures with exponential backoff and jitter;
    returns the SES message id, or raises MailDeferred / MailRejected."""
    request = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [recipient]},
        "Content": {"Raw": {"Data": raw}},
    }
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return client.send_email(**request)["MessageId"]
        except Exception as error:
            failure = classify(error)
            if failure is None:
                raise
            if not failure.retry_now or attempt == ATTEMPTS:
                raise failure from error
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random()))
    raise AssertionError("unreachable")


def classify(error: Exception) -> MailError | None:
    """The MailError an SES call's exception means; None for programming errors."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectionError,
        HTTPClientError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(error, (ReadTimeoutError, ConnectionClosedError)):
        return MailUncertain(type(error).__name__)
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code") or "ClientError"
        if code in REJECTED_CODES:
            return MailRejected(code, details.get("Message", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return MailDeferred(code, details.get("Message", ""), retry_now=code in RETRY_NOW_CODES or status >= 500)
    if isinstance(error, (ConnectionError, HTTPClientError)):  # refused, unreachable: never sent
        return MailDeferred(type(error).__name__, retry_now=True)
    if isinstance(error, NoCredentialsError):
        return MailDeferred(type(error).__name__)
    return None
