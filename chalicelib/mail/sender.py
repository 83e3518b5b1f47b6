"""The one place that hands mail to SES (v2 API, raw MIME). Takes its client as an argument."""

from __future__ import annotations


def send_raw(client, sender: str, recipient: str, raw: bytes, configuration_set: str = "") -> str:
    """Send one message; returns the SES message id."""
    request = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [recipient]},
        "Content": {"Raw": {"Data": raw}},
    }
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    return client.send_email(**request)["MessageId"]
