"""The ops console in the packaged template: test events, saved queries, the dashboard and
the ops trail (infra/ops_console.py), checked on the real template and on broken copies."""

from __future__ import annotations

import copy
import json
import re

import pytest

from infra.app_functions import REPO_ROOT, app_functions
from infra.console_events import REGISTRY, console_event, examples_of
from infra.ops_console import QUERY_FIELDS, is_ops, trail_name
from infra.platform import function_name
from tests.infra.checks import resources_of
from tests.infra.conftest import STAGE

# The metric another engineer's abuse-case work emits (issue 15); remove once it is in chalicelib.
EMITTED_ELSEWHERE: set[str] = set()


@pytest.fixture(scope="module")
def functions():
    return app_functions()


def test_every_ops_scheduled_and_event_fed_function_has_its_test_events(template, functions):
    schemas = {
        r["Properties"]["SchemaName"]: r["Properties"]
        for r in resources_of(template, "AWS::EventSchemas::Schema").values()
    }
    for function in functions:
        if function.kind == "api":
            continue
        props = schemas.pop(f"_{function_name(STAGE, function)}-schema")
        assert props["Type"] == "OpenApi3"
        content = json.loads(props["Content"])
        assert {n: e["value"] for n, e in content["components"]["examples"].items()} == {
            name: console_event(function.name, function.kind, event)
            for name, event in examples_of(function.name).items()
        }
        assert props["RegistryName"]["Fn::If"][2] == REGISTRY
    assert schemas == {}


def test_the_registry_is_created_only_where_the_parameter_says(template):
    registry = template["Resources"]["LambdaTestEventRegistry"]
    assert registry["Condition"] == "CreatesTestEventRegistry"
    assert registry["Properties"]["RegistryName"] == REGISTRY
    assert registry["DeletionPolicy"] == "Retain"
    assert template["Conditions"]["CreatesTestEventRegistry"] == {
        "Fn::Equals": [{"Ref": "TestEventRegistry"}, "create"]
    }
    assert template["Parameters"]["TestEventRegistry"]["AllowedValues"] == ["create", "existing"]


# --- saved queries ------------------------------------------------------------------------------

FIELD_CLAUSES = re.compile(r"^\s*(?:\|\s*)?(fields|display)\s+(.+)$", re.MULTILINE)


def selected_fields(query: str) -> set[str]:
    return {f.strip() for clause in FIELD_CLAUSES.findall(query) for f in clause[1].split(",")}


def query_violations(template: dict) -> list[str]:
    found = []
    for name, query in resources_of(template, "AWS::Logs::QueryDefinition").items():
        text = query["Properties"]["QueryString"]
        selected = selected_fields(text)
        if not selected:
            found.append(f"{name}: selects no explicit fields")
        found += [f"{name}: selects {field}" for field in sorted(selected - set(QUERY_FIELDS))]
        if re.search(r"stats\b.*\bby\b.*(customer_number|source_ip|email)", text):
            found.append(f"{name}: groups by personal data")
    return found


def test_saved_queries_exist_and_select_no_personal_data(template):
    queries = {
        q["Properties"]["Name"]: q["Properties"] for q in resources_of(template, "AWS::Logs::QueryDefinition").values()
    }
    assert {name.split("/", 1)[1] for name in queries} == {
        "one request by correlation id",
        "5xx and errors (set the range to 1h)",
        "ops functions refused and why",
        "policy notices deferred or unconfirmed",
        "sensitive reveals and disclosures",
    }
    assert query_violations(template) == []
    groups = {g["Properties"]["LogGroupName"] for g in resources_of(template, "AWS::Logs::LogGroup").values()}
    for props in queries.values():
        assert props["LogGroupNames"]
        for ref in props["LogGroupNames"]:
            assert template["Resources"][ref["Ref"]]["Properties"]["LogGroupName"] in groups


