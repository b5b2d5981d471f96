from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradein_sdk import Catalog, DeviceCategory
from tradein_sdk._domain.search import tokens


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("iphone 13 128", "apple-iphone-13-128gb"),
        ("iPhone 13", "apple-iphone-13"),
        ("galaxy s23 ultra", "samsung-galaxy-s23-ultra"),
        ("Samsung Galaxy S23 Ultra 512GB", "samsung-galaxy-s23-ultra-512gb"),
        ("s24+", "samsung-galaxy-s24-plus"),
        ("Galaxy S24 Plus", "samsung-galaxy-s24-plus"),
        ("z flip 4", "samsung-galaxy-z-flip4"),
        ("Galaxy Z Fold6 1 TB", "samsung-galaxy-z-fold6-1tb"),
        ("pixel 7a", "google-pixel-7a"),
        ("iphone 16e", "apple-iphone-16e"),
        ("iphone se 2020", "apple-iphone-se-2nd-generation"),
        ("fairphone 5", "fairphone-5"),
        ("xiaomi 14 ultra", "xiaomi-14-ultra"),
        ("OnePlus 12 256 GB", "oneplus-12-256gb"),
        ("iphnoe 15 pro", "apple-iphone-15-pro"),
        ("Apple Watch Ultra 2", "apple-watch-ultra-2"),
    ],
    ids=lambda value: value,
)
def test_english_queries_rank_the_intended_device_first(query: str, expected: str) -> None:
    """Common ways of naming a device find it first, with its variant when storage is given."""
    assert Catalog.bundled().search(query)[0].id == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Apple Uhr Serie 9", "apple-watch-series-9"),
        ("iPhone SE zweite Generation", "apple-iphone-se-2nd-generation"),
        ("iPad 10. Generation", "apple-ipad-10th-generation"),
        ("iPad Pro 13 Zoll", "apple-ipad-pro-13-inch-m4"),
        ("Galaxy Uhr 6 Classic", "samsung-galaxy-watch6-classic"),
        ("Samsung Handy S22", "samsung-galaxy-s22"),
        ("montre Apple Série 10", "apple-watch-series-10"),
        ("iPhone 15 Pro Max 1 To", "apple-iphone-15-pro-max-1tb"),
        ("Galaxy Tab S8 tablette 256 Go", "samsung-galaxy-tab-s8-256gb"),
        ("iPad Air 13 pouces", "apple-ipad-air-13-inch-m2"),
    ],
    ids=lambda value: value,
)
def test_german_and_french_queries(query: str, expected: str) -> None:
    """German and French words (Uhr, Zoll, zweite, montre, Go/To) find the same devices."""
    assert Catalog.bundled().search(query)[0].id == expected


def test_closer_names_rank_above_longer_ones() -> None:
    """'iphone 13' ranks the iPhone 13 above the 13 mini, 13 Pro and 13 Pro Max."""
    ids = [hit.id for hit in Catalog.bundled().search("iphone 13", limit=4)]
    assert ids[0] == "apple-iphone-13"
    assert set(ids[1:]) == {
        "apple-iphone-13-mini",
        "apple-iphone-13-pro",
        "apple-iphone-13-pro-max",
    }


def test_brand_only_query_lists_the_brand_newest_first() -> None:
    """A brand alone lists that brand's models, newest release first."""
    hits = Catalog.bundled().search("samsung", limit=50)
    assert hits
    assert {hit.model.brand for hit in hits} == {"Samsung"}
    dates = [hit.model.release_date for hit in hits]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    "query",
    ["nokia 3310", "", "   ", "???", "2048 GB"],
    ids=["unknown", "empty", "blank", "symbols", "storage-only"],
)
def test_queries_matching_nothing_return_no_hits(query: str) -> None:
    """Unknown devices and empty input give an empty result, not an error."""
    assert Catalog.bundled().search(query) == ()


def test_category_filter_and_limit() -> None:
    """The category filter keeps only that category and the limit caps the hits."""
    hits = Catalog.bundled().search("apple", category=DeviceCategory.TABLET, limit=3)
    assert len(hits) == 3
    assert {hit.model.category for hit in hits} == {DeviceCategory.TABLET}
    assert Catalog.bundled().search("apple", limit=0) == ()


def test_storage_that_the_model_lacks_selects_no_variant() -> None:
    """Asking for a storage size the model was not sold in still finds the model, without a variant."""
    hit = Catalog.bundled().search("iphone 15 64 GB")[0]
    assert hit.model.id == "apple-iphone-15"
    assert hit.variant is None


def test_tokens_split_and_normalize() -> None:
    """Letter/digit boundaries split, accents fold, synonyms map and filler words drop."""
    assert tokens("Galaxy S23+ Ultra") == ["galaxy", "s", "23", "plus", "ultra"]
    assert tokens("Montre Série 2ème génération") == ["watch", "series", "2"]
    assert tokens("Größe") == ["grosse"]


@given(st.text(max_size=40))
def test_any_text_searches_without_error(query: str) -> None:
    """Arbitrary input never raises and never returns more hits than the limit, each with a positive score."""
    hits = Catalog.bundled().search(query, limit=5)
    assert len(hits) <= 5
    assert all(hit.score > 0 for hit in hits)
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)


def test_hit_json_form() -> None:
    """A hit's JSON form carries ids, names, category, storage and score."""
    hit = Catalog.bundled().search("pixel 8 pro 256")[0]
    data = hit.to_json()
    assert data["id"] == "google-pixel-8-pro-256gb"
    assert data["model_id"] == "google-pixel-8-pro"
    assert data["storage_gb"] == 256
    assert data["category"] == "smartphone"
    assert data["display_name"] == "Google Pixel 8 Pro"
