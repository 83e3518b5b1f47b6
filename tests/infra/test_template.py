"""Assertions over the template `make package` generates (build/<stage>/sam.json).

Each property is checked on the real template, and on a copy broken on purpose, so a
check that stopped finding anything would fail too."""

from __future__ import annotations

import copy
import re

import pytest

from chalicelib.settings import (
    MARKETING_DISPATCH_SCHEDULE,
    NOTICE_DISPATCH_SCHEDULE,
    POLICY_ACTIVATION_SCHEDULE,
    STATS_SALT_SCHEDULE,
)
from infra.app_functions import REPO_ROOT, AppFunction, app_functions
from infra.build_template import stage_config
from infra.iam import VERB_ACTIONS, load_access, policy_name
from infra.platform import NOTICE_DEADLINE_METRIC, SUPPRESSION_FUNCTION, function_name
from tests.infra.checks import (
    ephemeral_tables,
    resources_of,
    role_violations,
    schedule_violations,
    table_violations,
    ttl_violations,
    wildcard_violations,
)
from tests.infra.conftest import STAGE

# The contract's scheduled functions and the rates chalicelib/settings.py configures.
CONTRACT_SCHEDULES = {
    "dispatch_policy_notices": NOTICE_DISPATCH_SCHEDULE,
    "activate_policy_versions": POLICY_ACTIVATION_SCHEDULE,
    "destroy_stats_salts": STATS_SALT_SCHEDULE,
    "dispatch_marketing": MARKETING_DISPATCH_SCHEDULE,
}


@pytest.fixture(scope="module")
def functions() -> list[AppFunction]:
    return app_functions()


@pytest.fixture(scope="module")
def config():
    return stage_config(STAGE)


def broken(template: dict) -> dict:
    return copy.deepcopy(template)


def policy_statements_of(template: dict, function: AppFunction) -> list[dict]:
    return template["Resources"][policy_name(function)]["Properties"]["PolicyDocument"]["Statement"]


def by_name(functions: list[AppFunction], name: str) -> AppFunction:
    return next(f for f in functions if f.name == name)


# --- tables ---------------------------------------------------------------------------


def test_every_table_has_pitr_deletion_protection_and_the_data_key(template):
    assert resources_of(template, "AWS::DynamoDB::Table")
    assert table_violations(template) == []


def test_table_check_finds_a_table_without_pitr_or_protection(template):
    bad = broken(template)
    props = bad["Resources"]["CustomersTable"]["Properties"]
    props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False
    del props["DeletionProtectionEnabled"]
    assert table_violations(bad) == [
        "CustomersTable: no point-in-time recovery",
        "CustomersTable: no deletion protection",
    ]


def test_ttl_only_on_ephemeral_tables(template):
    assert ttl_violations(template, ephemeral_tables()) == []


def test_ttl_check_finds_ttl_on_a_table_of_records(template):
    bad = broken(template)
    bad["Resources"]["RetentionRecordsTable"]["Properties"]["TimeToLiveSpecification"] = {
        "AttributeName": "review_ttl",
        "Enabled": True,
    }
    assert ttl_violations(bad, ephemeral_tables()) == [
        "RetentionRecordsTable: TTL on a table of records (not in infra/ephemeral_tables.json)"
    ]


def test_tables_holding_personal_records_are_not_ephemeral():
    records = {
        "customers",
        "email_claims",
        "audit_trail",
        "inquiries",
        "tickets",
        "ticket_entries",
        "consent_events",
        "mail_log",
        "retention_records",
        "legal_holds",
        "suppressions",
        "abuse_cases",
        "abuse_open_cases",
    }
    assert records.isdisjoint(ephemeral_tables())


# --- IAM ------------------------------------------------------------------------------


def test_no_wildcard_action_or_resource_except_where_aws_requires_it(template):
    assert wildcard_violations(template) == []