@pytest.mark.parametrize("field", ["source_ip", "customer_number", "@message", "exception", "email"])
def test_the_query_check_finds_a_personal_field(template, field):
    bad = copy.deepcopy(template)
    query = bad["Resources"]["QueryOpsRefused"]["Properties"]
    query["QueryString"] = query["QueryString"].replace("fields @timestamp", f"fields @timestamp, {field}")
    assert query_violations(bad) == [f"QueryOpsRefused: selects {field}"]


def test_queries_read_fields_the_code_logs():
    """Each field a query names (besides Logs Insights' own @fields) is logged somewhere."""
    logged = " ".join(path.read_text() for path in (REPO_ROOT / "chalicelib").rglob("*.py"))
    for field in QUERY_FIELDS:
        if not field.startswith("@") and field not in ("level", "message", "correlation_id"):
            assert f'"{field}"' in logged, field


# --- dashboard --------------------------------------------------------------------------------


def emitted_metric_patterns() -> list[re.Pattern]:
    """Every name the code passes to `count(...)`, f-string parts as wildcards."""
    patterns = []
    for path in (REPO_ROOT / "chalicelib").rglob("*.py"):
        for _, name in re.findall(r"""count\(\s*f?(["'])(.+?)\1""", path.read_text()):
            patterns.append(re.compile(re.sub(r"\\\{[^}]*\\\}", r"\\w+", re.escape(name)) + "$"))
    return patterns


