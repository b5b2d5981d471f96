from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from stdnum import luhn

from tradein_sdk import (
    Catalog,
    ConfigurationError,
    DeviceCategory,
    DeviceNotFoundError,
    DocumentInvalidError,
    InvalidIMEIError,
    Money,
    catalog_problems,
)

if TYPE_CHECKING:
    from collections.abc import Callable


def imei_with_tac(tac: str, serial: str = "000000") -> str:
    """Return a valid IMEI with the given TAC (the check digit computed by Luhn)."""
    body = (tac + serial)[:14]
    return body + luhn.calc_check_digit(body)


REFERENCE_CSV = Path(__file__).resolve().parents[2] / "scripts" / "catalog" / "devices.csv"


def test_bundled_catalog_validates(catalog_document: dict[str, Any]) -> None:
    """The bundled document has no schema or rule problem."""
    assert catalog_problems(catalog_document) == []


def test_bundled_catalog_covers_current_models() -> None:
    """At least 60 real models across the three categories and the required families."""
    catalog = Catalog.bundled()
    assert len(catalog) >= 60
    by_category = Counter(model.category for model in catalog)
    assert by_category[DeviceCategory.SMARTPHONE] >= 40
    assert by_category[DeviceCategory.TABLET] >= 5
    assert by_category[DeviceCategory.SMARTWATCH] >= 5
    names = {model.display_name for model in catalog}
    for family in (
        "Apple iPhone 16",
        "Samsung Galaxy S24",
        "Samsung Galaxy A55 5G",
        "Samsung Galaxy Z Fold6",
        "Google Pixel 9",
        "Fairphone 5",
        "Apple Watch Series 10",
    ):
        assert family in names
    assert any(name.startswith("Apple iPad") for name in names)


def test_bundled_catalog_matches_its_sources() -> None:
    """Every reference row is in the catalog with its release date, launch prices, source and confidence."""
    catalog = Catalog.bundled()
    by_name = {(model.brand, model.name): model for model in catalog}
    with REFERENCE_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(catalog)
    for row in rows:
        model = by_name[row["brand"], row["model"]]
        assert model.release_date == date.fromisoformat(row["release_date"])
        assert [variant.storage_gb for variant in model.variants] == [
            int(size) for size in row["storage_variants_gb"].split(";")
        ]
        assert model.source is not None
        assert model.source.reference == row["source"]
        assert model.source.confidence.value == row["confidence"].split()[0]
        if row["launch_price_eur_de"]:
            variant = model.variant_for_storage(int(row["launch_price_storage_gb"]))
            launch = variant.launch_price("DE")
            assert launch is not None
            assert launch.price == Money(row["launch_price_eur_de"], "EUR")
            assert launch.tax_included


def test_catalog_records_its_version_and_hash() -> None:
    """The bundled catalog names its document, version, as-of date and content hash."""
    catalog = Catalog.bundled()
    (info,) = catalog.documents
    assert info.catalog_id == "tradein-reference"
    assert info.origin == "bundled"
    assert catalog.version == f"tradein-reference@{info.version}"
    assert info.as_of <= date(2026, 12, 31)
    assert info.content_hash.startswith("sha256:")
    assert catalog.content_hash != info.content_hash


def test_lookup_by_model_and_variant_id() -> None:
    """lookup() resolves variant ids to model + variant and model ids to the model alone."""
    catalog = Catalog.bundled()
    entry = catalog.lookup("apple-iphone-13-128gb")
    assert entry.model.name == "iPhone 13"
    assert entry.variant is not None
    assert entry.variant.storage_label == "128 GB"
    assert entry.id == "apple-iphone-13-128gb"
    model_entry = catalog.lookup("apple-iphone-13")
    assert model_entry.variant is None
    assert model_entry.id == "apple-iphone-13"
    assert catalog.lookup("apple-iphone-13-pro-1tb").variant.storage_label == "1 TB"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "device_id",
    ["nokia-3310", "apple-iphone-13-64gb", ""],
    ids=["unknown", "no-such-storage", "empty"],
)
def test_unknown_ids_raise_device_not_found(device_id: str) -> None:
    """An unknown id raises DeviceNotFoundError with the id and code device_not_found."""
    with pytest.raises(DeviceNotFoundError) as caught:
        Catalog.bundled().lookup(device_id)
    assert caught.value.code == "device_not_found"
    assert caught.value.device_id == device_id


def test_variant_for_storage() -> None:
    """A model returns its variant for a storage size and refuses a size it was not sold in."""
    model = Catalog.bundled().model("samsung-galaxy-s23-ultra")
    assert model.variant_for_storage(512).id == "samsung-galaxy-s23-ultra-512gb"
    with pytest.raises(DeviceNotFoundError):
        model.variant_for_storage(64)


