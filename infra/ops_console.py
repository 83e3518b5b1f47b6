"""What ops find in the AWS console: each function's named test events (the Lambda Test
tab), saved Logs Insights queries, the ops dashboard, and a CloudTrail trail of every ops
invocation (who ran what). Runbook: docs/runbook.md."""

from __future__ import annotations

import json

from infra.app_functions import AppFunction
from infra.console_events import REGISTRY, console_document, console_schema_name
from infra.platform import METRICS_NAMESPACE, METRICS_SERVICE, function_name

PARAMETERS = {
    "TestEventRegistry": {
        "Type": "String",
        "Default": "existing",
        "AllowedValues": ["create", "existing"],
        "Description": "The Lambda console's test event registry (lambda-testevent-schemas) is one per account "
        "and region: 'create' in exactly one stack of the account and region, 'existing' elsewhere",
    },
    "OpsTrail": {
        "Type": "String",
        "Default": "on",
        "AllowedValues": ["on", "off"],
        "Description": "CloudTrail data events for every ops function invocation (who ran what)",
    },
    "OpsTrailRetentionDays": {
        "Type": "Number",
        "Default": 365,
        "MinValue": 1,
        "MaxValue": 3650,
        "Description": "Days the ops trail's log files are locked (Object Lock), then expire",
    },
}
CONDITIONS = {
    "CreatesTestEventRegistry": {"Fn::Equals": [{"Ref": "TestEventRegistry"}, "create"]},
    "HasOpsTrail": {"Fn::Equals": [{"Ref": "OpsTrail"}, "on"]},
}
# Functions whose log lines these queries read: fields the code logs that hold no personal
# data (never source_ip, customer_number, the raw @message or an exception's text).
QUERY_FIELDS = (
    "@timestamp",
    "@log",
    "@requestId",
    "level",
    "message",
    "function",
    "code",
    "error_message",
    "error_fields",
    "route",
    "method",
    "status",
    "duration_ms",
    "correlation_id",
    "version",
    "error_code",
    "attempts",
)
SENSITIVE_FUNCTIONS = ("ops_reveal_sensitive", "ops_disclose_customer_data")


def is_ops(function: AppFunction) -> bool:
    """An ops function: run by people (the contract names them all ops_*), not by events."""
    return function.kind == "lambda" and function.name.startswith("ops_")


def trail_name(stage: str) -> str:
    return f"pledge-{stage}-ops-invocations"


def _trail_arn(stage: str) -> dict:
    return {
        "Fn::Sub": f"arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{trail_name(stage)}"
    }


# --- test events --------------------------------------------------------------------------


def test_events(stage: str, functions: list[AppFunction]) -> dict:
    """One schema per ops, scheduled and event-fed function in the registry the Lambda
    console reads shareable test events from; its examples are the named events."""
    registry = {
        "Fn::If": ["CreatesTestEventRegistry", {"Fn::GetAtt": ["LambdaTestEventRegistry", "RegistryName"]}, REGISTRY]
    }
    resources = {
        "LambdaTestEventRegistry": {
            "Type": "AWS::EventSchemas::Registry",
            "Condition": "CreatesTestEventRegistry",
            # Shared by every stack and console user of the account and region: never deleted with us.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {"RegistryName": REGISTRY, "Description": "Shareable test events of the Lambda console"},
        },
    }
    for function in functions:
        if function.kind not in ("lambda", "schedule", "sqs"):
            continue
        resources[f"{function.resource}TestEvents"] = {
            "Type": "AWS::EventSchemas::Schema",
            "Properties": {
                "RegistryName": registry,
                "SchemaName": console_schema_name(function_name(stage, function)),
                "Type": "OpenApi3",
                "Description": f"Test events of {function.name} (chalicelib/schemas/examples/{function.name}.json)",
                "Content": json.dumps(console_document(function.name, function.kind), separators=(",", ":")),
            },
        }
    return resources


# --- saved queries ------------------------------------------------------------------------


def _query(stage: str, title: str, groups: list[AppFunction], lines: list[str]) -> dict:
    return {
        "Type": "AWS::Logs::QueryDefinition",
        "Properties": {
            "Name": f"pledge-{stage}/{title}",
            "QueryString": "\n| ".join(lines),
            "LogGroupNames": [{"Ref": f.log_group_resource} for f in groups],
        },
    }


