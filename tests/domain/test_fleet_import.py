from __future__ import annotations

import codecs
import io
import json
import sys
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from tradein_sdk._domain.catalog import BUNDLED_CATALOG, Catalog
from tradein_sdk._domain.fleet_import import (
    GRADES,
    PROBLEM_CODES,
    WHOLE_ROW,
    AssetImport,
    AssetRow,
    read_assets,
)
from tradein_sdk._errors import AssetImportError, FleetError, ImportProblem

if TYPE_CHECKING:
    from collections.abc import Sequence


def _bundled_without_tacs() -> Catalog:
    """The bundled catalog's models without their TACs, so only the TAC tests below depend on TACs."""
    document = json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))
    for model in document["models"]:
        model.pop("tac_prefixes", None)
    return Catalog.from_document(document, origin="bundled, without TACs")


CATALOG = _bundled_without_tacs()

TAC = "35209900"
"""The TAC of the published test IMEI 352099001761481."""

SHOP_TAC = "35123456"
SHOP_PHONE: dict[str, Any] = {
    "id": "nothing-phone-2",
    "brand": "Nothing",
    "name": "Phone (2)",
    "category": "smartphone",
    "release_date": "2023-07-17",
    "tac_prefixes": [SHOP_TAC],
    "variants": [{"id": "nothing-phone-2-256gb", "storage_gb": 256}],
}


def imei(serial: int, tac: str = TAC) -> str:
    """A valid IMEI: the TAC, a 6-digit serial and the Luhn check digit."""
    body = f"{tac}{serial:06d}"
    return body + luhn.calc_check_digit(body)


