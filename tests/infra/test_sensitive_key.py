"""Least privilege for card, IBAN and identity document numbers, in the packaged template:
the API seals (kms:GenerateDataKey) but never decrypts; only the revealing ops functions
hold kms:Decrypt, on SensitiveKey, under an encryption context naming a customer and an
item; the key's own policy denies unwrapping to everyone else."""

from __future__ import annotations

import copy

import pytest

from infra.app_functions import AppFunction, app_functions
from infra.build_template import stage_config
from infra.iam import load_access, policy_name, role_name
from infra.platform import sensitive_key_alias
from tests.infra.checks import policy_statements
from tests.infra.conftest import STAGE

# The functions the contract lets decrypt (ops_disclose_customer_data once it exists).
MAY_DECRYPT = {"ops_reveal_sensitive", "ops_disclose_customer_data"}


@pytest.fixture(scope="module")
def functions() -> list[AppFunction]:
    return app_functions()


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _unwraps(action: str) -> bool:
    """Whether an action pattern grants kms:Decrypt (or ReEncryptFrom, which decrypts too)."""
    return action in ("*", "kms:*") or action.lower().startswith(("kms:decrypt", "kms:reencrypt"))


def decrypting_policies(template: dict) -> dict[str, list[dict]]:
    """IAM policy resource -> its Allow statements that grant decryption, of any key."""
    found: dict[str, list[dict]] = {}
    for name, kind, statement in policy_statements(template):
        if (
            kind == "iam"
            and statement.get("Effect") == "Allow"
            and any(_unwraps(a) for a in _listed(statement.get("Action", [])))
        ):
            found.setdefault(name, []).append(statement)
    return found


def test_the_api_role_has_no_kms_decrypt(template, functions):
    api = next(f for f in functions if f.name == "api_handler")
    statements = template["Resources"][policy_name(api)]["Properties"]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in _listed(s["Action"])}
    assert not any(_unwraps(a) for a in actions)
    assert not any(a.startswith("kms:") for a in actions - {"kms:GenerateDataKey"})
    seal = next(s for s in statements if s["Sid"] == "SensitiveKey")
    assert seal["Resource"] == {"Fn::GetAtt": ["SensitiveKey", "Arn"]}


def test_only_the_revealing_functions_may_decrypt(template, functions):
    allowed = {policy_name(f) for f in functions if f.name in MAY_DECRYPT}
    found = decrypting_policies(template)
    assert set(found) <= allowed and "OpsRevealSensitivePolicy" in found
    for statements in found.values():
        for statement in statements:
            assert statement["Resource"] == {"Fn::GetAtt": ["SensitiveKey", "Arn"]}
            assert statement["Condition"]["ForAllValues:StringEquals"] == {
                "kms:EncryptionContextKeys": ["customer_number", "item"]
            }
            assert statement["Condition"]["Null"] == {"kms:EncryptionContext:item": "false"}
            assert statement["Condition"]["StringLike"] == {"kms:EncryptionContext:customer_number": "C*"}


def test_the_decrypt_check_finds_a_grant_on_the_api_role(template, functions):
    bad = copy.deepcopy(template)
    api = next(f for f in functions if f.name == "api_handler")
    bad["Resources"][policy_name(api)]["Properties"]["PolicyDocument"]["Statement"].append(
        {"Sid": "Oops", "Effect": "Allow", "Action": ["kms:Decrypt*"], "Resource": {"Fn::GetAtt": ["DataKey", "Arn"]}}
    )
    assert policy_name(api) in decrypting_policies(bad)


def test_the_sensitive_key_denies_unwrapping_to_all_but_the_revealers(template, functions):
    key = template["Resources"]["SensitiveKey"]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    deny = next(s for s in key["Properties"]["KeyPolicy"]["Statement"] if s["Effect"] == "Deny")
    assert deny["Principal"] == "*" and set(deny["Action"]) == {"kms:Decrypt", "kms:ReEncryptFrom"}
    openers = {f.name for f in functions if load_access()[f.name].get("sensitive_key") == "open"}
    assert openers and openers <= MAY_DECRYPT
    assert deny["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [{"Fn::GetAtt": [role_name(f), "Arn"]} for f in functions if f.name in openers]
        }
    }
    allows = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s["Effect"] == "Allow"]
    assert [s["Sid"] for s in allows] == ["AccountAdministersKeyThroughIam"]


def test_table_roles_use_the_data_key_only_through_dynamodb(template, functions):
    statements = template["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    tables = next(s for s in statements if s["Sid"] == "FunctionsUseTablesThroughDynamoDB")
    assert tables["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}
    }
    with_tables = [f for f in functions if load_access()[f.name].get("tables")]
    assert tables["Principal"]["AWS"] == [{"Fn::GetAtt": [role_name(f), "Arn"]} for f in with_tables]


def test_every_function_is_told_the_sensitive_key(template, functions):
    assert stage_config(STAGE).environment["PLEDGE_KMS_KEY_ID"] == sensitive_key_alias(STAGE)
    assert template["Resources"]["SensitiveKeyAlias"]["Properties"]["AliasName"] == sensitive_key_alias(STAGE)
    for function in functions:
        variables = template["Resources"][function.resource]["Properties"]["Environment"]["Variables"]
        assert variables["PLEDGE_KMS_KEY_ID"] == sensitive_key_alias(STAGE)
