"""ops_disclose_customer_data may decrypt: in the packaged template it and
ops_reveal_sensitive, and no other function, hold kms:Decrypt (each under the
encryption-context condition tests/infra/test_sensitive_key.py checks), and the sensitive
key's policy exempts exactly their two roles from its deny."""

from __future__ import annotations

import pytest

from infra.app_functions import app_functions
from infra.iam import policy_name, role_name
from tests.infra.test_sensitive_key import decrypting_policies

DECRYPTERS = {"ops_reveal_sensitive", "ops_disclose_customer_data"}


@pytest.fixture(scope="module")
def functions():
    return app_functions()


def test_exactly_reveal_and_disclose_hold_kms_decrypt(template, functions):
    found = decrypting_policies(template)
    assert {f.name for f in functions if policy_name(f) in found} == DECRYPTERS
    assert set(found) == {policy_name(f) for f in functions if f.name in DECRYPTERS}


def test_the_sensitive_key_lets_exactly_those_two_roles_unwrap(template, functions):
    statements = template["Resources"]["SensitiveKey"]["Properties"]["KeyPolicy"]["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    exempt = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert sorted(e["Fn::GetAtt"][0] for e in exempt) == sorted(role_name(f) for f in functions if f.name in DECRYPTERS)
