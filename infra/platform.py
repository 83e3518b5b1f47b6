"""The stack around the functions: the data key, mail feedback (SES configuration set ->
EventBridge -> record_mail_suppressions), alarms, API throttling, and what the merge
template changes in the resources Chalice generates."""

from __future__ import annotations

from infra.app_functions import AppFunction
from infra.iam import TABLE_KEY_ACTIONS, StageMail, policy_name, role_name

SUPPRESSION_FUNCTION = "record_mail_suppressions"
MAIL_FEEDBACK_TYPES = ("Email Bounced", "Email Complaint Received")
# The business alarm: the policy-notice dispatcher (chalicelib/services/notices.py) emits
# it when a material change is still unannounced too close to its effective date.
NOTICE_DEADLINE_METRIC = "PolicyNoticeDeadlineMissed"
METRICS_NAMESPACE = "Pledge"
METRICS_SERVICE = "pledge"

PARAMETERS = {
    "AlarmEmail": {
        "Type": "String",
        "Default": "",
        "Description": "Address subscribed to the alarm topic (empty: subscribe later)",
    },
    "ApiThrottleRateLimit": {
        "Type": "Number",
        "Default": 50,
        "MinValue": 1,
        "Description": "API Gateway stage: steady requests per second",
    },
    "ApiThrottleBurstLimit": {
        "Type": "Number",
        "Default": 100,
        "MinValue": 1,
        "Description": "API Gateway stage: burst of requests",
    },
    "PerAddressRequestLimit": {
        "Type": "Number",
        "Default": 2000,
        "MinValue": 100,
        "Description": "WAF: requests one IP address may make in 5 minutes",
    },
}
CONDITIONS = {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}}


def function_name(stage: str, function: AppFunction) -> str:
    return f"pledge-{stage}-{function.name}"


ACCOUNT_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
# Both keys' first statement: the account's IAM decides who administers them.
ADMINISTERED_THROUGH_IAM = {
    "Sid": "AccountAdministersKeyThroughIam",
    "Effect": "Allow",
    "Principal": {"AWS": ACCOUNT_ROOT},
    "Action": "kms:*",
    "Resource": "*",
}


def _role_arns(roles: list[str]) -> list[dict]:
    return [{"Fn::GetAtt": [role, "Arn"]} for role in roles]


def data_key(stage: str, table_roles: list[str]) -> dict:
    """The customer-managed key of every table, log group and the alarm topic. Kept if the
    stack goes: without it the retained tables cannot be read. The roles of functions with
    tables use it through DynamoDB only, granted here rather than in their own policies, so
    that no role policy holds kms:Decrypt but the ones infra/iam.py gives "open"."""
    # In a key policy "Resource" is always "*": it means this key.
    statements = [
        ADMINISTERED_THROUGH_IAM,
        {
            "Sid": "FunctionsUseTablesThroughDynamoDB",
            "Effect": "Allow",
            "Principal": {"AWS": _role_arns(table_roles)},
            "Action": list(TABLE_KEY_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}},
        },
        {
            "Sid": "LogsEncryptOurLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": {
                        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
                        f"/aws/lambda/pledge-{stage}-*"
                    }
                }
            },
        },
        {
            "Sid": "AlarmsPublishToEncryptedTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        },
    ]
    return {
        "DataKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": f"Pledge {stage}: tables, logs and alarm topic",
                "EnableKeyRotation": True,
                "PendingWindowInDays": 30,
                "KeyPolicy": {"Version": "2012-10-17", "Statement": statements},
            },
        },
        "DataKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": f"alias/pledge-{stage}-data", "TargetKeyId": {"Ref": "DataKey"}},
        },
    }