def test_display_names_do_not_repeat_the_brand() -> None:
    """Fairphone 5 stays 'Fairphone 5'; iPhone 13 becomes 'Apple iPhone 13'."""
    catalog = Catalog.bundled()
    assert catalog.model("fairphone-5").display_name == "Fairphone 5"
    assert catalog.model("apple-iphone-13").display_name == "Apple iPhone 13"


def test_category_labels_are_translated() -> None:
    """Category names are shown in the shopper's language."""
    assert DeviceCategory.SMARTWATCH.label("fr_FR") == "Montre connectée"
    assert DeviceCategory.TABLET.label("es") == "Tableta"
    assert DeviceCategory.TABLET.label("en") == "Tablet"


def _shop_document(models: list[dict[str, Any]]) -> dict[str, Any]:
    return {"catalog_id": "my-shop", "version": "3", "as_of": "2026-11-01", "models": models}


SHOP_PHONE = {
    "id": "nothing-phone-2",
    "brand": "Nothing",
    "name": "Phone (2)",
    "category": "smartphone",
    "release_date": "2023-07-17",
    "tac_prefixes": ["35123456"],
    "variants": [
        {
            "id": "nothing-phone-2-256gb",
            "storage_gb": 256,
            "launch_prices": [
                {
                    "market": "DE",
                    "price": {"amount": "699.00", "currency": "EUR"},
                    "tax_included": True,
                }
            ],
        },
    ],
}


def test_shop_catalog_extends_the_bundled_one(write_json: Callable[[str, object], Path]) -> None:
    """A shop's models are added, a model with a bundled id replaces the bundled one, TACs resolve."""
    replacement = {
        "id": "fairphone-5",
        "brand": "Fairphone",
        "name": "Fairphone 5",
        "category": "smartphone",
        "release_date": "2023-09-14",
        "variants": [{"id": "fairphone-5-256gb", "storage_gb": 256}],
    }
    shop = Catalog.from_file(write_json("shop.json", _shop_document([SHOP_PHONE, replacement])))
    combined = Catalog.bundled().extended_with(shop)
    assert len(combined) == len(Catalog.bundled()) + 1
    assert [variant.storage_gb for variant in combined.model("fairphone-5").variants] == [256]
    assert combined.lookup("nothing-phone-2-256gb").model.brand == "Nothing"
    assert combined.version == "tradein-reference@2026.11.0+my-shop@3"
    assert combined.model_for_imei(imei_with_tac("35123456")).id == "nothing-phone-2"
    assert combined.search("nothing phone 2")[0].model.id == "nothing-phone-2"
    assert combined.content_hash != Catalog.bundled().content_hash


def test_imei_lookup_by_tac_prefix() -> None:
    """A 6-digit TAC prefix matches every IMEI starting with it; other IMEIs are not found."""
    short = {
        **SHOP_PHONE,
        "id": "vendor-a",
        "tac_prefixes": ["861234"],
        "variants": [{"id": "vendor-a-128gb", "storage_gb": 128}],
    }
    catalog = Catalog.from_document(_shop_document([short]))
    assert catalog.model_for_imei(imei_with_tac("86123456")).id == "vendor-a"
    assert catalog.model_for_imei(imei_with_tac("86123499", "123456")).id == "vendor-a"
    with pytest.raises(DeviceNotFoundError):
        catalog.model_for_imei(imei_with_tac("86123500"))
    invalid = imei_with_tac("86123456")[:-1] + str((int(imei_with_tac("86123456")[-1]) + 1) % 10)
    with pytest.raises(InvalidIMEIError):
        catalog.model_for_imei(invalid)


def test_corrupted_catalog_reports_every_problem_with_its_path(
    catalog_document: dict[str, Any],
) -> None:
    """Each schema violation in a damaged copy is reported once, at its JSON path."""
    models = catalog_document["models"]
    models[0]["category"] = "phone"
    del models[1]["brand"]
    models[2]["variants"][0]["storage_gb"] = "128"
    models[3]["variants"][0]["launch_prices"][0]["price"]["amount"] = 899.0
    models[4]["surprise"] = True
    catalog_document["version"] = "v1"
    problems = {problem.path: problem.message for problem in catalog_problems(catalog_document)}
    assert set(problems) == {
        "$.version",
        "$.models[0].category",
        "$.models[1]",
        "$.models[2].variants[0].storage_gb",
        "$.models[3].variants[0].launch_prices[0].price.amount",
        "$.models[4]",
    }
    assert "'brand' is a required property" in problems["$.models[1]"]
    assert "surprise" in problems["$.models[4]"]


