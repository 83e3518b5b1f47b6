"""The states items move through, one vocabulary for the store and the services.

`StrEnum` members are strings, so they are stored and compared as the plain strings
already in the tables (`"active"`, `"sent"`...), and a typo is a NameError, not a state
nobody handles."""

from __future__ import annotations

from enum import StrEnum


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    ANONYMIZED = "anonymized"


class HoldAction(StrEnum):
    """What ops asks of a legal hold."""

    PLACE = "place"
    RELEASE = "release"


class PolicyStatus(StrEnum):
    """A policy version's: published -> in_force -> superseded."""

    PUBLISHED = "published"
    IN_FORCE = "in_force"
    SUPERSEDED = "superseded"


class PermissionStatus(StrEnum):
    """A disclosure permission's, worked out from its dates (not stored)."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class AbuseCaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class InquiryStatus(StrEnum):
    RECEIVED = "received"
    KEPT = "kept"  # reviewed by ops and kept
    DISCARDED = "discarded"  # reviewed by ops and discarded: its personal content erased
    ERASED = "erased"  # its personal content erased with its customer's


class ReviewDecision(StrEnum):
    """What ops decides about an inquiry."""

    KEEP = "keep"
    DISCARD = "discard"


class DeliveryStatus(StrEnum):
    """A bulk email's record (a policy notice's, or a campaign delivery's): the outcome of
    its send, or ops' settlement of an unconfirmed one."""

    CLAIMED = "claimed"  # claimed, not yet settled: whether it went out is unknown until recorded
    SENT = "sent"
    DEFERRED = "deferred"  # SES refused it for now: tried again later
    FAILED = "failed"  # an unexpected error before SES had it (a bad record, say)
    REJECTED = "rejected"  # SES refused this recipient for good
    UNCONFIRMED = "unconfirmed"  # SES may or may not have it: never resent automatically
    SKIPPED = "skipped"  # no longer eligible (data no longer held, unsubscribed...)
