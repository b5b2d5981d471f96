"""A complete purchase in a real browser: with and without a trade-in, at phone and desktop size, de and fr.

A shopper buys a Samsung Galaxy S23 with a worn iPhone 13 traded in (an instant discount, a contract upgrade),
or a Samsung Galaxy S25 alone (no contract): each time with the damage cover and the buy-back guarantee,
consenting on the review page. The order page then thanks the shopper and shows the purchase; its receipt
opens from there. Both pages must fit the screen (no sideways scrolling), pass axe-core with no serious or
critical violation, and the receipt must draw its own styles under the shop's Content-Security-Policy (no
CSP error in the console) without a script. Each page is photographed into ``test-artifacts/purchase/``
(and every open page again when a step fails).
"""

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
from tests.test_shop_layout_browser import VIEWPORTS, axe_violations
from tests.test_shop_purchase import needs_outright_checkout

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

    from examples.flask_shop.extension import ShopState

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts" / "purchase"
TIMEOUT_MS = 15_000
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
"""The shop's clock: the example promotion for an iPhone 12 or newer (with a contract) runs."""
S23 = "SM-S911BZKDEUB"
S25 = "SM-S931BZKDEUB"
PROTECTION = "example-de/damage-cover/upfront_12"
GUARANTEE = "buyback-24"
THANKS = {"de_DE": "Vielen Dank für Ihre Bestellung!", "fr_FR": "Merci pour votre commande\u00a0!"}

FITS = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  widest: [...document.body.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`),
})"""


@pytest.fixture(scope="module")
def shop_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shop served on a free port at :data:`NOW`, without demo data."""
    from tradein_sdk import FixedClock  # noqa: PLC0415

    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path_factory.mktemp("purchase-shop")),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": FixedClock(NOW),
        }
    )
    state: ShopState = app.extensions[EXTENSION_KEY]
    with serving(app) as url:
        yield url
    state.close()


def fits(page: Page, what: str) -> None:
    """The page does not scroll sideways."""
    width = page.evaluate(FITS)
    assert width["scrollWidth"] <= width["innerWidth"], (
        f"{what} is {width['scrollWidth']} px wide on a {width['innerWidth']} px screen: {width['widest']}"
    )


def photograph(page: Page, name: str) -> None:
    """A full-page screenshot into :data:`ARTIFACTS`."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def add_trade_in(page: Page, url: str) -> None:
    """A worn iPhone 13 quoted and added to the cart as credit."""
    page.goto(f"{url}/trade-in/devices/apple-iphone-13-128gb")
    answer_questionnaire(page, example_answers("smartphone", "worn").answers)
    page.wait_for_url(re.compile(r".*/trade-in/quotes/q_\w+$"))
    page.locator("form[action$='/cart'] button[type=submit]").click()


def check_out(page: Page, url: str, *, customer_case: str, trade_in: bool) -> None:
    """From the cart: the contract, a discount (with a trade-in), protection and guarantee; consent; buy."""
    page.goto(f"{url}/cart")
    page.locator("aside a[href='/checkout/']").click()
    page.wait_for_url(re.compile(r".*/checkout/$"))
    page.locator(f"input[name=customer_case][value={customer_case}]").check()
    if trade_in:
        page.locator("input[name=plan][value=discount]").check()
    else:
        assert page.locator("input[name=plan]").count() == 0
    page.locator(f'[data-offer-id="{PROTECTION}"] input').check()
    page.locator(f'[data-guarantee-plan="{GUARANTEE}"] input[name=guarantee]').check()
    page.locator("form.checkout-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/checkout/review$"))
    page.locator("input[name=protection_consent]").check()
    page.locator("input[name=guarantee_consent]").check()
    page.locator("input[name=name]").fill("Erika Mustermann")
    page.locator('[data-testid="confirm"]').click()
    page.wait_for_url(re.compile(r".*/orders/ord_\w+$"))


FLOWS = ["trade-in", pytest.param("outright", marks=needs_outright_checkout)]
SIZES: dict[str, ViewportSize] = {"phone": VIEWPORTS["phone"], "desktop": VIEWPORTS["desktop"]}
"""390×844 and 1440×900."""


@pytest.mark.parametrize("locale", ["de_DE", "fr_FR"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("flow", FLOWS)
def test_a_purchase_is_confirmed_with_its_receipt(
    browser: Browser, shop_url: str, flow: str, size: str, locale: str
) -> None:
    """Buy, see the confirmation and the receipt: each fits, passes axe; the receipt keeps to the CSP."""
    context = browser.new_context(viewport=SIZES[size], locale=locale.replace("_", "-"))
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        console.append(message.text)

    page.on("console", keep)
    name = f"{flow}-{size}-{locale[:2]}"
    try:
        with screenshots_on_failure(ARTIFACTS, f"failed-{name}", page):
            page.goto(f"{shop_url}/?lang={locale}")
            page.locator(f'article[data-sku="{S23 if flow == "trade-in" else S25}"] button').click()
            if flow == "trade-in":
                add_trade_in(page, shop_url)
            case = "upgrade" if flow == "trade-in" else "none"
            check_out(page, shop_url, customer_case=case, trade_in=flow == "trade-in")

            thanks = page.locator('[data-testid="purchase-thanks"]')
            assert THANKS[locale] in thanks.inner_text()
            purchase = page.locator('[data-testid="purchase"]')
            assert purchase.locator('[data-testid="purchase-due-now"]').inner_text().endswith("€")
            assert purchase.locator('[data-testid="purchase-guarantee"]').is_visible()
            assert purchase.locator('[data-testid="purchase-protection"]').is_visible()
            assert (purchase.locator('[data-testid="purchase-clawback"]').count() == 1) is (
                flow == "trade-in"
            )
            fits(page, "the confirmation")
            assert axe_violations(page) == []
            photograph(page, f"{name}-confirmation")

            page.locator('[data-testid="receipt-link"]').click()
            page.wait_for_url(re.compile(r".*/orders/ord_\w+/receipt$"))
            receipt = page.locator('[data-testid="receipt"]')
            assert THANKS[locale] in receipt.inner_text()
            assert page.locator("script").count() == 0
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(238, 241, 245)"  # the receipt's own styles apply under the CSP
            fits(page, "the receipt")
            assert axe_violations(page) == []
            photograph(page, f"{name}-receipt")
            page.emulate_media(media="print")
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
            fits(page, "the printed receipt")
            assert not [text for text in console if "Content Security Policy" in text], console
    finally:
        context.close()