def csv_bytes(
    rows: Sequence[Sequence[str]], *, delimiter: str = ";", encoding: str = "utf-8", newline: str = "\r\n"
) -> bytes:
    """An asset list as office software writes it: fields quoted only when they must be."""

    def field(value: str) -> str:
        if any(char in value for char in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = "".join(delimiter.join(field(value) for value in row) + newline for row in rows)
    return text.encode(encoding)


def workbook(rows: Sequence[Sequence[object] | None]) -> bytes:
    """An XLSX file with the rows in its first worksheet (``None`` rows stay blank)."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row or (), start=1):
            sheet.cell(row=number, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read(data: bytes, **options: Any) -> AssetImport:  # noqa: ANN401 - read_assets' keyword options
    """Read with the bundled catalog (without TACs)."""
    return read_assets(data, catalog=CATALOG, **options)


def codes(result: AssetImport) -> list[tuple[int, str, str]]:
    """The problems as (row, column, code)."""
    return [(problem.row, problem.column, problem.code) for problem in result.problems]


def one_problem(result: AssetImport) -> ImportProblem:
    """The only problem of a result."""
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


HEADER = ["Model", "Storage", "IMEI", "Asset tag", "Grade"]


def simple(*rows: Sequence[str], header: Sequence[str] = HEADER, **options: Any) -> AssetImport:  # noqa: ANN401
    """Read a comma-separated list with the header given."""
    return read(csv_bytes([header, *rows], delimiter=","), **options)


# -- real-world files ----------------------------------------------------------------------------------------


def test_german_excel_export_reads_every_field() -> None:
    """A German Excel CSV (BOM, semicolons, German headers, decimal commas, German dates) reads exactly."""
    data = csv_bytes(
        [
            [
                "Gerät",
                "Speicher",
                "IMEI",
                "Seriennummer",
                "Inventarnummer",
                "Kostenstelle",
                "Sperre aufgehoben",
                "Zustand",
                "Kaufdatum",
                "Buchwert",
                "Bemerkung",
            ],
            [
                "iPhone 13",
                "128 GB",
                "35 209900 000001 " + imei(1)[-1],
                "",
                "INV-0001",
                "4711",
                "ja",
                "gut",
                "31.12.2023",
                "1.234,56",
                "Display ok; Akku 87 %",
            ],
            [
                "Galaxy S23",
                "256",
                "",
                "R58N12ABC34",
                "INV-0002",
                "4712",
                "nein",
                "Sehr gut",
                "05.01.2024",
                "€ 12,50",
                "",
            ],
        ],
        encoding="utf-8-sig",
    )
    result = read(data, filename="Inventar.csv")
    assert result.problems == ()
    assert result.source_format == "csv"
    assert result.rows_read == 2
    assert result.columns[0] == "Gerät"
    assert result.rows == (
        AssetRow(
            row=2,
            variant_id="apple-iphone-13-128gb",
            model_text="iPhone 13",
            imei=imei(1),
            serial=None,
            asset_tag="INV-0001",
            cost_centre="4711",
            lock_released=True,
            grade="good",
            answers=None,
            purchase_date=date(2023, 12, 31),
            book_value=Decimal("1234.56"),
        ),
        AssetRow(
            row=3,
            variant_id="samsung-galaxy-s23-256gb",
            model_text="Galaxy S23",
            imei=None,
            serial="R58N12ABC34",
            asset_tag="INV-0002",
            cost_centre="4712",
            lock_released=False,
            grade="excellent",
            answers=None,
            purchase_date=date(2024, 1, 5),
            book_value=Decimal("12.50"),
        ),
    )


@pytest.mark.parametrize("delimiter", [";", ",", "\t"], ids=["semicolon", "comma", "tab"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"], ids=["utf-8", "utf-8-bom"])
def test_separator_and_byte_order_mark_are_recognised(delimiter: str, encoding: str) -> None:
    """Semicolon, comma and tab lists, with or without a UTF-8 BOM, read the same rows and headers."""
    data = csv_bytes(
        [
            ["Model", "IMEI", "Cost centre", "Grade", "Book value"],
            ["Fairphone 5", imei(7), "Sales, Berlin; 2nd floor", "fair", "99,90"],
        ],
        delimiter=delimiter,
        encoding=encoding,
    )
    result = read(data)
    assert result.columns == ("Model", "IMEI", "Cost centre", "Grade", "Book value")
    assert result.problems == ()
    (row,) = result.rows
    assert (row.variant_id, row.imei, row.cost_centre, row.grade, row.book_value) == (
        "fairphone-5-256gb",
        imei(7),
        "Sales, Berlin; 2nd floor",
        "fair",
        Decimal("99.90"),
    )


def test_windows_1252_file_is_decoded() -> None:
    """An older German Excel file in Windows-1252 keeps its umlauts and its euro sign."""
    data = csv_bytes(
        [
            ["Gerät", "IMEI", "Kostenstelle", "Zustand", "Restwert"],
            ["Pixel 8 128 GB", imei(3), "Büro München", "beschädigt", "€ 45,00"],
        ],
        encoding="cp1252",
    )
    result = read(data)
    assert result.columns == ("Gerät", "IMEI", "Kostenstelle", "Zustand", "Restwert")
    (row,) = result.rows
    assert (row.variant_id, row.cost_centre, row.grade, row.book_value) == (
        "google-pixel-8-128gb",
        "Büro München",
        "damaged",
        Decimal("45.00"),
    )


def test_excel_unicode_text_is_decoded() -> None:
    """Excel's "Unicode text" export (UTF-16 with BOM, tab-separated) is read."""
    data = codecs.BOM_UTF16_LE + csv_bytes(
        [["Modell", "IMEI", "Zustand"], ["Xiaomi 13", imei(4), "defekt"]],
        delimiter="\t",
        encoding="utf-16-le",
    )
    result = read(data)
    assert [(row.variant_id, row.grade) for row in result.rows] == [("xiaomi-13-256gb", "faulty")]


def test_excel_separator_hint_is_obeyed() -> None:
    """A first line ``sep=,`` (Excel's hint) sets the separator and is not a row of the list."""
    # Sniffing would split this header at the semicolons; the hint says commas.
    data = b"sep=,\r\nModel,IMEI;Grade;Notes\r\nFairphone 5,x;y;z\r\n"
    result = read(data)
    assert result.columns == ("Model", "IMEI;Grade;Notes")
    assert codes(result) == [(1, "imei", "missing_column")]
    data = f"sep=;\nModel;IMEI;Grade\nFairphone 5;{imei(1)};good\nFairphone 5;1;good\n".encode()
    result = read(data)
    assert [row.row for row in result.rows] == [2]
    assert codes(result) == [(3, "IMEI", "invalid_imei")]


def test_blank_lines_are_skipped_but_keep_the_numbering() -> None:
    """Blank and whitespace-only lines are not rows, yet later rows keep the number the spreadsheet shows."""
    text = (
        "\r\n"
        "Model;IMEI;Grade\r\n"
        f"Fairphone 5;{imei(1)};good\r\n"
        "\r\n"
        " ; ; \r\n"
        f"Fairphone 5;{imei(2)};gut\r\n"
        "Fairphone 5;123;good\r\n"
        "\r\n"
    )
    result = read(text.encode())
    assert result.rows_read == 3
    assert [row.row for row in result.rows] == [3, 6]
    assert codes(result) == [(7, "IMEI", "invalid_imei")]


def test_quoted_field_with_a_line_break_is_one_row() -> None:
    """A quoted cell holding a line break stays one spreadsheet row."""
    data = csv_bytes(
        [
            ["Model", "IMEI", "Asset tag", "Grade"],
            ["Fairphone 5", imei(1), "INV\n1", "good"],
            ["Fairphone 5", imei(2), "INV-2", "bad"],
        ]
    )
    result = read(data)
    assert [row.asset_tag for row in result.rows] == ["INV\n1"]
    assert codes(result) == [(3, "Grade", "unknown_grade")]


def test_workbook_numbers_and_dates_lose_nothing() -> None:
    """In a workbook, IMEIs stored as numbers keep every digit (even a leading zero); dates become dates."""
    leading_zero = imei(5, tac="01234567")
    data = workbook(
        [
            [
                *("Modell", "Speicher", "IMEI", "Inventarnummer", "Kostenstelle", "MDM released", "Grade"),
                *("Purchase date", "Book value"),
            ],
            ["iPhone 14 Pro", 256, int(imei(1)), "A-1", 4711, True, "A", date(2022, 9, 30), 612.5],
            ["Galaxy S24", "512 GB", float(imei(2)), 1002, None, "x", "B", "2024-02-29", "1.099,00"],
            None,
            ["Pixel 9", 128, int(leading_zero), "A-3", "CC 1", False, "C", 45291, 0.1],
        ]
    )
    result = read(data, filename="fleet.XLSX")
    assert result.source_format == "xlsx"
    assert result.problems == ()
    assert result.rows_read == 3
    assert result.rows == (
        AssetRow(
            row=2,
            variant_id="apple-iphone-14-pro-256gb",
            model_text="iPhone 14 Pro",
            imei=imei(1),
            asset_tag="A-1",
            cost_centre="4711",
            lock_released=True,
            grade="excellent",
            purchase_date=date(2022, 9, 30),
            book_value=Decimal("612.5"),
        ),
        AssetRow(
            row=3,
            variant_id="samsung-galaxy-s24-512gb",
            model_text="Galaxy S24",
            imei=imei(2),
            asset_tag="1002",
            lock_released=True,
            grade="good",
            purchase_date=date(2024, 2, 29),
            book_value=Decimal("1099.00"),
        ),
        AssetRow(
            row=5,
            variant_id="google-pixel-9-128gb",
            model_text="Pixel 9",
            imei=leading_zero,
            asset_tag="A-3",
            cost_centre="CC 1",
            lock_released=False,
            grade="fair",
            purchase_date=date(2023, 12, 31),
            book_value=Decimal("0.1"),
        ),
    )


def test_workbook_is_recognised_without_a_filename() -> None:
    """Without a filename, a zip signature means XLSX; anything else is read as CSV."""
    data = workbook([["Model", "IMEI", "Grade"], ["Fairphone 5", imei(1), "good"]])
    assert read(data).source_format == "xlsx"
    assert read(data, filename="upload.bin").source_format == "xlsx"
    assert read(b"Model,IMEI\n", filename=None).source_format == "csv"


def test_workbook_problems_name_the_cell_text() -> None:
    """Problems in a workbook name the row, the header as written and the cell as text."""
    data = workbook(
        [["Model", "IMEI", "Grade"], ["Fairphone 5", 123456789, "good"], ["Fairphone 5", None, 7]]
    )
    result = read(data)
    assert codes(result) == [
        (2, "IMEI", "invalid_imei"),
        (3, "IMEI", "missing_identifier"),
        (3, "Grade", "unknown_grade"),
    ]
    assert [problem.value for problem in result.problems] == ["123456789", "", "7"]


def test_damaged_files_are_one_problem() -> None:
    """A damaged workbook, an old .xls file or unreadable CSV text is one problem, not an exception."""
    damaged = read(b"PK\x03\x04 not really a zip", filename="fleet.xlsx")
    assert codes(damaged) == [(1, "*", "unreadable_file")]
    assert damaged.rows == ()
    old = read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), filename="fleet.xls")
    assert codes(old) == [(1, "*", "unreadable_file")]
    assert ".xls" in old.problems[0].message
    runaway_quote = read(b'Model;IMEI\r\n"' + b"x" * 200_000, filename="fleet.csv")
    assert codes(runaway_quote) == [(1, "*", "unreadable_file")]