def sensitive_key(stage: str, opener_roles: list[str]) -> dict:
    """The key that wraps the data keys of card, IBAN and identity document numbers
    (chalicelib/envelope.py). Its own key: its use is audited apart in CloudTrail, and its
    policy denies unwrapping to every principal but the roles of the functions that may
    reveal a number, whatever IAM policies elsewhere in the account allow. Kept if the
    stack goes (the sealed numbers are retained data)."""
    statements = [
        ADMINISTERED_THROUGH_IAM,
        {
            "Sid": "OnlyTheRevealingFunctionsUnwrap",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": _role_arns(opener_roles)}},
        },
    ]
    return {
        "SensitiveKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": f"Pledge {stage}: data keys of card, IBAN and identity document numbers",
                "EnableKeyRotation": True,
                "PendingWindowInDays": 30,
                "KeyPolicy": {"Version": "2012-10-17", "Statement": statements},
            },
        },
        "SensitiveKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": sensitive_key_alias(stage), "TargetKeyId": {"Ref": "SensitiveKey"}},
        },
    }


def sensitive_key_alias(stage: str) -> str:
    """PLEDGE_KMS_KEY_ID of the stage in .chalice/config.json."""
    return f"alias/pledge-{stage}-sensitive"


def mail_feedback(stage: str, mail: StageMail) -> dict:
    """Bounces and complaints of our configuration set reach record_mail_suppressions.
    SES's own suppression list for the set stays on as a second line."""
    suppression_function = AppFunction(SUPPRESSION_FUNCTION, "lambda")
    return {
        "MailConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "Name": mail.configuration_set,
                "ReputationOptions": {"ReputationMetricsEnabled": True},
                "SendingOptions": {"SendingEnabled": True},
                "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
            },
        },
        "MailFeedbackDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": {"Ref": "MailConfigurationSet"},
                "EventDestination": {
                    "Name": "bounces-and-complaints",
                    "Enabled": True,
                    "MatchingEventTypes": ["bounce", "complaint"],
                    "EventBridgeDestination": {
                        "EventBusArn": {
                            "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
                        }
                    },
                },
            },
        },
        "MailFeedbackRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": f"SES bounces and complaints of {mail.configuration_set} -> {SUPPRESSION_FUNCTION}",
                "State": "ENABLED",
                # Only this stage's configuration set: dev and prod may share an account.
                "EventPattern": {
                    "source": ["aws.ses"],
                    "detail-type": list(MAIL_FEEDBACK_TYPES),
                    "detail": {"mail": {"tags": {"ses:configuration-set": [mail.configuration_set]}}},
                },
                "Targets": [
                    {
                        "Id": SUPPRESSION_FUNCTION,
                        "Arn": {"Fn::GetAtt": [suppression_function.resource, "Arn"]},
                        "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
                    }
                ],
            },
        },
        "MailFeedbackPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "FunctionName": {"Ref": suppression_function.resource},
                "SourceArn": {"Fn::GetAtt": ["MailFeedbackRule", "Arn"]},
            },
        },
    }


def _alarm(description: str, namespace: str, metric: str, dimensions: dict) -> dict:
    """Any occurrence in five minutes raises it (each one is a broken promise or a bug)."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
        },
    }


def alarms(stage: str, api_name: str, api_stage: str, functions: list[AppFunction]) -> dict:
    resources = {
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": f"pledge-{stage}-alarms", "KmsMasterKeyId": {"Ref": "DataKey"}},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
        "ApiServerErrorsAlarm": _alarm(
            "The API answered 5xx (the contract allows none for any input)",
            "AWS/ApiGateway",
            "5XXError",
            {"ApiName": api_name, "Stage": api_stage},
        ),
        "PolicyNoticeDeadlineAlarm": _alarm(
            "A material policy change may miss its 30-day notice",
            METRICS_NAMESPACE,
            NOTICE_DEADLINE_METRIC,
            {"service": METRICS_SERVICE},
        ),
        "PolicyNoticeFailedAlarm": _alarm(
            "A policy notice failed on a customer's own record (see the error log)",
            METRICS_NAMESPACE,
            "PolicyNoticeFailed",
            {"service": METRICS_SERVICE},
        ),
        "MarketingDeliveryFailedAlarm": _alarm(
            "A marketing email failed on a customer's own record",
            METRICS_NAMESPACE,
            "MarketingDeliveryFailed",
            {"service": METRICS_SERVICE},
        ),
    }
    for function in functions:
        dimensions = {"FunctionName": function_name(stage, function)}
        resources[f"{function.resource}ErrorsAlarm"] = _alarm(
            f"{function.name} failed", "AWS/Lambda", "Errors", dimensions
        )
        resources[f"{function.resource}ThrottlesAlarm"] = _alarm(
            f"{function.name} was throttled", "AWS/Lambda", "Throttles", dimensions
        )
    return resources


def function_overrides(stage: str, function: AppFunction, log_retention_days: int) -> dict:
    """Merged into what Chalice generates: a fixed name (ops find it in the console), the
    function's own role, and its log group encrypted and named without referring to the
    function (Chalice's API handler log group refers to a resource it renamed)."""
    name = function_name(stage, function)
    return {
        function.resource: {
            "DependsOn": [policy_name(function), function.log_group_resource],
            "Properties": {"FunctionName": name, "Role": {"Fn::GetAtt": [role_name(function), "Arn"]}},
        },
        function.log_group_resource: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": f"/aws/lambda/{name}",
                "RetentionInDays": log_retention_days,
                "KmsKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
            },
        },
    }


