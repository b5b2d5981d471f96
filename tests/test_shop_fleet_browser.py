"""The company portal in a real browser, at phone and desktop size.

The demo company downloads the sample asset list, uploads it through the file input, sees the check and the
portfolio quote (its table of lines scrolls inside its panel on a phone, the page never sideways), and books
the pickup; staff opens the batch in the back office. Each page is photographed into ``test-artifacts/``
(and every open page again when a step fails).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.browser import screenshots_on_failure, serving
from examples.flask_shop.extension import EXTENSION_KEY
from examples.flask_shop.fleet import open_demo_company
from tradein_sdk import FixedClock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page, ViewportSize

    from tradein_sdk import TradeIn

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
TIMEOUT_MS = 10_000
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
"""The shop's clock: a pickup booked on this Monday comes on Thursday 10 December 2026."""
VIEWPORTS: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}


@pytest.fixture
def fleet_shop(tmp_path: Path) -> Iterator[tuple[str, TradeIn]]:
    """The shop served on a free port at the test's Monday, with the demo company; its URL and facade."""
    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path / "shop"),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": FixedClock(MONDAY),
        }
    )
    trade_in = app.extensions[EXTENSION_KEY].trade_in
    open_demo_company(trade_in)
    with serving(app) as url:
        yield url, trade_in
    app.extensions[EXTENSION_KEY].close()


def keep(page: Page, name: str) -> None:
    """Photograph the whole page into test-artifacts/ (the artefact a reviewer looks at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_sideways_scroll(page: Page, what: str, width: int) -> None:
    """The page is no wider than the screen (its wide tables scroll inside their panels)."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{what} is {scroll_width}px wide on a {width}px screen"


def text(page: Page, testid: str) -> str:
    """The visible text of the element marked ``data-testid``, spaces normalised."""
    element = page.locator(f'[data-testid="{testid}"]').first
    element.scroll_into_view_if_needed()
    assert element.is_visible()
    return " ".join(element.inner_text().replace("\xa0", " ").split())


@pytest.mark.parametrize("size", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_a_company_uploads_its_list_sees_the_quote_and_books_the_pickup(  # noqa: PLR0915 - one story
    browser: Browser, fleet_shop: tuple[str, TradeIn], size: str, tmp_path: Path
) -> None:
    """Sample list → upload → check → portfolio quote → pickup booked, fitting a 390 px phone."""
    url, trade_in = fleet_shop
    width = VIEWPORTS[size]["width"]
    company = browser.new_context(locale="de-DE", viewport=VIEWPORTS[size]).new_page()
    staff = browser.new_context(locale="de-DE", viewport=VIEWPORTS[size]).new_page()
    company.set_default_timeout(TIMEOUT_MS)
    staff.set_default_timeout(TIMEOUT_MS)
    with screenshots_on_failure(ARTIFACTS, f"fleet-{size}", company, staff):
        company.goto(f"{url}/?lang=de_DE")
        company.locator('[data-testid="business-link"]').click()
        company.locator('[data-company="Muster Logistik GmbH"]').click()
        company.wait_for_url(re.compile(r".*/company/portal$"))
        no_sideways_scroll(company, "the company portal", width)
        keep(company, f"fleet-{size}-1-portal")

        with company.expect_download() as download:
            company.locator('[data-testid="sample-csv"]').click()
        sample = tmp_path / "geraeteliste.csv"
        download.value.save_as(sample)
        company.locator("input[name=assets]").set_input_files(str(sample))
        company.locator('[data-testid="check-list"]').click()
        assert text(company, "check-ok") == "Alle 8 Geräte können bewertet werden."
        no_sideways_scroll(company, "the check page", width)
        keep(company, f"fleet-{size}-2-check")

        company.locator('[data-testid="get-quote"]').click()
        company.wait_for_url(re.compile(r".*/company/batches/fb_\w+$"))
        batch_id = company.url.rsplit("/", 1)[1]
        portfolio = trade_in.fleet_batch(batch_id).portfolio
        assert text(company, "quote-total") == portfolio.totals.amount.format("de_DE").replace("\xa0", " ")
        assert portfolio.totals.low.format("de_DE").replace("\xa0", " ") in text(company, "quote-low")
        assert "28. Dezember 2026" in text(company, "quote-valid-until")
        assert company.locator('[data-testid="quote-lines"] tbody tr').count() == 8
        lines = company.locator('[data-testid="quote-lines-scroll"]')
        if size == "phone":  # the table is wider than a phone: it scrolls in its panel, the page does not
            assert lines.evaluate("element => element.scrollWidth > element.clientWidth")
        no_sideways_scroll(company, "the portfolio quote", width)
        assert (
            text(company, "pickup-preview")
            == "Heute gebucht, kommt der Kurier am Donnerstag, 10. Dezember 2026."
        )
        keep(company, f"fleet-{size}-3-quote")

        form = company.locator('[data-testid="pickup-form"]')
        form.locator("input[name=boxes]").fill("2")
        form.locator("textarea[name=seals]").fill("PL-0001\nPL-0002")
        assert form.locator("input[name=contact_name]").input_value() == "Erika Mustermann"
        assert form.locator("input[name=holder]").input_value() == "Muster Logistik GmbH"
        form.locator("input[name=iban]").fill("DE89 3704 0044 0532 0130 00")
        no_sideways_scroll(company, "the pickup form", width)
        company.locator('[data-testid="book-pickup"]').click()
        assert text(company, "batch-state") == "Abholung gebucht"
        assert text(company, "pickup-day") == "Donnerstag, 10. Dezember 2026"
        flashed = " ".join(company.locator(".flash-success").inner_text().replace("\xa0", " ").split())
        assert flashed == "Abholung gebucht: der Kurier kommt am Donnerstag, 10. Dezember 2026."
        no_sideways_scroll(company, "the booked batch", width)
        keep(company, f"fleet-{size}-4-booked")

        staff.goto(f"{url}/staff/fleet/{batch_id}")
        staff.get_by_label("Passwort").fill("demo")
        staff.get_by_role("button", name="Anmelden").click()
        staff.wait_for_url(re.compile(rf".*/staff/fleet/{batch_id}$"))
        assert text(staff, "manifest-seals") == "PL-0001, PL-0002"
        assert staff.locator('[data-testid="handover-form"]').is_visible()
        no_sideways_scroll(staff, "the staff's batch page", width)
        keep(staff, f"fleet-{size}-5-staff")