def test_workbook_without_openpyxl_asks_for_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without openpyxl a workbook raises FleetError naming the tradein-sdk[fleet] extra; CSV still works."""
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(FleetError, match=r"tradein-sdk\[fleet\]"):
        read(b"PK\x03\x04", filename="fleet.xlsx")
    assert read(csv_bytes([["Model", "IMEI", "Grade"], ["Fairphone 5", imei(1), "good"]])).problems == ()


# -- columns -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "serial", "tag", "cost", "lock"),
    [
        ("model", "serial", "asset_tag", "cost_centre", "lock_released"),
        ("MODEL", "Serial Number", "Asset Tag", "Cost Center", "Activation-Lock released"),
        ("Device", "serial_number", "Asset", "cost-centre", "MDM_released"),
        ("Modell", "Seriennummer", "Inventarnummer", "Kostenstelle", "Sperre aufgehoben"),
        ("  Gerät ", "SERIENNUMMER", "inventar nummer", "KOSTENSTELLE", "sperre_aufgehoben"),
    ],
    ids=["snake-case", "title-case", "synonyms", "german", "german-messy"],
)
def test_headers_match_in_any_spelling(model: str, serial: str, tag: str, cost: str, lock: str) -> None:
    """Headers match ignoring case, spaces, underscores and hyphens, in English or German."""
    result = read(
        csv_bytes(
            [
                [model, serial, tag, cost, lock, "Grade"],
                ["Fairphone 5", "FP5ABC1234", "T-1", "CC", "yes", "good"],
            ]
        )
    )
    assert result.problems == ()
    (row,) = result.rows
    assert (row.serial, row.asset_tag, row.cost_centre, row.lock_released) == (
        "FP5ABC1234",
        "T-1",
        "CC",
        True,
    )
    assert result.columns[0] == model.strip()


def test_unknown_headers_are_ignored_but_listed() -> None:
    """Columns the import does not know are ignored; columns lists every header as found."""
    result = simple(
        ["Fairphone 5", "", imei(1), "T-1", "good", "Max Mustermann"], header=[*HEADER, "Employee"]
    )
    assert result.columns == ("Model", "Storage", "IMEI", "Asset tag", "Grade", "Employee")
    assert len(result.rows) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["IMEI", "Grade"], [(1, "model", "missing_column")]),
        (["Model", "Asset tag", "Grade"], [(1, "imei", "missing_column")]),
        (["Name", "Kommentar"], [(1, "model", "missing_column"), (1, "imei", "missing_column")]),
    ],
    ids=["no-model", "no-identifier", "neither"],
)
def test_missing_required_column_rejects_the_list(
    header: list[str], expected: list[tuple[int, str, str]]
) -> None:
    """Without a model column, or without an IMEI or serial column, the list yields no rows."""
    result = read(csv_bytes([header, ["Fairphone 5", imei(1), "good"]]))
    assert codes(result) == expected
    assert result.rows == ()
    assert result.rejected_rows == (1,)


def test_empty_file_has_no_header() -> None:
    """An empty (or blank) file is one missing_column problem for the whole row."""
    for data in (b"", b"\xef\xbb\xbf\r\n\r\n"):
        result = read(data)
        assert codes(result) == [(1, "*", "missing_column")]
        assert (result.rows, result.rows_read, result.columns) == ((), 0, ())


def test_too_many_rows_rejects_the_list() -> None:
    """More data rows than max_rows is one too_many_rows problem and no rows."""
    rows = [["Fairphone 5", "", imei(serial), f"T-{serial}", "good"] for serial in range(4)]
    assert len(simple(*rows, max_rows=4).rows) == 4
    result = simple(*rows, max_rows=3)
    assert codes(result) == [(5, "*", "too_many_rows")]
    assert result.rows == ()


def test_bad_arguments_raise_value_error() -> None:
    """A default grade outside GRADES and a max_rows below 1 are programming errors."""
    data = csv_bytes([HEADER])
    with pytest.raises(ValueError, match="default_grade"):
        read(data, default_grade="mint")
    with pytest.raises(ValueError, match="max_rows"):
        read(data, max_rows=0)


# -- models --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "storage", "variant_id"),
    [
        ("apple-iphone-13-512gb", "", "apple-iphone-13-512gb"),
        ("APPLE-IPHONE-13-512GB", "512 GB", "apple-iphone-13-512gb"),
        ("apple-iphone-13", "256", "apple-iphone-13-256gb"),
        ("apple-iphone-15-pro-max", "1TB", "apple-iphone-15-pro-max-1tb"),
        ("iPhone 15 Pro Max", "1 TB", "apple-iphone-15-pro-max-1tb"),
        ("Apple iPhone 13 Pro 256GB", "", "apple-iphone-13-pro-256gb"),
        ("iphone 13 mini", "128 GB", "apple-iphone-13-mini-128gb"),
        ("Samsung Galaxy S20", "", "samsung-galaxy-s20-128gb"),
        ("Galaxy Tab S9", "256 GB", "samsung-galaxy-tab-s9-256gb"),
        ("iPad Pro 13-inch (M4)", "2 TB", "apple-ipad-pro-13-inch-m4-2tb"),
        ("fairphone-5", "", "fairphone-5-256gb"),
        ("Galaxy S20 5G", "", "samsung-galaxy-s20-5g-128gb"),
        ("Samsung Galaxy A52 5G 256GB", "", "samsung-galaxy-a52-5g-256gb"),
        ("Galaxy S23 (256 GB)", "256 GB", "samsung-galaxy-s23-256gb"),
        ("iPhone SE 2020", "64", "apple-iphone-se-2nd-generation-64gb"),
    ],
    ids=[
        "variant-id",
        "variant-id-upper-case-and-storage",
        "model-id-and-storage",
        "model-id-and-terabyte",
        "text-and-terabyte",
        "text-with-storage",
        "text-and-storage-column",
        "single-variant-text",
        "tablet",
        "two-terabytes",
        "single-variant-model-id",
        "name-ending-in-5g",
        "name-ending-in-5g-with-storage",
        "storage-in-parentheses-and-column",
        "alias",
    ],
)
def test_model_cells_resolve_to_a_variant(model: str, storage: str, variant_id: str) -> None:
    """Variant ids, model ids with storage, and free text with or without storage resolve to one variant."""
    result = simple([model, storage, imei(1), "T-1", "good"])
    assert result.problems == ()
    assert result.rows[0].variant_id == variant_id
    assert result.rows[0].model_text == model


@pytest.mark.parametrize(
    ("model", "storage", "column", "code", "message"),
    [
        ("Iphone 99", "128", "Model", "unknown_model", "“Iphone 99” matches no device of the catalog"),
        ("Nokia 3310", "", "Model", "unknown_model", "“Nokia 3310” matches no device of the catalog"),
        (
            "iPhone",
            "128 GB",
            "Model",
            "ambiguous_model",
            (
                "“iPhone” could be several devices (apple-iphone-16, apple-iphone-15, apple-iphone-14); "
                "write the full model name or a catalog id"
            ),
        ),
        (
            "Galaxy",
            "",
            "Model",
            "ambiguous_model",
            (
                "“Galaxy” could be several devices "
                "(samsung-galaxy-s25, samsung-galaxy-s24, samsung-galaxy-watch6); "
                "write the full model name or a catalog id"
            ),
        ),
        (
            "apple-iphone-13",
            "",
            "Storage",
            "missing_storage",
            "“apple-iphone-13” does not say which storage of the Apple iPhone 13: 128 GB, 256 GB, 512 GB",
        ),
        (
            "Galaxy S23",
            "",
            "Storage",
            "missing_storage",
            "“Galaxy S23” does not say which storage of the Samsung Galaxy S23: 128 GB, 256 GB",
        ),
        (
            "iPhone 13 Pro",
            "2 TB",
            "Storage",
            "unknown_storage",
            "Apple iPhone 13 Pro has no 2 TB variant; it comes with 128 GB, 256 GB, 512 GB, 1 TB",
        ),
        (
            "iPhone 13 64GB",
            "",
            "Model",
            "unknown_storage",
            "Apple iPhone 13 has no 64 GB variant; it comes with 128 GB, 256 GB, 512 GB",
        ),
        (
            "apple-iphone-13-128gb",
            "256 GB",
            "Storage",
            "storage_mismatch",
            "“apple-iphone-13-128gb” names 128 GB, but the storage cell says 256 GB",
        ),
        ("iPhone 13", "viel", "Storage", "invalid_storage", "“viel” is not a storage size (128 GB, 1 TB)"),
        (
            "iPhone 13",
            "0,5 GB",
            "Storage",
            "invalid_storage",
            "“0,5 GB” is not a storage size (128 GB, 1 TB)",
        ),
        (
            "Nokia 3310 64 GB",
            "",
            "Model",
            "unknown_model",
            "“Nokia 3310 64 GB” matches no device of the catalog",
        ),
        ("", "128", "Model", "missing_model", "the model is missing"),
    ],
    ids=[
        "unknown",
        "unknown-brand",
        "bare-iphone",
        "bare-galaxy",
        "model-id-without-storage",
        "text-without-storage",
        "storage-the-model-lacks",
        "storage-in-the-text-the-model-lacks",
        "variant-id-other-storage",
        "storage-not-a-size",
        "storage-not-whole-gigabytes",
        "unknown-with-storage",
        "empty",
    ],
)
def test_unresolvable_models_are_named(
    model: str, storage: str, column: str, code: str, message: str
) -> None:
    """Unknown, ambiguous or storage-less model cells are problems naming the value and the candidates."""
    problem = one_problem(simple([model, storage, imei(1), "T-1", "good"]))
    assert (problem.row, problem.column, problem.code, problem.message) == (2, column, code, message)


def test_missing_storage_without_a_storage_column_names_the_model_column() -> None:
    """Without a storage column, a model needing one is reported in the model column."""
    result = read(csv_bytes([["Modell", "IMEI", "Zustand"], ["iPhone 13", imei(1), "gut"]]))
    assert codes(result) == [(2, "Modell", "missing_storage")]
    assert result.problems[0].value == "iPhone 13"


def test_model_resolution_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each distinct model text is searched once, however many rows repeat it (exact names not at all)."""
    searched: list[str] = []
    search = Catalog.search

    def counting(self: Catalog, text: str, **options: Any) -> Any:  # noqa: ANN401 - passes search through
        searched.append(text)
        return search(self, text, **options)

    monkeypatch.setattr(Catalog, "search", counting)
    models = ["iPhone13 Smartphone", "Samsung S23", "Google Pixel8 Handy"]  # no exact names: searched
    rows = [[models[serial % 3], "128 GB", imei(serial), f"T-{serial}", "good"] for serial in range(300)]
    result = simple(*rows)
    assert len(result.rows) == 300
    assert sorted(searched) == sorted(models)
    searched.clear()
    assert len(simple(["Galaxy S23", "128 GB", imei(1), "T-1", "good"]).rows) == 1
    assert searched == []


