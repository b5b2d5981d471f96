"""The sales tour in a real browser: each story, in German, English and French, on a phone, tablet, desktop.

One seeded demo shop is served for the module, the tour's demo data made before the first test. For each
story × language × screen size one browser context walks the story as a salesperson would: the tour's
landing page, the story's steps, "Start", then "Next step" in the bar on each page (signing in to the back
office when a staff step asks for it) up to "Finish tour". On every page:

- the page does not scroll sideways (``document.documentElement.scrollWidth <= window.innerWidth``);
- the bar shows the story's step ("step 3 of 10", in the page's language) and stays at most
  :data:`BAR_MAX_PX` high;
- the step's page shows what the step promises: the quote's amount, the lower offer to accept, the ledger's
  paid amount, the counter's credit, the portfolio quote's total, the credit note's number, the CO2 avoided.

axe-core (``axe-playwright-python``) finds no serious or critical violation on the landing page (once per
language and size), the story's page and the bar. Each page is photographed into
``test-artifacts/tour/<story>/<locale>-<size>-<step>.png``.

It takes about 3 minutes on a 2-core machine shared with other work: one shop for the module, one browser
context per walk, axe on the tour's own pages only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.browser import screenshots_on_failure, serving
from examples.flask_shop.extension import EXTENSION_KEY
from examples.flask_shop.tour_seed import Data, tour_data
from examples.flask_shop.views.tour import STORIES
from tradein_sdk import FixedClock, Money

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Browser, Page, ViewportSize

    from examples.flask_shop.extension import ShopState

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts" / "tour"
TIMEOUT_MS = 15_000
TODAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
"""The shop's clock (a Friday)."""
BAR_MAX_PX = 56
"""The tour's bar stays this compact, on a phone too."""
LOCALES = ("de_DE", "en_GB", "fr_FR")
SIZES: dict[str, ViewportSize] = {
    "390x844": {"width": 390, "height": 844},
    "768x1024": {"width": 768, "height": 1024},
    "1440x900": {"width": 1440, "height": 900},
}
STEP_OF = {
    "de_DE": "Schritt {n} von {count}",
    "en_GB": "step {n} of {count}",
    "fr_FR": "étape {n} sur {count}",
}
"""How the bar counts the steps, in each language."""


@dataclass
class Tour:
    """The served shop and the ids the stories' steps point at."""

    url: str
    state: ShopState
    data: dict[str, Data]


@pytest.fixture(scope="module")
def tour(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:  # noqa: ARG001 - browser first: no shop without one
    """The seeded demo shop at :data:`TODAY`, every story's data made, served on a free port."""
    folder = tmp_path_factory.mktemp("tour-shop")
    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(folder), "TRADEIN_CLOCK": FixedClock(TODAY)})
    state: ShopState = app.extensions[EXTENSION_KEY]
    with app.test_request_context():
        data = {slug: tour_data(state, slug, folder, locale="en_GB") for slug in STORIES}
    with serving(app) as url:
        yield Tour(url=url, state=state, data=data)
    state.close()


# -- reading the page ----------------------------------------------------------------------------------------


