"""Service rule tests, written against the services only and run on two stores: the
in-memory fakes (tests/unit/test_rules_memory.py) and DynamoDB Local
(tests/integration/test_rules_dynamodb.py). The modules here are not named test_*: only
those two collect them, once per store."""

import pytest

pytest.register_assert_rewrite(
    "tests.rules.common", "tests.rules.account_rules", "tests.rules.preferences_rules", "tests.rules.retention_rules"
)
