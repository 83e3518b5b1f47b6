import json
import logging

from chalicelib.observability import get_logger, mask_email, redact


def test_emails_are_masked():
    assert mask_email("write to jane.doe@example.com now") == "write to j***@example.com now"


def test_secret_keys_are_redacted_at_any_depth():
    data = {"password": "hunter2", "nested": {"csrf_token": "abc", "card_number": "4111"}, "name": "ok"}
    assert redact(data) == {
        "password": "[redacted]",
        "nested": {"csrf_token": "[redacted]", "card_number": "[redacted]"},
        "name": "ok",
    }


def test_the_logger_output_is_redacted():
    logger = get_logger()
    record = logging.LogRecord("pledge", logging.INFO, __file__, 1, "signup by jane@example.com", None, None)
    record.password = "hunter2"
    line = json.loads(logger.registered_formatter.format(record))
    assert line["message"] == "signup by j***@example.com"
    assert line["password"] == "[redacted]"
