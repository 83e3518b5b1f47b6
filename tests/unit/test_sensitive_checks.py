"""Card and IBAN checks, brands, the number redaction in logs, and the IAM guard's KMS
check (no network)."""

import json
import logging

import pytest

from chalicelib.checksums import iban_valid, luhn_valid
from chalicelib.errors import ValidationFailed
from chalicelib.observability import get_logger, mask_numbers
from chalicelib.services.payment_methods import brand_of, card_digits, normal_iban
from tests import iam_guard


@pytest.mark.parametrize(
    "digits, valid",
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("378282246310005", True),
        ("79927398713", True),
        ("0", True),
    ],
)
def test_luhn(digits, valid):
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    "iban, valid",
    [
        ("GB82WEST12345698765432", True),
        ("NL91ABNA0417164300", True),
        ("DE89370400440532013000", True),
        ("GB82WEST12345698765433", False),
        ("GB82", False),
        ("1282WEST12345698765432", False),
        ("GB82WEST1234569876543!", False),
    ],
)
def test_iban(iban, valid):
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(
    "number, brand",
    [
        ("4000056655665556", "visa"),
        ("5105105105105100", "mastercard"),
        ("2720999999999996", "mastercard"),
        ("2721000000000004", "unknown"),
        ("371449635398431", "amex"),
        ("6445644564456445", "discover"),
        ("6221260000000000", "discover"),
        ("6229260000000000", "unknown"),
        ("3530111333300000", "unknown"),
    ],
)
def test_brand_from_prefix(number, brand):
    assert brand_of(number) == brand


def test_card_number_errors_name_the_path_and_never_the_number():
    for number in ("4111 1111 1111 1112", "4111-1111-111", "4111 x111 1111 1111", "٤١١١١١١١١١١١١١١١"):
        with pytest.raises(ValidationFailed) as raised:
            card_digits(number)
        assert raised.value.details[0]["path"] == "card.number"
        assert number not in json.dumps(raised.value.to_dict(), ensure_ascii=False)
    assert card_digits("4111-1111 1111-1111") == "4111111111111111"
    assert normal_iban("gb82 west 1234 5698 7654 32") == "GB82WEST12345698765432"


def test_numbers_are_redacted_in_any_text():
    text = "card 4111 1111 1111 1111, dashed 5105-1051-0510-5100, iban GB82 WEST 1234 5698 7654 32 end"
    assert mask_numbers(text) == "card [redacted], dashed [redacted], iban [redacted] end"
    kept = "order C1234567890 at 2026-11-27T10:00:00Z, 4111111111111112 and GB83WEST12345698765432"
    assert mask_numbers(kept) == kept


def test_the_logger_never_writes_a_card_number():
    record = logging.LogRecord("pledge", logging.INFO, __file__, 1, "failed for 4111111111111111", None, None)
    record.detail = {"note": "iban NL91ABNA0417164300"}
    line = get_logger().registered_formatter.format(record)
    assert "4111111111111111" not in line and "NL91ABNA0417164300" not in line
    assert json.loads(line)["message"] == "failed for [redacted]"


def test_the_iam_guard_refuses_decrypt_to_the_api():
    context = {"customer_number": "C1", "item": "pm_1"}
    with iam_guard.running("api_handler"):
        iam_guard.check_kms("kms:GenerateDataKey", context)
        assert iam_guard._denied == []
        iam_guard.check_kms("kms:Decrypt", context)
        iam_guard.check_kms("kms:GenerateDataKey", {"customer_number": "C1"})
    denied, iam_guard._denied[:] = list(iam_guard._denied), []
    assert denied == [
        "api_handler: kms:Decrypt on the sensitive key (add it to infra/function_access.json if the function needs it)",
        "api_handler: kms:GenerateDataKey with encryption context keys ['customer_number'] (add it to "
        "infra/function_access.json if the function needs it)",
    ]
    with iam_guard.running("ops_reveal_sensitive"):
        iam_guard.check_kms("kms:Decrypt", context)
    assert iam_guard._denied == []
