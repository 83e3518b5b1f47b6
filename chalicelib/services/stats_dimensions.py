"""What one statistics event is reduced to before anything is stored: the event name,
the page's path (no query, no fragment, bounded, personal-looking segments replaced),
the referrer's host, the country, the device type and the browser and OS families.
The IP address and the User-Agent string go no further than this module and the hash."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from chalicelib.errors import ValidationFailed

PATH_MAX = 200
HOST_MAX = 253
FAMILY_MAX = 40
DIRECT = "direct"  # no referrer, or a link within the site
UNKNOWN = "unknown"
REDACTED_SEGMENT = ":redacted"
# Path segments that would put a person into the statistics: an email address, a
# customer number, an IP address.
PERSONAL_SEGMENT = re.compile(r".*@.*|C[0-9]{6,}|[0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:]*")
COUNTRY = re.compile(r"[A-Z]{2}")
BOT = re.compile(
    r"bot|crawl|spider|slurp|curl|wget|python|scrapy|headless|phantom|http-client|okhttp|axios|"
    r"node-fetch|libwww|java/",
    re.IGNORECASE,
)
TABLET_DEVICES = ("iPad", "Kindle", "Kindle Fire")
MOBILE_OS = ("iOS", "Android", "Windows Phone", "KaiOS", "BlackBerry OS", "Firefox OS")


def dimensions(event: dict, user_agent: str, country_header: str | None) -> dict[str, str]:
    page = _split(event["url"], "url")
    if not page.hostname:
        raise ValidationFailed("The request is not valid.", [{"path": "url", "message": "has an invalid format"}])
    return {
        "name": event["name"],
        "path": clean_path(page.path),
        "referrer": referrer_host(event.get("referrer"), page.hostname),
        "country": country_of(country_header),
        **client_of(user_agent, event.get("screen_width")),
    }


def _split(url: str, field: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise ValidationFailed(
            "The request is not valid.", [{"path": field, "message": "has an invalid format"}]
        ) from None


def clean_path(path: str) -> str:
    segments = [REDACTED_SEGMENT if PERSONAL_SEGMENT.fullmatch(unquote(s)) else s for s in (path or "/").split("/")]
    return "/".join(segments)[:PATH_MAX] or "/"


def _site(host: str) -> str:
    return host.lower().removeprefix("www.")


def referrer_host(referrer: str | None, page_host: str) -> str:
    host = _site(_split(referrer, "referrer").hostname or "") if referrer else ""
    if not host or host == _site(page_host):
        return DIRECT
    return host[:HOST_MAX]


def country_of(header: str | None) -> str:
    value = (header or "").strip().upper()
    return value if COUNTRY.fullmatch(value) else UNKNOWN


def client_of(user_agent: str, screen_width: int | None) -> dict[str, str]:
    """Device type, browser and OS family. ua-parser is imported here, on the first event
    a container handles, so no other route pays for loading it."""
    import ua_parser

    parsed = ua_parser.parse(user_agent) if user_agent else None
    browser = _family(parsed.user_agent if parsed else None)
    os_family = _family(parsed.os if parsed else None)
    device = parsed.device if parsed else None
    return {"device": _device_type(user_agent, device, os_family, screen_width), "browser": browser, "os": os_family}


def _family(part: Any) -> str:
    family = getattr(part, "family", None)
    return family[:FAMILY_MAX] if family and family != "Other" else UNKNOWN


def _device_type(user_agent: str, device: Any, os_family: str, screen_width: int | None) -> str:
    family, brand = getattr(device, "family", "") or "", getattr(device, "brand", "") or ""
    if not user_agent or family == "Spider" or BOT.search(user_agent):
        return "bot"
    if (
        family in TABLET_DEVICES
        or "tablet" in brand.lower()
        or ("Android" in user_agent and "Mobile" not in user_agent)
    ):
        return "tablet"
    if "Mobi" in user_agent or os_family in MOBILE_OS:
        return "mobile"
    if os_family == UNKNOWN and screen_width is not None:  # the UA tells nothing: the screen may
        return "mobile" if screen_width < 768 else "tablet" if screen_width < 1024 else "desktop"
    return "desktop"