# -- identifiers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        imei(42),
        f"{imei(42)[:2]} {imei(42)[2:8]} {imei(42)[8:14]} {imei(42)[14]}",
        f"{imei(42)[:2]}-{imei(42)[2:8]}-{imei(42)[8:14]}-{imei(42)[14]}",
        f"{imei(42)[:8]}.{imei(42)[8:]}",
        f"'{imei(42)}",
        f"{imei(42)}.0",
        f"  {imei(42)}  ",
    ],
    ids=["compact", "spaces", "dashes", "dot", "excel-text-marker", "number-export", "padded"],
)
def test_imei_separators_are_removed(written: str) -> None:
    """IMEIs with spaces, dashes, dots, an Excel text marker or a trailing .0 are stored as 15 digits."""
    (row,) = simple(["Fairphone 5", "", written, "T-1", "good"]).rows
    assert row.imei == imei(42)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (imei(1)[:-1] + str((int(imei(1)[-1]) + 1) % 10), "check digit"),
        (imei(1)[:-1], "has 14"),
        ("3.52099E+14", "scientific notation"),
        ("n/a", "digits only"),
    ],
    ids=["check-digit", "too-short", "scientific-notation", "text"],
)
def test_invalid_imeis_are_named(written: str, message: str) -> None:
    """Invalid IMEIs are invalid_imei problems whose message explains the rule broken."""
    problem = one_problem(simple(["Fairphone 5", "", written, "T-1", "good"]))
    assert (problem.row, problem.column, problem.code, problem.value) == (2, "IMEI", "invalid_imei", written)
    assert message in problem.message


