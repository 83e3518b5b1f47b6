"""A throwaway local stack on free ports: the test session's, and the benchmarks'."""

from __future__ import annotations

import contextlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import procs
from .aws_setup import aws_client, setup_aws
from .awsserver import start_aws_server
from .config import Ports, free_port, url
from .dynamodb_local import dynamodb_client, start_dynamodb_local
from .env import apply_env, local_env
from .outbox import read_outbox
from .tables import create_tables, table_names, truncate_tables


@dataclass
class LocalStack:
    ports: Ports
    env: dict[str, str]
    table_prefix: str
    tmp: Path
    aws_proc: object = field(default=None, repr=False)

    @property
    def kms_key_id(self) -> str:
        return self.env["PLEDGE_KMS_KEY_ID"]

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
        setup_aws(
            self.ports.aws,
            mail_from=self.env.get("PLEDGE_MAIL_FROM") or "privacy@hostbay.example",
            configuration_set=self.env.get("PLEDGE_SES_CONFIGURATION_SET", ""),
            material_path=self.tmp / "kms-key-material.bin",
            queue_url=self.env["PLEDGE_CAMPAIGN_QUEUE_URL"],
        )

    def reset_aws(self) -> None:
        """Forget everything the stand-in holds (sent email included), then re-create
        the SES identity and the KMS key (same id, same material)."""
        request = urllib.request.Request(self.aws_url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        self.setup_aws()

    def restart_aws(self) -> None:
        """Stop and start the stand-in process, as `make run` after a restart sees it."""
        procs.stop(self.aws_proc)
        self.aws_proc = start_aws_server(self.ports.aws, log=self.tmp / "aws.log")
        self.setup_aws()

    def clean(self) -> None:
        truncate_tables(self.dynamodb(), self.table_prefix)
        self.reset_aws()

    def outbox(self) -> list[dict]:
        return read_outbox(self.ports.aws)


@contextlib.contextmanager
def ephemeral_stack(table_prefix: str, tmp: Path | None = None):
    """DynamoDB Local (in memory) and the AWS stand-in on free ports, with the tables,
    SES identity and KMS key; os.environ points the app at them until the block ends.
    Logs and key material go to `tmp` (a temporary folder when not given)."""
    with contextlib.ExitStack() as cleanup:
        folder = tmp or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="pledge-stack-")))
        stack_ports = Ports(api=free_port(), dynamodb=free_port(), aws=free_port())
        saved = dict(os.environ)
        dynamodb_proc = stack = None
        try:
            dynamodb_proc = start_dynamodb_local(stack_ports.dynamodb, db_path=None, log=folder / "dynamodb.log")
            env = local_env(stack_ports=stack_ports, table_prefix=table_prefix, secrets_dir=folder / "secrets")
            stack = LocalStack(stack_ports, env, table_prefix, folder)
            stack.aws_proc = start_aws_server(stack_ports.aws, log=folder / "aws.log")
            apply_env(env)
            reset_app_caches()
            create_tables(stack.dynamodb(), table_prefix)
            stack.setup_aws()
            yield stack
        finally:
            procs.stop(stack.aws_proc if stack else None)
            procs.stop(dynamodb_proc)
            os.environ.clear()
            os.environ.update(saved)
            reset_app_caches()


def reset_app_caches() -> None:
    """Forget cached settings, AWS clients, DynamoDB connections and the policy version in
    force (the environment changed: another stack's endpoints and tables)."""
    from chalicelib.aws import forget_clients
    from chalicelib.services import policy_in_force
    from chalicelib.settings import reset_settings
    from chalicelib.store.transact import forget_connections

    reset_settings()
    forget_clients()
    forget_connections()
    policy_in_force.forget()