def api_overrides(api_name: str) -> dict:
    """Stage throttling for the whole API (per-address limits are the app's own), metrics
    per method, and a name the 5xx alarm can find."""
    return {
        "RestAPI": {
            "Properties": {
                "Name": api_name,
                "DefinitionBody": {"info": {"title": api_name}},
                "TracingEnabled": True,
                "MethodSettings": [
                    {
                        "ResourcePath": "/*",
                        "HttpMethod": "*",
                        "MetricsEnabled": True,
                        "ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
                        "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"},
                    }
                ],
            }
        }
    }


# Errors API Gateway answers itself (before any function runs), in the contract's shape.
GATEWAY_ERRORS = {
    "THROTTLED": (429, "rate_limited"),
    "REQUEST_TOO_LARGE": (413, "payload_too_large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found"),  # API Gateway's answer for an unknown route
    "DEFAULT_4XX": (None, "bad_request"),
    "DEFAULT_5XX": (None, "internal_error"),
}


def gateway_responses() -> dict:
    resources = {}
    for response_type, (status, code) in GATEWAY_ERRORS.items():
        body = '{"error": {"code": "' + code + '", "message": $context.error.messageString, "details": []}}'
        properties = {
            "RestApiId": {"Ref": "RestAPI"},
            "ResponseType": response_type,
            "ResponseTemplates": {"application/json": body},
            "ResponseParameters": {"gatewayresponse.header.Cache-Control": "'no-store'"},
        }
        if status:
            properties["StatusCode"] = str(status)
        name = "".join(part.title() for part in response_type.split("_"))
        resources[f"Gateway{name}Response"] = {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": properties}
    return resources


def per_address_limit(stage: str) -> dict:
    """WAF on the API stage: one address may make at most PerAddressRequestLimit requests in
    any 5 minutes (the default, 2000, is 400 a minute), and known exploit payloads are blocked."""
    rule_metrics = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True}
    return {
        "ApiWebAcl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Name": f"pledge-{stage}-api",
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": {**rule_metrics, "MetricName": f"pledge-{stage}-api"},
                "Rules": [
                    {
                        "Name": "per-address-limit",
                        "Priority": 0,
                        "Action": {
                            "Block": {"CustomResponse": {"ResponseCode": 429, "CustomResponseBodyKey": "rate_limited"}}
                        },
                        "Statement": {
                            "RateBasedStatement": {"Limit": {"Ref": "PerAddressRequestLimit"}, "AggregateKeyType": "IP"}
                        },
                        "VisibilityConfig": {**rule_metrics, "MetricName": f"pledge-{stage}-per-address-limit"},
                    },
                    {
                        # AWS's managed rules against known exploit payloads (Log4Shell and the like).
                        "Name": "known-bad-inputs",
                        "Priority": 1,
                        "OverrideAction": {"None": {}},
                        "Statement": {
                            "ManagedRuleGroupStatement": {
                                "VendorName": "AWS",
                                "Name": "AWSManagedRulesKnownBadInputsRuleSet",
                            }
                        },
                        "VisibilityConfig": {**rule_metrics, "MetricName": f"pledge-{stage}-known-bad-inputs"},
                    },
                ],
                "CustomResponseBodies": {
                    "rate_limited": {
                        "ContentType": "APPLICATION_JSON",
                        "Content": '{"error": {"code": "rate_limited", "message": "Too many requests from this '
                        'address; try again in a few minutes.", "details": []}}',
                    }
                },
            },
        },
        "ApiWebAclAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Properties": {
                "ResourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}"
                    "/stages/${RestAPI.Stage}"
                },
                "WebACLArn": {"Fn::GetAtt": ["ApiWebAcl", "Arn"]},
            },
        },
    }


