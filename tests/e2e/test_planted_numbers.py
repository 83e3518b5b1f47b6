"""The planted-number test: unique card numbers, IBANs, ID numbers and CVCs go in through
the HTTP API of `chalice local`, served as `make run` serves it: DynamoDB Local keeping its
data in files (not in memory), the app's log in a file. Then every file of that stack,
every table scanned raw and every response are searched: no number in clear, and no CVC
at all. `devstack invoke ops_reveal_sensitive` (a separate process, as ops run it) gets
each number back, and the customer's export lists each reveal."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devstack import procs
from devstack.config import REPO_ROOT, Ports, free_port, url
from devstack.dynamodb_local import dynamodb_client, start_dynamodb_local
from devstack.env import local_env
from devstack.run import start_chalice_local
from devstack.tables import create_tables
from tests.helpers import PASSWORD

TABLE_PREFIX = "pledge-local-"  # what `devstack invoke` expects, in a DynamoDB Local of our own
CUSTOMERS = 3


def luhn_digit(partial: str) -> str:
    total = 0
    for position, char in enumerate(reversed(partial)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def planted_card(prefix: str) -> str:
    partial = prefix + "".join(secrets.choice("0123456789") for _ in range(15 - len(prefix)))
    return partial + luhn_digit(partial)


def planted_iban() -> str:
    bban = "".join(secrets.choice("0123456789") for _ in range(18))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "DE00")) % 97
    return f"DE{check:02d}{bban}"


def planted_id() -> str:
    return "ZQ" + "".join(secrets.choice("ABCDEFGHJKLMNPRSTUVWXY0123456789") for _ in range(10))


@pytest.fixture(scope="module")
def file_stack(local_stack, tmp_path_factory):
    """DynamoDB Local with -dbPath and chalice local on it, beside the session's KMS stand-in."""
    folder = tmp_path_factory.mktemp("planted")
    ports = Ports(api=free_port(), dynamodb=free_port(), aws=local_stack.ports.aws)
    dynamodb = start_dynamodb_local(ports.dynamodb, db_path=folder / "dynamodb", log=folder / "dynamodb.log")
    api = None
    try:
        create_tables(dynamodb_client(ports.dynamodb), TABLE_PREFIX)
        env = local_env(stack_ports=ports, table_prefix=TABLE_PREFIX, secrets_dir=folder / "secrets")
        api = start_chalice_local(ports.api, env, log=folder / "chalice.log")
        yield url(ports.api), ports, folder
    finally:
        procs.stop(api)
        procs.stop(dynamodb)


