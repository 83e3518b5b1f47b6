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

import functools

import chalice.test
import pytest
from chalice.local import LambdaContext

from devstack import procs
from devstack.config import url
from devstack.ephemeral import LocalStack, ephemeral_stack, reset_app_caches

TEST_TABLE_PREFIX = "pledge-test-"

# The test client's Lambda context says 3 s are left whatever the function's timeout; the
# notice dispatch stops a margin before its deadline, so on a loaded machine it would stop
# early. Give every invocation the configured default timeout (.chalice/config.json: 60 s).
chalice.test.LambdaContext = functools.partial(LambdaContext, max_runtime_ms=60_000)

_current: LocalStack | None = None


def outbox() -> list[dict]:
    """Every email the test stack's SES stand-in accepted, oldest first:
    [{"to": [...], "from", "subject", "headers": {name: value}, "text", "html"}]."""
    if _current is None:
        raise RuntimeError("outbox() needs the local_stack fixture (use clean_stack)")
    return _current.outbox()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    global _current
    with ephemeral_stack(TEST_TABLE_PREFIX, tmp_path_factory.mktemp("local-stack")) as stack:
        _current = stack
        try:
            yield stack
        finally:
            _current = None


@pytest.fixture
def clean_stack(local_stack):
    local_stack.clean()
    reset_app_caches()
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
