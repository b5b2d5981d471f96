from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.browser import answer_questionnaire, screenshots_on_failure, serving
from examples.flask_shop.extension import EXTENSION_KEY
from grading_questionnaire import example_answers
from tradein_sdk import FixedClock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page, ViewportSize

    from tradein_sdk import TradeIn

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
FLAWLESS = example_answers("smartphone", "flawless").answers
STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}
TIMEOUT_MS = 10_000


@pytest.fixture
def shop_url(tmp_path: Path) -> Iterator[str]:
    """The shop served on a free loopback port, on a fresh data directory."""
    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path), "TRADEIN_SEED_DEMO": False})
    with serving(app) as url:
        yield url
    app.extensions[EXTENSION_KEY].close()


def buy_with_trade_in(page: Page, url: str, *, plan: str, protection: bool) -> str:
    """A shopper buys a Galaxy S25 with a flawless iPhone 13 traded in; returns the order page's URL."""
    page.goto(f"{url}/?lang=de_DE")
    page.locator('article[data-sku="SM-S931BZKDEUB"] button').click()
    page.get_by_role("link", name="Ankauf", exact=True).click()
    page.locator("#q").press_sequentially("iphone 13 128", delay=10)
    page.locator('.suggestions a[data-device-id="apple-iphone-13-128gb"]').click()
    google = page.locator('[data-question="google_account_removed"]')
    answer_questionnaire(page, FLAWLESS)
    assert google.count() == 0  # the page changed: the quote is shown
    assert page.locator('[data-testid="quote-amount"]').inner_text().endswith("€")
    page.get_by_role("button", name="Als Guthaben für ein neues Gerät nutzen").click()
    page.get_by_role("link", name="Weiter zur Kasse").click()
    page.locator(f'input[name=plan][value="{plan}"]').check()
    page.locator('input[name=customer_case][value="upgrade"]').check()
    if protection:
        page.locator('[data-offer-id="example-de/damage-cover/upfront_12"]').click()
    else:
        page.locator("input[name=protection][value=none]").check()
    page.get_by_role("button", name="Weiter").click()
    if protection:
        page.locator("input[name=protection_consent]").check()
    if plan == "payout":
        page.get_by_label("Kontoinhaber").fill("Erika Mustermann")
        page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label("Name", exact=True).fill("Erika Mustermann")
    page.locator('[data-testid="confirm"]').click()
    page.wait_for_url(re.compile(r".*/orders/ord_\w+$"))
    assert page.locator('[data-testid="state-d1"]').get_attribute("data-state") == "awaiting_shipment"
    return page.url


def staff_inspects(page: Page, order_url: str, **found: object) -> None:
    """Staff receives the device and records the inspection (with ``found`` differing from the shopper)."""
    order_id = order_url.rsplit("/", 1)[1]
    base = order_url.split("/orders/", maxsplit=1)[0]
    page.goto(f"{base}/staff/orders/{order_id}")
    if "/staff/login" in page.url:
        page.get_by_label("Passwort").fill("demo")
        page.get_by_role("button", name="Anmelden").click()
    page.locator('[data-action="receive"]').click()
    page.locator('[data-action="inspect"]').click()
    assert page.locator('[data-question="display_glass"] .declared').inner_text().endswith("Keinerlei Spuren")
    answer_questionnaire(page, {**STAFF_CHECKS, **found})
    page.wait_for_url(re.compile(rf".*/staff/orders/{order_id}$"))


def test_trade_in_checkout_revision_declined_and_second_order_paid(browser: Browser, shop_url: str) -> None:
    """In German: checkout with protection; staff revises; the shopper declines; a second order is paid."""
    shopper = browser.new_context(locale="de-DE").new_page()
    staff = browser.new_context(locale="de-DE").new_page()
    shopper.set_default_timeout(TIMEOUT_MS)
    staff.set_default_timeout(TIMEOUT_MS)
    with screenshots_on_failure(ARTIFACTS, "trade-in-journey", shopper, staff):
        first = buy_with_trade_in(shopper, shop_url, plan="discount", protection=True)
        assert shopper.locator('[data-testid="send-by"]').is_visible()

        staff_inspects(staff, first, display_glass="cracked")
        assert staff.locator('[data-testid="state-d1"]').get_attribute("data-state") == "revised"

        shopper.reload()
        assert shopper.get_by_text("Gesprungenes oder zersplittertes Glas").first.is_visible()
        shopper.get_by_role("button", name="Ablehnen und Gerät zurückerhalten").click()
        assert shopper.locator('[data-testid="state-d1"]').get_attribute("data-state") == "returning"

        second = buy_with_trade_in(shopper, shop_url, plan="payout", protection=False)
        staff_inspects(staff, second)
        assert staff.locator('[data-testid="state-d1"]').get_attribute("data-state") == "confirmed"
        staff.locator('[data-action="settle"]').click()
        shopper.goto(second)
        assert shopper.locator('[data-testid="state-d1"]').get_attribute("data-state") == "paid"