# --- the marketing fan-out (chalicelib/campaign_queue.py) -----------------------------------

FANOUT_PARAMETERS = {
    "MarketingWorkers": {
        "Type": "Number",
        "Default": 1,
        "MinValue": 1,
        "MaxValue": 100,
        "Description": "Concurrent workers a marketing campaign is split over; each sends at its share of the SES rate",
    },
}
FANOUT_CONDITIONS = {"OneMarketingWorker": {"Fn::Equals": [{"Ref": "MarketingWorkers"}, "1"]}}
# Read PLEDGE_MARKETING_WORKERS: the function registering a campaign (its segment count),
# the dispatcher (whether to fan out) and the workers.
MARKETING_FUNCTIONS = ("ops_send_marketing", "dispatch_marketing", "deliver_campaign_segments")
# A worker runs up to 15 minutes: a message must stay hidden from other workers that long.
SEGMENT_VISIBILITY_SECONDS = 960
SEGMENT_MAX_RECEIVES = 3


def campaign_queue(stage: str) -> dict:
    """The queue the dispatcher hands campaign segments out on, its dead-letter queue and alarm."""
    return {
        "CampaignSegmentDeadLetters": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"pledge-{stage}-campaign-segments-dead",
                "SqsManagedSseEnabled": True,
                "MessageRetentionPeriod": 1209600,
            },
        },
        "CampaignSegmentQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"pledge-{stage}-campaign-segments",
                "SqsManagedSseEnabled": True,
                "VisibilityTimeout": SEGMENT_VISIBILITY_SECONDS,
                "MessageRetentionPeriod": 86400,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["CampaignSegmentDeadLetters", "Arn"]},
                    "maxReceiveCount": SEGMENT_MAX_RECEIVES,
                },
            },
        },
        "CampaignSegmentDeadLettersAlarm": _alarm(
            "A campaign segment failed on every try (its worker raised): see the worker's error log",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": {"Fn::GetAtt": ["CampaignSegmentDeadLetters", "QueueName"]}},
        ),
    }


def fanout_function_properties(functions: list[AppFunction], access: dict) -> dict:
    """Laid over the functions Chalice generates: the fan-out's settings, and the event
    source of the queue's worker pointed at this stage's queue."""
    resources = {}
    for function in functions:
        variables = {}
        if function.name in MARKETING_FUNCTIONS:
            variables["PLEDGE_MARKETING_WORKERS"] = {"Ref": "MarketingWorkers"}
        if access[function.name].get("queue") == "send":
            variables["PLEDGE_CAMPAIGN_QUEUE_URL"] = {"Ref": "CampaignSegmentQueue"}
        properties: dict = {"Environment": {"Variables": variables}} if variables else {}
        if function.kind == "sqs":
            properties["Events"] = {f"{function.resource}SqsEventSource": _segment_event_source()}
        if properties:
            resources[function.resource] = {"Properties": properties}
    return resources


def _segment_event_source() -> dict:
    # Lambda's SQS event source takes no maximum concurrency below 2.
    concurrency = {"Fn::If": ["OneMarketingWorker", 2, {"Ref": "MarketingWorkers"}]}
    return {
        "Type": "SQS",
        "Properties": {
            "Queue": {"Fn::GetAtt": ["CampaignSegmentQueue", "Arn"]},
            "BatchSize": 1,
            "ScalingConfig": {"MaximumConcurrency": concurrency},
        },
    }
