"""Payment methods and the identity document: checked, sealed with KMS (the stand-in),
masked everywhere, revealed only by ops with a reason the customer sees, shredded on
delete and at anonymization. Against DynamoDB Local and the KMS stand-in."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib import envelope
from chalicelib.services import sensitive
from chalicelib.store import sensitive as store
from chalicelib.store.base import utc_now
from tests.helpers import call, signup

VISA = "4111 1111 1111 1111"
NEXT_YEAR = utc_now().year + 1
IBAN = "GB82 WEST 1234 5698 7654 32"
REASON = "Chargeback dispute 2026-114, bank asked for the full number"


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def card(number: str = VISA, cvc: str = "123", exp_month: int = 12, exp_year: int = NEXT_YEAR) -> dict:
    return {
        "type": "card",
        "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc, "holder_name": "Jane Doe"},
    }


def bank(iban: str = IBAN) -> dict:
    return {"type": "bank_account", "bank_account": {"iban": iban, "holder_name": "Jane Doe"}}


def reveal(client, customer_number: str, item: str, reason: str = REASON) -> dict:
    return client.lambda_.invoke(
        "ops_reveal_sensitive", {"customer_number": customer_number, "item": item, "reason": reason}
    ).payload


def test_a_card_is_stored_masked_and_listed_masked(client):
    account = signup(client)
    created = call(client, "POST", "/account/payment-methods", card(), account=account)
    assert created.status_code == 201, created.body
    body = created.json
    assert body["payment_method_id"].startswith("pm_") and body["created_at"].endswith("Z")
    assert {k: body[k] for k in ("type", "brand", "last4", "exp_month", "exp_year", "holder_name")} == {
        "type": "card",
        "brand": "visa",
        "last4": "1111",
        "exp_month": 12,
        "exp_year": NEXT_YEAR,
        "holder_name": "Jane Doe",
    }
    listed = call(client, "GET", "/account/payment-methods", account=account)
    assert listed.json == {"payment_methods": [body]}
    assert "4111111111111111" not in listed.body.decode()


def test_a_bank_account_keeps_the_last_four_of_the_iban(client):
    account = signup(client)
    created = call(client, "POST", "/account/payment-methods", bank("gb82 west 1234 5698 7654 32"), account=account)
    assert created.status_code == 201, created.body
    assert created.json["type"] == "bank_account" and created.json["last4"] == "5432"
    assert not {"brand", "exp_month", "exp_year"} & set(created.json)


@pytest.mark.parametrize(
    "number, brand",
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3566002020360505", "unknown"),
    ],
)
def test_brand_comes_from_the_prefix(client, number, brand):
    account = signup(client)
    created = call(client, "POST", "/account/payment-methods", card(number), account=account)
    assert created.status_code == 201, created.body
    assert (created.json["brand"], created.json["last4"]) == (brand, number[-4:])


BAD_INPUTS = [
    ("luhn", card("4111 1111 1111 1112"), "card.number", "4111 1111 1111 1112"),
    ("expired", card(exp_month=1, exp_year=2020), "card.exp_month", VISA),
    ("short", card("4111 1111 111"), "card.number", "4111 1111 111"),
    ("letters", card("4111 1111 abcd 1111"), "card.number", "4111 1111 abcd 1111"),
    ("too long", card("4111 1111 1111 1111 1111"), "card.number", "4111 1111 1111 1111 1111"),
    ("5-digit cvc", card(cvc="98765"), "card.cvc", "98765"),
    ("cvc letters", card(cvc="12a"), "card.cvc", "12a"),
    ("month 13", card(exp_month=13), "card.exp_month", VISA),
    ("iban check digits", bank("GB83 WEST 1234 5698 7654 32"), "bank_account.iban", "GB83WEST12345698765432"),
    ("iban letters only", bank("NOT AN IBAN AT ALL"), "bank_account.iban", "NOTANIBANATALL"),
    ("no card", {"type": "card"}, "card", VISA),
]


@pytest.mark.parametrize("case, body, path, number", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_answers_400_with_the_path_and_never_the_number(client, case, body, path, number):
    account = signup(client)
    response = call(client, "POST", "/account/payment-methods", body, account=account)
    assert response.status_code == 400, response.body
    assert response.json["error"]["code"] == "validation_error"
    assert path in [d["path"] for d in response.json["error"]["details"]]
    text = response.body.decode()
    for secret in (number, number.replace(" ", ""), body.get("card", {}).get("cvc", "no cvc")):
        assert secret not in text
    assert call(client, "GET", "/account/payment-methods", account=account).json == {"payment_methods": []}


def test_deleting_a_payment_method_destroys_its_ciphertext(client, clean_stack):
    account = signup(client)
    created = call(client, "POST", "/account/payment-methods", card(), account=account).json
    item_id = created["payment_method_id"]
    assert store.get(account.customer_number, item_id) is not None
    deleted = call(client, "DELETE", f"/account/payment-methods/{item_id}", account=account)
    assert deleted.status_code == 204 and not deleted.body
    assert store.get(account.customer_number, item_id) is None
    assert call(client, "GET", "/account/payment-methods", account=account).json == {"payment_methods": []}
    assert call(client, "DELETE", f"/account/payment-methods/{item_id}", account=account).status_code == 404
    assert reveal(client, account.customer_number, item_id)["error"]["code"] == "not_found"


def test_another_customers_or_a_malformed_payment_method_is_not_found(client):
    owner, other = signup(client), signup(client)
    item_id = call(client, "POST", "/account/payment-methods", card(), account=owner).json["payment_method_id"]
    for path in (
        f"/account/payment-methods/{item_id}",
        "/account/payment-methods/x" + "9" * 3000,
        "/account/payment-methods/identity_document",
    ):
        assert call(client, "DELETE", path, account=other).status_code == 404
    assert len(call(client, "GET", "/account/payment-methods", account=owner).json["payment_methods"]) == 1


def test_login_and_csrf_are_needed(client):
    account = signup(client)
    assert call(client, "POST", "/account/payment-methods", card()).status_code == 401
    assert call(client, "POST", "/account/payment-methods", card(), account=account, csrf=False).status_code == 403
    assert (
        call(
            client, "PUT", "/account/identity-document", {"type": "passport", "country": "NL", "number": "NX12345"}
        ).status_code
        == 401
    )


def test_identity_document_put_get_delete(client):
    account = signup(client)
    assert call(client, "GET", "/account/identity-document", account=account).status_code == 404
    document = {"type": "passport", "country": "NL", "number": "NX-12 34 567"}
    put = call(client, "PUT", "/account/identity-document", document, account=account)
    assert put.status_code == 200, put.body
    assert {k: put.json[k] for k in ("type", "country", "last4")} == {
        "type": "passport",
        "country": "NL",
        "last4": "4567",
    }
    assert call(client, "GET", "/account/identity-document", account=account).json == put.json
    replaced = call(
        client,
        "PUT",
        "/account/identity-document",
        {**document, "type": "tax_id", "number": "99887766"},
        account=account,
    )
    assert (replaced.json["type"], replaced.json["last4"]) == ("tax_id", "7766")
    assert call(client, "DELETE", "/account/identity-document", account=account).status_code == 204
    assert call(client, "GET", "/account/identity-document", account=account).status_code == 404
    assert call(client, "DELETE", "/account/identity-document", account=account).status_code == 404


@pytest.mark.parametrize("number", ["NX1", "NX12#45", "A" * 41, "NX12\n", "----"])
def test_a_bad_identity_number_answers_400_at_number(client, number):
    account = signup(client)
    response = call(
        client,
        "PUT",
        "/account/identity-document",
        {"type": "passport", "country": "NL", "number": number},
        account=account,
    )
    assert response.status_code == 400
    assert [d["path"] for d in response.json["error"]["details"]] == ["number"]
    assert number not in response.body.decode()


def test_reveal_round_trips_and_the_customer_sees_it_in_the_export(client):
    account = signup(client)
    card_id = call(client, "POST", "/account/payment-methods", card(), account=account).json["payment_method_id"]
    iban_id = call(client, "POST", "/account/payment-methods", bank(), account=account).json["payment_method_id"]
    call(
        client,
        "PUT",
        "/account/identity-document",
        {"type": "national_id", "country": "DE", "number": "L01X00T47"},
        account=account,
    )
    assert reveal(client, account.customer_number, card_id)["number"] == "4111111111111111"
    assert reveal(client, account.customer_number, iban_id)["number"] == "GB82WEST12345698765432"
    revealed = reveal(client, account.customer_number, "identity_document", "Court order 12/2026 asks for it")
    assert (revealed["number"], revealed["type"]) == ("L01X00T47", "national_id")
    export = call(client, "GET", "/account/export", account=account)
    text = export.body.decode()
    for secret in ("4111111111111111", "GB82WEST12345698765432", "L01X00T47"):
        assert secret not in text
    records = export.json
    assert {m["last4"] for m in records["payment_methods"]} == {"1111", "5432"}
    assert records["identity_document"]["last4"] == "0T47"
    reveals = records["sensitive_reveals"]
    assert [(r["item"], r["reason"]) for r in reveals] == [
        (card_id, REASON),
        (iban_id, REASON),
        ("identity_document", "Court order 12/2026 asks for it"),
    ]
    assert all(r["at"].endswith("Z") and r["by"] == "ops" for r in reveals)


def test_reveal_needs_a_reason_and_an_existing_item(client):
    account = signup(client)
    card_id = call(client, "POST", "/account/payment-methods", card(), account=account).json["payment_method_id"]
    assert reveal(client, account.customer_number, card_id, "too short")["error"]["code"] == "validation_error"
    assert reveal(client, account.customer_number, "identity_document")["error"]["code"] == "not_found"
    assert reveal(client, "C1", card_id)["error"]["code"] == "not_found"
    export = call(client, "GET", "/account/export", account=account).json
    assert export["sensitive_reveals"] == []


def test_a_ciphertext_moved_to_another_customers_item_does_not_decrypt(client):
    victim, thief = signup(client), signup(client)
    stolen_id = call(client, "POST", "/account/payment-methods", card(), account=victim).json["payment_method_id"]
    thief_id = call(client, "POST", "/account/payment-methods", card("5555555555554444"), account=thief).json[
        "payment_method_id"
    ]
    stolen = store.get(victim.customer_number, stolen_id)
    moved = store.get(thief.customer_number, thief_id)
    moved.wrapped_key, moved.nonce, moved.ciphertext = stolen.wrapped_key, stolen.nonce, stolen.ciphertext
    moved.save()
    with pytest.raises(envelope.UnsealFailed):
        sensitive.open_item(store.get(thief.customer_number, thief_id))
    assert reveal(client, thief.customer_number, thief_id)["error"]["code"] == "conflict"
    # the same item id under another customer number fails too (the context names both)
    stolen.customer_number = thief.customer_number
    with pytest.raises(envelope.UnsealFailed):
        sensitive.open_item(stolen)
    assert reveal(client, victim.customer_number, stolen_id)["number"] == "4111111111111111"


def test_the_data_key_is_bound_to_the_context_in_kms_itself(clean_stack):
    """Not only AES-GCM's associated data: KMS refuses to unwrap under another context."""
    kms = clean_stack.client("kms")
    sealed = envelope.seal(kms, clean_stack.kms_key_id, "4111111111111111", {"customer_number": "C1", "item": "pm_1"})
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=sealed.wrapped_key, EncryptionContext={"customer_number": "C2", "item": "pm_1"})
    assert (
        envelope.unseal(kms, clean_stack.kms_key_id, sealed, {"customer_number": "C1", "item": "pm_1"})
        == "4111111111111111"
    )