def test_questions_appear_as_answers_make_them_relevant(browser: Browser, shop_url: str) -> None:
    """The iPhone's platform (a fact, not asked) shows its lock question only; an answer hides a question."""
    page = browser.new_context(locale="de-DE").new_page()
    page.set_default_timeout(TIMEOUT_MS)
    with screenshots_on_failure(ARTIFACTS, "show-if", page):
        page.goto(f"{shop_url}/trade-in/devices/apple-iphone-13-128gb")
        assert page.locator('[data-question="find_my_off"]').get_attribute("hidden") is None
        assert page.locator('[data-question="samsung_account_removed"]').count() == 0
        page.locator("label.choice:has(input[name=powers_on][value=true])").click()
        assert page.locator('[data-question="battery_health"]').get_attribute("hidden") is None
        page.locator("label.choice:has(input[name=powers_on][value=false])").click()
        assert page.locator('[data-question="battery_health"]').get_attribute("hidden") is not None


DEMO_DAY = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
"""The day the demo promised 177 € and paid 127 € (the promotion for a Galaxy S25 runs Nov–Jan)."""
WORN_GALAXY = example_answers("smartphone", "worn-samsung").answers
VIEWPORTS: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}


@pytest.fixture
def demo_shop(tmp_path: Path) -> Iterator[tuple[str, TradeIn]]:
    """The shop served on a free port with its clock at the demo day; its URL and its facade."""
    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": FixedClock(DEMO_DAY),
        }
    )
    with serving(app) as url:
        yield url, app.extensions[EXTENSION_KEY].trade_in
    app.extensions[EXTENSION_KEY].close()


def _text(page: Page, testid: str) -> str:
    """The visible text of the element marked ``data-testid``, scrolled into view, spaces normalised."""
    element = page.locator(f'[data-testid="{testid}"]')
    element.scroll_into_view_if_needed()
    assert element.is_visible()
    return " ".join(element.inner_text().replace("\xa0", " ").split())


def _trade_in_and_check_out(shopper: Page, url: str) -> tuple[str, str]:
    """The shopper quotes the worn Galaxy S22, buys a Galaxy S25 with it, paid by bank transfer.

    Returns:
        The order id and the trade-in value the checkout page promised.
    """
    shopper.goto(f"{url}/?lang=de_DE")
    shopper.locator('article[data-sku="SM-S931BZKDEUB"] button').click()
    shopper.get_by_role("link", name="Ankauf", exact=True).click()
    shopper.locator("#q").press_sequentially("galaxy s22 128", delay=10)
    shopper.locator('.suggestions a[data-device-id="samsung-galaxy-s22-128gb"]').click()
    answer_questionnaire(shopper, WORN_GALAXY)
    assert _text(shopper, "quote-amount") == "127,00 €"
    shopper.get_by_role("button", name="Als Guthaben für ein neues Gerät nutzen").click()
    shopper.get_by_role("link", name="Weiter zur Kasse").click()
    shopper.locator('input[name=plan][value="payout"]').check()
    shopper.locator('input[name=customer_case][value="upgrade"]').check()
    shopper.locator("input[name=protection][value=none]").check()
    shopper.get_by_role("button", name="Weiter").click()
    promised = _text(shopper, "promised-credit")
    shopper.get_by_label("Kontoinhaber").fill("Erika Mustermann")
    shopper.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    shopper.get_by_label("Name", exact=True).fill("Erika Mustermann")
    shopper.locator('[data-testid="confirm"]').click()
    shopper.wait_for_url(re.compile(r".*/orders/ord_\w+$"))
    return shopper.url.rsplit("/", 1)[1], promised


def _staff_inspects_and_settles(staff: Page, url: str, order_id: str) -> str:
    """Staff signs in, receives the device, finds it as declared and settles it; returns the message."""
    staff.goto(f"{url}/staff/orders/{order_id}")
    staff.get_by_label("Passwort").fill("demo")
    staff.get_by_role("button", name="Anmelden").click()
    staff.locator('[data-action="receive"]').click()
    staff.locator('[data-action="inspect"]').click()
    answer_questionnaire(staff, STAFF_CHECKS)
    staff.wait_for_url(re.compile(rf".*/staff/orders/{order_id}$"))
    assert staff.locator('[data-testid="state-d1"]').get_attribute("data-state") == "confirmed"
    staff.locator('[data-action="settle"]').click()
    staff.wait_for_url(re.compile(rf".*/staff/orders/{order_id}$"))
    assert staff.locator('[data-testid="ledger-entries"] tr[data-kind="payout_made"]').count() == 1
    return " ".join(staff.locator(".flash-success").inner_text().replace("\xa0", " ").split())


