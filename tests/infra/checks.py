"""Properties of the packaged template, each as a function returning the violations it
finds (so tests can also show each one catches a broken template)."""

from __future__ import annotations

import json
import re

from infra.app_functions import REPO_ROOT, AppFunction
from infra.iam import XRAY_ACTIONS

# AWS supports no resource-level permissions for these: "*" is the only Resource possible.
RESOURCE_STAR_ACTIONS = frozenset(XRAY_ACTIONS)
EPHEMERAL_FILE = REPO_ROOT / "infra" / "ephemeral_tables.json"


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def table_suffix(table: dict) -> str:
    return table["Properties"]["TableName"]["Fn::Sub"].removeprefix("pledge-${Stage}-")


def ephemeral_tables() -> dict[str, str]:
    return json.loads(EPHEMERAL_FILE.read_text())["tables"]


def table_violations(template: dict) -> list[str]:
    """Every table: on-demand, point-in-time recovery, deletion protection, encrypted with
    the data key, and kept (Retain) if the stack or the resource goes."""
    found = []
    for name, table in resources_of(template, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is not True:
            found.append(f"{name}: no point-in-time recovery")
        if props.get("DeletionProtectionEnabled") is not True:
            found.append(f"{name}: no deletion protection")
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            found.append(f"{name}: not on-demand")
        sse = props.get("SSESpecification", {})
        if not (
            sse.get("SSEEnabled") and sse.get("SSEType") == "KMS" and sse.get("KMSMasterKeyId") == {"Ref": "DataKey"}
        ):
            found.append(f"{name}: not encrypted with DataKey")
        if table.get("DeletionPolicy") != "Retain" or table.get("UpdateReplacePolicy") != "Retain":
            found.append(f"{name}: not retained on delete/replace")
    return found


def ttl_violations(template: dict, ephemeral: dict[str, str]) -> list[str]:
    """TTL only on the tables infra/ephemeral_tables.json lists (with a reason); every
    other table is a record the policy keeps."""
    found = []
    tables = {table_suffix(t): name for name, t in resources_of(template, "AWS::DynamoDB::Table").items()}
    for suffix, name in tables.items():
        ttl = template["Resources"][name]["Properties"].get("TimeToLiveSpecification", {}).get("Enabled")
        if ttl and suffix not in ephemeral:
            found.append(f"{name}: TTL on a table of records (not in infra/ephemeral_tables.json)")
    for suffix, reason in ephemeral.items():
        if suffix not in tables:
            found.append(f"{suffix}: listed as ephemeral but no such table")
        elif not reason.strip():
            found.append(f"{suffix}: listed as ephemeral without a reason")
    return found


def policy_statements(template: dict):
    """(resource name, kind, statement) for every permission statement in the template."""
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(("iam", props["PolicyDocument"]))
        elif resource["Type"] == "AWS::IAM::Role":
            documents += [("iam", p["PolicyDocument"]) for p in props.get("Policies", [])]
        elif resource["Type"] == "AWS::KMS::Key":
            documents.append(("key", props["KeyPolicy"]))
        elif resource["Type"].endswith("Policy") and "PolicyDocument" in props:  # SNS/SQS/S3 resource policies
            documents.append(("resource", props["PolicyDocument"]))
        for kind, document in documents:
            statements = document["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                yield name, kind, statement


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def wildcard_violations(template: dict) -> list[str]:
    """No Allow statement grants Action "*" or a whole service ("svc:*"), and none has
    Resource "*", except where AWS requires it: a KMS key policy (its Resource is always
    "*", meaning the key; the account root holds kms:* so IAM can manage the key) and
    actions with no resource-level permissions (X-Ray)."""
    found = []
    for name, kind, statement in policy_statements(template):
        if statement.get("Effect") != "Allow":
            continue
        where = f"{name}/{statement.get('Sid', '?')}"
        if "NotAction" in statement or "NotResource" in statement:
            found.append(f"{where}: NotAction/NotResource")
        actions = _listed(statement.get("Action", []))
        for action in actions:
            service_wide = isinstance(action, str) and action.endswith(":*")
            if action == "*" or (service_wide and not (kind == "key" and _account_root(statement))):
                found.append(f"{where}: Action {action}")
        star_allowed = kind == "key" or set(actions) <= RESOURCE_STAR_ACTIONS
        if "*" in _listed(statement.get("Resource", [])) and not star_allowed:
            found.append(f"{where}: Resource * for {actions}")
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        if "Policies" in function["Properties"]:
            found.append(f"{name}: SAM Policies (permissions belong in the function's infra role)")
    return found


def _account_root(statement: dict) -> bool:
    principal = statement.get("Principal", {}).get("AWS")
    return principal == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}


def role_violations(template: dict, functions: list[AppFunction]) -> list[str]:
    """Every function of app.py is in the template with a role of its own (an IAM role the
    stack defines, used by no other function, with a policy attached)."""
    found = []
    resources = template["Resources"]
    lambdas = resources_of(template, "AWS::Serverless::Function")
    roles_used: dict[str, list[str]] = {}
    for function in functions:
        definition = lambdas.get(function.resource)
        if definition is None:
            found.append(f"{function.name}: not in the template")
            continue
        role = definition["Properties"].get("Role")
        role_resource = role.get("Fn::GetAtt", [None])[0] if isinstance(role, dict) else None
        if role_resource is None or resources.get(role_resource, {}).get("Type") != "AWS::IAM::Role":
            found.append(f"{function.name}: role {role!r} is not a role of this stack")
            continue
        roles_used.setdefault(role_resource, []).append(function.name)
    for name in set(lambdas) - {f.resource for f in functions}:
        found.append(f"{name}: a function the app does not define")
    for role, users in roles_used.items():
        if len(users) > 1:
            found.append(f"{role}: shared by {users}")
        attached = [
            p for p in resources_of(template, "AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
        ]
        if len(attached) != 1:
            found.append(f"{role}: {len(attached)} policies attached")
    return found


def schedule_violations(template: dict, functions: list[AppFunction]) -> list[str]:
    """Each @app.schedule is an EventBridge schedule in the template, with its rate."""
    found = []
    for function in functions:
        if function.kind != "schedule":
            continue
        events = template["Resources"].get(function.resource, {}).get("Properties", {}).get("Events", {})
        schedules = [e["Properties"]["Schedule"] for e in events.values() if e["Type"] == "Schedule"]
        if schedules != [function.schedule]:
            found.append(f"{function.name}: schedules {schedules}, app says {function.schedule}")
        if not re.fullmatch(
            r"rate\(1 (minute|hour|day)\)|rate\([1-9][0-9]* (minutes|hours|days)\)|cron\(.+\)", function.schedule or ""
        ):
            found.append(f"{function.name}: {function.schedule!r} is not an EventBridge schedule expression")
    return found
