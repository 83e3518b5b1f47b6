"""Page rendering without a server: escaping, policy text blocks, static files, headers."""

from __future__ import annotations

import pytest

from chalicelib.pages.render import page, redirect, static_file, text_blocks


def test_policy_text_becomes_headings_and_paragraphs():
    text = "# Title\n\nFirst line\nsame paragraph.\n\n## Section\nBody <b>here</b>."
    assert text_blocks(text) == [
        ("h1", "Title"),
        ("p", "First line same paragraph."),
        ("h2", "Section"),
        ("p", "Body <b>here</b>."),
    ]


def test_every_value_is_escaped_and_the_page_sends_the_security_headers():
    policy = {
        "version": "2",
        "summary": "<script>alert(1)</script>",
        "status": "published",
        "effective_at": "2030-01-01T00:00:00Z",
        "body": "## <img src=x onerror=alert(1)>",
    }
    response = page("policy_version", title="<i>v2</i>", policy=policy)
    assert "<script>alert" not in response.body and "<img src=x" not in response.body
    assert "&lt;script&gt;" in response.body and "&lt;i&gt;v2&lt;/i&gt;" in response.body
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Referrer-Policy"]
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_a_redirect_is_a_303_with_the_same_headers():
    response = redirect("/client-area/login")
    assert response.status_code == 303 and response.headers["Location"] == "/client-area/login"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "name,content_type",
    [
        ("pledge.js", "text/javascript; charset=utf-8"),
        ("pledge.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_static_files_are_served_with_their_type(name, content_type):
    response = static_file(name)
    assert response.status_code == 200 and response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name", ["../render.py", "render.py", "..%2Frender.py", "missing.js", "PLEDGE.JS", "x" * 500, "templates", ".js"]
)
def test_nothing_else_is_served_as_a_static_file(name):
    assert static_file(name) is None
