"""The buy-back guarantee in a real browser, at phone and desktop size.

A shopper buys a Samsung Galaxy S23 128 GB (899.00 €) with a worn iPhone 13 traded in, chooses the
guaranteed buy-back (fee 29.00 €: 449.50 € until month 13) on the offer card beside the protection offer,
consents on the review page and finds the contract on the order page; its signed JSON downloads and
verifies offline. The demo clock's "Demo: one year later" moves the shop to 4 December 2027: the shopper
trades the phone in at the guaranteed price (449.50 €, against a market quote of 144.00 €), staff receive,
inspect and settle it in the back office, and the contract shows as exercised. Each page is photographed
into ``test-artifacts/`` (and every open page again when a step fails); no page scrolls sideways at 390 px.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.browser import answer_questionnaire, screenshots_on_failure, serving
from examples.flask_shop.extension import EXTENSION_KEY
from grading_questionnaire import example_answers
from tradein_sdk import FixedClock, InflowStatus, Money, verify_document

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page, ViewportSize

    from tradein_sdk import TradeIn

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
TIMEOUT_MS = 10_000
BOUGHT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
"""The shop's clock: the Galaxy S23 is bought on Friday 4 December 2026."""
VIEWPORTS: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1440, "height": 900},
}
STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}


def galaxy() -> dict[str, Any]:
    """The Galaxy S23 as its owner describes it a year later: light wear (grade good), accounts removed."""
    answers = dict(example_answers("smartphone", "worn").answers)
    answers.pop("find_my_off")
    return {**answers, "platform": "samsung", "google_account_removed": True, "samsung_account_removed": True}


@pytest.fixture
def guarantee_shop(tmp_path: Path) -> Iterator[tuple[str, TradeIn]]:
    """The shop served on a free port on the day of the purchase, with its demo clock; its URL and facade."""
    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path / "shop"),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": FixedClock(BOUGHT),
            "TRADEIN_DEMO_CLOCK": "on",
        }
    )
    with serving(app) as url:
        yield url, app.extensions[EXTENSION_KEY].trade_in
    app.extensions[EXTENSION_KEY].close()


def keep(page: Page, name: str) -> None:
    """Photograph the whole page into test-artifacts/ (the artefact a reviewer looks at), from its top."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of the picture
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


def choose_s23_with_guarantee(shopper: Page, url: str, width: int, name: str) -> str:
    """Cart, trade-in, the offer card and the review with its consent; returns the order page's URL."""
    shopper.goto(f"{url}/?lang=de_DE")
    shopper.locator('article[data-sku="SM-S911BZKDEUB"] button').click()
    shopper.goto(f"{url}/trade-in/devices/apple-iphone-13-128gb")
    answer_questionnaire(shopper, example_answers("smartphone", "worn").answers)
    shopper.wait_for_url(re.compile(r".*/trade-in/quotes/q_\w+$"))
    shopper.get_by_role("button", name="Als Guthaben für ein neues Gerät nutzen").click()
    shopper.get_by_role("link", name="Weiter zur Kasse").click()

    card = shopper.locator('[data-guarantee-plan="buyback-24"]')
    card.scroll_into_view_if_needed()
    assert card.is_visible()
    assert text(shopper, "guarantee-fee") == "29,00 €"
    first_band = card.locator('tr[data-band="0-13"]')
    assert "449,50 €" in first_band.inner_text().replace("\xa0", " ")
    assert "04.12.2026 – 03.01.2028" in first_band.inner_text()
    assert "Eintauschen vom 4. Dezember 2027 bis zum 3. Januar 2029." in card.inner_text()
    assert shopper.locator("input[name=guarantee][value=none]").is_checked()  # nothing sold unasked
    shopper.locator('input[name=plan][value="discount"]').check()
    shopper.locator('input[name=customer_case][value="upgrade"]').check()
    shopper.locator("input[name=protection][value=none]").check()
    card.locator("input[name=guarantee]").check()
    no_sideways_scroll(shopper, "the checkout options with the guarantee card", width)
    keep(shopper, f"{name}-1-offer")
    shopper.get_by_role("button", name="Weiter").click()

    chosen = shopper.locator('[data-testid="guarantee-chosen"]')
    chosen.scroll_into_view_if_needed()
    assert "449,50 €" in chosen.inner_text().replace("\xa0", " ")
    assert "Rückkaufgarantie: Garantierter Rückkauf, bis zu 449,50 € ab dem 4. Dezember 2027" in (
        shopper.locator(".summary-lines").inner_text().replace("\xa0", " ")
    )
    assert text(shopper, "due-now") == "728,00 €"  # 899.00 − 150.00 − 50.00 promotion + 29.00 fee
    shopper.locator("input[name=guarantee_consent]").check()
    shopper.get_by_label("Name", exact=True).fill("Erika Mustermann")
    no_sideways_scroll(shopper, "the review page with the guarantee", width)
    keep(shopper, f"{name}-2-review")
    shopper.locator('[data-testid="confirm"]').click()
    shopper.wait_for_url(re.compile(r".*/orders/ord_\w+$"))
    return shopper.url