def test_wildcard_check_finds_star_grants(template, functions):
    bad = broken(template)
    api = by_name(functions, "api_handler")
    policy_statements_of(bad, api).extend(
        [
            {
                "Sid": "AllTables",
                "Effect": "Allow",
                "Action": "dynamodb:*",
                "Resource": {"Fn::GetAtt": ["CustomersTable", "Arn"]},
            },
            {"Sid": "AnyTable", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"},
            {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"},
        ]
    )
    found = wildcard_violations(bad)
    assert "APIHandlerPolicy/AllTables: Action dynamodb:*" in found
    assert "APIHandlerPolicy/AnyTable: Resource * for ['dynamodb:GetItem']" in found
    assert "APIHandlerPolicy/Everything: Action *" in found


def test_resource_star_appears_only_for_xray_and_the_key_policy(template):
    star = {
        (r["Type"], tuple(sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])))
        for r in template["Resources"].values()
        for s in (r.get("Properties", {}).get("PolicyDocument") or r.get("Properties", {}).get("KeyPolicy") or {}).get(
            "Statement", []
        )
        if s.get("Resource") == "*"
    }
    assert {kind for kind, _ in star} == {"AWS::IAM::Policy", "AWS::KMS::Key"}
    assert {actions for kind, actions in star if kind == "AWS::IAM::Policy"} == {
        ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
    }


def test_every_app_function_has_a_role_of_its_own(template, functions):
    assert {f.kind for f in functions} >= {"api", "lambda"}
    assert role_violations(template, functions) == []


def test_role_check_finds_a_shared_placeholder_or_missing_role(template, functions):
    bad = broken(template)
    first, second, third = [f for f in functions if f.kind == "lambda"][:3]
    bad["Resources"][second.resource]["Properties"]["Role"] = {"Fn::GetAtt": [f"{first.resource}Role", "Arn"]}
    bad["Resources"][third.resource]["Properties"]["Role"] = (
        "arn:aws:iam::000000000000:role/replaced-by-infra-merge-template"
    )
    found = role_violations(bad, functions + [AppFunction("ops_not_packaged", "lambda")])
    assert f"{first.resource}Role: shared by {[first.name, second.name]}" in found
    assert (
        f"{third.name}: role 'arn:aws:iam::000000000000:role/replaced-by-infra-merge-template' is not a role of this stack"
        in found
    )
    assert "ops_not_packaged: not in the template" in found


def test_function_access_lists_exactly_the_app_functions(functions):
    assert set(load_access()) == {f.name for f in functions}


def test_each_policy_grants_exactly_the_tables_and_verbs_in_function_access(template, functions):
    access = load_access()
    tables = {
        r["Properties"]["TableName"]["Fn::Sub"].removeprefix("pledge-${Stage}-"): name
        for name, r in resources_of(template, "AWS::DynamoDB::Table").items()
    }
    for function in functions:
        granted = {}
        for statement in policy_statements_of(template, function):
            for resource in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            ):
                target = resource.get("Fn::GetAtt", [None])[0] if isinstance(resource, dict) else None
                if target in tables.values():
                    granted[target] = set(statement["Action"])
        expected = {
            tables[suffix]: {a for verb in verbs for a in VERB_ACTIONS[verb]}
            for suffix, verbs in access[function.name].get("tables", {}).items()
        }
        assert granted == expected, function.name


def test_views_and_the_suppression_recorder_cannot_write_elsewhere(template, functions):
    writes = {a for verb in ("put", "update", "delete") for a in VERB_ACTIONS[verb]}
    for name in ("ops_customer_record", "ops_retention_review"):
        actions = {a for s in policy_statements_of(template, by_name(functions, name)) for a in s["Action"]}
        assert actions.isdisjoint(writes), name
    recorder = policy_statements_of(template, by_name(functions, SUPPRESSION_FUNCTION))
    dynamodb = [s for s in recorder if any(a.startswith("dynamodb:") for a in s["Action"])]
    assert [s["Resource"] for s in dynamodb] == [[{"Fn::GetAtt": ["SuppressionsTable", "Arn"]}]]


def test_index_queries_are_granted_on_the_indexes_of_read_tables(template, functions):
    api = policy_statements_of(template, by_name(functions, "api_handler"))
    sessions = next(s for s in api if s["Sid"] == "TableSessions")
    assert {"Fn::Sub": "${SessionsTable.Arn}/index/by_customer"} in sessions["Resource"]