def squeeze(text: str) -> str:
    """Spaces normalised: no-break and narrow no-break spaces count as spaces."""
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def shown(page: Page, selector: str) -> str:
    """The visible text of the first element matching ``selector`` (scrolled into view first)."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    assert element.is_visible(), selector
    return squeeze(element.inner_text())


def amount(money: Money, locale: str) -> str:
    """An amount as the page writes it (spaces normalised)."""
    return squeeze(money.format(locale))


def axe_violations(page: Page, context: str | None = None) -> list[str]:
    """The page's (or one part's) serious and critical axe-core violations: rule, help, first elements."""
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415

    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]})
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at "
        + "; ".join(" ".join(node["target"]) for node in rule["nodes"][:3])
        for rule in results.response["violations"]
        if rule["impact"] in {"serious", "critical"}
    ]


# -- what each step promises ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class At:
    """Where a step's check looks: the page, the served shop and the page's language."""

    page: Page
    tour: Tour
    locale: str


def _search(at: At) -> None:
    assert at.page.locator('.hits li[data-device-id="apple-iphone-13-128gb"] a').is_visible()


def _questions(at: At) -> None:
    at.page.locator("[data-questionnaire] .step.active").first.wait_for()
    assert at.page.locator('[data-question="display_glass"]').count() == 1


def _quote(at: At) -> None:
    quote = at.tour.state.trade_in.get_quote(at.tour.data["online-shopper"]["quote"]).quote
    assert shown(at.page, '[data-testid="quote-amount"]') == amount(quote.amount, at.locale)


def _cart(at: At) -> None:
    product = at.tour.state.product(at.tour.data["online-shopper"]["product"])
    assert product is not None
    quote = at.tour.state.trade_in.get_quote(at.tour.data["online-shopper"]["quote"]).quote
    main = squeeze(at.page.locator("main").inner_text())
    assert product.model.display_name in main
    assert amount(quote.amount, at.locale) in main
    assert at.page.locator('[data-testid="cart-due"]').count() == 1


def _options(at: At) -> None:
    assert at.page.locator('[data-testid="guarantee-offers"]').is_visible()
    assert at.page.locator("input[name=protection]").count() > 1


def _review(at: At) -> None:
    quote = at.tour.state.trade_in.get_quote(at.tour.data["online-shopper"]["quote"]).quote
    assert amount(quote.amount, at.locale) in shown(at.page, '[data-testid="promised"]')
    assert at.page.locator('[data-testid="confirm"]').count() == 1


def _order(at: At) -> None:
    balance = at.tour.state.trade_in.ledger(at.tour.data["online-shopper"]["awaiting"]).devices["d1"]
    assert shown(at.page, '[data-testid="ledger-promised-total"]') == amount(balance.promised, at.locale)
    assert at.page.locator('[data-testid="label-link"]').is_visible()


def _inspection(at: At) -> None:
    device = at.tour.state.trade_in.order(at.tour.data["online-shopper"]["revised"]).devices[0]
    assert amount(device.offer, at.locale) in squeeze(at.page.locator("main").inner_text())
    assert at.page.locator('[data-testid="state-d1"]').get_attribute("data-state") == "revised"


def _accept(at: At) -> None:
    device = at.tour.state.trade_in.order(at.tour.data["online-shopper"]["revised"]).devices[0]
    assert amount(device.offer, at.locale) in shown(at.page, "button[name=decision][value=accept]")
    assert at.page.locator("button[name=decision][value=decline]").is_visible()


def _paid(at: At) -> None:
    balance = at.tour.state.trade_in.ledger(at.tour.data["online-shopper"]["paid"]).devices["d1"]
    assert not balance.paid.is_zero()
    assert shown(at.page, '[data-testid="ledger-paid-total"]') == amount(balance.paid, at.locale)


def _store(at: At) -> None:
    assert at.page.locator("main input[name=imei]").is_visible()


def _identify(at: At) -> None:
    assert at.tour.data["store-counter"]["imei"] in shown(at.page, "main .flash-success")
    assert at.page.locator('.hits li[data-device-id="apple-iphone-13-128gb"] a').is_visible()


def _check(at: At) -> None:
    at.page.locator("[data-questionnaire] .step.active").first.wait_for()
    for check in ("liquid_indicator", "blocklist_status", "authenticity"):  # the staff checks
        assert at.page.locator(f'[data-question="{check}"]').count() == 1, check


def _store_quote(at: At) -> None:
    quote = at.tour.state.trade_in.get_quote(at.tour.data["store-counter"]["quote"]).quote
    assert quote.kind.value == "guaranteed"
    assert shown(at.page, "main .amount") == amount(quote.amount, at.locale)
    assert at.page.locator('main form[action$="/apply"] button').is_visible()


def _applied(at: At) -> None:
    assert at.page.locator('[data-testid="applied"]').is_visible()


def _ledger(at: At) -> None:
    balance = at.tour.state.trade_in.ledger(at.tour.data["store-counter"]["applied_order"]).devices["d1"]
    assert not balance.credited.is_zero()
    assert amount(balance.credited, at.locale) in shown(at.page, '[data-testid="ledger"]')


def _company(at: At) -> None:
    assert at.page.locator('[data-company="Muster Logistik GmbH"]').is_visible()


def _upload(at: At) -> None:
    assert shown(at.page, '[data-testid="company-name"]') == "Muster Logistik GmbH"
    assert at.page.locator('[data-testid="upload-form"] input[name=assets]').is_visible()
    assert at.page.locator('[data-testid="sample-csv"]').is_visible()


def _portfolio(at: At) -> None:
    batch = at.tour.state.trade_in.fleet_batch(at.tour.data["company-fleet"]["quoted"])
    assert shown(at.page, '[data-testid="quote-total"]') == amount(batch.portfolio.totals.amount, at.locale)


def _pickup(at: At) -> None:
    assert at.page.locator('[data-testid="pickup-form"]').is_visible()
    assert at.page.locator('[data-testid="pickup-preview"]').is_visible()


def _receive(at: At) -> None:
    assert at.page.locator(".fleet[data-state=received]").count() == 1
    assert at.page.locator('[data-testid="true-up"]').is_visible()
    assert at.page.locator("[data-action=as-declared]").count() > 0  # devices left to inspect, one click each


def _credit_note(at: At) -> None:
    settlement = at.tour.state.trade_in.fleet_batch(at.tour.data["company-fleet"]["settled"]).settlement
    assert settlement is not None
    assert shown(at.page, '[data-testid="document-number"]') == settlement["document"]["number"]
    assert at.page.locator('[data-testid="doc-credit_note_pdf"]').is_visible()


def _co2(at: At) -> None:
    avoided = at.page.locator('[data-testid="co2-total-avoided"]')
    assert avoided.is_visible()
    assert float(avoided.get_attribute("data-kg") or 0) > 0


CHECKS: dict[tuple[str, str], Callable[[At], None]] = {
    ("online-shopper", "search"): _search,
    ("online-shopper", "questions"): _questions,
    ("online-shopper", "quote"): _quote,
    ("online-shopper", "cart"): _cart,
    ("online-shopper", "options"): _options,
    ("online-shopper", "review"): _review,
    ("online-shopper", "order"): _order,
    ("online-shopper", "inspection"): _inspection,
    ("online-shopper", "accept"): _accept,
    ("online-shopper", "paid"): _paid,
    ("store-counter", "store"): _store,
    ("store-counter", "identify"): _identify,
    ("store-counter", "check"): _check,
    ("store-counter", "quote"): _store_quote,
    ("store-counter", "applied"): _applied,
    ("store-counter", "ledger"): _ledger,
    ("company-fleet", "company"): _company,
    ("company-fleet", "upload"): _upload,
    ("company-fleet", "quote"): _portfolio,
    ("company-fleet", "pickup"): _pickup,
    ("company-fleet", "inspect"): _receive,
    ("company-fleet", "credit-note"): _credit_note,
    ("company-fleet", "co2"): _co2,
}
"""What each step's page must show, by story and step."""


