"""The environment the app sees on the local stack (and in tests)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .aws_setup import KMS_ALIAS, campaign_queue_url
from .config import LOCAL_TABLE_PREFIX, REPO_ROOT, SECRETS_DIR, Ports, ports, url

CHALICE_CONFIG = REPO_ROOT / ".chalice" / "config.json"
# Never let a developer's real AWS profile or session leak into the local stack.
UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def stage_environment(stage: str = "local", config_path: Path = CHALICE_CONFIG) -> dict[str, str]:
    """environment_variables of .chalice/config.json: top level, then the stage's."""
    config = json.loads(config_path.read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return {k: str(v) for k, v in env.items()}


def local_env(
    *,
    stack_ports: Ports | None = None,
    table_prefix: str = LOCAL_TABLE_PREFIX,
    secrets_dir: Path = SECRETS_DIR,
    stage: str = "local",
    kms_key_id: str = KMS_ALIAS,
) -> dict[str, str]:
    """Variables to set for the app on the local stack: the stage's own from
    .chalice/config.json, the local endpoints, region and dummy credentials."""
    p = stack_ports or ports()
    aws = url(p.aws)
    env = stage_environment(stage)
    env.update(
        {
            "PLEDGE_STAGE": stage,
            "PLEDGE_TABLE_PREFIX": table_prefix,
            "PLEDGE_SECRETS_DIR": str(Path(secrets_dir).resolve()),
            "PLEDGE_KMS_KEY_ID": kms_key_id,
            "PLEDGE_API_PORT": str(p.api),
            "PLEDGE_DYNAMODB_PORT": str(p.dynamodb),
            "PLEDGE_AWS_PORT": str(p.aws),
            "AWS_ENDPOINT_URL_DYNAMODB": url(p.dynamodb),
            "AWS_ENDPOINT_URL_SESV2": aws,
            "AWS_ENDPOINT_URL_SES": aws,
            "AWS_ENDPOINT_URL_KMS": aws,
            "AWS_ENDPOINT_URL_SQS": aws,
            "PLEDGE_CAMPAIGN_QUEUE_URL": campaign_queue_url(p.aws, table_prefix),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    env.setdefault("PLEDGE_PUBLIC_BASE_URL", url(p.api))
    return env


def apply_env(env: dict[str, str]) -> None:
    """Set `env` in os.environ (for in-process use: invoke, scheduler, tests)."""
    for name in UNSET:
        os.environ.pop(name, None)
    os.environ.update(env)


def child_env(env: dict[str, str]) -> dict[str, str]:
    """os.environ with `env` applied, for a child process."""
    merged = {k: v for k, v in os.environ.items() if k not in UNSET}
    merged.update(env)
    return merged
