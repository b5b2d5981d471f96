"""Every page of the demo shop at phone, tablet and desktop size: it fits, its header is compact, axe passes.

One seeded demo shop (its orders in every state, the demo company, the demo clock) is served for the whole
module and one Chromium visits it. First the visitors make the pages exist: a shopper buys a Galaxy S23
with an iPhone 13 traded in, the damage cover and the buy-back guarantee; starts trading it back at the
guaranteed price a year later (the demo clock); and fills a second cart up to the review. The demo
company uploads its asset list, books the pickup of one quote and keeps another. Staff sign in and
quote a device in store mode. Then every page reachable so (:data:`ROUTES`, by route) is opened with its
visitor's cookies at 390×844 (each page, in German), and a representative subset (``wider``) at 768×1024
(in French) and 1440×900 (in English), and must:

- never scroll sideways (``document.documentElement.scrollWidth <= window.innerWidth``; a wide table
  scrolls inside its own container, and nothing hides the page's overflow to pass);
- on the phone, keep the sticky header under :data:`PHONE_HEADER_MAX_PX` (the menu folds behind a toggle);
- have no ``serious`` or ``critical`` violation by axe-core (``axe-playwright-python``: contrast, names,
  labels, focusable scroll regions...).

Each page × size is photographed into ``test-artifacts/layout/``. Beside the sweep: the phone menu (open,
close, keyboard) in each language, the visible focus, the product drawings and the favicon, and the
shipping label printed on A6 and on A4.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.browser import answer_questionnaire, serving
from examples.flask_shop.extension import EXTENSION_KEY
from grading_questionnaire import example_answers
from tradein_sdk import DeviceState, FixedClock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, BrowserContext, Locator, Page, StorageState, ViewportSize

    from examples.flask_shop.extension import ShopState

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts" / "layout"
TIMEOUT_MS = 15_000
TODAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
"""The shop's clock: the day the Galaxy S23 (with its buy-back guarantee) is bought."""
PHONE_HEADER_MAX_PX = 64
"""The phone's header (sticky, on every page) stays under this height: about 7 % of a 844 px screen."""
STORE_IMEI = "352099001761481"
"""A valid IMEI (its Luhn digit checks) for the store mode's identification."""

Size = Literal["phone", "tablet", "desktop"]
VIEWPORTS: dict[Size, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "tablet": {"width": 768, "height": 1024},
    "desktop": {"width": 1440, "height": 900},
}
LOCALES: dict[Size, str] = {"phone": "de_DE", "tablet": "fr_FR", "desktop": "en_GB"}
"""Each size in one of the shop's languages: German's long words on the phone."""


@dataclass(frozen=True)
class Route:
    """A page of the shop as one kind of visitor reaches it.

    Attributes:
        name: the page's name in test ids and screenshot names.
        who: whose cookies open it: ``shopper``, ``company`` (the company portal), ``staff`` (signed in) or
            ``visitor`` (none).
        path: the route, with the demo's ids in braces (``/orders/{order}``).
        wider: checked at tablet and desktop size too (else at phone size only).
        then: what the visitor does on the page to reach the page checked (a form's answer page):
            ``upload`` (the company's asset list) or ``verify`` (a guarantee contract pasted).
        year_later: the demo clock stands a year later meanwhile (the guarantee can be exercised).
    """

    name: str
    who: Literal["shopper", "company", "staff", "visitor"]
    path: str
    wider: bool = False
    then: Literal["upload", "verify"] | None = None
    year_later: bool = False