def saved_queries(stage: str, functions: list[AppFunction]) -> dict:
    ops = [f for f in functions if is_ops(f)]
    notices = [f for f in functions if "notice" in f.name or "polic" in f.name]
    sensitive = ", ".join(f'"{name}"' for name in SENSITIVE_FUNCTIONS)
    return {
        "QueryOneRequest": _query(
            stage,
            "one request by correlation id",
            functions,
            [
                "fields @timestamp, @log, level, message, function, code, route, method, status, duration_ms",
                'filter correlation_id = "PASTE-THE-ID" or @requestId = "PASTE-THE-ID"',
                "sort @timestamp asc",
            ],
        ),
        "QueryServerErrors": _query(
            stage,
            "5xx and errors (set the range to 1h)",
            functions,
            [
                "fields @timestamp, @log, @requestId, level, message, function, route, method, status, correlation_id",
                'filter status >= 500 or level = "ERROR" or level = "CRITICAL" '
                "or @message like /Task timed out|Runtime\\.\\w+Error|\\[ERROR\\]/",
                "sort @timestamp desc",
                "limit 500",
            ],
        ),
        "QueryOpsRefused": _query(
            stage,
            "ops functions refused and why",
            ops,
            [
                "fields @timestamp, function, code, error_message, error_fields, correlation_id",
                'filter message = "ops function refused"',
                "sort @timestamp desc",
                "limit 500",
            ],
        ),
        "QueryNoticeProblems": _query(
            stage,
            "policy notices deferred or unconfirmed",
            notices,
            [
                "fields @timestamp, @log, level, message, version, error_code, attempts, correlation_id",
                'filter message like /policy notice|held back|deadline/ and (level = "WARNING" or level = "ERROR")',
                "sort @timestamp desc",
                "limit 500",
            ],
        ),
        "QuerySensitiveReveals": _query(
            stage,
            "sensitive reveals and disclosures",
            ops,
            [
                "fields @timestamp, function, message, code, error_message, correlation_id",
                f"filter function in [{sensitive}]",
                "sort @timestamp desc",
                "limit 500",
            ],
        ),
    }


# --- dashboard ----------------------------------------------------------------------------


def _pledge(metric: str, label: str, stat: str = "Sum") -> list:
    return [METRICS_NAMESPACE, metric, "service", METRICS_SERVICE, {"label": label, "stat": stat}]


# Business metrics on the dashboard, each emitted by the code with `count(...)`.
NOTICE_METRICS = (
    ("mail_sent_notice", "sent"),
    ("PolicyNoticesRemaining", "remaining"),
    ("PolicyNoticeDeferred", "deferred"),
    ("PolicyNoticeUnconfirmed", "unconfirmed"),
    ("PolicyNoticeDeadlineMissed", "deadline missed"),
    ("PolicyActivationHeldBack", "held back"),
)
CAMPAIGN_METRICS = (
    ("marketing_sent", "marketing sent"),
    ("mail_deferred", "SES deferred (all mail)"),
    ("mail_rejected", "SES rejected (all mail)"),
    ("mail_uncertain", "SES uncertain (all mail)"),
)
SUPPRESSION_METRICS = (
    ("mail_suppressed_bounce", "hard bounces"),
    ("mail_suppressed_complaint", "complaints"),
    ("mail_bounce_soft", "soft bounces (not suppressed)"),
    ("mail_suppressed", "sends stopped by a suppression"),
    ("mail_suppression_lifted", "lifted by ops"),
)
ABUSE_METRICS = (("abuse_case_opened", "abuse cases opened"),)
SITE_METRICS = (("stats_pageview", "page views"), ("stats_visitor", "visitors"))


def _widget(title: str, metrics: list, x: int, y: int, width: int = 12, **extra) -> dict:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": width,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "stat": "Sum",
            "period": 300,
            "metrics": metrics,
            **extra,
        },
    }


def dashboard(stage: str, api_name: str, api_stage: str, functions: list[AppFunction], alarms: list[str]) -> dict:
    api = ["AWS/ApiGateway", None, "ApiName", api_name, "Stage", api_stage]

    def api_metric(metric: str, label: str, stat: str = "Sum") -> list:
        return [api[0], metric, *api[2:], {"label": label, "stat": stat}]

    widgets = [
        _widget(
            "API traffic",
            [api_metric("Count", "requests"), api_metric("4XXError", "4xx"), api_metric("5XXError", "5xx")],
            0,
            0,
        ),
        _widget("API latency", [api_metric("Latency", "p50", "p50"), api_metric("Latency", "p99", "p99")], 12, 0),
        _widget(
            "Errors per function",
            [["AWS/Lambda", "Errors", "FunctionName", function_name(stage, f), {"label": f.name}] for f in functions],
            0,
            6,
            24,
        ),
        _widget(
            "Policy notice campaign",
            [_pledge(m, label, "Maximum" if m == "PolicyNoticesRemaining" else "Sum") for m, label in NOTICE_METRICS],
            0,
            12,
        ),
        _widget("Marketing campaigns", [_pledge(m, label) for m, label in CAMPAIGN_METRICS], 12, 12),
        _widget("Suppressions", [_pledge(m, label) for m, label in SUPPRESSION_METRICS], 0, 18),
        _widget("Abuse cases opened", [_pledge(m, label) for m, label in ABUSE_METRICS], 12, 18),
        _widget(
            "Website statistics (per hour)", [_pledge(m, label) for m, label in SITE_METRICS], 0, 24, 24, period=3600
        ),
        {
            "type": "alarm",
            "x": 0,
            "y": 30,
            "width": 24,
            "height": 8,
            "properties": {
                "title": "Alarms (runbook: docs/runbook.md)",
                "alarms": [f"${{{a}.Arn}}" for a in alarms],
                "sortBy": "stateUpdatedTimestamp",
            },
        },
    ]
    return {
        "OpsDashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": f"pledge-{stage}-ops",
                "DashboardBody": {"Fn::Sub": json.dumps({"widgets": widgets})},
            },
        }
    }