def submit(api: str, planted: dict) -> dict:
    browser = requests.Session()
    email = f"planted.{secrets.token_hex(5)}@example.com"
    signup = browser.post(
        f"{api}/signup", json={"name": "Pat Planted", "email": email, "password": PASSWORD}, timeout=60
    )
    assert signup.status_code == 201, signup.text
    headers = {"X-CSRF-Token": signup.json()["csrf_token"]}
    answers = []
    for number, cvc in planted["cards"]:
        card = {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": cvc, "holder_name": "Pat Planted"}
        answers.append(
            browser.post(
                f"{api}/account/payment-methods", json={"type": "card", "card": card}, headers=headers, timeout=60
            )
        )
    bad = {
        "number": planted["rejected"],
        "exp_month": 12,
        "exp_year": 2031,
        "cvc": planted["cards"][0][1],
        "holder_name": "Pat Planted",
    }
    rejected = browser.post(
        f"{api}/account/payment-methods", json={"type": "card", "card": bad}, headers=headers, timeout=60
    )
    assert rejected.status_code == 400
    answers.append(rejected)
    spaced = " ".join(re.findall(".{1,4}", planted["iban"]))
    answers.append(
        browser.post(
            f"{api}/account/payment-methods",
            headers=headers,
            timeout=60,
            json={"type": "bank_account", "bank_account": {"iban": spaced, "holder_name": "Pat Planted"}},
        )
    )
    answers.append(
        browser.put(
            f"{api}/account/identity-document",
            headers=headers,
            timeout=60,
            json={"type": "passport", "country": "NL", "number": planted["id"]},
        )
    )
    answers.append(browser.get(f"{api}/account/payment-methods", timeout=60))
    answers.append(browser.get(f"{api}/account/export", timeout=60))
    assert [a.status_code for a in answers[:2]] + [a.status_code for a in answers[3:]] == [201, 201, 201, 200, 200, 200]
    return {
        "customer_number": signup.json()["customer_number"],
        "browser": browser,
        "ids": [a.json()["payment_method_id"] for a in answers[:2]] + [answers[3].json()["payment_method_id"]],
        "text": "\n".join(a.text for a in answers),
    }


def raw_dump(ports: Ports) -> tuple[str, str]:
    """Every item of every table, raw: (everything, binaries as base64 and as bytes too;
    the attributes stored in clear only)."""
    client = dynamodb_client(ports.dynamodb)
    everything, clear = [], []
    for table in client.list_tables()["TableNames"]:
        for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            for item in page["Items"]:
                everything.append(json.dumps(item, default=lambda b: base64.b64encode(b).decode()))
                everything += [bytes(v["B"]).decode("latin-1") for v in item.values() if "B" in v]
                clear.append(json.dumps({k: v for k, v in item.items() if "B" not in v}))
    return "\n".join(everything), "\n".join(clear)


def without_random_runs(data: bytes) -> bytes:
    """The data less long base64 runs and runs of non-text bytes (ciphertexts, keys, SQLite
    page structure), where any short digit string turns up by chance. A CVC written in
    clear would stand between quotes or spaces, not inside such a run."""
    return re.sub(rb"[A-Za-z0-9+/=]{40,}|[^\x09\x0a\x0d\x20-\x7e]+", b" ", data)


def devstack_invoke(ports: Ports, event: dict) -> tuple[int, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGE_")}
    env.update(PLEDGE_DYNAMODB_PORT=str(ports.dynamodb), PLEDGE_AWS_PORT=str(ports.aws), PLEDGE_API_PORT=str(ports.api))
    proc = subprocess.run(
        [sys.executable, "-m", "devstack", "invoke", "ops_reveal_sensitive", json.dumps(event)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, json.loads(proc.stdout)


def every_file(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def test_planted_numbers_are_nowhere_in_clear(file_stack, local_stack):
    api, ports, folder = file_stack
    # CVCs from 9101-9999, all different: no year, port or time looks like one of these on its own.
    cvcs = iter(str(n) for n in secrets.SystemRandom().sample(range(9101, 10000), 2 * CUSTOMERS))
    planted = []
    for _ in range(CUSTOMERS):
        cards = [(planted_card("4"), next(cvcs)), (planted_card("51"), next(cvcs))]
        # a Luhn-invalid variant of a valid number: rejected, and never stored or logged either
        rejected = cards[0][0][:-1] + str((int(cards[0][0][-1]) + 1) % 10)
        planted.append({"cards": cards, "rejected": rejected, "iban": planted_iban(), "id": planted_id()})
    customers = [submit(api, p) for p in planted]

    revealed = []
    for customer in customers:
        for item in customer["ids"] + ["identity_document"]:
            rc, result = devstack_invoke(
                ports,
                {
                    "customer_number": customer["customer_number"],
                    "item": item,
                    "reason": "Planted-number test: round trip",
                },
            )
            assert rc == 0, result
            revealed.append(result["number"])
    expected = [n for p in planted for n in [p["cards"][0][0], p["cards"][1][0], p["iban"], p["id"]]]
    assert revealed == expected

    export = customers[0]["browser"].get(f"{api}/account/export", timeout=60).json()
    assert [r["reason"] for r in export["sensitive_reveals"]] == ["Planted-number test: round trip"] * 4

    files = every_file(folder, local_stack.tmp)
    assert any(p.suffix == ".db" for p in files), "DynamoDB Local kept no data file"
    contents = {p: p.read_bytes() for p in files}
    table_text, clear_text = raw_dump(ports)
    responses = "\n".join(c["text"] for c in customers)
    numbers = [n for p in planted for n in [p["cards"][0][0], p["cards"][1][0], p["rejected"], p["iban"], p["id"]]]
    for number in numbers:
        for needle in {number, " ".join(re.findall(".{1,4}", number))}:
            assert needle not in table_text and needle not in responses, number
            for path, data in contents.items():
                assert needle.encode() not in data, (number, path)
    texts = {path: without_random_runs(data) for path, data in contents.items()}
    texts.update({"tables": clear_text.encode(), "responses": responses.encode()})
    for cvc in [cvc for p in planted for _, cvc in p["cards"]]:
        # Standing alone: not inside a word or a request id ("…a9913f…", "…-9160-…").
        standalone = re.compile(rb"(?<![0-9A-Za-z-])" + cvc.encode() + rb"(?![0-9A-Za-z-])")
        for where, text in texts.items():
            assert not standalone.search(text), (cvc, where)
    for where, text in texts.items():
        assert b"cvc" not in text.lower(), where
    for p in planted:  # the last four are there: the search did look at the items
        assert p["iban"][-4:] in table_text and p["id"][-4:] in table_text