ROUTES: tuple[Route, ...] = (
    # the shopper: shop front, trade-in, cart, checkout, orders, guarantee, public checks
    Route("home", "shopper", "/", wider=True),
    Route("home-tablets", "shopper", "/?category=tablet"),
    Route("trade-in-search", "shopper", "/trade-in/?q=iphone+13"),
    Route("trade-in-storage", "shopper", "/trade-in/models/apple-iphone-13"),
    Route("trade-in-questions", "shopper", "/trade-in/devices/apple-iphone-13-128gb", wider=True),
    Route("trade-in-quote", "shopper", "/trade-in/quotes/{quote}", wider=True),
    Route("cart", "shopper", "/cart", wider=True),
    Route("checkout-options", "shopper", "/checkout/", wider=True),
    Route("checkout-review", "shopper", "/checkout/review", wider=True),
    Route("orders", "shopper", "/orders/", wider=True),
    Route("order", "shopper", "/orders/{order}", wider=True),
    Route("order-label", "shopper", "/orders/{order}/label", wider=True),
    Route(
        "guarantee-questions", "shopper", "/orders/{order}/guarantees/{contract}/trade-in", year_later=True
    ),
    Route("guarantee-price", "shopper", "{guarantee_price}", wider=True, year_later=True),
    Route("guarantee-verify", "shopper", "/guarantees/verify"),
    Route("guarantee-verified", "shopper", "/guarantees/verify", then="verify"),
    Route("certificate-verify", "shopper", "/certificates/verify"),
    Route("co2-method", "shopper", "/co2/method"),
    Route("not-found", "visitor", "/orders/ord_unknown"),
    # the company portal
    Route("company-start", "company", "/company/"),
    Route("company-portal", "company", "/company/portal", wider=True),
    Route("company-check", "company", "/company/portal", then="upload"),
    Route("company-quote", "company", "/company/batches/{quoted_batch}", wider=True),
    Route("company-booked", "company", "/company/batches/{booked_batch}"),
    # the back office and the store mode
    Route("staff-login", "visitor", "/staff/login"),
    Route("staff-orders", "staff", "/staff/", wider=True),
    Route("staff-order-awaiting", "staff", "/staff/orders/{awaiting}"),
    Route("staff-order-received", "staff", "/staff/orders/{received}"),
    Route("staff-order-revised", "staff", "/staff/orders/{revised}"),
    Route("staff-order-paid", "staff", "/staff/orders/{paid}", wider=True),
    Route("staff-inspect", "staff", "/staff/orders/{received}/devices/d1/inspect"),
    Route("staff-billing", "staff", "/staff/billing?period=2026-12"),
    Route("staff-report", "staff", "/staff/report?start=2026-11-01&end=2026-12-31", wider=True),
    Route("staff-co2", "staff", "/staff/co2?from=2026-11-01&to=2026-12-31"),
    Route("staff-audit", "staff", "/staff/audit"),
    Route("staff-fleet", "staff", "/staff/fleet/"),
    Route("staff-fleet-booked", "staff", "/staff/fleet/{booked_batch}", wider=True),
    Route("staff-fleet-quoted", "staff", "/staff/fleet/{quoted_batch}"),
    Route("store", "staff", "/store/"),
    Route("store-hits", "staff", f"/store/?imei={STORE_IMEI}&q=iphone+13"),
    Route("store-check", "staff", f"/store/check/apple-iphone-13-128gb?imei={STORE_IMEI}"),
    Route("store-quote", "staff", "/store/quotes/{store_quote}"),
)
CHECKS: list[Any] = [
    pytest.param(route, size, id=f"{route.name}-{size}")
    for size in VIEWPORTS
    for route in ROUTES
    if size == "phone" or route.wider
]


@dataclass
class Demo:
    """The served demo shop after the visitors' journeys: its URL, each visitor's cookies, the ids."""

    url: str
    state: ShopState
    cookies: dict[str, StorageState] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    contract_json: str = ""
    sample_csv: Path = Path()

    @contextmanager
    def year_later(self, moved: bool) -> Iterator[None]:
        """The demo clock a year later within the block (when ``moved``), back to today after it."""
        clock = self.state.demo_clock
        assert clock is not None
        if moved:
            clock.one_year_later()
        try:
            yield
        finally:
            clock.reset()


# -- the shop, the browser and the journeys that make every page exist --------------------------------------