# --- who ran what ------------------------------------------------------------------------


def key_statements(stage: str) -> list[dict]:
    """What the data key's policy lets CloudTrail do: encrypt this stack's ops trail only."""
    trail = _trail_arn(stage)
    return [
        {
            "Sid": "CloudTrailEncryptsOpsTrail",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": trail},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail},
            },
        },
        {
            "Sid": "CloudTrailDescribesKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail}},
        },
    ]


def ops_trail(stage: str, functions: list[AppFunction]) -> dict:
    """Every invocation of an ops function (who, when, from where, the request id its audit
    entries carry) as a CloudTrail data event, in a versioned, Object-Locked, KMS-encrypted
    bucket nobody may delete from."""
    trail = _trail_arn(stage)
    bucket = {"Fn::GetAtt": ["OpsTrailBucket", "Arn"]}
    objects = {"Fn::Sub": "${OpsTrailBucket.Arn}/*"}
    retention = {"Ref": "OpsTrailRetentionDays"}
    kept = {"Condition": "HasOpsTrail", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    return {
        "OpsTrailBucket": {
            "Type": "AWS::S3::Bucket",
            **kept,
            "Properties": {
                "VersioningConfiguration": {"Status": "Enabled"},
                "ObjectLockEnabled": True,
                "ObjectLockConfiguration": {
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": retention}},
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]},
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "expire-after-retention",
                            "Status": "Enabled",
                            "ExpirationInDays": retention,
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                        }
                    ]
                },
            },
        },
        "OpsTrailBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            **kept,
            "Properties": {
                "Bucket": {"Ref": "OpsTrailBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudTrailChecksAcl",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudtrail.amazonaws.com"},
                            "Action": "s3:GetBucketAcl",
                            "Resource": bucket,
                            "Condition": {"StringEquals": {"aws:SourceArn": trail}},
                        },
                        {
                            "Sid": "CloudTrailWrites",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudtrail.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": {"Fn::Sub": "${OpsTrailBucket.Arn}/AWSLogs/${AWS::AccountId}/*"},
                            "Condition": {
                                "StringEquals": {"aws:SourceArn": trail, "s3:x-amz-acl": "bucket-owner-full-control"}
                            },
                        },
                        {
                            "Sid": "NobodyDeletes",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": [
                                "s3:DeleteObject",
                                "s3:DeleteObjectVersion",
                                "s3:DeleteBucket",
                                "s3:BypassGovernanceRetention",
                            ],
                            "Resource": [bucket, objects],
                        },
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket, objects],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                },
            },
        },
        "OpsInvocationTrail": {
            "Type": "AWS::CloudTrail::Trail",
            "Condition": "HasOpsTrail",
            "DependsOn": "OpsTrailBucketPolicy",
            "Properties": {
                "TrailName": trail_name(stage),
                "S3BucketName": {"Ref": "OpsTrailBucket"},
                "KMSKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
                "IsLogging": True,
                "EnableLogFileValidation": True,
                "IsMultiRegionTrail": False,
                "IncludeGlobalServiceEvents": False,
                "AdvancedEventSelectors": [
                    {
                        "Name": "ops function invocations",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
                            {
                                "Field": "resources.ARN",
                                "Equals": [{"Fn::GetAtt": [f.resource, "Arn"]} for f in functions if is_ops(f)],
                            },
                        ],
                    }
                ],
            },
        },
    }


def resources(stage: str, api_name: str, api_stage: str, functions: list[AppFunction], alarms: list[str]) -> dict:
    return {
        **test_events(stage, functions),
        **saved_queries(stage, functions),
        **dashboard(stage, api_name, api_stage, functions, alarms),
        **ops_trail(stage, functions),
    }