def dashboard_of(template) -> dict:
    body = template["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(body)


def pledge_metrics(dashboard: dict) -> set[str]:
    return {
        m[1]
        for w in dashboard["widgets"]
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
        if m[0] == "Pledge"
    }


def dashboard_violations(template, functions) -> list[str]:
    dashboard = dashboard_of(template)
    found = []
    patterns = emitted_metric_patterns()
    for metric in sorted(pledge_metrics(dashboard) - EMITTED_ELSEWHERE):
        if not any(p.match(metric) for p in patterns):
            found.append(f"{metric}: no count() emits it")
    errors = next(w for w in dashboard["widgets"] if w["properties"]["title"] == "Errors per function")
    shown = {m[3] for m in errors["properties"]["metrics"]}
    found += [f"{f.name}: no errors line" for f in functions if function_name(STAGE, f) not in shown]
    alarm_widget = next(w for w in dashboard["widgets"] if w["type"] == "alarm")
    alarms = set(resources_of(template, "AWS::CloudWatch::Alarm"))
    listed = {a.removeprefix("${").removesuffix(".Arn}") for a in alarm_widget["properties"]["alarms"]}
    found += [f"{a}: not on the dashboard" for a in sorted(alarms - listed)]
    return found


def test_the_dashboard_shows_api_functions_campaigns_suppressions_abuse_and_every_alarm(template, functions):
    dashboard = dashboard_of(template)
    titles = {w["properties"]["title"] for w in dashboard["widgets"]}
    assert {
        "API traffic",
        "API latency",
        "Errors per function",
        "Policy notice campaign",
        "Marketing campaigns",
        "Suppressions",
        "Abuse cases opened",
    } <= titles
    api = {
        m[1]: m[-1]
        for w in dashboard["widgets"]
        if w["properties"]["title"].startswith("API")
        for m in w["properties"]["metrics"]
    }
    assert {"Count", "4XXError", "5XXError", "Latency"} <= set(api)
    latency = [
        m[-1]["stat"] for w in dashboard["widgets"] for m in w["properties"].get("metrics", []) if m[1] == "Latency"
    ]
    assert sorted(latency) == ["p50", "p99"]
    assert {
        "mail_sent_notice",
        "PolicyNoticesRemaining",
        "PolicyNoticeDeferred",
        "PolicyNoticeUnconfirmed",
        "marketing_sent",
        "abuse_case_opened",
    } <= pledge_metrics(dashboard)
    assert dashboard_violations(template, functions) == []
    placeholders = set(
        re.findall(r"\$\{([^}]+)\}", template["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])
    )
    assert all(p == "AWS::Region" or p.removesuffix(".Arn") in template["Resources"] for p in placeholders)


def test_the_dashboard_check_finds_a_metric_nobody_emits_and_a_missing_alarm(template, functions):
    bad = copy.deepcopy(template)
    dashboard = dashboard_of(bad)
    dashboard["widgets"][3]["properties"]["metrics"].append(["Pledge", "notice_sent_typo", "service", "pledge"])
    dashboard["widgets"][-1]["properties"]["alarms"].pop()
    bad["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"] = json.dumps(dashboard)
    found = dashboard_violations(bad, functions)
    assert "notice_sent_typo: no count() emits it" in found
    assert len(found) == 2


# --- who ran what -------------------------------------------------------------------------------


def test_the_trail_records_ops_invocations_only(template, functions):
    trail = template["Resources"]["OpsInvocationTrail"]
    assert trail["Condition"] == "HasOpsTrail"
    props = trail["Properties"]
    assert props["TrailName"] == trail_name(STAGE)
    assert props["EnableLogFileValidation"] is True and props["IsLogging"] is True
    assert props["KMSKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    [selector] = props["AdvancedEventSelectors"]
    fields = {f["Field"]: f["Equals"] for f in selector["FieldSelectors"]}
    assert fields["eventCategory"] == ["Data"] and fields["resources.type"] == ["AWS::Lambda::Function"]
    traced = {arn["Fn::GetAtt"][0] for arn in fields["resources.ARN"]}
    assert traced == {f.resource for f in functions if is_ops(f)}
    assert {"OpsCustomerRecord", "OpsLegalHold"} <= traced and "DispatchPolicyNotices" not in traced
    assert template["Parameters"]["OpsTrail"]["AllowedValues"] == ["on", "off"]


def test_the_trail_bucket_is_encrypted_versioned_locked_and_undeletable(template):
    bucket = template["Resources"]["OpsTrailBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"] == {"Ref": "OpsTrailRetentionDays"}
    [sse] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]},
    }
    statements = template["Resources"]["OpsTrailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    deny = next(s for s in statements if s["Sid"] == "NobodyDeletes")
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket"} <= set(deny["Action"])
    key_sids = {s["Sid"] for s in template["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]}
    assert "CloudTrailEncryptsOpsTrail" in key_sids


# --- the runbook --------------------------------------------------------------------------------

RUNBOOK = REPO_ROOT / "docs" / "runbook.md"


def runbook_section(alarm: str) -> str:
    """The runbook anchor for an alarm of the template."""
    fixed = {
        "ApiServerErrorsAlarm": "api-5xx",
        "PolicyNoticeDeadlineAlarm": "policy-notice-deadline",
        "PolicyNoticeFailedAlarm": "bad-customer-record",
        "MarketingDeliveryFailedAlarm": "bad-customer-record",
        "CampaignSegmentDeadLettersAlarm": "campaign-segment-dead-letters",
    }
    if alarm in fixed:
        return fixed[alarm]
    if alarm.endswith("ThrottlesAlarm"):
        return "function-throttles"
    return "function-errors" if alarm.endswith("ErrorsAlarm") else f"no section for {alarm}"


def test_the_runbook_has_a_section_for_every_alarm_and_a_row_for_every_function(template, functions):
    text = RUNBOOK.read_text()
    sections = dict(re.findall(r'<a id="([a-z0-9-]+)"></a>\n## [^\n]*\(`([^`]+)`', text))
    for alarm in resources_of(template, "AWS::CloudWatch::Alarm"):
        assert runbook_section(alarm) in sections, alarm
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE))
    assert {f.name for f in functions} <= rows
    for section in sections:
        body = text.split(f'<a id="{section}"></a>', 1)[1].split("<a id=", 1)[0]
        assert all(part in body for part in ("**Means:**", "**Open:**", "**Fixed when:**")), section


def test_the_runbook_names_only_test_events_that_exist():
    text = RUNBOOK.read_text()
    for function, example in re.findall(r"`([a-z_]+)` → `([A-Za-z0-9._-]+)`", text):
        if examples_of(function):  # functions still being built elsewhere have none here
            assert example in examples_of(function), (function, example)