@pytest.fixture(scope="module")
def demo(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The seeded demo shop (demo clock on) at :data:`TODAY`, after the visitors' journeys."""
    data = tmp_path_factory.mktemp("layout-shop")
    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(data),
            "TRADEIN_CLOCK": FixedClock(TODAY),
            "TRADEIN_DEMO_CLOCK": "on",
        }
    )
    state: ShopState = app.extensions[EXTENSION_KEY]
    with serving(app) as url:
        found = Demo(url=url, state=state, sample_csv=data / "geraeteliste.csv")
        for order in state.trade_in.list_orders(limit=20):
            found.ids.setdefault(order.devices[0].state.value, order.id)
        found.ids["awaiting"] = found.ids[DeviceState.AWAITING_SHIPMENT.value]
        for kind, journey in (("shopper", _shopper), ("company", _company), ("staff", _staff)):
            context = browser.new_context(locale="de-DE", viewport=VIEWPORTS["desktop"])
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            with _photographed_on_failure(f"journey-{kind}", page):
                journey(page, found)
            found.cookies[kind] = context.storage_state()
            context.close()
        yield found
    state.close()


def _buy_with_trade_in(
    page: Page, url: str, *, trade_in: str, answers: dict[str, Any], confirm: bool
) -> None:
    """A Galaxy S23 in the cart, ``trade_in`` quoted and added, protection and guarantee chosen, reviewed."""
    page.goto(f"{url}/?lang=de_DE")
    page.locator('article[data-sku="SM-S911BZKDEUB"] button').click()
    page.goto(f"{url}/trade-in/devices/{trade_in}")
    answer_questionnaire(page, answers)
    page.wait_for_url(re.compile(r".*/trade-in/quotes/q_\w+$"))
    page.get_by_role("button", name="Als Guthaben für ein neues Gerät nutzen").click()
    page.get_by_role("link", name="Weiter zur Kasse").click()
    page.locator('input[name=plan][value="discount"]').check()
    page.locator('input[name=customer_case][value="upgrade"]').check()
    page.locator('[data-offer-id="example-de/damage-cover/upfront_12"] input').check()
    page.locator('[data-guarantee-plan="buyback-24"] input[name=guarantee]').check()
    page.get_by_role("button", name="Weiter").click()
    page.wait_for_url(re.compile(r".*/checkout/review$"))
    if confirm:
        page.locator("input[name=protection_consent]").check()
        page.locator("input[name=guarantee_consent]").check()
        page.get_by_label("Name", exact=True).fill("Erika Mustermann")
        page.locator('[data-testid="confirm"]').click()
        page.wait_for_url(re.compile(r".*/orders/ord_\w+$"))


def _shopper(page: Page, demo: Demo) -> None:
    """The order with its guarantee, the guaranteed trade-in a year later, a second cart up to the review."""
    worn_iphone = example_answers("smartphone", "worn").answers
    _buy_with_trade_in(page, demo.url, trade_in="apple-iphone-13-128gb", answers=worn_iphone, confirm=True)
    demo.ids["order"] = page.url.rsplit("/", 1)[1]
    contract = page.locator('[data-testid="guarantee-contract"]').get_attribute("data-contract")
    assert contract is not None
    demo.ids["contract"] = contract
    demo.contract_json = page.request.get(
        f"{demo.url}/orders/{demo.ids['order']}/guarantees/{contract}.json"
    ).text()

    with demo.year_later(moved=True):
        page.goto(f"{demo.url}/orders/{demo.ids['order']}")
        page.locator('[data-testid="guarantee-exercise"]').click()
        page.wait_for_url(re.compile(r".*/guarantees/gtc_\w+/trade-in$"))
        galaxy = dict(example_answers("smartphone", "worn").answers)
        galaxy.pop("find_my_off")
        galaxy |= {"platform": "samsung", "google_account_removed": True, "samsung_account_removed": True}
        answer_questionnaire(page, galaxy)
        page.wait_for_url(re.compile(r".*/trade-in/q_\w+$"))
        demo.ids["guarantee_price"] = urlsplit(page.url).path

    worn_galaxy = example_answers("smartphone", "worn-samsung").answers
    _buy_with_trade_in(
        page, demo.url, trade_in="samsung-galaxy-s22-128gb", answers=worn_galaxy, confirm=False
    )
    assert page.locator(".credit-lines").count() == 1  # the review shows the trade-in credit
    page.goto(f"{demo.url}/cart")
    quote_id = page.locator("[data-quote-id]").first.get_attribute("data-quote-id")
    assert quote_id is not None
    demo.ids["quote"] = quote_id


