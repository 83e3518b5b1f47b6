"""One IAM role and one policy per function, generated from infra/function_access.json.

Every statement names its resources, except the X-Ray one: X-Ray's PutTraceSegments and
PutTelemetryRecords support no resource-level permissions, so AWS requires "*" there.

No role policy holds kms:Decrypt except where `sensitive_key` is "open": the data key's
own key policy lets the roles of functions with tables use it through DynamoDB only
(infra/platform.py). `sensitive_key` "seal" grants kms:GenerateDataKey on SensitiveKey
(new card, IBAN and ID numbers); "open" adds kms:Decrypt; both only under an encryption
context of exactly a customer number and an item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from infra.app_functions import AppFunction

ACCESS_FILE = Path(__file__).with_name("function_access.json")
TABLES_FILE = Path(__file__).with_name("tables.json")
TABLE_NAME_PREFIX = "pledge-${Stage}-"

VERB_ACTIONS = {
    "read": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"),
    "scan": ("dynamodb:Scan",),
    "put": ("dynamodb:PutItem",),
    "update": ("dynamodb:UpdateItem",),
    "delete": ("dynamodb:DeleteItem",),
}
# DynamoDB calls KMS for the caller when it reads or writes a table encrypted with DataKey
# (granted in DataKey's key policy to the roles of functions with tables).
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
SENSITIVE_KEY_ACTIONS = {"seal": ("kms:GenerateDataKey",), "open": ("kms:GenerateDataKey", "kms:Decrypt")}
SENSITIVE_CONTEXT_KEYS = ("customer_number", "item")
MAIL_ACTIONS = ("ses:SendEmail", "ses:SendRawEmail")
# "queue": the marketing fan-out's queue (infra/platform.py), to hand segments out or to work them.
QUEUE_ACTIONS = {
    "send": ("sqs:SendMessage",),
    "receive": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"),
}
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class Table:
    suffix: str  # the name after pledge-<stage>-, as models' `logical_table`
    resource: str  # the CloudFormation resource name in infra/tables.json
    indexes: tuple[str, ...]


def load_access(path: Path = ACCESS_FILE) -> dict[str, dict]:
    return json.loads(path.read_text())["functions"]


def load_tables(path: Path = TABLES_FILE) -> dict[str, Table]:
    tables = {}
    for resource, definition in json.loads(path.read_text())["Resources"].items():
        if definition["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = definition["Properties"]
        suffix = properties["TableName"]["Fn::Sub"].removeprefix(TABLE_NAME_PREFIX)
        indexes = tuple(i["IndexName"] for i in properties.get("GlobalSecondaryIndexes", []))
        tables[suffix] = Table(suffix, resource, indexes)
    return tables


@dataclass(frozen=True)
class StageMail:
    sender: str  # PLEDGE_MAIL_FROM
    configuration_set: str


def role_name(function: AppFunction) -> str:
    return f"{function.resource}Role"


def policy_name(function: AppFunction) -> str:
    return f"{function.resource}Policy"


def function_iam(
    function: AppFunction, access: dict, tables: dict[str, Table], mail: StageMail, secrets_prefix: str
) -> dict:
    """The role and the policy attached to it, as CloudFormation resources."""
    statements = [
        _logs_statement(function),
        {"Sid": "Tracing", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"},
    ]
    statements += [
        _table_statement(tables[suffix], verbs) for suffix, verbs in sorted(access.get("tables", {}).items())
    ]
    if access.get("sensitive_key"):
        statements.append(_sensitive_key_statement(access["sensitive_key"]))
    if access.get("mail"):
        statements.append(_mail_statement(mail))
    if access.get("secrets"):
        statements.append(_secrets_statement(secrets_prefix, access["secrets"]))
    if access.get("queue"):
        statements.append(_queue_statement(access["queue"]))
    return {
        role_name(function): {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": LAMBDA_TRUST,
                "Description": f"Runs the {function.name} function",
            },
        },
        policy_name(function): {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": function.name,
                "Roles": [{"Ref": role_name(function)}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            },
        },
    }


def _logs_statement(function: AppFunction) -> dict:
    # The log group exists before the function (created by the stack): no CreateLogGroup.
    return {
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": {"Fn::GetAtt": [function.log_group_resource, "Arn"]},
    }


def _table_statement(table: Table, verbs: list[str]) -> dict:
    unknown = set(verbs) - set(VERB_ACTIONS)
    if unknown:
        raise ValueError(f"{table.suffix}: unknown verbs {sorted(unknown)}")
    actions = [action for verb in VERB_ACTIONS if verb in verbs for action in VERB_ACTIONS[verb]]
    resources = [{"Fn::GetAtt": [table.resource, "Arn"]}]
    if "read" in verbs:
        resources += [{"Fn::Sub": f"${{{table.resource}.Arn}}/index/{index}"} for index in table.indexes]
    sid = "Table" + "".join(part.capitalize() for part in table.suffix.split("_"))
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _sensitive_key_statement(use: str) -> dict:
    """Only with an encryption context of exactly a customer number and an item."""
    return {
        "Sid": "SensitiveKey",
        "Effect": "Allow",
        "Action": list(SENSITIVE_KEY_ACTIONS[use]),
        "Resource": {"Fn::GetAtt": ["SensitiveKey", "Arn"]},
        "Condition": {
            "StringLike": {"kms:EncryptionContext:customer_number": "C*"},
            "Null": {"kms:EncryptionContext:item": "false"},
            "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": list(SENSITIVE_CONTEXT_KEYS)},
        },
    }


def roles_with(functions: list[AppFunction], access: dict, predicate) -> list[str]:
    """Role resource names of the functions whose access entry satisfies `predicate`."""
    return [role_name(f) for f in functions if predicate(access[f.name])]


def _mail_statement(mail: StageMail) -> dict:
    domain = mail.sender.rsplit("@", 1)[1]
    ses_arn = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
    return {
        "Sid": "Mail",
        "Effect": "Allow",
        "Action": list(MAIL_ACTIONS),
        "Resource": [
            {"Fn::Sub": f"{ses_arn}identity/{domain}"},
            {"Fn::Sub": f"{ses_arn}identity/{mail.sender}"},
            {"Fn::Sub": f"{ses_arn}configuration-set/{mail.configuration_set}"},
        ],
        "Condition": {"StringEquals": {"ses:FromAddress": mail.sender}},
    }


def _secrets_statement(prefix: str, names: list[str]) -> dict:
    """Only the named secret documents: ops_send_marketing reads the unsubscribe keys, never
    the session pepper."""
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    return {
        "Sid": "Secrets",
        "Effect": "Allow",
        "Action": ["ssm:GetParameter"],
        "Resource": [{"Fn::Sub": f"{arn}{prefix}/{name}"} for name in names],
    }


def _queue_statement(use: str) -> dict:
    return {
        "Sid": "CampaignSegmentQueue",
        "Effect": "Allow",
        "Action": list(QUEUE_ACTIONS[use]),
        "Resource": {"Fn::GetAtt": ["CampaignSegmentQueue", "Arn"]},
    }
