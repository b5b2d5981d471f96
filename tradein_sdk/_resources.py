"""Where the package's bundled data lives: one place, so every module finds it the same way."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
"""The bundled catalog, price books, example promotions and insurance plans."""
