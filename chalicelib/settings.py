"""One typed settings object, read from the environment the first time it is needed.

Nothing here runs at import time: `chalice package` imports app.py at build time and
the Chalice test client sets the stage's environment only while a function runs.
"""

from __future__ import annotations

import json
import os
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

MARKETING_TOPICS = ("products", "website", "new_services", "special_offers")
# Schedules are read by Chalice when app.py is imported (`chalice package`), before any
# environment exists: they are deploy-time constants, changed here and redeployed.
NOTICE_DISPATCH_SCHEDULE = "rate(5 minutes)"
POLICY_ACTIVATION_SCHEDULE = "rate(1 hour)"
MARKETING_DISPATCH_SCHEDULE = "rate(1 minute)"  # unfinished campaigns, each from where it stopped
STATS_SALT_SCHEDULE = "rate(15 minutes)"  # a day's statistics salt is destroyed within 15 minutes of its end
# The queue of the marketing fan-out's event source, also named at import: a placeholder
# the merge template replaces with the stage's own queue (infra/platform.py).
CAMPAIGN_SEGMENTS_QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:replaced-by-infra-merge-template"
LOCAL_STAGES = ("local", "test")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value != "" else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


class Settings(NamedTuple):
    stage: str
    table_prefix: str
    public_base_url: str
    mail_from: str
    ses_configuration_set: str
    secrets_dir: str
    company_name: str = "HostBay"
    session_days: int = 30
    session_refresh_seconds: int = 3600
    login_max_failures: int = 10
    login_window_seconds: int = 900
    verify_email_hours: int = 168
    password_reset_minutes: int = 60
    password_reset_mails_per_hour: int = 3
    contact_acks_per_day: int = 3
    marketing_default: str = "opt_out"
    notice_period_days: int = 30
    retention_days: int = 2555
    legal_bases: tuple[str, ...] = ("legal_obligation", "dispute_resolution", "agreement_enforcement")
    # Records kept on a basis of their own, beside the account's: orders are bookkeeping records.
    record_legal_bases: tuple[tuple[str, str], ...] = (("orders", "bookkeeping_law"),)
    ses_max_send_rate: float = 14.0
    notice_dispatch_workers: int = 8
    notice_dispatch_margin_seconds: float = 30.0
    notice_sweep_minutes: int = 60
    marketing_workers: int = 1  # parallel scan segments (and workers) a campaign is split into
    max_body_bytes: int = 65536
    kms_key_id: str = ""  # the key that wraps the data keys of card, IBAN and ID numbers
    campaign_queue_url: str = ""  # where the marketing dispatcher hands segments out to workers

    @property
    def is_local(self) -> bool:
        return self.stage in LOCAL_STAGES

    @property
    def cookie_secure(self) -> bool:
        return not self.is_local

    def table_name(self, logical_name: str) -> str:
        return f"{self.table_prefix}{logical_name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = _stage()
    return Settings(
        stage=stage,
        table_prefix=_env("PLEDGE_TABLE_PREFIX", f"pledge-{stage}-"),
        public_base_url=_env("PLEDGE_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        mail_from=_env("PLEDGE_MAIL_FROM", "privacy@hostbay.example"),
        ses_configuration_set=_env("PLEDGE_SES_CONFIGURATION_SET", ""),
        secrets_dir=_env("PLEDGE_SECRETS_DIR", ".local/secrets"),
        company_name=_env("PLEDGE_COMPANY_NAME", "HostBay"),
        session_days=_env_int("PLEDGE_SESSION_DAYS", 30),
        login_max_failures=_env_int("PLEDGE_LOGIN_MAX_FAILURES", 10),
        login_window_seconds=_env_int("PLEDGE_LOGIN_WINDOW_SECONDS", 900),
        password_reset_mails_per_hour=_env_int("PLEDGE_PASSWORD_RESET_MAILS_PER_HOUR", 3),
        contact_acks_per_day=_env_int("PLEDGE_CONTACT_ACKS_PER_DAY", 3),
        marketing_default=_env("PLEDGE_MARKETING_DEFAULT", "opt_out"),
        notice_period_days=max(30, _env_int("PLEDGE_NOTICE_PERIOD_DAYS", 30)),
        retention_days=_env_int("PLEDGE_RETENTION_DAYS", 2555),
        ses_max_send_rate=_env_float("PLEDGE_SES_MAX_SEND_RATE", 14.0),
        notice_dispatch_workers=max(1, _env_int("PLEDGE_NOTICE_DISPATCH_WORKERS", 8)),
        notice_dispatch_margin_seconds=_env_float("PLEDGE_NOTICE_DISPATCH_MARGIN_SECONDS", 30.0),
        notice_sweep_minutes=max(1, _env_int("PLEDGE_NOTICE_SWEEP_MINUTES", 60)),
        marketing_workers=min(100, max(1, _env_int("PLEDGE_MARKETING_WORKERS", 1))),
        kms_key_id=_env("PLEDGE_KMS_KEY_ID", ""),
        campaign_queue_url=_env("PLEDGE_CAMPAIGN_QUEUE_URL", ""),
    )


def _stage() -> str:
    """The stage; `local` only off Lambda. A Lambda function without PLEDGE_STAGE is a
    broken deployment: falling back to `local` would drop the Secure cookie flag and read
    secrets from files, so it refuses to run instead."""
    stage = os.environ.get("PLEDGE_STAGE", "")
    if stage:
        return stage
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise RuntimeError("PLEDGE_STAGE is not set on this Lambda function; refusing to run as the local stage")
    return "local"


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
    _read_secret.cache_clear()


# Each secret is its own document, so each function's role reads only those it uses
# (infra/function_access.json "secrets"): a function that cannot read the session pepper
# cannot forge a session, whatever else goes wrong in it.
SECRET_NAMES = ("session", "unsubscribe", "tokens")


def load_secret(name: str) -> dict:
    """One secret document: on AWS the SSM parameter `<PLEDGE_SECRETS_PREFIX>/<name>`; on
    the local stage `<secrets_dir>/<name>.json`, created on first use. A deployed stage
    without the prefix fails closed rather than use file secrets."""
    if name not in SECRET_NAMES:
        raise KeyError(name)
    return _read_secret(name)


@cache
def _read_secret(name: str) -> dict:
    prefix = os.environ.get("PLEDGE_SECRETS_PREFIX", "")
    if prefix:
        import boto3

        value = boto3.client("ssm").get_parameter(Name=f"{prefix}/{name}", WithDecryption=True)
        return json.loads(value["Parameter"]["Value"])
    settings = get_settings()
    if not settings.is_local:
        raise RuntimeError(f"PLEDGE_SECRETS_PREFIX is not set on the {settings.stage} stage")
    return _local_secret(Path(settings.secrets_dir) / f"{name}.json", name)


def _generated_secret(name: str) -> dict:
    import secrets

    if name == "unsubscribe":
        return {"keys": {"k1": secrets.token_hex(32)}, "active_key": "k1"}
    return {"key": secrets.token_hex(32)}


def _local_secret(path: Path, name: str) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    generated = _generated_secret(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(generated, indent=2))
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # the first process to create it wins; the others read its value
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return json.loads(path.read_text())
