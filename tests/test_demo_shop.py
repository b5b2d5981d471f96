from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from babel.messages.pofile import read_po
from flask_babel import ngettext

from examples.flask_shop import browser, create_app
from examples.flask_shop.extension import EXTENSION_KEY, TRANSLATIONS, ShopState
from examples.flask_shop.testing import ShopClient, shop_state
from examples.flask_shop.texts import TEXTS, text
from tradein_sdk import SQLStore

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog
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


def _catalog(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_shop_text_is_translated(language: str) -> None:
    """Each text of the shop has a translation (every plural form), none fuzzy, the placeholders kept."""
    catalog = _catalog(language)
    assert not catalog.fuzzy
    messages = [message for message in catalog if message.id]
    assert len(messages) > 500
    for message in messages:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), message.id
        assert "fuzzy" not in message.flags, message.id
        assert not list(message.check(catalog)), message.id  # Babel's python-format checks


def test_the_catalogs_hold_exactly_the_texts_of_the_sources(tmp_path: Path) -> None:
    """``pybabel extract`` over the shop finds the texts the catalogs translate, no more and no fewer."""
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(TEMPLATES / "babel.cfg"),
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_pgettext:1c,2",
            "-o",
            str(template),
            str(TEMPLATES),
        ],
        check=True,
    )
    with template.open("rb") as handle:
        extracted = {(message.context, message.id) for message in read_po(handle) if message.id}
    for language in ("de", "fr"):
        translated = {(message.context, message.id) for message in _catalog(language) if message.id}
        assert extracted - translated == set(), f"not translated in {language}"
        assert translated - extracted == set(), f"no longer used, still in {language}"


def test_plain_pybabel_compile_takes_the_catalogs(tmp_path: Path) -> None:
    """``pybabel compile -d examples/flask_shop/translations`` works on the catalogs as they are."""
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(copy)], check=True)
    assert sorted(path.relative_to(copy).as_posix() for path in copy.rglob("*.mo")) == [
        "de/LC_MESSAGES/messages.mo",
        "fr/LC_MESSAGES/messages.mo",
    ]


def test_texts_picked_by_a_value_are_translated_in_the_request_locale(app: Flask) -> None:
    """``text(group, value)`` (a device state, say) answers in the request's language, plural forms too."""
    assert all(TEXTS.values())
    with app.test_request_context("/?lang=fr_FR"):
        app.preprocess_request()
        assert text("state", "revised") == "Nouvelle offre"
        assert ngettext("%(count)s order changed.", "%(count)s orders changed.", 1, count=1) == (
            "1 commande modifiée."
        )
        assert ngettext("%(count)s order changed.", "%(count)s orders changed.", 3, count=3) == (
            "3 commandes modifiées."
        )
    with app.test_request_context("/?lang=de_DE"):
        app.preprocess_request()
        assert text("state", "revised") == "Neues Angebot"
    with pytest.raises(KeyError, match="no text 'unknown' in 'state'"):
        text("state", "unknown")


def test_browser_tests_say_why_they_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Chromium the browser tests get a stated reason (they skip, or fail when required)."""
    monkeypatch.setattr("shutil.which", lambda _: None)
    assert (
        browser.browser_missing() == "Chromium is not installed at /usr/bin/chromium (apt install chromium)"
    )
