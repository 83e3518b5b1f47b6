"""HTML pages and their static files, with the headers every page sends.

Templates are always autoescaped. No page has inline script or style, so the
Content-Security-Policy can allow only the site's own files."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from jinja2 import Environment

PAGES_DIR = Path(__file__).parent
STATIC_DIR = PAGES_DIR / "static"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
HEADING = re.compile(r"^(#{1,3})\s+(.*)$")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(
        loader=FileSystemLoader(str(PAGES_DIR / "templates")), autoescape=True, undefined=StrictUndefined
    )
    environment.filters["blocks"] = text_blocks
    return environment


def text_blocks(text: str) -> list[tuple[str, str]]:
    """A policy's Markdown-like text as (tag, text) blocks: `#` lines become headings (h1 to h3),
    the rest paragraphs. Rendered through autoescaped templates, never as markup."""
    blocks: list[tuple[str, str]] = []
    paragraph: list[str] = []

    def close() -> None:
        if paragraph:
            blocks.append(("p", " ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        heading = HEADING.match(line.strip())
        if heading:
            close()
            blocks.append((f"h{len(heading.group(1))}", heading.group(2)))
        elif line.strip():
            paragraph.append(line.strip())
        else:
            close()
    close()
    return blocks


def page(template: str, status: int = 200, cookie: str | None = None, **context: Any) -> Response:
    body = _environment().get_template(f"{template}.html").render(company=get_settings().company_name, **context)
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
    }
    if cookie:
        headers["Set-Cookie"] = cookie
    return Response(body=body, status_code=status, headers=headers)


def redirect(location: str) -> Response:
    return Response(
        body="", status_code=303, headers={**SECURITY_HEADERS, "Location": location, "Cache-Control": "no-store"}
    )


@cache
def _static_file(name: str) -> str | None:
    path = STATIC_DIR / name
    if path.suffix not in STATIC_TYPES or path.parent != STATIC_DIR or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def static_file(name: str) -> Response | None:
    """A file from static/ (text types only, so API Gateway needs no binary media type)."""
    if not re.fullmatch(r"[a-z0-9-]{1,40}\.[a-z]{2,3}", name):
        return None
    body = _static_file(name)
    if body is None:
        return None
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": STATIC_TYPES[Path(name).suffix],
        "Cache-Control": "no-cache",
    }
    return Response(body=body, status_code=200, headers=headers)
