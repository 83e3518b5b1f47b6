"""infra/tables.json is the one source of truth: models agree with it, and only
ephemeral tables may expire items (TTL)."""

import importlib
import json
import pkgutil
from pathlib import Path

import chalicelib.store
from chalicelib.store.base import MODELS

INFRA = json.loads((Path(__file__).resolve().parents[2] / "infra" / "tables.json").read_text())
EPHEMERAL = {
    "sessions",
    "login_throttle",
    "idempotency",
    "carts",
    "mail_limits",
    "account_tokens",
    "stats_seen",
    "stats_salts",
    "abuse_counters",
}
USED_WITHOUT_MODEL = {"idempotency"}  # written by Powertools' idempotency layer


def infra_tables() -> dict[str, dict]:
    tables = {}
    for resource in INFRA["Resources"].values():
        if resource["Type"] == "AWS::DynamoDB::Table":
            props = resource["Properties"]
            tables[props["TableName"]["Fn::Sub"].replace("pledge-${Stage}-", "")] = props
    return tables


def all_models():
    for module in pkgutil.iter_modules(chalicelib.store.__path__):
        importlib.import_module(f"chalicelib.store.{module.name}")
    return {model.logical_table: model for model in MODELS}


def keys(key_schema) -> dict:
    return {k["KeyType"]: k["AttributeName"] for k in key_schema}


def test_only_ephemeral_tables_have_ttl():
    with_ttl = {name for name, props in infra_tables().items() if "TimeToLiveSpecification" in props}
    assert with_ttl <= EPHEMERAL, f"tables holding retained records must not expire items: {with_ttl - EPHEMERAL}"


def test_every_model_matches_its_table_definition():
    tables = infra_tables()
    for name, model in all_models().items():
        assert name in tables, f"model {model.__name__} has no table in infra/tables.json"
        schema = model._get_schema()
        assert keys(schema["key_schema"]) == keys(tables[name]["KeySchema"]), name
        declared = {a["AttributeName"]: a["AttributeType"] for a in tables[name]["AttributeDefinitions"]}
        assert {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]} == declared, name
        model_indexes = {i["index_name"]: keys(i["key_schema"]) for i in schema.get("global_secondary_indexes", [])}
        infra_indexes = {i["IndexName"]: keys(i["KeySchema"]) for i in tables[name].get("GlobalSecondaryIndexes", [])}
        assert model_indexes == infra_indexes, name


def test_every_table_has_a_model_or_a_known_user():
    assert set(infra_tables()) - set(all_models()) <= USED_WITHOUT_MODEL


def test_ttl_attributes_match_the_models():
    for name, model in all_models().items():
        spec = infra_tables()[name].get("TimeToLiveSpecification")
        ttl_attributes = [a.attr_name for a in model.get_attributes().values() if type(a).__name__ == "TTLAttribute"]
        assert ttl_attributes == ([spec["AttributeName"]] if spec else []), name