def test_serial_numbers_are_normalized_and_checked() -> None:
    """Serials are upper-cased without separators and checked by brand; a row needs an IMEI or a serial."""
    header = ["Model", "Storage", "IMEI", "Serial number", "Grade"]
    result = simple(
        ["iPhone 13", "128", "", "f2lx-k0ab-cd12", "good"],
        ["iPhone 13", "128", "", "R58N12ABC34", "good"],
        ["iPhone 13", "128", "", "", "good"],
        ["iPhone 13", "128", imei(1), "F2LXK0ABCD99", "good"],
        header=header,
    )
    assert [(row.row, row.imei, row.serial) for row in result.rows] == [
        (2, None, "F2LXK0ABCD12"),
        (5, imei(1), "F2LXK0ABCD99"),
    ]
    assert codes(result) == [(3, "Serial number", "invalid_serial_number"), (4, "IMEI", "missing_identifier")]
    assert "Apple" in result.problems[0].message


def test_duplicates_are_named_on_the_later_row() -> None:
    """The same IMEI (however written), serial or asset tag again is a duplicate naming the first row."""
    spaced = f"{imei(3)[:2]} {imei(3)[2:8]} {imei(3)[8:]}"
    result = simple(
        ["Fairphone 5", "", imei(1), "T-1", "good"],
        ["Fairphone 5", "", imei(2), "T-2", "good"],
        ["Fairphone 5", "", imei(3), "T-3", "good"],
        ["Fairphone 5", "", spaced, "T-4", "good"],
        ["Fairphone 5", "", imei(5), "t-2", "good"],
        ["Fairphone 5", "", imei(1), "T-1", "good"],
    )
    assert [row.row for row in result.rows] == [2, 3, 4]
    assert codes(result) == [
        (5, "IMEI", "duplicate"),
        (6, "Asset tag", "duplicate"),
        (7, "IMEI", "duplicate"),
        (7, "Asset tag", "duplicate"),
    ]
    messages = [problem.message for problem in result.problems]
    assert messages[0] == f"“{spaced}” is listed twice: same IMEI as row 4"
    assert messages[1] == "“t-2” is listed twice: same asset tag as row 3"
    assert messages[2:] == [
        f"“{imei(1)}” is listed twice: same IMEI as row 2",
        "“T-1” is listed twice: same asset tag as row 2",
    ]