@pytest.mark.parametrize("size", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_a_guarantee_is_sold_shown_and_exercised_a_year_later(  # noqa: PLR0915 - one story
    browser: Browser, guarantee_shop: tuple[str, TradeIn], size: str, tmp_path: Path
) -> None:
    """Offer card → consent → contract on the order → one year later → trade-in at 449.50 € → settled."""
    url, trade_in = guarantee_shop
    width = VIEWPORTS[size]["width"]
    name = f"guarantee-{size}"
    shopper = browser.new_context(locale="de-DE", viewport=VIEWPORTS[size]).new_page()
    staff = browser.new_context(locale="de-DE", viewport=VIEWPORTS[size]).new_page()
    shopper.set_default_timeout(TIMEOUT_MS)
    staff.set_default_timeout(TIMEOUT_MS)
    with screenshots_on_failure(ARTIFACTS, name, shopper, staff):
        order_url = choose_s23_with_guarantee(shopper, url, width, name)
        order_id = order_url.rsplit("/", 1)[1]

        contract = shopper.locator('[data-testid="guarantee-contract"]')
        contract.scroll_into_view_if_needed()
        assert contract.get_attribute("data-status") == "open"
        contract_id = text(shopper, "guarantee-id")
        assert contract_id == contract.get_attribute("data-contract")
        assert text(shopper, "guarantee-signature") == "Signatur gültig"
        assert (
            "Sie können es vom 4. Dezember 2027 bis zum 3. Januar 2029 eintauschen; schon ab dem 4. Juni 2027"
            in text(shopper, "guarantee-state")
        )
        assert shopper.locator('[data-testid="guarantee-exercise"]').count() == 0
        no_sideways_scroll(shopper, "the order page with the contract", width)
        keep(shopper, f"{name}-3-contract")
        with shopper.expect_download() as download:
            shopper.locator('[data-testid="guarantee-json"]').click()
        saved = tmp_path / "contract.json"
        download.value.save_as(saved)
        keys = shopper.request.get(f"{url}/guarantees/keys.json").json()
        payload = verify_document(saved.read_bytes(), keys, purpose="buyback-guarantee")
        assert (payload["id"], payload["device"]) == (contract_id, "samsung-galaxy-s23-128gb")

        shopper.locator('[data-testid="demo-year-later"]').click()
        shopper.wait_for_url(re.compile(rf".*/orders/{order_id}\??$"))
        assert text(shopper, "demo-clock-today") == "4. Dezember 2027"
        assert text(shopper, "guarantee-today") == "449,50 €"
        no_sideways_scroll(shopper, "the order page a year later", width)
        keep(shopper, f"{name}-4-year-later")
        shopper.locator('[data-testid="guarantee-exercise"]').click()
        shopper.wait_for_url(re.compile(r".*/guarantees/gtc_\w+/trade-in$"))
        shopper.locator(".step.active").first.wait_for()  # the questionnaire's script has run
        assert shopper.locator('[data-testid="guarantee-questions"]').is_visible()
        no_sideways_scroll(shopper, "the guaranteed trade-in's questionnaire", width)
        answer_questionnaire(shopper, galaxy())
        shopper.wait_for_url(re.compile(r".*/trade-in/q_\w+$"))
        assert text(shopper, "guarantee-promise") == "449,50 €"
        assert text(shopper, "guarantee-market") == "144,00 €"
        no_sideways_scroll(shopper, "the guaranteed price", width)
        keep(shopper, f"{name}-5-price")
        shopper.locator('[data-testid="guarantee-redeem"]').click()
        shopper.wait_for_url(re.compile(r".*/orders/ord_\w+$"))
        new_id = shopper.url.rsplit("/", 1)[1]
        assert new_id != order_id
        claim = shopper.locator('[data-testid="guarantee-claim-d1"]')
        assert claim.get_attribute("data-contract") == contract_id
        assert "449,50 €" in claim.inner_text().replace("\xa0", " ")
        assert text(shopper, "ledger-promised-total") == "449,50 €"
        no_sideways_scroll(shopper, "the order exercising the guarantee", width)
        keep(shopper, f"{name}-6-trade-in-order")

        staff.goto(f"{url}/staff/orders/{new_id}")
        staff.get_by_label("Passwort").fill("demo")
        staff.get_by_role("button", name="Anmelden").click()
        staff.locator('[data-action="receive"]').click()
        staff.locator('[data-action="inspect"]').click()
        answer_questionnaire(staff, STAFF_CHECKS)
        staff.wait_for_url(re.compile(rf".*/staff/orders/{new_id}$"))
        assert staff.locator('[data-testid="state-d1"]').get_attribute("data-state") == "confirmed"
        staff.locator('[data-action="settle"]').click()
        staff.wait_for_url(re.compile(rf".*/staff/orders/{new_id}$"))
        assert "449,50 €" in " ".join(
            staff.locator(".flash-success").inner_text().replace("\xa0", " ").split()
        )
        staff.goto(f"{url}/staff/orders/{order_id}")
        staff_contract = staff.locator('[data-testid="guarantee-contract"]')
        staff_contract.scroll_into_view_if_needed()
        assert staff_contract.get_attribute("data-status") == "exercised"
        assert text(staff, "guarantee-contingent") == "0,00 €"
        no_sideways_scroll(staff, "the staff order page with the contract", width)
        keep(staff, f"{name}-7-staff")

        shopper.goto(order_url)
        assert (
            shopper.locator('[data-testid="guarantee-contract"]').get_attribute("data-status") == "exercised"
        )
        assert "Eingelöst am 4. Dezember 2027: 449,50 €." in text(shopper, "guarantee-state")
        keep(shopper, f"{name}-8-exercised")
        status = trade_in.guarantee_status(contract_id)
        assert (status.status, status.received) == (InflowStatus.EXERCISED, Money("449.50", "EUR"))
