"""Marketing preferences: the four topics of the policy, per customer."""

from __future__ import annotations

from chalicelib.settings import MARKETING_TOPICS, get_settings


def initial_topics(explicit: dict | None) -> dict:
    """Preferences at signup: the configured default (opt_out model: subscribed until the
    customer opts out; opt_in: not subscribed until they opt in), then explicit choices."""
    default = get_settings().marketing_default == "opt_out"
    topics = {topic: default for topic in MARKETING_TOPICS}
    topics.update(explicit or {})
    return topics