def test_imei_of_another_model_is_a_mismatch() -> None:
    """An IMEI whose TAC the catalog gives to another model is rejected; unknown TACs are not checked."""
    catalog = CATALOG.extended_with(
        Catalog.from_document(
            {"catalog_id": "shop", "version": "1", "as_of": "2026-11-01", "models": [SHOP_PHONE]}
        )
    )
    data = csv_bytes(
        [
            ["Model", "IMEI", "Grade"],
            ["Nothing Phone (2)", imei(1, tac=SHOP_TAC), "good"],
            ["iPhone 13 128GB", imei(2, tac=SHOP_TAC), "good"],
            ["iPhone 13 128GB", imei(3), "good"],
        ]
    )
    result = read_assets(data, catalog=catalog)
    assert [(row.row, row.variant_id) for row in result.rows] == [
        (2, "nothing-phone-2-256gb"),
        (4, "apple-iphone-13-128gb"),
    ]
    problem = one_problem(result)
    assert (problem.row, problem.column, problem.code) == (3, "IMEI", "imei_model_mismatch")
    assert problem.message == (
        f"IMEI {imei(2, tac=SHOP_TAC)} belongs to a Nothing Phone (2), "
        "not to the Apple iPhone 13 the row names"
    )


# -- values --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("ja", True),
        ("Yes", True),
        ("TRUE", True),
        ("1", True),
        ("x", True),
        ("X", True),
        ("nein", False),
        ("no", False),
        ("false", False),
        ("0", False),
        ("", False),
    ],
    ids=repr,
)
def test_lock_released_reads_yes_and_no(written: str, expected: bool) -> None:
    """Lock-released cells read yes/no, ja/nein, true/false, 1/0 and x/empty."""
    result = simple(["Fairphone 5", "", imei(1), "T-1", "good", written], header=[*HEADER, "MDM released"])
    assert result.rows[0].lock_released is expected


def test_lock_released_defaults_to_false_and_refuses_other_words() -> None:
    """Without the column the lock counts as not released; an unknown word is an invalid_boolean problem."""
    assert simple(["Fairphone 5", "", imei(1), "T-1", "good"]).rows[0].lock_released is False
    result = simple(
        ["Fairphone 5", "", imei(1), "T-1", "good", "vielleicht"], header=[*HEADER, "Sperre aufgehoben"]
    )
    problem = one_problem(result)
    assert (problem.column, problem.code, problem.value) == (
        "Sperre aufgehoben",
        "invalid_boolean",
        "vielleicht",
    )
    assert "“vielleicht”" in problem.message


@pytest.mark.parametrize(
    ("written", "grade"),
    [
        *((grade, grade) for grade in GRADES),
        ("Excellent", "excellent"),
        ("A", "excellent"),
        ("b", "good"),
        ("C", "fair"),
        ("D", "damaged"),
        ("E", "faulty"),
        ("sehr gut", "excellent"),
        ("Sehr_Gut", "excellent"),
        ("gut", "good"),
        ("befriedigend", "fair"),
        ("beschädigt", "damaged"),
        ("defekt", "faulty"),
    ],
    ids=str,
)
def test_grades_in_english_german_and_letters(written: str, grade: str) -> None:
    """Grades read as the pricing grades, German condition words, or letters A to E."""
    assert simple(["Fairphone 5", "", imei(1), "T-1", written]).rows[0].grade == grade


def test_unknown_grade_is_named() -> None:
    """A grade that is none of the known words is an unknown_grade problem naming it."""
    problem = one_problem(simple(["Fairphone 5", "", imei(1), "T-1", "mint"]))
    assert (problem.row, problem.column, problem.code, problem.value) == (2, "Grade", "unknown_grade", "mint")
    assert problem.message.startswith("“mint” is not a grade")


