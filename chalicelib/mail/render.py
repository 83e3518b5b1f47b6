"""Email templates kept in the repo: `<name>.txt` and `<name>.html` (autoescaped)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(template: str, **context) -> tuple[str, str]:
    """The text and HTML bodies of a template."""
    environment = _environment()
    return (
        environment.get_template(f"{template}.txt").render(**context),
        environment.get_template(f"{template}.html").render(**context),
    )
