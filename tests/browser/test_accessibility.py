"""axe-core on every page: no serious or critical violation, logged out and logged in,
and with a form showing the API's errors."""

from __future__ import annotations

import json

from tests.browser.conftest import AXE_SCRIPT
from tests.browser.flows import signup, wait_for_lists
from tests.browser.test_pages import CLIENT_PAGES, PUBLIC_PAGES


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_or_critical_axe_violation_on_any_page(axe_page):
    found = {}
    for path in PUBLIC_PAGES:
        axe_page.goto(path)
        wait_for_lists(axe_page)
        found[path] = serious_violations(axe_page)
    signup(axe_page)
    for path in CLIENT_PAGES:
        axe_page.goto(path)
        wait_for_lists(axe_page)
        found[path] = serious_violations(axe_page)
    axe_page.goto("/client-area/profile")
    axe_page.fill("#profile [name=phone]", "12")
    axe_page.click("#profile button[type=submit]")
    axe_page.wait_for_selector("#profile-phone-error:not(:empty)")
    found["/client-area/profile (with an error)"] = serious_violations(axe_page)
    assert not any(found.values()), json.dumps(found, indent=1)
