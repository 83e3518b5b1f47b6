"""A throwaway local stack on free ports, for benchmarks and tools that need one briefly."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from . import procs
from .aws_setup import setup_aws
from .awsserver import start_aws_server
from .config import Ports, free_port
from .dynamodb_local import dynamodb_client, start_dynamodb_local
from .env import apply_env, local_env
from .tables import create_tables


@contextlib.contextmanager
def ephemeral_stack(table_prefix: str = "pledge-bench-"):
    """DynamoDB Local (in memory) and the AWS stand-in on free ports, with the tables,
    SES identity and KMS key; os.environ points the app at them until the block ends."""
    stack_ports = Ports(api=free_port(), dynamodb=free_port(), aws=free_port())
    saved = dict(os.environ)
    dynamodb_proc = aws_proc = None
    with tempfile.TemporaryDirectory(prefix="pledge-stack-") as tmp:
        try:
            dynamodb_proc = start_dynamodb_local(stack_ports.dynamodb, db_path=None, log=Path(tmp) / "dynamodb.log")
            aws_proc = start_aws_server(stack_ports.aws, log=Path(tmp) / "aws.log")
            env = local_env(stack_ports=stack_ports, table_prefix=table_prefix, secrets_file=Path(tmp) / "secrets.json")
            apply_env(env)
            _reset_settings()
            create_tables(dynamodb_client(stack_ports.dynamodb), table_prefix)
            setup_aws(stack_ports.aws, mail_from=env.get("PLEDGE_MAIL_FROM") or "privacy@hostbay.example",
                      material_path=Path(tmp) / "kms-key-material.bin")
            yield stack_ports
        finally:
            procs.stop(aws_proc)
            procs.stop(dynamodb_proc)
            os.environ.clear()
            os.environ.update(saved)
            _reset_settings()


def _reset_settings() -> None:
    from chalicelib.settings import reset_settings
    from chalicelib.store.transact import forget_connections

    reset_settings()
    forget_connections()