def test_mail_and_secrets_only_where_function_access_says(template, functions, config):
    access = load_access()
    for function in functions:
        sids = {s["Sid"]: s for s in policy_statements_of(template, function)}
        assert ("Mail" in sids) == bool(access[function.name].get("mail")), function.name
        assert ("Secrets" in sids) == bool(access[function.name].get("secrets")), function.name
        if "Mail" in sids:
            assert sids["Mail"]["Condition"] == {
                "StringEquals": {"ses:FromAddress": config.environment["PLEDGE_MAIL_FROM"]}
            }
        if "Secrets" in sids:
            prefix = ":parameter" + config.environment["PLEDGE_SECRETS_PREFIX"] + "/"
            names = [r["Fn::Sub"].split(prefix, 1)[1] for r in sids["Secrets"]["Resource"]]
            assert names == access[function.name]["secrets"], function.name


def test_only_the_api_can_read_the_session_pepper(template, functions):
    for function in functions:
        secrets = next((s for s in policy_statements_of(template, function) if s["Sid"] == "Secrets"), None)
        reads_session = secrets is not None and any(r["Fn::Sub"].endswith("/session") for r in secrets["Resource"])
        assert reads_session == (function.name == "api_handler"), function.name


# --- functions, schedules, logs -------------------------------------------------------


def test_functions_run_python_312_with_fixed_names_and_stage_settings(template, functions, config):
    for function in functions:
        props = template["Resources"][function.resource]["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["FunctionName"] == function_name(STAGE, function)
        assert props["Tracing"] == "Active"
        assert props["Environment"]["Variables"]["PLEDGE_STAGE"] == STAGE
        assert "Events" not in props or function.kind in ("schedule", "sqs")


def test_schedules_exist_with_the_configured_rates(template, functions):
    assert schedule_violations(template, functions) == []
    scheduled = {f.name: f.schedule for f in functions if f.kind == "schedule"}
    assert scheduled == CONTRACT_SCHEDULES


def test_schedule_check_finds_a_wrong_rate(template, functions):
    scheduled = [f for f in functions if f.kind == "schedule"]
    assert scheduled
    bad = broken(template)
    events = bad["Resources"][scheduled[0].resource]["Properties"]["Events"]
    next(iter(events.values()))["Properties"]["Schedule"] = "rate(7 days)"
    assert schedule_violations(bad, functions) == [
        f"{scheduled[0].name}: schedules ['rate(7 days)'], app says {scheduled[0].schedule}"
    ]


def test_every_function_logs_to_an_encrypted_group_with_bounded_retention(template, functions, config):
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert len(groups) == len(functions)
    for function in functions:
        group = groups[function.log_group_resource]["Properties"]
        assert group["LogGroupName"] == f"/aws/lambda/{function_name(STAGE, function)}"
        assert group["RetentionInDays"] == config.log_retention_days <= 90
        assert group["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}


# --- alarms ---------------------------------------------------------------------------


def alarm(template, name) -> dict:
    return template["Resources"][name]["Properties"]


def dimensions(props: dict) -> dict:
    return {d["Name"]: d["Value"] for d in props["Dimensions"]}


def test_alarms_on_api_5xx_function_errors_and_throttles(template, functions, config):
    api = alarm(template, "ApiServerErrorsAlarm")
    rest_api = template["Resources"]["RestAPI"]["Properties"]
    assert (api["Namespace"], api["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert dimensions(api) == {"ApiName": rest_api["Name"], "Stage": rest_api["StageName"]}
    assert rest_api["DefinitionBody"]["info"]["title"] == rest_api["Name"]
    for function in functions:
        for metric in ("Errors", "Throttles"):
            props = alarm(template, f"{function.resource}{metric}Alarm")
            assert (props["Namespace"], props["MetricName"]) == ("AWS/Lambda", metric)
            assert dimensions(props) == {"FunctionName": function_name(STAGE, function)}
            assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_notice_deadline_alarm_watches_the_metric_the_code_emits(template):
    props = alarm(template, "PolicyNoticeDeadlineAlarm")
    assert (props["Namespace"], props["MetricName"]) == ("Pledge", NOTICE_DEADLINE_METRIC)
    assert dimensions(props) == {"service": "pledge"}
    emitted = {
        m
        for path in (REPO_ROOT / "chalicelib").rglob("*.py")
        for m in re.findall(r"""count\(\s*["']([A-Za-z_]+)["']""", path.read_text())
    }
    assert NOTICE_DEADLINE_METRIC in emitted


def test_api_stage_is_throttled(template):
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert settings == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "MetricsEnabled": True,
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"},
        }
    ]
    assert template["Parameters"]["ApiThrottleRateLimit"]["Default"] > 0


# --- mail feedback, key, stage ----------------------------------------------------------


def test_bounces_and_complaints_of_the_stage_reach_the_suppression_recorder(template, functions, config):
    configuration_set = config.environment["PLEDGE_SES_CONFIGURATION_SET"]
    assert alarm(template, "MailConfigurationSet")["Name"] == configuration_set
    destination = alarm(template, "MailFeedbackDestination")["EventDestination"]
    assert sorted(destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert destination["EventBridgeDestination"]["EventBusArn"]["Fn::Sub"].endswith(":event-bus/default")
    rule = alarm(template, "MailFeedbackRule")
    recorder = by_name(functions, SUPPRESSION_FUNCTION)
    assert rule["EventPattern"]["detail"]["mail"]["tags"]["ses:configuration-set"] == [configuration_set]
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [recorder.resource, "Arn"]}]
    permission = alarm(template, "MailFeedbackPermission")
    assert permission["FunctionName"] == {"Ref": recorder.resource}
    assert permission["Principal"] == "events.amazonaws.com"
    for function in functions:
        variables = template["Resources"][function.resource]["Properties"]["Environment"]["Variables"]
        assert variables["PLEDGE_SES_CONFIGURATION_SET"] == configuration_set


def test_data_key_rotates_and_is_kept(template):
    key = template["Resources"]["DataKey"]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_stage_parameter_accepts_only_the_packaged_stage(template):
    assert template["Parameters"]["Stage"]["AllowedValues"] == [STAGE]
    assert template["Parameters"]["Stage"]["Default"] == STAGE


def test_errors_api_gateway_answers_itself_have_the_contract_shape(template):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::GatewayResponse"
    }
    assert {"THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN"} <= set(responses)
    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert '"code": "rate_limited"' in responses["THROTTLED"]["ResponseTemplates"]["application/json"]
    assert all(r["RestApiId"] == {"Ref": "RestAPI"} for r in responses.values())


