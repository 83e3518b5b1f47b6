"""The service rule tests (tests/rules) on the in-memory store fakes (tests/fakes): no
network, no Java. tests/integration/test_rules_dynamodb.py runs the same tests on
DynamoDB Local, so the fakes cannot drift from the real store."""

from tests.rules.account_rules import *  # noqa: F403
from tests.rules.backends import memory_backend  # noqa: F401 - the `backend` fixture
from tests.rules.preferences_rules import *  # noqa: F403
from tests.rules.retention_rules import *  # noqa: F403
