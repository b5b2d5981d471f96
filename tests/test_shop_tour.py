"""The sales tour with Flask's test client: its pages in each language, every step's link, the bar, the data.

One seeded demo shop serves the module (the tour's demo data is made when a story is first opened). The
browser walk through every story, language and screen size is ``test_shop_tour_browser.py``.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.testing import ShopClient, find, shop_state
from examples.flask_shop.tour_seed import SETTING, stored_tour_data
from examples.flask_shop.views.tour import STORIES
from tradein_sdk import BatchState, DeviceState, FixedClock

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flask import Flask

TODAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
LANDING = {
    "de_DE": (
        "Verkaufstour",
        "Online-Kunde",
        "Schalter im Shop des Netzbetreibers",
        "Firmenflotte",
        "Starten",
    ),
    "en_GB": ("Sales tour", "Online shopper", "Carrier store counter", "Company fleet", "Start"),
    "fr_FR": (
        "Visite commerciale",
        "Client en ligne",
        "Comptoir de boutique opérateur",
        "Flotte d’entreprise",
        "Commencer",
    ),
}
"""What the landing page shows in each language: its title, the three stories, the start button."""
STEP_OF = {
    "de_DE": "Schritt {n} von {count}",
    "en_GB": "step {n} of {count}",
    "fr_FR": "étape {n} sur {count}",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The demo shop with its demo data (the tour exists only in a demo), at a fixed day."""
    data = tmp_path_factory.mktemp("tour-shop")
    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(data), "TRADEIN_CLOCK": FixedClock(TODAY)})
    yield app
    shop_state(app).close()


def text_of(page: str) -> str:
    """The page's text: tags dropped, entities decoded, spaces (no-break ones too) normalised."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).replace("\xa0", " ").split())


def bar_of(page: str) -> str | None:
    """The text of the tour's bar on the page (``None``: no bar)."""
    found = re.search(r'<nav class="tour-bar".*?</nav>', page, re.DOTALL)
    return text_of(found.group(0)) if found else None


@pytest.mark.parametrize("locale", list(LANDING))
def test_the_tour_pages_render_in_each_language(app: Flask, locale: str) -> None:
    """The landing page's three cards and each story's numbered steps, in German, English and French."""
    client = ShopClient(app, locale=locale)
    landing = client.get("/tour")
    assert landing.status_code == 200
    shown = text_of(landing.text)
    assert all(expected in shown for expected in LANDING[locale])
    assert f'lang="{locale[:2]}"' in landing.text
    for slug, story in STORIES.items():
        assert f'href="/tour/{slug}/1"' in landing.text  # "Start"
        page = client.get(f"/tour/{slug}")
        assert page.status_code == 200
        assert page.text.count('class="panel tour-step') == len(story.steps)
        for number in range(1, len(story.steps) + 1):
            assert f'href="/tour/{slug}/{number}"' in page.text
        if story.has_staff_steps:  # the demo password, for the back office's sign-in
            assert "demo" in text_of(find(r'(<p[^>]*data-testid="tour-password".*?</p>)', page.text))
    assert bar_of(landing.text) is None  # no tour started yet


def test_the_tour_is_linked_from_every_page(app: Flask) -> None:
    """The footer links the tour (only where there is one)."""
    page = ShopClient(app, locale="en_GB").get("/").text
    assert 'data-testid="tour-link"' in page
    assert 'href="/tour"' in page


@pytest.mark.parametrize("slug", list(STORIES))
def test_every_step_link_resolves(app: Flask, slug: str) -> None:
    """Each step leads to its page (200), a staff step to the sign-in first and, signed in, to its page."""
    client = ShopClient(app, locale="en_GB")
    staff = ShopClient(app, locale="en_GB")
    staff.login_staff()
    story = STORIES[slug]
    for number, step in enumerate(story.steps, start=1):
        for who in (client, staff):
            response = who.get(f"/tour/{slug}/{number}")
            assert response.status_code == 302, (slug, step.key)
            target = response.headers["Location"]
            assert target.startswith("/")
            assert not target.startswith("/tour")
            page = who.get(target.split("#")[0])
            if step.staff and who is client:
                assert page.status_code == 302, (slug, step.key)
                assert page.headers["Location"].startswith("/staff/login?next=")
            else:
                assert page.status_code == 200, (slug, step.key, target)
                assert f"step {number} of {len(story.steps)}" in (bar_of(page.text) or ""), (slug, step.key)


