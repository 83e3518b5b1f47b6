"""Templates kept in the repo: emails as `<name>.txt` + `<name>.html`, web pages as
`<name>.html` (HTML always autoescaped). Every template also sees the site's names and links."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def site_context() -> dict:
    settings = get_settings()
    base = settings.public_base_url
    return {
        "company": settings.company_name,
        "policy_url": f"{base}/policy",
        "preferences_url": f"{base}/account/preferences",
    }


def render(template: str, **context: Any) -> tuple[str, str]:
    """The text and HTML bodies of an email template."""
    environment = _environment()
    context = {**site_context(), **context}
    return (
        environment.get_template(f"{template}.txt").render(**context),
        environment.get_template(f"{template}.html").render(**context),
    )


def render_page(template: str, **context: Any) -> str:
    return _environment().get_template(f"{template}.html").render(**site_context(), **context)