def _company(page: Page, demo: Demo) -> None:
    """Muster Logistik GmbH: a quote whose pickup is booked, and a second quote kept open."""
    page.goto(f"{demo.url}/company/?lang=de_DE")
    page.locator('[data-company="Muster Logistik GmbH"]').click()
    page.wait_for_url(re.compile(r".*/company/portal$"))
    demo.sample_csv.write_bytes(page.request.get(f"{demo.url}/company/sample.csv").body())
    for kept in ("booked_batch", "quoted_batch"):
        page.goto(f"{demo.url}/company/portal")
        page.locator("input[name=assets]").set_input_files(str(demo.sample_csv))
        page.locator('[data-testid="check-list"]').click()
        page.locator('[data-testid="get-quote"]').click()
        page.wait_for_url(re.compile(r".*/company/batches/fb_\w+$"))
        demo.ids[kept] = page.url.rsplit("/", 1)[1]
        if kept == "booked_batch":
            form = page.locator('[data-testid="pickup-form"]')
            form.locator("input[name=boxes]").fill("2")
            form.locator("textarea[name=seals]").fill("PL-0001\nPL-0002")
            form.locator("input[name=iban]").fill("DE89 3704 0044 0532 0130 00")
            page.locator('[data-testid="book-pickup"]').click()
            assert page.locator('[data-testid="pickup-day"]').is_visible()


def _staff(page: Page, demo: Demo) -> None:
    """Staff sign in and quote an iPhone 13 at the counter (store mode)."""
    page.goto(f"{demo.url}/staff/login?lang=de_DE")
    page.get_by_label("Passwort").fill("demo")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r".*/staff/$"))
    page.goto(f"{demo.url}/store/check/apple-iphone-13-128gb?imei={STORE_IMEI}")
    answers = dict(example_answers("smartphone", "worn").answers)
    answers |= {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}
    answer_questionnaire(page, answers)
    page.wait_for_url(re.compile(r".*/store/quotes/q_\w+$"))
    demo.ids["store_quote"] = page.url.rsplit("/", 1)[1]


@contextmanager
def _photographed_on_failure(name: str, page: Page) -> Iterator[None]:
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), full_page=True)
        raise


def _with_language(path: str, locale: str) -> str:
    parts = urlsplit(path)
    query = [*parse_qsl(parts.query), ("lang", locale)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _context(browser: Browser, demo: Demo, who: str, size: Size) -> BrowserContext:
    context = browser.new_context(
        storage_state=demo.cookies.get(who),
        viewport=VIEWPORTS[size],
        locale=LOCALES[size].replace("_", "-"),
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _open(page: Page, demo: Demo, route: Route, size: Size) -> None:
    """Open the route (and do what it asks) in the size's language."""
    path = route.path.format(**demo.ids)
    response = page.goto(demo.url + _with_language(path, LOCALES[size]))
    assert response is not None
    assert response.status == (404 if route.name == "not-found" else 200), route.name
    if route.then == "upload":
        page.locator("input[name=assets]").set_input_files(str(demo.sample_csv))
        page.locator('[data-testid="check-list"]').click()
        page.locator('[data-testid="check-result"]').wait_for()
    elif route.then == "verify":
        page.locator("textarea[name=text]").fill(demo.contract_json)
        page.locator("main form button[type=submit]").click()
        assert page.locator('[data-testid="verify-result"]').get_attribute("data-status") == "valid"
    if page.locator("[data-questionnaire]").count():
        page.locator("[data-questionnaire] .step.active").first.wait_for()  # shop.js has set the steps up


# -- what every page must do ---------------------------------------------------------------------------------

PAGE_WIDTH = """() => {
  const width = { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth };
  width.hidden = [document.documentElement, document.body].map((e) => getComputedStyle(e).overflowX)
    .filter((value) => value !== "visible");
  const clipped = (e) => {
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  width.widest = width.scrollWidth <= width.innerWidth ? [] : [...document.body.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !clipped(e))
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`);
  return width;
}"""


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """The page's axe-core violations of these impacts: rule, impact, help and the first elements."""
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at "
        + "; ".join(" ".join(node["target"]) for node in rule["nodes"][:3])
        for rule in results.response["violations"]
        if rule["impact"] in impacts
    ]


@pytest.mark.parametrize(("route", "size"), CHECKS)
def test_the_page_fits_and_passes_axe(browser: Browser, demo: Demo, route: Route, size: Size) -> None:
    """No sideways scrolling, a compact header on the phone, no serious or critical axe violation."""
    context = _context(browser, demo, route.who, size)
    page = context.new_page()
    try:
        with demo.year_later(route.year_later):
            _open(page, demo, route, size)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(ARTIFACTS / f"{route.name}-{size}.png"), full_page=True)
            width = page.evaluate(PAGE_WIDTH)
            assert width["hidden"] == [], f"{route.name} hides its overflow instead of fitting"
            assert width["scrollWidth"] <= width["innerWidth"], (
                f"{route.name} is {width['scrollWidth']} px wide on a {width['innerWidth']} px {size} "
                f"screen; too wide: {width['widest']}"
            )
            if size == "phone" and route.name != "order-label":  # the label is a document to print
                height = page.locator("header").first.bounding_box()
                assert height is not None
                assert height["height"] < PHONE_HEADER_MAX_PX, (
                    f"{route.name}: the header takes {height['height']:.0f} px of the phone's 844"
                )
            violations = axe_violations(page)
            assert not violations, f"{route.name} at {size} size:\n" + "\n".join(violations)
    finally:
        context.close()