def test_one_address_is_rate_limited_by_waf_on_the_api_stage(template):
    resources = template["Resources"]
    rule = next(r for r in resources["ApiWebAcl"]["Properties"]["Rules"] if r["Name"] == "per-address-limit")
    assert rule["Statement"]["RateBasedStatement"] == {
        "Limit": {"Ref": "PerAddressRequestLimit"},
        "AggregateKeyType": "IP",
    }
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    # at least 200 a minute from one address, as the contract promises for the local stage
    assert template["Parameters"]["PerAddressRequestLimit"]["Default"] >= 200 * 5
    association = resources["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert "${RestAPI}" in association["ResourceArn"]["Fn::Sub"]


# --- ops dashboard ----------------------------------------------------------------------


def test_the_dashboard_shows_page_views_visitors_api_errors_and_abuse_cases(template):
    import json

    body = json.loads(template["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])
    rest_api = template["Resources"]["RestAPI"]["Properties"]
    shown = {
        (m[0], m[1]): dict(zip(m[2:-1:2], m[3:-1:2], strict=True))
        for w in body["widgets"]
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
        if m[0] in ("Pledge", "AWS/ApiGateway")
    }
    assert {
        ("Pledge", "stats_pageview"),
        ("Pledge", "stats_visitor"),
        ("Pledge", "abuse_case_opened"),
        ("AWS/ApiGateway", "4XXError"),
        ("AWS/ApiGateway", "5XXError"),
    } <= set(shown)
    for (namespace, _), dims in shown.items():
        expected = (
            {"service": "pledge"}
            if namespace == "Pledge"
            else {"ApiName": rest_api["Name"], "Stage": rest_api["StageName"]}
        )
        assert dims == expected
    emitted = {
        m
        for path in (REPO_ROOT / "chalicelib").rglob("*.py")
        for m in re.findall(r"""count\(\s*["']([A-Za-z_]+)["']""", path.read_text())
    }
    # the site's own metrics are emitted by name (tests/infra/test_ops_console.py checks the rest)
    assert {"stats_pageview", "stats_visitor", "abuse_case_opened"} <= emitted
