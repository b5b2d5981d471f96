"""Build the bundled reference catalog (``tradein_sdk/data/catalog.json``) from ``devices.csv``.

Usage: ``python scripts/catalog/build_reference_catalog.py [devices.csv] [output.json]``

``devices.csv`` lists launch prices and release dates of real devices, each row with its source and a
confidence (high / medium / low; a ``(month-only date)`` suffix means only the month is known). Rows keep
their source on the model. German prices are UVP including VAT; US prices are MSRP before sales tax.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CATALOG_VERSION = "2026.11.0"
AS_OF = "2026-11-24"

ALIASES = {
    "apple-iphone-se-2nd-generation": ["iPhone SE 2020"],
    "apple-iphone-se-3rd-generation": ["iPhone SE 2022"],
    "apple-ipad-9th-generation": ["iPad 2021"],
    "apple-ipad-10th-generation": ["iPad 2022"],
    "apple-watch-se-2nd-generation": ["Watch SE 2022"],
}


def slug(text: str) -> str:
    """Return a lower-case identifier: ``Galaxy S20+ 5G`` → ``galaxy-s20-plus-5g``."""
    text = text.lower().replace("+", " plus ").replace(".", "-")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def storage_suffix(storage_gb: int) -> str:
    """Return ``128gb`` or ``1tb`` for a storage size in GB."""
    return f"{storage_gb // 1024}tb" if storage_gb >= 1024 and storage_gb % 1024 == 0 else f"{storage_gb}gb"


def model_from_row(row: dict[str, str]) -> dict[str, object]:
    """Turn one CSV row into a catalog model document."""
    brand, name = row["brand"], row["model"]
    model_id = slug(name if name.lower().startswith(brand.lower()) else f"{brand} {name}")
    confidence_words = row["confidence"].split(" ", 1)
    priced_storage = int(row["launch_price_storage_gb"] or 0)  # empty: no price known
    variants = []
    for storage in (int(value) for value in row["storage_variants_gb"].split(";")):
        launch_prices = []
        if storage == priced_storage and row["launch_price_eur_de"]:
            launch_prices.append(
                {
                    "market": "DE",
                    "price": {"amount": row["launch_price_eur_de"], "currency": "EUR"},
                    "tax_included": True,
                }
            )
        if storage == priced_storage and row["launch_price_usd"]:
            launch_prices.append(
                {
                    "market": "US",
                    "price": {"amount": row["launch_price_usd"], "currency": "USD"},
                    "tax_included": False,
                }
            )
        variant: dict[str, object] = {
            "id": f"{model_id}-{storage_suffix(storage)}",
            "storage_gb": storage,
        }
        if launch_prices:
            variant["launch_prices"] = launch_prices
        variants.append(variant)
    model: dict[str, object] = {
        "id": model_id,
        "brand": brand,
        "name": name,
        "category": row["category"],
        "release_date": row["release_date"],
    }
    if "month-only" in row["confidence"]:
        model["release_date_precision"] = "month"
    if model_id in ALIASES:
        model["aliases"] = ALIASES[model_id]
    model["variants"] = variants
    model["source"] = {"reference": row["source"], "confidence": confidence_words[0]}
    return model


def main(argv: list[str]) -> None:
    """Read the CSV and write the catalog document."""
    source = Path(argv[1]) if len(argv) > 1 else HERE / "devices.csv"
    target = Path(argv[2]) if len(argv) > 2 else ROOT / "tradein_sdk" / "data" / "catalog.json"
    with source.open(encoding="utf-8", newline="") as handle:
        models = [model_from_row(row) for row in csv.DictReader(handle)]
    document = {
        "$schema": "urn:tradein-sdk:schemas:catalog",
        "catalog_id": "tradein-reference",
        "version": CATALOG_VERSION,
        "as_of": AS_OF,
        "description": (
            "Reference catalog of consumer devices released 2019-2025: German launch prices (UVP incl. "
            "VAT) and US launch prices (MSRP before tax) of the priced base variant, first on-sale dates "
            "in Germany, each with its source and a confidence. Launch prices anchor the reference "
            "residual-value model; they are not current prices. Check 'medium' and 'low' rows against "
            "the manufacturers before customer-facing use."
        ),
        "models": models,
    }
    target.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(models)} models to {target}")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv)
