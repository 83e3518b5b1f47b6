"""Browser tests: Debian's chromium driven by Playwright, against `chalice local` on the test
stack. `make test` installs chromium (apt) and axe-core (npm, under .local/) first.

Every page gets its own browser context; a failed test leaves a screenshot of its page
under build/screens/. Pages are checked with the real Content-Security-Policy (a
violation fails the test); only the axe test bypasses it, to inject axe-core."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "build" / "screens"
AXE_VERSION = "4.14.1"
AXE_SCRIPT = ROOT / ".local" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
CHROMIUM = os.environ.get("PLEDGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000  # two shared cores: generous, never a timing assertion


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (Debian's chromium package)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    for stale in SCREENS.glob("*.png"):  # failures of an earlier run
        stale.unlink()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(api_server, clean_stack):
    from chalicelib.services.policy import ensure_initial_policy

    ensure_initial_policy()
    return api_server


def _open_page(request, chromium, site, **options):
    context = chromium.new_context(base_url=site, **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("pageerror", lambda error: violations.append(f"script error: {error}"))
    return context, page, violations


def _close_page(request, context, page, violations):
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    context.close()
    assert not violations, violations


@pytest.fixture
def page(request, chromium, site):
    """A page under the real Content-Security-Policy."""
    context, page, violations = _open_page(request, chromium, site)
    yield page
    _close_page(request, context, page, violations)


@pytest.fixture
def axe_page(request, chromium, site):
    """A page that lets axe-core in past the CSP (`bypass_csp`)."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `make browser-deps` (axe-core from npm)")
    context, page, violations = _open_page(request, chromium, site, bypass_csp=True)
    yield page
    _close_page(request, context, page, violations)


def route_is_absent(site: str, method: str, path: str) -> bool:
    """Whether the JSON API has no such route yet (it is built on another branch): an
    unknown route answers 404 (or, from `chalice local`, API Gateway's 403 "Missing
    Authentication Token") where a known one answers 200/400/401 to this probe."""
    answer = requests.request(method, f"{site}{path}", json={}, timeout=30)
    return answer.status_code == 404 or (answer.status_code == 403 and "Missing Authentication Token" in answer.text)


def require_routes(site: str, *routes: tuple[str, str]) -> None:
    absent = [f"{method} {path}" for method, path in routes if route_is_absent(site, method, path)]
    if absent:
        pytest.skip(f"the API has no {', '.join(absent)} yet (built on another branch); runs once merged")