def test_every_step_has_its_check() -> None:
    """No step of a story goes unchecked (a step added to a story needs its check here)."""
    assert set(CHECKS) == {(slug, step.key) for slug, story in STORIES.items() for step in story.steps}


# -- the walk ------------------------------------------------------------------------------------------------


def fits(page: Page, what: str) -> None:
    """The page does not scroll sideways."""
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{what} is {width[0]} px wide on a {width[1]} px screen"


def photograph(page: Page, slug: str, name: str) -> None:
    """The whole page, into ``test-artifacts/tour/<story>/<name>.png``."""
    folder = ARTIFACTS / slug
    folder.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header drawn once, at the top
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def sign_in_if_asked(page: Page) -> None:
    """A staff step sends to the back office's sign-in first: the demo password, and back to the step."""
    if "/staff/login" in page.url:
        page.locator("main input[name=password]").fill("demo")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda url: "/staff/login" not in url)


WALKS = [
    pytest.param(slug, locale, size, id=f"{slug}-{locale}-{size}")
    for slug in STORIES
    for locale in LOCALES
    for size in SIZES
]


@pytest.mark.parametrize(("slug", "locale", "size"), WALKS)
def test_a_salesperson_follows_the_story_to_its_end(
    browser: Browser, tour: Tour, slug: str, locale: str, size: str
) -> None:
    """Landing page, the story's steps, then "Next step" through every step to "Finish tour"."""
    story = STORIES[slug]
    context = browser.new_context(viewport=SIZES[size], locale=locale.replace("_", "-"))
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    prefix = f"{locale}-{size}"
    try:
        with screenshots_on_failure(ARTIFACTS / "failed", f"{slug}-{prefix}", page):
            page.goto(f"{tour.url}/tour?lang={locale}")
            assert page.locator('[data-testid="tour-bar"]').count() == 0
            assert page.locator(f'.tour-card[data-story="{slug}"]').is_visible()
            fits(page, "the tour's landing page")
            if slug == next(iter(STORIES)):  # one page for all stories: checked once per language and size
                assert not axe_violations(page), axe_violations(page)
            photograph(page, slug, f"{prefix}-00-tour")

            page.locator(f'[data-testid="steps-{slug}"]').click()
            page.wait_for_url(re.compile(rf".*/tour/{slug}$"))
            assert page.locator(".tour-step").count() == len(story.steps)
            fits(page, "the story's page")
            assert not axe_violations(page), axe_violations(page)
            photograph(page, slug, f"{prefix}-00-steps")

            page.locator('[data-testid="tour-start"]').click()
            for number, step in enumerate(story.steps, start=1):
                page.wait_for_load_state()
                sign_in_if_asked(page)
                what = f"step {number} ({step.key})"
                bar = page.locator('[data-testid="tour-bar"]')
                assert bar.get_attribute("data-step") == str(number), what
                counted = STEP_OF[locale].format(n=number, count=len(story.steps))
                assert squeeze(bar.locator('[data-testid="tour-step"]').text_content() or "") == counted, what
                box = bar.bounding_box()
                assert box is not None
                assert box["height"] <= BAR_MAX_PX, f"{what}: the bar is {box['height']:.0f} px high"
                CHECKS[slug, step.key](At(page=page, tour=tour, locale=locale))
                fits(page, what)
                if number == 1:
                    assert not axe_violations(page, "nav.tour-bar"), axe_violations(page, "nav.tour-bar")
                photograph(page, slug, f"{prefix}-{number:02d}-{step.key}")
                if number < len(story.steps):
                    with page.expect_navigation():
                        bar.locator('[data-testid="tour-next"]').click()
                else:
                    assert bar.locator('[data-testid="tour-next"]').count() == 0
                    bar.locator('[data-testid="tour-finish"]').click()
            page.wait_for_url(re.compile(r".*/tour$"))
            assert page.locator('[data-testid="tour-bar"]').count() == 0
            assert page.locator(".flash-success").is_visible()
    finally:
        context.close()
