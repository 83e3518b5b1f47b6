"""Errors the policy's rules raise; web.py and the ops wrapper turn them into the contract's JSON."""

from __future__ import annotations


class PledgeError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(PledgeError):
    status, code = 400, "validation_error"


class Unauthorized(PledgeError):
    status, code = 401, "unauthorized"


class CsrfFailed(PledgeError):
    status, code = 403, "csrf_failed"


class AccountDeactivated(PledgeError):
    status, code = 403, "account_deactivated"


class Forbidden(PledgeError):
    status, code = 403, "forbidden"


class NotFound(PledgeError):
    status, code = 404, "not_found"


class Conflict(PledgeError):
    status, code = 409, "conflict"


class NoticePeriodTooShort(PledgeError):
    status, code = 400, "notice_period_too_short"


class RateLimited(PledgeError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after  # seconds: sent as the Retry-After header


class PayloadTooLarge(PledgeError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(PledgeError):
    status, code = 415, "unsupported_media_type"


class Unavailable(PledgeError):
    status, code = 503, "unavailable"
