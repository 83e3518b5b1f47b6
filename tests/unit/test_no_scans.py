"""No work on a request path grows with the whole table: the API and every ops function
that acts on one customer may not Scan. infra/function_access.json is what each deployed
role allows, and tests/iam_guard.py enforces it at run time on every integration test
(a botocore `before-call` hook sees each DynamoDB call of the function running), so a
route or a per-customer ops function that scans fails the tests that exercise it."""

from infra.iam import load_access

# Bulk work over every customer, campaign or bucket: scanning (in segments) is the point.
MAY_SCAN = {
    "ops_send_marketing",
    "deliver_campaign_segments",  # a segment of a campaign's parallel scan
    "dispatch_policy_notices",
    "dispatch_marketing",
    "ops_abuse_cases",
    "ops_site_statistics",
    "destroy_stats_salts",
}


def test_only_bulk_functions_may_scan():
    scanning = {
        name: sorted(table for table, verbs in grant.get("tables", {}).items() if "scan" in verbs)
        for name, grant in load_access().items()
    }
    offenders = {name: tables for name, tables in scanning.items() if tables and name not in MAY_SCAN}
    assert offenders == {}


def test_the_guard_sees_a_scan_as_its_own_verb():
    from tests.iam_guard import table_calls

    assert table_calls("Scan", {"TableName": "pledge-test-customers"}) == [("pledge-test-customers", "scan")]
