from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from grading_questionnaire._schemas import schema_problems
from tradein_sdk import __version__
from tradein_sdk._cli import main

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI with ``argv`` and return its status, standard output and standard error."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_search_prints_ranked_devices(capsys: pytest.CaptureFixture[str]) -> None:
    """`tradein catalog search` prints one line per hit, best first."""
    status, out, _ = run(capsys, "catalog", "search", "galaxy", "s23", "ultra", "--limit", "2")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("samsung-galaxy-s23-ultra ")
    assert "Samsung Galaxy S23 Ultra · 256 GB, 512 GB, 1 TB · smartphone · 2023-02-17" in lines[0]


def test_search_json_matches_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` prints the documented document, valid against schemas/search-results.schema.json."""
    status, out, _ = run(capsys, "catalog", "search", "iphone 13 128", "--json")
    assert status == 0
    data = json.loads(out)
    assert schema_problems("search-results", data) == []
    assert data["query"] == "iphone 13 128"
    assert data["results"][0]["id"] == "apple-iphone-13-128gb"
    assert data["catalog"]["version"].startswith("tradein-reference@")


def test_search_without_hits(capsys: pytest.CaptureFixture[str]) -> None:
    """No hit is a normal outcome: a message and exit 0 (an empty list with --json)."""
    assert run(capsys, "catalog", "search", "nokia")[:2] == (0, "no device matches 'nokia'\n")
    _, out, _ = run(capsys, "catalog", "search", "nokia", "--json")
    assert json.loads(out)["results"] == []


def test_search_category_filter(capsys: pytest.CaptureFixture[str]) -> None:
    """--category keeps only that category."""
    _, out, _ = run(capsys, "catalog", "search", "samsung", "--category", "smartwatch", "--json")
    assert {hit["category"] for hit in json.loads(out)["results"]} == {"smartwatch"}


def test_search_with_shop_catalog(
    capsys: pytest.CaptureFixture[str], write_json: Callable[[str, object], Path]
) -> None:
    """--catalog lays a shop file over the bundled catalog; --without-bundled uses it alone."""
    shop = write_json(
        "shop.json",
        {
            "catalog_id": "shop",
            "version": "1",
            "as_of": "2026-01-01",
            "models": [
                {
                    "id": "nothing-phone-2",
                    "brand": "Nothing",
                    "name": "Phone (2)",
                    "category": "smartphone",
                    "release_date": "2023-07-17",
                    "variants": [{"id": "nothing-phone-2-256gb", "storage_gb": 256}],
                }
            ],
        },
    )
    _, out, _ = run(capsys, "catalog", "search", "nothing phone", "--catalog", str(shop), "--json")
    assert json.loads(out)["results"][0]["id"] == "nothing-phone-2"
    _, out, _ = run(
        capsys, "catalog", "search", "pixel", "--catalog", str(shop), "--without-bundled", "--json"
    )
    assert json.loads(out)["results"] == []


def test_without_bundled_needs_a_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    """--without-bundled alone is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as caught:
        main(["catalog", "search", "iphone", "--without-bundled"])
    assert caught.value.code == 2
    assert "--without-bundled needs" in capsys.readouterr().err


def test_show_device(capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog show` prints the model, its variants with launch prices and its source."""
    status, out, _ = run(capsys, "catalog", "show", "apple-iphone-13-128gb")
    assert status == 0
    assert out.splitlines()[0] == "Apple iPhone 13 (smartphone, released 2021-09-24)"
    assert "* apple-iphone-13-128gb" in out
    assert "DE €899.00, US $799.00" in out
    assert "launch price unknown" in out
    assert "confidence: high" in out


def test_show_device_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog show --json` prints the model and the variant in their document form."""
    _, out, _ = run(capsys, "catalog", "show", "google-pixel-9", "--json")
    data: dict[str, Any] = json.loads(out)
    assert data["variant"] is None
    assert data["model"]["id"] == "google-pixel-9"
    assert data["model"]["category"] == "smartphone"
    assert data["model"]["variants"][0]["id"].startswith("google-pixel-9-")


def test_unknown_device_is_an_error_with_code(capsys: pytest.CaptureFixture[str]) -> None:
    """A library error prints its code on standard error and exits 1."""
    status, out, err = run(capsys, "catalog", "show", "nokia-3310")
    assert (status, out) == (1, "")
    assert err == "error [device_not_found]: No device is known as nokia-3310.\n"


def test_validate_valid_catalog(
    capsys: pytest.CaptureFixture[str],
    write_json: Callable[[str, object], Path],
    catalog_document: dict[str, Any],
) -> None:
    """A valid catalog file: exit 0 and one confirming line."""
    path = write_json("catalog.json", catalog_document)
    assert run(capsys, "validate", "catalog", str(path))[:2] == (0, f"{path}: valid catalog\n")


def test_validate_invalid_catalog_lists_each_problem(
    capsys: pytest.CaptureFixture[str],
    write_json: Callable[[str, object], Path],
    catalog_document: dict[str, Any],
) -> None:
    """An invalid catalog: exit 1 and one line per problem with its JSON path."""
    catalog_document["models"][2]["category"] = "laptop"
    catalog_document["models"][7]["variants"][0]["id"] = "Not An Id"
    path = write_json("catalog.json", catalog_document)
    status, out, _ = run(capsys, "validate", "catalog", str(path))
    assert status == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}: $.models[2].category: 'laptop' is not one of")
    assert lines[1].startswith(f"{path}: $.models[7].variants[0].id: ")


def test_validate_non_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A file that is not JSON is one problem at $ with its line and column."""
    path = tmp_path / "x.json"
    path.write_text("{oops", encoding="utf-8")
    status, out, _ = run(capsys, "validate", "catalog", str(path))
    assert status == 1
    assert out.startswith(f"{path}: $: not valid JSON")


def test_validate_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A missing file is a configuration error: exit 1 with its code."""
    status, _, err = run(capsys, "validate", "catalog", str(tmp_path / "none.json"))
    assert status == 1
    assert err.startswith("error [configuration_error]: cannot read")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version."""
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"tradein-sdk {__version__}"
