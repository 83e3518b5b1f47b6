"""Powertools Logger and Metrics, built on first use, with personal data kept out of logs.

Every log record passes through `redact`: emails are masked, and values under keys that
name secrets (password, token, card, ...) are replaced. Request bodies are never logged.
As a second line of defence, digit runs that pass the Luhn check (card numbers, spaces or
dashes allowed) and strings that pass the IBAN check are replaced wherever they appear.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.checksums import iban_valid, luhn_valid

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
    from aws_lambda_powertools.logging.types import LogRecord

EMAIL_PATTERN = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
SECRET_KEY_PATTERN = re.compile(
    r"pass(word)?|token|secret|card|cvc|cvv|pan|national_id|id_number|cookie|authorization|csrf",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
# 12-19 digits, single spaces or dashes allowed between them; and IBAN-shaped strings.
CARD_LIKE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){11,18}(?![0-9])")
IBAN_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


def mask_email(text: str) -> str:
    """`jane.doe@example.com` -> `j***@example.com`."""
    return EMAIL_PATTERN.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def mask_numbers(text: str) -> str:
    """Card numbers (Luhn-valid digit runs) and IBANs (valid check digits) -> [redacted]."""
    text = CARD_LIKE.sub(lambda m: REDACTED if luhn_valid(re.sub("[ -]", "", m.group())) else m.group(), text)
    return IBAN_LIKE.sub(lambda m: REDACTED if iban_valid(m.group().replace(" ", "")) else m.group(), text)


def redact(value: Any, key: str = "") -> Any:
    if key and SECRET_KEY_PATTERN.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return mask_email(mask_numbers(value))
    return value


class _RedactingFormatter:
    """Wraps the Powertools JSON formatter so every record is redacted before output."""

    @staticmethod
    def build() -> LambdaPowertoolsFormatter:
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

        class RedactingFormatter(LambdaPowertoolsFormatter):
            def serialize(self, log: LogRecord) -> str:
                return super().serialize(redact(log))

        return RedactingFormatter()


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service="pledge", logger_formatter=_RedactingFormatter.build())


@lru_cache(maxsize=1)
def get_metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Pledge", service="pledge")


def count(event_name: str, value: float = 1) -> None:
    """One metric per business event (signup, login_failed, inquiry_received, ...)."""
    from aws_lambda_powertools.metrics import MetricUnit

    get_metrics().add_metric(name=event_name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    metrics = get_metrics()
    if metrics.metric_set:
        metrics.flush_metrics()