def test_answers_cell_holds_a_json_object() -> None:
    """A JSON object in the answers cell is kept as the row's answers; other JSON is invalid_answers."""
    answers = {"display_glass": "scratched", "battery_health": 87, "powers_on": True}
    result = simple(
        ["Fairphone 5", "", imei(1), "T-1", "", json.dumps(answers)],
        ["Fairphone 5", "", imei(2), "T-2", "good", json.dumps(answers)],
        ["Fairphone 5", "", imei(3), "T-3", "", '{"display_glass": "scratched",}'],
        ["Fairphone 5", "", imei(4), "T-4", "", '["scratched"]'],
        ["Fairphone 5", "", imei(5), "T-5", "", '{"battery_health": NaN}'],
        ["Fairphone 5", "", imei(6), "T-6", "", '"good"'],
        header=[*HEADER, "Answers"],
    )
    assert [(row.row, row.grade, row.answers) for row in result.rows] == [
        (2, None, answers),
        (3, "good", answers),
    ]
    assert codes(result) == [
        (4, "Answers", "invalid_answers"),
        (5, "Answers", "invalid_answers"),
        (6, "Answers", "invalid_answers"),
        (7, "Answers", "invalid_answers"),
    ]
    assert [problem.message for problem in result.problems] == [
        (
            '“{"display_glass": "scratched",}” is not a JSON object of answers: '
            "Expecting property name enclosed in double quotes at character 31"
        ),
        '“["scratched"]” is not a JSON object of answers: it is a JSON array, not an object',
        '“{"battery_health": NaN}” is not a JSON object of answers: NaN is not a JSON number',
        '“"good"” is not a JSON object of answers: it is a JSON string, not an object',
    ]


def test_condition_is_required_unless_a_default_grade_is_given() -> None:
    """A row with neither grade nor answers needs default_grade, which applies to such rows only."""
    rows = (["Fairphone 5", "", imei(1), "T-1", ""], ["Fairphone 5", "", imei(2), "T-2", "damaged"])
    problem = one_problem(simple(*rows))
    assert (problem.row, problem.column, problem.code) == (2, "Grade", "missing_condition")
    assert [row.grade for row in simple(*rows, default_grade="good").rows] == ["good", "damaged"]
    no_grade_column = read(csv_bytes([["Model", "IMEI"], ["Fairphone 5", imei(1)]]))
    assert codes(no_grade_column) == [(2, "grade", "missing_condition")]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2023-12-31", date(2023, 12, 31)),
        ("31.12.2023", date(2023, 12, 31)),
        ("1.2.2024", date(2024, 2, 1)),
        ("31.12.23", date(2023, 12, 31)),
        ("2023-12-31 00:00:00", date(2023, 12, 31)),
        ("2023-12-31T10:15", date(2023, 12, 31)),
    ],
    ids=["iso", "german", "german-short-day", "german-two-digit-year", "iso-with-time", "iso-t"],
)
def test_purchase_dates_in_iso_and_german_form(written: str, expected: date) -> None:
    """Purchase dates read in ISO and German (day.month.year) form."""
    (row,) = simple(["Fairphone 5", "", imei(1), "T-1", "good", written], header=[*HEADER, "Kaufdatum"]).rows
    assert row.purchase_date == expected


@pytest.mark.parametrize("written", ["31/12/2023", "2023-02-30", "30.02.2024", "soon"], ids=str)
def test_invalid_dates_are_named(written: str) -> None:
    """A purchase date that is no calendar date, or ambiguous with slashes, is an invalid_date problem."""
    problem = one_problem(
        simple(["Fairphone 5", "", imei(1), "T-1", "good", written], header=[*HEADER, "Kaufdatum"])
    )
    assert (problem.column, problem.code, problem.value) == ("Kaufdatum", "invalid_date", written)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("€ 12,50", "12.50"),
        ("12,50 €", "12.50"),
        ("EUR 1.000.000,00", "1000000.00"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),
        ("1.234", "1234"),
        ("0,99", "0.99"),
        ("0.500", "0.500"),
        ("0", "0"),
    ],
    ids=repr,
)
def test_book_values_read_german_and_english_numbers(written: str, expected: str) -> None:
    """Book values read decimal commas, thousands separators and currency signs exactly, as Decimal."""
    (row,) = simple(["Fairphone 5", "", imei(1), "T-1", "good", written], header=[*HEADER, "Buchwert"]).rows
    assert row.book_value == Decimal(expected)
    assert isinstance(row.book_value, Decimal)
    assert str(row.book_value) == expected


@pytest.mark.parametrize("written", ["-5,00", "12,34,56", "1.2.3,4,5", "zwölf", "1,2.3"], ids=str)
def test_invalid_book_values_are_named(written: str) -> None:
    """A book value that is no non-negative amount is an invalid_amount problem."""
    problem = one_problem(
        simple(["Fairphone 5", "", imei(1), "T-1", "good", written], header=[*HEADER, "Restwert"])
    )
    assert (problem.column, problem.code, problem.value) == ("Restwert", "invalid_amount", written)


# -- the whole list ------------------------------------------------------------------------------------------


MESSY = (
    ["Fairphone 5", "", imei(1), "T-1", "good"],
    ["Iphone 99", "", imei(2), "T-2", "good"],
    ["iPhone 13", "128 GB", imei(3), "T-3", "sehr gut"],
    ["Galaxy", "", "12345", "T-4", "mint"],
    ["apple-iphone-14-256gb", "", imei(5), "T-3", "B"],
    ["Pixel 8", "256 GB", imei(6), "T-6", "D"],
)


