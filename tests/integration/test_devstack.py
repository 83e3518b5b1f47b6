"""The local stack itself: tables, outbox, KMS across restarts, scheduler, invoke."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from email.message import EmailMessage

import pytest

from devstack.config import REPO_ROOT
from devstack.functions import discover
from devstack.scheduler import Scheduler, parse_rate
from devstack.tables import TABLES_FILE, table_definitions, truncate_tables
from tests.stack import outbox


def _table_resources():
    resources = json.loads(TABLES_FILE.read_text())["Resources"]
    return {
        r["Properties"]["TableName"]["Fn::Sub"].replace("pledge-${Stage}-", ""): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }


def _key_schema(schema):
    return sorted((k["AttributeName"], k["KeyType"]) for k in schema)


def test_tables_match_infra(clean_stack):
    client = clean_stack.dynamodb()
    expected = _table_resources()
    assert expected, "infra/tables.json defines no table"
    listed = set(client.list_tables()["TableNames"])
    assert {f"pledge-test-{suffix}" for suffix in expected} <= listed
    for suffix, props in expected.items():
        name = f"pledge-test-{suffix}"
        table = client.describe_table(TableName=name)["Table"]
        assert _key_schema(table["KeySchema"]) == _key_schema(props["KeySchema"]), name
        assert sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]) == sorted(
            (a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]
        ), name
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", name
        got_gsis = {
            g["IndexName"]: (_key_schema(g["KeySchema"]), g["Projection"]["ProjectionType"])
            for g in table.get("GlobalSecondaryIndexes", [])
        }
        want_gsis = {
            g["IndexName"]: (_key_schema(g["KeySchema"]), g["Projection"]["ProjectionType"])
            for g in props.get("GlobalSecondaryIndexes", [])
        }
        assert got_gsis == want_gsis, name
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if props.get("TimeToLiveSpecification", {}).get("Enabled"):
            assert ttl["TimeToLiveStatus"] == "ENABLED", name
            assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"], name
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED", name


def test_create_tables_is_idempotent_and_generic(clean_stack, tmp_path):
    from devstack.tables import create_tables

    assert create_tables(clean_stack.dynamodb(), "pledge-test-") == []
    extra = json.loads(TABLES_FILE.read_text())
    extra["Resources"] = {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Things": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {"Fn::Sub": "pledge-${Stage}-things"},
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                ],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
                "Tags": [{"Key": "a", "Value": "b"}],
                "DeletionProtectionEnabled": True,
                "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "Key"}},
            },
        },
    }
    path = tmp_path / "tables.json"
    path.write_text(json.dumps(extra))
    client = clean_stack.dynamodb()
    prefix = "pledge-generic-"
    assert [d["TableName"] for d in table_definitions(prefix, path)] == ["pledge-generic-things"]
    assert create_tables(client, prefix, path) == ["pledge-generic-things"]
    assert create_tables(client, prefix, path) == []
    assert (
        client.describe_time_to_live(TableName="pledge-generic-things")["TimeToLiveDescription"]["AttributeName"]
        == "ttl"
    )
    client.put_item(TableName="pledge-generic-things", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "kind": {"S": "k"}})

    # An index added to infra/tables.json later reaches tables kept in .local/ from before.
    things = extra["Resources"]["Things"]["Properties"]
    things["AttributeDefinitions"].append({"AttributeName": "kind", "AttributeType": "S"})
    things["GlobalSecondaryIndexes"] = [
        {
            "IndexName": "by_kind",
            "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ]
    path.write_text(json.dumps(extra))
    assert create_tables(client, prefix, path) == []
    found = client.query(
        TableName="pledge-generic-things",
        IndexName="by_kind",
        KeyConditionExpression="kind = :k",
        ExpressionAttributeValues={":k": {"S": "k"}},
    )["Items"]
    assert [item["pk"]["S"] for item in found] == ["a"]  # the items already there are indexed too
    assert create_tables(client, prefix, path) == []

    assert truncate_tables(client, prefix, path) == 1
    client.delete_table(TableName="pledge-generic-things")


def test_truncate_empties_every_table(clean_stack):
    client = clean_stack.dynamodb()
    written = 0
    for definition in table_definitions("pledge-test-"):
        attrs = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
        for i in range(30):  # more than one batch of 25
            item = {}
            for key in definition["KeySchema"]:
                kind = attrs[key["AttributeName"]]
                item[key["AttributeName"]] = (
                    {kind: str(i) if kind == "N" else f"v{i}"} if kind != "B" else {"B": b"%d" % i}
                )
            client.put_item(TableName=definition["TableName"], Item=item)
            written += 1
    assert truncate_tables(client, "pledge-test-") == written
    for name in clean_stack.table_names():
        assert client.scan(TableName=name, Select="COUNT")["Count"] == 0, name


def _send(stack, to, subject, extra_headers=None):
    msg = EmailMessage()
    msg["From"] = "Hostbay Privacy <privacy@hostbay.example>"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    msg.set_content("Plain text, café\n")
    msg.add_alternative("<p>HTML, café</p>\n", subtype="html")
    return stack.client("sesv2").send_email(Destination={"ToAddresses": to}, Content={"Raw": {"Data": msg.as_bytes()}})[
        "MessageId"
    ]


def test_outbox_parses_raw_mime_and_keeps_custom_headers(clean_stack):
    assert outbox() == []
    _send(clean_stack, ["first@example.com"], "First")
    _send(
        clean_stack,
        ["ann@example.com", "bob@example.com"],
        "Änderung der Datenschutzerklärung",
        {
            "List-Unsubscribe": "<http://127.0.0.1:8000/unsubscribe?token=abc.def>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    messages = outbox()
    assert [m["subject"] for m in messages] == ["First", "Änderung der Datenschutzerklärung"]
    second = messages[1]
    assert second["to"] == ["ann@example.com", "bob@example.com"]
    assert second["from"] == "Hostbay Privacy <privacy@hostbay.example>"
    assert second["headers"]["List-Unsubscribe"] == "<http://127.0.0.1:8000/unsubscribe?token=abc.def>"
    assert second["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert second["text"].strip() == "Plain text, café"
    assert second["html"].strip() == "<p>HTML, café</p>"
    # the CLI prints the same list
    env = dict(os.environ, PLEDGE_AWS_PORT=str(clean_stack.ports.aws))
    cli = subprocess.run(
        [sys.executable, "-m", "devstack", "outbox", "--json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(cli.stdout) == messages


def test_clean_stack_cleared_the_outbox(clean_stack):
    assert outbox() == []
    _send(clean_stack, ["x@example.com"], "still works after a reset")
    assert len(outbox()) == 1


def test_kms_ciphertext_survives_an_aws_stand_in_restart(clean_stack):
    kms = clean_stack.client("kms")
    context = {"customer_number": "C1"}
    blob = kms.encrypt(KeyId=clean_stack.kms_key_id, Plaintext=b"4111111111111111", EncryptionContext=context)[
        "CiphertextBlob"
    ]
    data_key = kms.generate_data_key(KeyId=clean_stack.kms_key_id, KeySpec="AES_256")
    clean_stack.restart_aws()
    kms = clean_stack.client("kms")
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == b"4111111111111111"
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"customer_number": "C2"})


@pytest.mark.parametrize(
    "expression,seconds",
    [
        ("rate(5 minutes)", 300),
        ("rate(1 minute)", 60),
        ("rate(1 hour)", 3600),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("rate(3 days)", 259200),
    ],
)
def test_parse_rate(expression, seconds):
    assert parse_rate(expression) == seconds


def test_parse_rate_rejects_and_skips():
    assert parse_rate("cron(0 12 * * ? *)") is None
    for bad in ("rate(5 minute)", "rate(1 minutes)", "rate(0 minutes)", "rate(5 weeks)", "every 5 minutes"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_discovery_and_scheduler_run_functions_and_survive_errors():
    from tests.integration import fake_app

    functions = discover(fake_app)
    assert {n: f.kind for n, f in functions.items()} == {
        "ops_echo": "lambda",
        "ops_refuse": "lambda",
        "ops_boom": "lambda",
        "tick": "schedule",
        "tock": "schedule",
        "noon": "schedule",
    }
    assert functions["tock"].schedule_expression == "rate(1 hour)"
    out = io.StringIO()
    calls = []

    def runner(fn):
        calls.append(fn.name)
        if len(calls) == 1:
            raise RuntimeError("first run fails")
        from devstack.functions import call

        return call(fn, {})

    scheduler = Scheduler([f for f in functions.values() if f.kind == "schedule"], out=out, runner=runner)
    assert sorted((fn.name, interval) for fn, interval in scheduler.jobs) == [("tick", 300.0), ("tock", 3600.0)]
    scheduler.start()
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    log = out.getvalue()
    assert "noon cron(0 12 * * ? *) not run locally" in log
    assert "failed: RuntimeError: first run fails" in log
    assert (
        'tick -> {"detail_type": "Scheduled Event", "source": "aws.events"}' in log or 'tock -> {"tock": true}' in log
    )
    assert len(calls) == 2


def _invoke(stack, *args):
    env = dict(
        os.environ,
        PLEDGE_DEVSTACK_APP="tests.integration.fake_app",
        PLEDGE_DYNAMODB_PORT=str(stack.ports.dynamodb),
        PLEDGE_AWS_PORT=str(stack.ports.aws),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "devstack", "invoke", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_invoke_exit_codes(clean_stack):
    rc, out, err = _invoke(clean_stack, "ops_echo", '{"a": [1, "é"]}')
    assert rc == 0, err
    assert out["echo"] == {"a": [1, "é"]} and out["function_name"] == "ops_echo"
    assert 0 < out["remaining_ms"] <= 900000
    assert "noise the app prints" in err

    rc, out, _ = _invoke(clean_stack, "tick", "{}")
    assert (rc, out) == (0, {"detail_type": "Scheduled Event", "source": "aws.events"})

    rc, out, _ = _invoke(clean_stack, "ops_refuse", "{}")
    assert rc == 1 and out["error"]["code"] == "conflict"

    rc, out, err = _invoke(clean_stack, "ops_boom", "{}")
    assert rc == 1 and "boom" in out["error"]["message"] and "RuntimeError" in err

    rc, out, _ = _invoke(clean_stack, "ops_nope", "{}")
    assert rc == 1 and out["error"]["code"] == "unknown_function"
    assert "ops_echo" in out["error"]["known"] and "tick" in out["error"]["message"]

    rc, out, _ = _invoke(clean_stack, "ops_echo", "{not json")
    assert rc == 1 and out["error"]["code"] == "validation_error"


def test_invoke_says_when_the_stack_is_not_running(local_stack):
    from devstack.config import free_port

    env = dict(os.environ, PLEDGE_DEVSTACK_APP="tests.integration.fake_app", PLEDGE_DYNAMODB_PORT=str(free_port()))
    proc = subprocess.run(
        [sys.executable, "-m", "devstack", "invoke", "ops_echo", "{}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["error"]["code"] == "stack_not_running"


def test_api_server_fixture_serves_the_app_on_the_test_tables(api_server, clean_stack):
    import urllib.request

    assert api_server == f"http://127.0.0.1:{clean_stack.ports.api}"
    assert clean_stack.ports.api not in (8000, 8001, 8002)
    with urllib.request.urlopen(api_server + "/health", timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}