@pytest.mark.parametrize("size", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_the_amount_promised_at_checkout_is_the_amount_paid(
    browser: Browser, demo_shop: tuple[str, TradeIn], size: str
) -> None:
    """From trade-in to payout, the order page shows paid what checkout promised and the ledger holds.

    A worn Galaxy S22 (127 €) traded in for a Galaxy S25 earns the example promotion's 50 €; the shopper
    chooses a bank transfer after inspection; staff receives, inspects and settles in the back office.
    """
    url, trade_in = demo_shop
    shopper = browser.new_context(locale="de-DE", viewport=VIEWPORTS[size]).new_page()
    staff = browser.new_context(locale="de-DE", viewport=VIEWPORTS[size]).new_page()
    shopper.set_default_timeout(TIMEOUT_MS)
    staff.set_default_timeout(TIMEOUT_MS)
    with screenshots_on_failure(ARTIFACTS, f"promised-is-paid-{size}", shopper, staff):
        order_id, promised = _trade_in_and_check_out(shopper, url)
        assert promised == "177,00 €"
        assert _text(shopper, "ledger-promised-total") == promised
        assert _text(shopper, "ledger-paid-total") == "0,00 €"

        assert promised in _staff_inspects_and_settles(staff, url, order_id)

        shopper.goto(f"{url}/orders/{order_id}")
        assert shopper.locator('[data-testid="state-d1"]').get_attribute("data-state") == "paid"
        paid = _text(shopper, "ledger-paid-total")
        ledger = trade_in.ledger(order_id)
        in_ledger = (ledger.total.paid + ledger.total.credited).format("de_DE").replace("\xa0", " ")
        assert paid == in_ledger == promised
        assert _text(shopper, "ledger-paid-d1") == promised
        assert _text(shopper, "ledger-open-total") == "0,00 €"
        overflow = shopper.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the order page scrolls sideways by {overflow}px at {size} size"


def _no_sideways_scroll(page: Page, what: str, size: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px at {size} size"


@pytest.mark.parametrize("size", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_staff_records_an_erasure_and_the_shopper_verifies_the_certificate(
    browser: Browser, demo_shop: tuple[str, TradeIn], size: str, tmp_path: Path
) -> None:
    """Staff records an erasure; the shopper downloads the certificate and the public page finds it valid.

    Staff fills the erasure form an hour after receipt; the order page, the staff page and the verification
    page fit the screen.
    """
    url, trade_in = demo_shop
    clock = trade_in.clock
    assert isinstance(clock, FixedClock)
    shopper = browser.new_context(locale="de-DE", viewport=VIEWPORTS[size]).new_page()
    staff = browser.new_context(locale="de-DE", viewport=VIEWPORTS[size]).new_page()
    shopper.set_default_timeout(TIMEOUT_MS)
    staff.set_default_timeout(TIMEOUT_MS)
    with screenshots_on_failure(ARTIFACTS, f"erasure-certificate-{size}", shopper, staff):
        order_id, _ = _trade_in_and_check_out(shopper, url)
        staff.goto(f"{url}/staff/orders/{order_id}")
        staff.get_by_label("Passwort").fill("demo")
        staff.get_by_role("button", name="Anmelden").click()
        staff.locator('[data-action="receive"]').click()
        staff.wait_for_url(re.compile(rf".*/staff/orders/{order_id}$"))
        clock.advance(hours=1)  # erased and verified an hour after receipt
        form = staff.locator('[data-testid="erasure-form-d1"]')
        staff.locator("details.erasure-form summary").click()
        form.locator("input[name=tool_name]").fill("Blancco Mobile")
        form.locator("input[name=tool_version]").fill("7.2.1")
        form.locator("input[name=imei]").fill("356938035643809")
        form.locator("input[name=site]").fill("Filiale Berlin")
        _no_sideways_scroll(staff, "the staff order page with the erasure form", size)
        form.locator('[data-action="erasure"]').click()
        staff.wait_for_url(re.compile(rf".*/staff/orders/{order_id}$"))
        flashed = " ".join(staff.locator(".flash-success").inner_text().split())
        certificate = trade_in.erasure_certificate(order_id, "d1")
        assert certificate is not None
        certificate_id = certificate["payload"]["id"]
        assert certificate_id in flashed

        shopper.goto(f"{url}/orders/{order_id}")
        block = shopper.locator(f'[data-certificate="{certificate_id}"]')
        block.scroll_into_view_if_needed()
        assert block.is_visible()
        _no_sideways_scroll(shopper, "the order page with its certificate", size)
        with shopper.expect_download() as download:
            shopper.locator(f'a[href$="/orders/{order_id}/devices/d1/certificate.json"]').click()
        saved = tmp_path / "certificate.json"
        download.value.save_as(saved)

        shopper.goto(f"{url}/certificates/verify")
        shopper.locator("input[name=certificate]").set_input_files(str(saved))
        shopper.locator("form button[type=submit]").click()
        result = shopper.locator('[data-testid="verify-result"]')
        assert result.get_attribute("data-status") == "valid"
        assert certificate_id in result.inner_text()
        _no_sideways_scroll(shopper, "the verification page", size)
