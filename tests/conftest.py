"""Shared fixtures: the bundled catalog, a fixed clock, facades per store kind, PostgreSQL, respx, the shop.

Hypothesis runs without its per-example deadline here (the profile below), so property tests count examples,
not seconds, and a busy machine cannot fail them.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import respx
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hypothesis import settings

from tradein_sdk import FixedClock, TradeIn
from tradein_sdk._adapters.sql.store import engine_url
from tradein_sdk._domain.catalog import BUNDLED_CATALOG

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from flask import Flask
    from playwright.sync_api import Browser

# No per-example deadline (see above); max_examples stay as each test sets them, else Hypothesis' default.
settings.register_profile("tradein", deadline=None)
settings.load_profile("tradein")

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SHOP_TRANSLATIONS = Path(__file__).resolve().parent.parent / "examples" / "flask_shop" / "translations"


def pytest_configure(config: pytest.Config) -> None:  # noqa: ARG001 - pytest's hook signature
    """Compile the demo shop's catalogs where a ``.mo`` is missing or older than its ``.po`` (a fresh clone).

    ``./scripts/test`` and the shop's wheel build compile them with ``pybabel compile``; this keeps a plain
    ``pytest`` run on a new checkout from showing the shop in English only.
    """
    for po_path in SHOP_TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


@pytest.fixture(scope="session")
def _bundled_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))
    return document


@pytest.fixture
def catalog_document(_bundled_document: dict[str, Any]) -> dict[str, Any]:
    """A fresh, mutable copy of the bundled catalog document."""
    return copy.deepcopy(_bundled_document)


@pytest.fixture
def write_json(tmp_path: Path) -> Callable[[str, object], Path]:
    """Write a JSON document into the test's temporary folder and return its path."""

    def write(name: str, document: object) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    return write


POSTGRES_URL_ENV = "TRADEIN_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh, private schema (dropped afterwards).

    Skips with the reason when no server is reachable; fails instead when TRADEIN_REQUIRE_POSTGRES=1
    (as CI sets it).
    """
    base = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    engine = sa.create_engine(engine_url(base), isolation_level="AUTOCOMMIT")
    schema = f"tradein_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = f"PostgreSQL not reachable at {base.rsplit('@', 1)[-1]}: {str(exc.orig).splitlines()[0]}"
        if os.environ.get("TRADEIN_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Each store kind in turn: None (SQLite in the test's folder), then a private PostgreSQL schema."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return None


@pytest.fixture
def start() -> datetime:
    """The moment the test's clock starts at; a module needing another moment overrides this fixture."""
    return START


@pytest.fixture
def clock(start: datetime) -> FixedClock:
    """A clock standing at the test's start time; the test moves it by hand."""
    return FixedClock(start)


@pytest.fixture
def trade_in(tmp_path: Path, clock: FixedClock) -> Iterator[TradeIn]:
    """The embedded facade on SQLite in a fresh data directory, at the test's clock."""
    facade = TradeIn.embedded(tmp_path, clock=clock)
    yield facade
    facade.close()


@pytest.fixture
def any_store_trade_in(tmp_path: Path, clock: FixedClock, database_url: str | None) -> Iterator[TradeIn]:
    """The embedded facade on each store kind in turn (SQLite, then PostgreSQL), at the test's clock."""
    facade = TradeIn.embedded(tmp_path, database_url=database_url, clock=clock)
    yield facade
    facade.close()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Every HTTP request of the test goes to respx; an unmatched request fails the test."""
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The demo shop on a fresh data directory, without demo data."""
    from examples.flask_shop import create_app  # noqa: PLC0415 - only the shop tests need Flask
    from examples.flask_shop.testing import shop_state  # noqa: PLC0415

    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path), "TRADEIN_SEED_DEMO": False})
    yield app
    shop_state(app).close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright; skipped with the reason when missing (failed when required)."""
    from examples.flask_shop.browser import browser_missing, launch_chromium  # noqa: PLC0415

    missing = browser_missing()
    if missing is not None:
        if os.environ.get("TRADEIN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required (TRADEIN_REQUIRE_BROWSER=1) but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