def test_anonymization_destroys_every_ciphertext(client, clean_stack):
    from chalicelib.services.erasure import erase_customer_content

    account, other = signup(client), signup(client)
    for who in (account, other):
        call(client, "POST", "/account/payment-methods", card(), account=who)
        call(
            client,
            "PUT",
            "/account/identity-document",
            {"type": "passport", "country": "NL", "number": "NX1234"},
            account=who,
        )
    assert len(store.items_of(account.customer_number)) == 2
    erase_customer_content(account.customer_number)
    assert store.items_of(account.customer_number) == []
    assert len(store.items_of(other.customer_number)) == 2
    erase_customer_content(account.customer_number)  # safe to repeat


def test_nothing_readable_is_stored(client, clean_stack):
    """Every table scanned raw (binary attributes as base64 too): no number, no CVC."""
    account = signup(client)
    call(client, "POST", "/account/payment-methods", card("5105 1051 0510 5100", cvc="8642"), account=account)
    call(client, "POST", "/account/payment-methods", bank("DE89 3704 0044 0532 0130 00"), account=account)
    call(
        client,
        "PUT",
        "/account/identity-document",
        {"type": "passport", "country": "NL", "number": "QZ7Y3K9W1"},
        account=account,
    )
    dynamodb = clean_stack.dynamodb()
    dump, clear = [], []
    for table in clean_stack.table_names():
        for item in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]:
            dump.append(json.dumps(item, default=lambda b: base64.b64encode(b).decode()))
            dump += [bytes(v["B"]).decode("latin-1") for v in item.values() if "B" in v]
            clear.append(json.dumps({k: v for k, v in item.items() if "B" not in v}))
    text = "\n".join(dump)
    for secret in ("5105105105105100", "5105 1051 0510 5100", "DE89370400440532013000", "QZ7Y3K9W1"):
        assert secret not in text, secret
    # the CVC: in no attribute name, and not as a digit run of its own in any value stored in clear
    assert "cvc" not in "\n".join(clear).lower() and not re.search(r"(?<![0-9])8642(?![0-9])", "\n".join(clear))
    assert "5100" in text and "3000" in text  # the last four are kept, so the scan did see the items