def test_rule_violations_are_reported_with_paths(catalog_document: dict[str, Any]) -> None:
    """Duplicate ids, duplicate storage, duplicate markets and overlapping TACs are each located."""
    models = catalog_document["models"]
    models[5]["id"] = models[0]["id"]
    models[6]["variants"][1]["id"] = models[6]["variants"][0]["id"]
    models[7]["variants"].append(
        {"id": "extra-variant", "storage_gb": models[7]["variants"][0]["storage_gb"]}
    )
    prices = models[8]["variants"][0]["launch_prices"]
    prices.append(prices[0])
    models[9]["tac_prefixes"] = ["35123456"]
    models[10]["tac_prefixes"] = ["351234"]
    paths = [problem.path for problem in catalog_problems(catalog_document)]
    assert paths == [
        "$.models[5].id",
        "$.models[6].variants[1].id",
        "$.models[7].variants[3].storage_gb",
        "$.models[8].variants[0].launch_prices",
        "$.models[10].tac_prefixes[0]",
    ]


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("as_of", "2026-02-30", "$.as_of"),
        ("release_date", "2023-02-29", "$.models[0].release_date"),
        ("currency", "XYZ", "$.models[0].variants[0].launch_prices[0].price"),
    ],
    ids=["as-of-not-a-date", "release-not-a-date", "unknown-currency"],
)
def test_values_the_schema_cannot_check(
    catalog_document: dict[str, Any], field: str, value: str, path: str
) -> None:
    """Impossible dates and unknown currencies are reported at their path."""
    if field == "as_of":
        catalog_document["as_of"] = value
    elif field == "release_date":
        catalog_document["models"][0]["release_date"] = value
    else:
        catalog_document["models"][0]["variants"][0]["launch_prices"][0]["price"]["currency"] = value
    (problem,) = catalog_problems(catalog_document)
    assert problem.path == path


def test_loading_an_invalid_catalog_raises_with_all_problems(
    catalog_document: dict[str, Any], write_json: Callable[[str, object], Path]
) -> None:
    """from_file raises DocumentInvalidError listing every problem; nothing is half-loaded."""
    catalog_document["models"][0]["category"] = "phone"
    catalog_document["models"][1]["release_date"] = "yesterday"
    path = write_json("broken.json", catalog_document)
    with pytest.raises(DocumentInvalidError) as caught:
        Catalog.from_file(path)
    error = caught.value
    assert error.code == "document_invalid"
    assert error.kind == "catalog"
    assert error.source == str(path)
    assert [problem.path for problem in error.problems] == [
        "$.models[0].category",
        "$.models[1].release_date",
    ]
    assert "$.models[0].category" in str(error)


def test_non_json_file_is_a_located_problem(tmp_path: Path) -> None:
    """A file that is not JSON reports line and column."""
    path = tmp_path / "broken.json"
    path.write_text('{"catalog_id": ', encoding="utf-8")
    with pytest.raises(DocumentInvalidError) as caught:
        Catalog.from_file(path)
    assert "line 1, column 16" in caught.value.problems[0].message


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A catalog path that does not exist raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=r"missing\.json"):
        Catalog.from_file(tmp_path / "missing.json")


def test_layers_that_clash_are_refused() -> None:
    """A shop model reusing a bundled variant id under another model id is refused."""
    clash = {**SHOP_PHONE, "variants": [{"id": "apple-iphone-13-128gb", "storage_gb": 128}]}
    with pytest.raises(DocumentInvalidError) as caught:
        Catalog.bundled().extended_with(Catalog.from_document(_shop_document([clash]), origin="shop.json"))
    assert caught.value.source == "shop.json"


def test_launch_prices_by_market() -> None:
    """A priced variant has its German UVP with VAT and US MSRP without tax; others have none."""
    entry = Catalog.bundled().lookup("apple-iphone-15-128gb")
    assert entry.variant is not None
    de_price, us_price = entry.variant.launch_price("DE"), entry.variant.launch_price("US")
    assert de_price is not None
    assert us_price is not None
    assert de_price.price.amount == Decimal(949)
    assert not us_price.tax_included
    assert entry.variant.launch_price("FR") is None
    assert entry.model.variant_for_storage(256).launch_prices == ()


def test_catalog_iterates_over_models() -> None:
    """Iterating a catalog yields its models in document order."""
    catalog = Catalog.bundled()
    assert list(catalog) == list(catalog.models)
