"""The privacy policy and its versions."""

from __future__ import annotations

import hashlib
from pathlib import Path

from chalicelib.errors import NotFound
from chalicelib.store import policy as store
from chalicelib.store.base import iso, utc_now
from chalicelib.store.policy import PolicyVersion

INITIAL_POLICY = Path(__file__).resolve().parent.parent / "policy_text" / "initial_policy.md"
INITIAL_VERSION = "1"
INITIAL_SUMMARY = "HostBay's privacy policy: what we collect, how we contact you, and how long we keep it."


def content_hash(summary: str, body: str, effective_at: str, material: bool) -> str:
    return hashlib.sha256(repr((summary, body, effective_at, material)).encode()).hexdigest()


def ensure_initial_policy() -> dict:
    """Load version 1, in force from now, unless some version already exists (idempotent)."""
    existing = store.all_versions()
    if existing:
        return version_view(max(existing, key=lambda v: v.published_at))
    now = iso(utc_now())
    body = INITIAL_POLICY.read_text()
    version = PolicyVersion(
        INITIAL_VERSION, summary=INITIAL_SUMMARY, body=body, material=False, status="in_force",
        published_at=now, effective_at=now, content_hash=content_hash(INITIAL_SUMMARY, body, now, False),
    )
    store.save_new_version(version)
    return version_view(version)


def version_view(version: PolicyVersion) -> dict:
    return {
        "version": version.version,
        "summary": version.summary,
        "material": version.material,
        "status": version.status,
        "published_at": version.published_at,
        "effective_at": version.effective_at,
    }


def policy_in_force() -> dict:
    in_force = [v for v in store.all_versions() if v.status == "in_force"]
    if not in_force:
        raise NotFound("No privacy policy is in force.")
    current = max(in_force, key=lambda v: v.effective_at)
    return {"version": current.version, "effective_at": current.effective_at, "summary": current.summary,
            "body": current.body}