# -- the phone's menu, the focus, the drawings, the favicon and the label ------------------------------------

MENU_LINKS = {
    "de_DE": ("Neue Geräte", "Meine Bestellungen", "Backoffice"),
    "en_GB": ("New devices", "My orders", "Back office"),
    "fr_FR": ("Appareils neufs", "Mes commandes", "Back-office"),
}


def seen_links_to(page: Page, path: str) -> Locator:
    """The links to ``path`` a person sees (Playwright's role locators skip hidden elements)."""
    return page.get_by_role("link").and_(page.locator(f'a[href="{path}"]'))


@pytest.mark.parametrize("locale", list(MENU_LINKS))
def test_the_phone_menu_opens_closes_and_works_by_keyboard(browser: Browser, demo: Demo, locale: str) -> None:
    """At 390 px the menu folds behind a toggle; it opens, shows every link, closes with Escape."""
    context = browser.new_context(viewport=VIEWPORTS["phone"], storage_state=demo.cookies["shopper"])
    page = context.new_page()
    try:
        page.goto(f"{demo.url}/?lang={locale}")
        header = page.locator("header").first
        toggle = header.locator("button[aria-controls]")
        assert toggle.is_visible()
        assert toggle.get_attribute("aria-expanded") == "false"
        links = [header.get_by_role("link", name=name, exact=True) for name in MENU_LINKS[locale]]
        assert not any(link.is_visible() for link in links)
        box = header.bounding_box()
        assert box is not None
        assert box["height"] < PHONE_HEADER_MAX_PX

        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert all(link.is_visible() for link in links)
        for shortcut in (seen_links_to(page, "/trade-in/"), seen_links_to(page, "/cart")):
            assert shortcut.count() == 1  # the shortcuts beside the toggle are not repeated in the menu
        assert header.locator(f'a[hreflang][aria-current="true"][lang="{locale[:2]}"]').is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"menu-open-{locale}.png"))
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('header') !== null")
        page.keyboard.press("Escape")
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not any(link.is_visible() for link in links)
        assert page.evaluate(
            "document.activeElement === document.querySelector('header button[aria-controls]')"
        )

        page.set_viewport_size(VIEWPORTS["desktop"])  # a desktop shows the links, no toggle
        assert not toggle.is_visible()
        assert all(link.is_visible() for link in links)
    finally:
        context.close()


FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== "none" ? parseFloat(style.outlineWidth) : 0;
  return { tag: document.activeElement.tagName, text: document.activeElement.textContent.trim(), outline };
}"""


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_focused_control_shows_a_focus_ring(browser: Browser, demo: Demo, size: Size) -> None:
    """Tabbing through the home page, each link, button and field shows a ring of at least 2 px."""
    context = _context(browser, demo, "shopper", size)
    page = context.new_page()
    try:
        page.goto(f"{demo.url}/?lang={LOCALES[size]}")
        for _ in range(25):
            page.keyboard.press("Tab")
            ring = page.evaluate(FOCUS_RING)
            assert ring["outline"] >= 2, f"no visible focus on a {ring['tag']} ({ring})"
    finally:
        context.close()


def test_each_product_has_a_drawing_and_the_shop_a_favicon(browser: Browser, demo: Demo) -> None:
    """Every product shows an image of its own (no letter placeholder); the favicon is an SVG and an ICO."""
    context = _context(browser, demo, "shopper", "desktop")
    page = context.new_page()
    try:
        page.goto(f"{demo.url}/?lang=en_GB")
        products = page.locator("article.product")
        assert products.count() == len(demo.state.products)
        images = products.locator("img")
        assert images.count() == products.count()
        sources = set()
        for index in range(images.count()):
            image = images.nth(index)
            image.scroll_into_view_if_needed()
            page.wait_for_function(
                "image => image.complete && image.naturalWidth > 0", arg=image.element_handle()
            )
            sources.add(image.get_attribute("src"))
        assert len(sources) == products.count()  # one drawing per product
        assert page.locator(".product-art span").count() == 0  # no letter placeholders left

        icons = {
            link.get_attribute("href"): link.get_attribute("type")
            for link in page.locator("link[rel~=icon]").all()
        }
        assert sorted(filter(None, icons.values())) == ["image/svg+xml", "image/x-icon"]
        for href, kind in icons.items():
            response = page.request.get(demo.url + str(href))
            assert response.ok, href
            served = response.headers["content-type"].split(";")[0]
            assert served == kind or {served, kind} == {"image/x-icon", "image/vnd.microsoft.icon"}, (
                href,
                served,
            )
        assert page.request.get(f"{demo.url}/favicon.ico").ok  # browsers that ask without reading the page
    finally:
        context.close()


BARCODE_WHOLE = """() => {
  const svg = document.querySelector(".barcode svg");
  const bars = [...svg.querySelectorAll("rect")].slice(1);  // the first one is the white background
  const box = svg.getBoundingClientRect();
  const last = bars[bars.length - 1].getBoundingClientRect();
  return last.right <= box.right + 0.5 && box.right <= document.body.getBoundingClientRect().right + 0.5;
}"""
"""The barcode's last bar is drawn inside the barcode, and the barcode inside the page."""


@pytest.mark.parametrize(("paper", "size_pt"), [("a6", (297.6, 419.5)), ("a4", (595.3, 841.9))])
def test_the_shipping_label_prints_on_one_page(
    browser: Browser, demo: Demo, paper: str, size_pt: tuple[float, float]
) -> None:
    """The label prints on one A6 page (a label printer) or one A4 page, without the screen's controls."""
    from pypdf import PdfReader  # noqa: PLC0415 - the PDF of the printed page

    context = _context(browser, demo, "shopper", "desktop")
    page = context.new_page()
    try:
        page.goto(f"{demo.url}/orders/{demo.ids['order']}/label?paper={paper}&lang=de_DE")
        assert page.evaluate("getComputedStyle(document.querySelector('.address')).borderTopWidth") == "2px"
        page.set_viewport_size(VIEWPORTS["phone"])  # narrower than the barcode's 127.6 mm: it must shrink
        assert page.evaluate(BARCODE_WHOLE), "the barcode is cut off on a phone"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.set_viewport_size(VIEWPORTS["desktop"])
        page.emulate_media(media="print")
        assert page.locator(".address").is_visible()
        assert page.locator(".barcode svg").is_visible()
        controls = page.locator(".label-controls")
        assert controls.count() == 1
        assert not controls.is_visible()  # on screen only
        printed = page.pdf(prefer_css_page_size=True, print_background=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"label-{paper}.pdf").write_bytes(printed)
        pdf = PdfReader(io.BytesIO(printed))
        assert len(pdf.pages) == 1
        box = pdf.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (round(size_pt[0]), round(size_pt[1]))
    finally:
        context.close()
