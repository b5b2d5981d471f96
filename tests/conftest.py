"""Shared fixtures: the bundled catalog document and a way to write modified copies of it."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest

from tradein_sdk._catalog import BUNDLED_CATALOG

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


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
