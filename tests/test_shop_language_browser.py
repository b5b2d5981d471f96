"""In Chromium: what moved out of inline handlers still works, and a fixed platform drives the questionnaire.

The staff's state filter applies on change through shop.js (no ``onchange`` attribute, no
``'unsafe-hashes'``), with no Content-Security-Policy violation; a Galaxy's questionnaire shows the platform
as a fact and asks the Samsung lock questions from the start, as shop.js reads the fixed answer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.browser import screenshots_on_failure, serving
from examples.flask_shop.testing import shop_state
from tests.test_shop_backoffice import place_order

if TYPE_CHECKING:
    from collections.abc import Iterator

    from flask import Flask
    from playwright.sync_api import Browser, ConsoleMessage

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
TIMEOUT_MS = 10_000


@pytest.fixture
def shop_app(tmp_path: Path) -> Iterator[Flask]:
    """The shop on a fresh data directory, without demo data."""
    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path), "TRADEIN_SEED_DEMO": False})
    yield app
    shop_state(app).close()


def test_the_staff_state_filter_applies_on_change_without_an_inline_handler(
    browser: Browser, shop_app: Flask
) -> None:
    """Choosing a state reloads the list filtered by it; Chromium reports no policy violation."""
    _, order_id = place_order(shop_app)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    with serving(shop_app) as url, screenshots_on_failure(ARTIFACTS, "language-staff-filter", page):
        page.goto(f"{url}/staff/login?lang=en_GB")
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/staff/$"))
        assert page.locator("select[name=state]").get_attribute("onchange") is None
        page.locator("select[name=state]").select_option("awaiting_shipment")
        page.wait_for_url(re.compile(r".*/staff/\?state=awaiting_shipment$"))
        assert page.locator(f'tr[data-order="{order_id}"]').count() == 1
        page.locator("select[name=state]").select_option("paid")
        page.wait_for_url(re.compile(r".*/staff/\?state=paid$"))
        assert page.locator(f'tr[data-order="{order_id}"]').count() == 0
    context.close()
    assert violations == []


def test_a_galaxys_questionnaire_asks_the_samsung_lock_questions(browser: Browser, shop_app: Flask) -> None:
    """The platform is a fact, not a question; shop.js shows the Samsung questions it implies."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    with serving(shop_app) as url, screenshots_on_failure(ARTIFACTS, "language-galaxy", page):
        page.goto(f"{url}/trade-in/devices/samsung-galaxy-s23-128gb?lang=en_GB")
        fact = page.locator('[data-fixed-question="platform"]')
        assert "Android on a Samsung Galaxy" in fact.inner_text()
        assert page.locator("input[name=platform]:not([type=hidden])").count() == 0
        for question in ("google_account_removed", "samsung_account_removed"):
            assert page.locator(f'[data-question="{question}"]').get_attribute("hidden") is None
        assert page.locator('[data-question="find_my_off"]').count() == 0
        page.locator("label.choice:has(input[name=powers_on][value=true])").click()
        assert page.locator('[data-question="battery_health"]').get_attribute("hidden") is None
        page.locator("label.choice:has(input[name=powers_on][value=false])").click()
        assert page.locator('[data-question="battery_health"]').get_attribute("hidden") is not None
    context.close()
