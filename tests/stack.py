"""pytest plugin: the local stack for integration and end-to-end tests.

Loaded from tests/conftest.py. Nothing starts unless a test asks for a fixture:
- local_stack (session): DynamoDB Local (-inMemory) and the AWS stand-in on free ports,
  tables (prefix pledge-test-), SES identity, KMS key; os.environ points the app at them.
- clean_stack (function): local_stack, with every table emptied and the AWS stand-in
  reset (sent email gone; identity and KMS key re-created) before and after the test.
- api_server (session): `chalice local --stage local` on a free port; yields its base URL.
- outbox(): every email the stand-in accepted, parsed (same as `devstack outbox --json`).
"""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devstack import procs
from devstack.aws_setup import aws_client, setup_aws
from devstack.awsserver import start_aws_server
from devstack.config import Ports, free_port, url
from devstack.dynamodb_local import dynamodb_client, start_dynamodb_local
from devstack.env import UNSET, apply_env, local_env
from devstack.outbox import read_outbox
from devstack.tables import create_tables, table_names, truncate_tables

TEST_TABLE_PREFIX = "pledge-test-"


@dataclass
class LocalStack:
    ports: Ports
    env: dict[str, str]
    table_prefix: str
    kms_key_id: str
    tmp: Path
    _aws_proc: object = field(default=None, repr=False)

    @property
    def dynamodb_url(self) -> str:
        return url(self.ports.dynamodb)

    @property
    def aws_url(self) -> str:
        return url(self.ports.aws)

    def dynamodb(self):
        return dynamodb_client(self.ports.dynamodb)

    def client(self, service: str):
        """A boto3 client for the AWS stand-in (sesv2, kms, ...)."""
        return aws_client(service, self.ports.aws)

    def table_names(self) -> list[str]:
        return table_names(self.table_prefix)

    def setup_aws(self) -> None:
        setup_aws(self.ports.aws, mail_from=self.env.get("PLEDGE_MAIL_FROM") or "privacy@hostbay.example",
                  configuration_set=self.env.get("PLEDGE_SES_CONFIGURATION_SET", ""),
                  material_path=self.tmp / "kms-key-material.bin")

    def reset_aws(self) -> None:
        """Forget everything the stand-in holds (sent email included), then re-create
        the SES identity and the KMS key (same id, same material)."""
        request = urllib.request.Request(self.aws_url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        self.setup_aws()

    def restart_aws(self) -> None:
        """Stop and start the stand-in process, as `make run` after a restart sees it."""
        procs.stop(self._aws_proc)
        self._aws_proc = start_aws_server(self.ports.aws, log=self.tmp / "aws.log")
        self.setup_aws()

    def clean(self) -> None:
        truncate_tables(self.dynamodb(), self.table_prefix)
        self.reset_aws()

    def outbox(self) -> list[dict]:
        return read_outbox(self.ports.aws)


_current: LocalStack | None = None


def outbox() -> list[dict]:
    """Every email the test stack's SES stand-in accepted, oldest first:
    [{"to": [...], "from", "subject", "headers": {name: value}, "text", "html"}]."""
    if _current is None:
        raise RuntimeError("outbox() needs the local_stack fixture (use clean_stack)")
    return _current.outbox()


def _reset_settings() -> None:
    """Forget cached settings (and cached connections, when the store keeps any)."""
    try:
        from chalicelib.settings import reset_settings
    except ImportError:
        return
    reset_settings()
    try:
        from chalicelib.store.transact import forget_connections
    except ImportError:
        return
    forget_connections()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    global _current
    tmp = tmp_path_factory.mktemp("local-stack")
    stack_ports = Ports(api=free_port(), dynamodb=free_port(), aws=free_port())
    saved = {k: os.environ.get(k) for k in (*UNSET, *local_env(stack_ports=stack_ports))}
    dynamodb_proc = aws_proc = stack = None
    try:
        dynamodb_proc = start_dynamodb_local(stack_ports.dynamodb, db_path=None, log=tmp / "dynamodb.log")
        aws_proc = start_aws_server(stack_ports.aws, log=tmp / "aws.log")
        env = local_env(stack_ports=stack_ports, table_prefix=TEST_TABLE_PREFIX,
                        secrets_file=tmp / "secrets.json")
        apply_env(env)
        _reset_settings()
        stack = LocalStack(stack_ports, env, TEST_TABLE_PREFIX, env["PLEDGE_KMS_KEY_ID"], tmp, aws_proc)
        create_tables(stack.dynamodb(), TEST_TABLE_PREFIX)
        stack.setup_aws()
        _current = stack
        yield stack
    finally:
        _current = None
        procs.stop(stack._aws_proc if stack is not None else aws_proc)
        procs.stop(dynamodb_proc)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reset_settings()


@pytest.fixture
def clean_stack(local_stack):
    local_stack.clean()
    _reset_settings()
    yield local_stack
    local_stack.clean()


@pytest.fixture(scope="session")
def api_server(local_stack):
    from devstack.run import start_chalice_local

    proc = start_chalice_local(local_stack.ports.api, local_stack.env, log=local_stack.tmp / "chalice.log")
    try:
        yield url(local_stack.ports.api)
    finally:
        procs.stop(proc)
