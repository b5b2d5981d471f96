from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop import browser, create_app
from examples.flask_shop.extension import EXTENSION_KEY, ShopState
from examples.flask_shop.messages import MESSAGES, translate
from examples.flask_shop.testing import ShopClient, shop_state
from tradein_sdk import SQLStore

if TYPE_CHECKING:
    from flask import Flask

TEMPLATES = Path(__file__).parent.parent / "examples" / "flask_shop"


def test_create_app_works_without_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing configured the shop keeps its SQLite file, keys and secret in one folder, and seeds."""
    monkeypatch.setenv("TRADEIN_DATA_DIR", str(tmp_path))
    app, again = create_app(), create_app()
    try:
        assert shop_state(app).trade_in.store.list_orders(limit=10)
        assert {"tradein.sqlite3", "quote-keys.json", "session-secret", "shop.sqlite3"} <= {
            path.name for path in tmp_path.iterdir()
        }
        assert (tmp_path / "session-secret").stat().st_mode & 0o077 == 0
        assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]  # every worker signs alike
    finally:
        shop_state(app).close()
        shop_state(again).close()


def test_seeding_happens_once(tmp_path: Path) -> None:
    """Demo data fills an empty database once: a second start adds nothing."""
    config = {"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path)}
    for _ in range(2):
        state = shop_state(create_app(config))
        assert len(state.trade_in.store.list_orders(limit=50)) == 5
        state.close()


def test_extension_state_lives_in_app_extensions(app: Flask) -> None:
    """The extension keeps its facade and settings in app.extensions, configured from app.config."""
    state = app.extensions[EXTENSION_KEY]
    assert isinstance(state, ShopState)
    assert state.trade_in.market == "DE"
    assert state.locales == ("de_DE", "en_GB", "fr_FR")
    assert state.products[0].price.currency == "EUR"


def test_database_url_selects_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """TRADEIN_DATABASE_URL puts the library's tables and the shop's own on PostgreSQL."""
    app = create_app(
        {"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path), "TRADEIN_DATABASE_URL": postgres_url}
    )
    state = shop_state(app)
    try:
        assert isinstance(state.trade_in.store, SQLStore)
        assert state.trade_in.store.dialect == "postgresql"
        assert len(state.trade_in.store.list_orders(limit=50)) == 5
        assert not (tmp_path / "tradein.sqlite3").exists()
        assert "Eingegangen" in _staff_page(app)
    finally:
        state.close()


def _staff_page(app: Flask) -> str:
    client = ShopClient(app)
    client.login_staff()
    return client.get("/staff/").text


def test_start_page_shows_new_devices_with_retail_prices(app: Flask) -> None:
    """The start page lists new devices at the shop's prices, formatted for the locale."""
    page = ShopClient(app).get("/").text
    assert 'data-sku="SM-S931BZKDEUB"' in page
    assert "899,00\xa0€" in page
    assert 'name="q"' in page


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("de_DE", "Neue Geräte"), ("en_GB", "New devices"), ("fr_FR", "Appareils neufs")],
    ids=["de", "en", "fr"],
)
def test_language_switch_is_remembered(app: Flask, locale: str, expected: str) -> None:
    """?lang= switches the shop's language for the rest of the session, money included."""
    client = ShopClient(app, locale=locale)
    page = client.get("/").text
    assert f'lang="{locale[:2]}"' in page
    assert expected in page
    price = {"de_DE": "899,00\xa0€", "en_GB": "€899.00", "fr_FR": "899,00\xa0€"}[locale]
    assert price in page


def test_unknown_language_falls_back_to_the_browser_then_the_default(app: Flask) -> None:
    """An unknown ?lang= is ignored: the browser's language wins, else German."""
    client = app.test_client()
    assert 'lang="de"' in client.get("/?lang=xx_YY").text
    assert 'lang="fr"' in client.get("/", headers={"Accept-Language": "fr-CH, fr;q=0.9"}).text


def test_category_filter(app: Flask) -> None:
    """The category chips filter the new devices."""
    page = ShopClient(app).get("/?category=tablet").text
    assert "iPad" in page
    assert "Galaxy S25" not in page


def test_post_without_csrf_token_is_refused(app: Flask) -> None:
    """A form posted without the session's CSRF token is refused with 400 and changes nothing."""
    client = ShopClient(app)
    response = client.client.post("/cart/device", data={"sku": "SM-S931BZKDEUB"})
    assert response.status_code == 400
    assert "Formular ist abgelaufen" in response.text
    assert "SM-S931BZKDEUB" not in client.get("/cart").text


def test_post_with_a_wrong_csrf_token_is_refused(app: Flask) -> None:
    """A token of another session is refused too."""
    client = ShopClient(app)
    other = ShopClient(app)
    response = client.client.post("/cart/device", data={"sku": "x", "csrf_token": other.csrf_token})
    assert response.status_code == 400


def test_unknown_page_is_a_friendly_404(app: Flask) -> None:
    """An unknown address shows the shop's own page."""
    response = ShopClient(app, locale="en_GB").get("/no-such-page")
    assert response.status_code == 404
    assert "This page does not exist." in response.text


def test_every_shop_text_is_in_three_languages() -> None:
    """Each text of the shop exists in English, German and French, with the same placeholders."""
    for key, texts in MESSAGES.items():
        assert len(texts) == 3, key
        assert all(texts), key
        fields = [set(re.findall(r"{(\w+)}", text)) for text in texts]
        assert fields[0] == fields[1] == fields[2], key


def test_every_text_a_template_uses_exists() -> None:
    """Templates and views use only keys the dictionary has (dynamic keys by their prefix)."""
    used: set[str] = set()
    for path in [*TEMPLATES.glob("templates/*.html"), *TEMPLATES.glob("views/*.py")]:
        used |= set(re.findall(r"""\bt\(["']([a-z_]+\.[a-z_0-9]+)["']""", path.read_text(encoding="utf-8")))
    assert used
    assert {key for key in used if not key.endswith("_")} <= set(MESSAGES)
    dynamic = (
        "state.",
        "next.",
        "actor.",
        "plan.",
        "quote.kind_",
        "staff.action_",
        "ledger.kind_",
        "ledger.stop_",
        "balance.",
        "installment.",
        "report_total.",
        "report_promotion.",
    )
    for prefix in dynamic:
        assert any(key.startswith(prefix) for key in MESSAGES), prefix
    assert translate("state.revised", "fr_FR") == "Nouvelle offre"


def test_browser_tests_say_why_they_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Chromium the browser tests get a stated reason (they skip, or fail when required)."""
    monkeypatch.setattr("shutil.which", lambda _: None)
    assert (
        browser.browser_missing() == "Chromium is not installed at /usr/bin/chromium (apt install chromium)"
    )
