"""Shared fixtures: the bundled catalog, modified copies of it, a PostgreSQL database, the demo shop."""

from __future__ import annotations

import copy
import json
import os
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from tradein_sdk._adapters.sql.store import engine_url
from tradein_sdk._domain.catalog import BUNDLED_CATALOG

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from flask import Flask


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


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The demo shop on a fresh data directory, without demo data."""
    from examples.flask_shop import create_app  # noqa: PLC0415 - only the shop tests need Flask
    from examples.flask_shop.testing import shop_state  # noqa: PLC0415

    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path), "TRADEIN_SEED_DEMO": False})
    yield app
    shop_state(app).close()