def test_the_steps_pages_show_what_the_steps_promise(app: Flask) -> None:
    """The tour's data: a quote open, an order with a lower offer, one paid, a settled batch's credit note."""
    client = ShopClient(app, locale="en_GB")
    client.login_staff()
    trade_in = shop_state(app).trade_in

    def page(slug: str, number: int) -> str:
        target = client.get(f"/tour/{slug}/{number}").headers["Location"]
        return text_of(client.get(target).text)

    data = stored_tour_data(shop_state(app))
    if "online-shopper" not in data:
        client.get("/tour/online-shopper")
        data = stored_tour_data(shop_state(app))
    shopper = data["online-shopper"]
    quote = trade_in.get_quote(shopper["quote"]).quote
    assert quote.amount.format("en_GB") in page("online-shopper", 3)
    cart = page("online-shopper", 4)
    product = shop_state(app).product(shopper["product"])
    assert product is not None
    assert product.name in cart
    assert quote.amount.format("en_GB") in cart
    revised = trade_in.order(shopper["revised"]).devices[0]
    assert revised.state is DeviceState.REVISED
    assert f"Accept {revised.offer.format('en_GB')}" in page("online-shopper", 9)
    paid = trade_in.ledger(shopper["paid"])
    assert trade_in.order(shopper["paid"]).devices[0].state is DeviceState.PAID
    assert "Your money" in page("online-shopper", 10)
    assert paid.devices["d1"].paid.format("en_GB") in page("online-shopper", 10)

    client.get("/tour/store-counter")
    store = stored_tour_data(shop_state(app))["store-counter"]
    assert f"IMEI {store['imei']} is valid." in page("store-counter", 2)
    assert "Credit applied and device received." in page("store-counter", 5)

    client.get("/tour/company-fleet")
    fleet = stored_tour_data(shop_state(app))["company-fleet"]
    settled = trade_in.fleet_batch(fleet["settled"])
    assert settled.state is BatchState.SETTLED
    assert settled.settlement is not None
    assert settled.settlement["document"]["number"] in page("company-fleet", 6)
    assert trade_in.fleet_batch(fleet["received"]).state is BatchState.RECEIVED
    assert "Muster Logistik GmbH" in page("company-fleet", 1)


@pytest.mark.parametrize("locale", list(STEP_OF))
def test_the_next_step_bar_advances_and_ends(app: Flask, locale: str) -> None:
    """Started, the bar follows "Next step" to the last step, which finishes the tour; the bar goes."""
    client = ShopClient(app, locale=locale)
    client.login_staff()  # the staff steps' pages show the bar too
    story = STORIES["store-counter"]
    target = client.get("/tour/store-counter/1").headers["Location"]
    for number in range(1, len(story.steps) + 1):
        page = client.get(target).text
        bar = bar_of(page)
        assert bar is not None
        assert STEP_OF[locale].format(n=number, count=len(story.steps)) in bar
        if number < len(story.steps):
            next_link = html.unescape(find(r'href="([^"]+)" data-testid="tour-next"', page))
            assert next_link == f"/tour/store-counter/{number + 1}"
            target = client.get(next_link).headers["Location"]
        else:
            assert 'data-testid="tour-next"' not in page
            assert 'data-testid="tour-finish"' in page
    ended = client.post("/tour/end")
    assert ended.status_code == 302
    assert ended.headers["Location"] == "/tour"
    landing = client.get("/tour").text
    assert bar_of(landing) is None
    assert 'class="flash flash-success"' in landing
    assert bar_of(client.get("/").text) is None


def test_switching_the_language_keeps_the_tour_s_place(app: Flask) -> None:
    """The step is in the session: another language shows the same step."""
    client = ShopClient(app, locale="en_GB")
    client.get("/tour/company-fleet/3")
    assert "step 3 of 7" in (bar_of(client.get("/?lang=en_GB").text) or "")
    assert "étape 3 sur 7" in (bar_of(client.get("/?lang=fr_FR").text) or "")


def test_an_unknown_story_or_step_is_the_shop_s_404(app: Flask) -> None:
    """An unknown story, step 0 or a step past the last: the shop's own "not found" page."""
    client = ShopClient(app, locale="en_GB")
    for path in (
        "/tour/no-such-story",
        "/tour/no-such-story/1",
        "/tour/online-shopper/0",
        "/tour/online-shopper/11",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "This page does not exist." in response.text
        assert 'data-error="not_found"' in response.text


def test_used_up_data_is_made_again_and_kept_in_the_settings(app: Flask) -> None:
    """Accepting the lower offer uses the order up: the next time the step opens, a new one waits."""
    client = ShopClient(app, locale="en_GB")
    state = shop_state(app)
    client.get("/tour/online-shopper/9")
    revised = stored_tour_data(state)["online-shopper"]["revised"]
    assert client.post(f"/orders/{revised}/devices/d1/revision", {"decision": "accept"}).status_code == 302
    assert state.trade_in.order(revised).devices[0].state is DeviceState.REVISION_ACCEPTED

    target = client.get("/tour/online-shopper/9").headers["Location"]
    again = stored_tour_data(state)["online-shopper"]["revised"]
    assert again != revised
    assert target == f"/orders/{again}"
    assert state.trade_in.order(again).devices[0].state is DeviceState.REVISED
    assert again in (state.records.setting(SETTING) or "")


def test_there_is_no_tour_without_demo_data(tmp_path: Path) -> None:
    """A shop that does not seed demo data (a real one) has no tour: no pages, no link, no data made."""
    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path), "TRADEIN_SEED_DEMO": False})
    try:
        client = ShopClient(app, locale="en_GB")
        assert client.get("/tour").status_code == 404
        assert client.get("/tour/online-shopper/1").status_code == 404
        assert 'data-testid="tour-link"' not in client.get("/").text
        assert shop_state(app).records.setting(SETTING) is None
        assert shop_state(app).trade_in.list_orders(limit=1) == []
    finally:
        shop_state(app).close()