text_or_other = st.text(max_size=40) | st.integers() | st.floats(allow_nan=False) | st.none() | st.booleans()
card_fields = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(("number", "exp_month", "exp_year", "cvc", "holder_name"), text_or_other)
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["card", "bank_account", "other"]),
        "card": card_fields | text_or_other,
        "bank_account": st.fixed_dictionaries({}, optional={"iban": text_or_other, "holder_name": text_or_other}),
    },
)


@pytest.fixture(scope="module")
def client_and_account(local_stack):
    local_stack.clean()
    with Client(app, stage_name="local") as test_client:
        yield test_client, signup(test_client)
    local_stack.clean()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=bodies,
    document=st.dictionaries(st.sampled_from(["type", "country", "number"]), text_or_other),
    item=st.text(max_size=80),
)
def test_no_input_gets_a_server_error(client_and_account, body, document, item):
    client, account = client_and_account
    responses = [
        call(client, "POST", "/account/payment-methods", body, account=account),
        call(client, "PUT", "/account/identity-document", document, account=account),
        call(
            client,
            "DELETE",
            "/account/payment-methods/" + quote(item.encode("utf-8", "surrogatepass"), safe=""),
            account=account,
        ),
    ]
    for response in responses:
        assert response.status_code < 500, response.body


def test_card_testing_through_the_route_blocks_cards_from_the_address_until_ops_close_the_case(client):
    account = signup(client)
    for bad in ("4111 1111 1111 1112", "1234", "4111-1111-1111-11x1", "5555555555554445", "4000000000000001"):
        refused = call(client, "POST", "/account/payment-methods", card(bad), account=account)
        assert refused.status_code == 400 and refused.json["error"]["details"][0]["path"] == "card.number"
    blocked = call(client, "POST", "/account/payment-methods", card(), account=account)
    assert (blocked.status_code, blocked.json["error"]["code"]) == (429, "rate_limited")
    assert call(client, "POST", "/account/payment-methods", bank(), account=account).status_code == 201
    [case] = client.lambda_.invoke("ops_abuse_cases", {"status": "open"}).payload["cases"]
    assert case["rule"] == "card_testing" and case["customer_numbers"] == [account.customer_number]
    closed = client.lambda_.invoke("ops_close_abuse_case", {"case_id": case["case_id"], "resolution": "our tests"})
    assert closed.payload["status"] == "closed"
    assert call(client, "POST", "/account/payment-methods", card(), account=account).status_code == 201


def test_an_expired_card_or_a_bad_cvc_is_not_a_rejected_card_number(client):
    account = signup(client)
    for _ in range(5):
        assert call(client, "POST", "/account/payment-methods", card(exp_year=2020), account=account).status_code == 400
        assert call(client, "POST", "/account/payment-methods", card(cvc="12345"), account=account).status_code == 400
    assert call(client, "POST", "/account/payment-methods", card(), account=account).status_code == 201
