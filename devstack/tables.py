"""Tables from infra/tables.json (the one source of truth), created in DynamoDB Local."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .config import REPO_ROOT

TABLES_FILE = REPO_ROOT / "infra" / "tables.json"
STAGE_PREFIX = "pledge-${Stage}-"
# Properties CloudFormation knows that DynamoDB Local's CreateTable does not take.
_CREATE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
)


def _table_name(name: Any, prefix: str) -> str:
    if isinstance(name, dict) and "Fn::Sub" in name:
        name = name["Fn::Sub"]
    if not isinstance(name, str) or not name.startswith(STAGE_PREFIX):
        raise ValueError(f"TableName must be a Fn::Sub starting with {STAGE_PREFIX!r}, got {name!r}")
    return prefix + name[len(STAGE_PREFIX) :]


def table_definitions(prefix: str, path: Path = TABLES_FILE) -> list[dict]:
    """CreateTable requests (plus an optional "TimeToLiveSpecification" key) for every
    AWS::DynamoDB::Table resource in infra/tables.json, named prefix + logical suffix."""
    resources = json.loads(path.read_text())["Resources"]
    definitions = []
    for resource in resources.values():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        request: dict[str, Any] = {
            "TableName": _table_name(props["TableName"], prefix),
            "BillingMode": "PAY_PER_REQUEST",
        }
        for key in _CREATE_KEYS:
            if key in props:
                request[key] = props[key]
        for index in request.get("GlobalSecondaryIndexes", []):
            index.pop("ProvisionedThroughput", None)
        if "TimeToLiveSpecification" in props:
            request["TimeToLiveSpecification"] = props["TimeToLiveSpecification"]
        definitions.append(request)
    return definitions


def table_names(prefix: str, path: Path = TABLES_FILE) -> list[str]:
    return [d["TableName"] for d in table_definitions(prefix, path)]


def create_tables(client, prefix: str, path: Path = TABLES_FILE) -> list[str]:
    """Create every table missing in `client`'s endpoint, add the indexes an existing one
    lacks (data kept in .local/ from before an index was added), and apply its TTL
    setting. Idempotent. Returns the names created now."""
    existing = set(_list_tables(client))
    created = []
    for definition in table_definitions(prefix, path):
        ttl = definition.pop("TimeToLiveSpecification", None)
        name = definition["TableName"]
        if name not in existing:
            client.create_table(**definition)
            client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
            created.append(name)
        else:
            add_missing_indexes(client, definition)
        if ttl and ttl.get("Enabled"):
            current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return created


def add_missing_indexes(client, definition: dict) -> list[str]:
    """Create, one at a time as DynamoDB requires, the global secondary indexes of
    `definition` its table does not have yet (they are backfilled). Returns their names."""
    name = definition["TableName"]
    present = {i["IndexName"] for i in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])}
    added = []
    for index in definition.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=definition["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        _wait_for_index(client, name, index["IndexName"])
        added.append(index["IndexName"])
    return added


def _wait_for_index(client, table: str, index: str) -> None:
    for _ in range(600):
        indexes = client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        if any(i["IndexName"] == index and i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
            return
        time.sleep(0.1)
    raise TimeoutError(f"index {index} of {table} did not become active")


def truncate_tables(client, prefix: str, path: Path = TABLES_FILE) -> int:
    """Delete every item of every table of `prefix`. Returns the number deleted."""
    existing = set(_list_tables(client))
    deleted = 0
    for definition in table_definitions(prefix, path):
        name = definition["TableName"]
        if name not in existing:
            continue
        keys = [k["AttributeName"] for k in definition["KeySchema"]]
        projection = ", ".join(f"#k{i}" for i in range(len(keys)))
        names = {f"#k{i}": k for i, k in enumerate(keys)}
        paginator = client.get_paginator("scan")
        for page in paginator.paginate(
            TableName=name, ProjectionExpression=projection, ExpressionAttributeNames=names, ConsistentRead=True
        ):
            items = page.get("Items", [])
            for start in range(0, len(items), 25):
                requests = [{"DeleteRequest": {"Key": item}} for item in items[start : start + 25]]
                while requests:
                    response = client.batch_write_item(RequestItems={name: requests})
                    requests = response.get("UnprocessedItems", {}).get(name, [])
                deleted += len(items[start : start + 25])
    return deleted


def _list_tables(client) -> list[str]:
    names: list[str] = []
    for page in client.get_paginator("list_tables").paginate():
        names += page["TableNames"]
    return names
