"""The two stores the rule tests run on, each a fixture named `backend`: a test module
imports one of them beside the rules (tests/unit/test_rules_memory.py,
tests/integration/test_rules_dynamodb.py)."""

from __future__ import annotations

import pytest

from chalicelib.services import policy_in_force
from chalicelib.settings import reset_settings
from tests.fakes.memory import MemoryStore
from tests.fakes.stores import install


@pytest.fixture(name="backend")
def memory_backend(monkeypatch, tmp_path):
    """The in-memory fakes (tests/fakes): no network, no Java."""
    monkeypatch.setenv("PLEDGE_STAGE", "local")
    monkeypatch.setenv("PLEDGE_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.delenv("PLEDGE_SECRETS_PREFIX", raising=False)
    reset_settings()
    policy_in_force.forget()  # the version a previous test's store had in force
    memory = MemoryStore()
    install(monkeypatch, memory)
    yield memory
    reset_settings()
    policy_in_force.forget()


@pytest.fixture(name="backend")
def dynamodb_backend(clean_stack):
    """DynamoDB Local, every table emptied before and after the test (tests/stack.py)."""
    policy_in_force.forget()
    yield clean_stack
    policy_in_force.forget()
