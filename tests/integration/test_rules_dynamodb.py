"""The service rule tests (tests/rules) on DynamoDB Local: the same tests
tests/unit/test_rules_memory.py runs on the in-memory fakes, so the fakes cannot drift."""

from tests.rules.account_rules import *  # noqa: F403
from tests.rules.backends import dynamodb_backend  # noqa: F401 - the `backend` fixture
from tests.rules.preferences_rules import *  # noqa: F403
from tests.rules.retention_rules import *  # noqa: F403