def test_good_rows_are_kept_while_bad_rows_are_named() -> None:
    """Bad rows are left out with every problem named; the good rows are exactly as read."""
    result = simple(*MESSY)
    assert result.rows_read == 6
    assert result.rows == (
        AssetRow(
            row=2,
            variant_id="fairphone-5-256gb",
            model_text="Fairphone 5",
            imei=imei(1),
            asset_tag="T-1",
            grade="good",
        ),
        AssetRow(
            row=4,
            variant_id="apple-iphone-13-128gb",
            model_text="iPhone 13",
            imei=imei(3),
            asset_tag="T-3",
            grade="excellent",
        ),
        AssetRow(
            row=7,
            variant_id="google-pixel-8-256gb",
            model_text="Pixel 8",
            imei=imei(6),
            asset_tag="T-6",
            grade="damaged",
        ),
    )
    assert codes(result) == [
        (3, "Model", "unknown_model"),
        (5, "Model", "ambiguous_model"),
        (5, "IMEI", "invalid_imei"),
        (5, "Grade", "unknown_grade"),
        (6, "Asset tag", "duplicate"),
    ]
    assert result.rejected_rows == (3, 5, 6)


def test_raise_for_problems_names_row_and_column() -> None:
    """raise_for_problems raises AssetImportError naming each problem's row and column; clean lists pass."""
    result = simple(*MESSY)
    with pytest.raises(AssetImportError) as caught:
        result.raise_for_problems()
    assert caught.value.problems == result.problems
    assert caught.value.code == "asset_import_invalid"
    assert str(caught.value).startswith(
        "3 row(s) of the asset list cannot be imported: row 3, Model: “Iphone 99”"
    )
    assert "row 6, Asset tag: “T-3” is listed twice: same asset tag as row 4" in str(caught.value)
    simple(MESSY[0]).raise_for_problems()


VALID_ROWS = [
    ("iPhone 13", "128 GB", "apple-iphone-13-128gb"),
    ("apple-iphone-14-256gb", "", "apple-iphone-14-256gb"),
    ("Galaxy S23", "256", "samsung-galaxy-s23-256gb"),
    ("Fairphone 5", "", "fairphone-5-256gb"),
    ("samsung-galaxy-s24", "512 GB", "samsung-galaxy-s24-512gb"),
    ("Pixel 8 Pro", "1 TB", "google-pixel-8-pro-1tb"),
]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(VALID_ROWS), st.sampled_from(["gut", "B", "fair", "defekt"]), st.booleans()
        ),
        min_size=1,
        max_size=12,
    ),
    data=st.data(),
)
def test_any_order_of_valid_rows_imports_the_same_rows(
    rows: list[tuple[tuple[str, str, str], str, bool]], data: st.DataObject
) -> None:
    """Any permutation of valid rows imports the same set of rows (only their row numbers change)."""
    written = [
        [model, storage, imei(serial), f"T-{serial}", grade, "ja" if released else "nein"]
        for serial, ((model, storage, _), grade, released) in enumerate(rows)
    ]
    shuffled = data.draw(st.permutations(written))
    header = [*HEADER, "MDM released"]
    original, permuted = simple(*written, header=header), simple(*shuffled, header=header)
    assert original.problems == permuted.problems == ()

    def unnumbered(result: AssetImport) -> set[AssetRow]:
        return {attrs.evolve(row, row=0) for row in result.rows}

    assert unnumbered(original) == unnumbered(permuted)
    assert len(unnumbered(original)) == len(rows)
    assert [row.variant_id for row in original.rows] == [expected for (_, _, expected), _, _ in rows]


_CELLS = st.sampled_from(
    [
        "",
        "apple-iphone-13-128gb",
        "iPhone",
        "Galaxy S23",
        "128 GB",
        "1 TB",
        "ja",
        "vielleicht",
        "gut",
        "Z",
        "{",
        "{}",
        '{"platform": "ios"}',
        "35 000000 000001 9",
        "490154203237518",
        "31.02.2023",
        "1.234,56",
        "abc",
        "\x00",
        "=1+1",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    header=st.permutations(
        ["IMEI", "Modell", "Speicher", "Sperre aufgehoben", "Zustand", "answers", "Buchwert"]
    ),
    rows=st.lists(st.lists(_CELLS, min_size=7, max_size=7), max_size=12),
    delimiter=st.sampled_from([";", ",", "\t"]),
)
def test_any_list_reads_into_rows_and_named_problems_never_an_exception(
    header: list[str], rows: list[list[str]], delimiter: str
) -> None:
    """Whatever the cells, every row is imported or named with a known code, a row and a header."""
    lines = [delimiter.join(header)] + [delimiter.join(f'"{cell}"' for cell in row) for row in rows]
    imported = read_assets("\r\n".join(lines).encode(), catalog=CATALOG, filename="assets.csv")
    assert {problem.code for problem in imported.problems} <= set(PROBLEM_CODES)
    assert all(problem.column in {*header, WHOLE_ROW} for problem in imported.problems)
    assert all(1 <= problem.row <= len(rows) + 1 for problem in imported.problems)
    assert {row.row for row in imported.rows}.isdisjoint(imported.rejected_rows)
    assert len(imported.rows) + len(set(imported.rejected_rows) - {1}) <= len(rows)
