"""The CO2 company report as a PDF with a chart: the figures, the Scope-3 note, per-month bars, languages.

The report is built from real device results (the bundled factors, catalog models). ``pdftotext`` and
``pdftoppm`` (poppler-utils) read the rendered documents back; without them those checks are skipped with
the reason, unless ``TRADEIN_REQUIRE_BROWSER=1`` is set, where they fail instead. Page 1 is kept as
``test-artifacts/co2-report-page1.png``.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from babel.numbers import format_decimal
from matplotlib.patches import Rectangle
from PIL import Image

from tradein_sdk._adapters.co2_pdf import (
    _LABELS,
    AVOIDED_AXES,
    CHART_DPI,
    CHART_SIZE,
    REPORTS_EXTRA,
    TREATMENT_AXES,
    _Texts,
    co2_chart_figure,
    co2_chart_png,
    co2_report_pdf,
)
from tradein_sdk._domain.co2 import (
    SCOPE3_NOTES,
    CO2Entry,
    CO2Factors,
    EntryStatus,
    Outcome,
    co2_report_document,
    device_co2,
)
from tradein_sdk._errors import ConfigurationError, DocumentInvalidError, UnsupportedLocaleError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
COMPANY = "Beispiel Handel GmbH"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Catalog models with their category and storage; each month reuses and recycles some of each.
MODELS = (("apple-iphone-11", "smartphone", 64), ("samsung-galaxy-s22", "smartphone", 128))


def entries(months: int, *, reused: int = 8, recycled: int = 1) -> list[CO2Entry]:
    """For each of ``months`` months from January 2026: ``reused`` and ``recycled`` devices of each model."""
    factors = CO2Factors.bundled()
    found: list[CO2Entry] = []
    for month in range(1, months + 1):
        for model_id, category, storage in MODELS:
            outcomes = [Outcome.REUSE] * reused + [Outcome.RECYCLE] * recycled
            for index, outcome in enumerate(outcomes):
                result = device_co2(
                    factors, model_id=model_id, category=category, storage_gb=storage, outcome=outcome
                )
                found.append(
                    CO2Entry(
                        order_id=f"ord_{month:02d}{index:02d}{model_id}",
                        device_id=f"d{index + 1}",
                        completed_at=datetime(2026, month, 3 + index, 10, tzinfo=UTC),
                        status=EntryStatus.FINAL,
                        result=result,
                    )
                )
    return found


def report(months: int = 3, **counts: int) -> dict[str, Any]:
    """The company's report over ``months`` months of 2026."""
    return co2_report_document(
        entries(months, **counts),
        factors=CO2Factors.bundled(),
        company=COMPANY,
        start=date(2026, 1, 1),
        end=date(2026, months, 28),
        generated_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
    )


def kg(value: str, locale: str) -> str:
    """A kg figure as the report prints it: whole kilograms from 100 up, else one decimal."""
    amount = Decimal(value)
    return str(format_decimal(amount, format="#,##0" if abs(amount) >= 100 else "#,##0.0", locale=locale))


def tool(name: str) -> str:
    """The path of a poppler-utils program; skip without it, or fail when TRADEIN_REQUIRE_BROWSER=1."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} (poppler-utils) is not installed: apt-get install poppler-utils"
        if os.environ.get("TRADEIN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (required: TRADEIN_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    return path


def pdf_text(path: Path) -> str:
    """The document's text as pdftotext extracts it, white space collapsed."""
    result = subprocess.run(
        [tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(result.stdout.split())


def panel(figure: Figure, label: str) -> Axes:
    """The chart's panel with ``label``."""
    (axes,) = (axes for axes in figure.axes if axes.get_label() == label)
    return axes


def bars(axes: Axes) -> list[Rectangle]:
    """The bars drawn in a panel."""
    return [patch for patch in axes.patches if isinstance(patch, Rectangle)]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """A three-month report: per month 8 reused and 1 recycled device of each model."""
    return report()


def test_report_shows_the_avoided_emissions_apart_from_the_inventory(
    document: dict[str, Any], tmp_path: Path
) -> None:
    """Company, period, ≈ central total with its range and the Scope-3 note are printed; no device rows."""
    pdf = co2_report_pdf(document, locale="en")
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "co2-report.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)

    avoided = document["avoided_emissions"]["kg"]
    assert Decimal(avoided["central"]) >= 1000  # a thousands separator is printed
    central = kg(avoided["central"], "en")
    assert "," in central
    for expected in (
        "CO2e avoided by device reuse",
        COMPANY,
        "Period: January 1, 2026 – March 28, 2026",
        f"≈ {central} kg CO2e (range {kg(avoided['low'], 'en')}–{kg(avoided['high'], 'en')} kg CO2e)",
        "outside the Scope-3 inventory",
        document["avoided_emissions"]["note"].split(". ")[0],
        "Inventory view (GHG Protocol, Scope 3)",
        "Category 12",
        f"Treatment emissions {kg(document['inventory_view']['treatment_kg']['central'], 'en')} kg CO2e",
        "Jan 2026",
        "Feb 2026",
        "Mar 2026",
        "Apple iPhone 11 64 GB",
        "Smartphone: category fallback",
        "medium",
        "boavizta-2023",
        "tradein-co2-1",
        document["factors"]["content_hash"],
        f"Devices in the report {document['totals']['devices']}",
        "Page 1 of",
    ):
        assert expected in text, expected
    assert "ord_01" not in text  # the devices are counted, not listed

    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "co2-report-page1"
    subprocess.run(
        [tool("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path), str(target)],
        check=True,
    )
    with Image.open(target.with_suffix(".png")) as image:
        assert image.width in {496, 497}  # A4 at 60 dpi
        assert image.height == 702


def test_german_report_has_german_labels_and_numbers(document: dict[str, Any], tmp_path: Path) -> None:
    """Labels, dates, digits and the Scope-3 notes are German; English labels are gone."""
    path = tmp_path / "co2-report-de.pdf"
    path.write_bytes(co2_report_pdf(document, locale="de"))
    text = pdf_text(path)
    central = kg(document["avoided_emissions"]["kg"]["central"], "de")
    assert "." in central
    for expected in (
        "CO2e-Vermeidung durch Wiederverwendung von Geräten",
        "Zeitraum: 1. Januar 2026 – 28. März 2026",
        f"≈ {central} kg CO2e (Spanne",
        "außerhalb des Scope-3-Inventars",
        "Vermiedene Emissionen sind eine Wirkung außerhalb des Inventars",
        "Nach Kategorie",
        "Nach Monat",
        "März 2026",
        "Inventarsicht",
        "Verwendete Faktoren",
        "mittel",
        "Methode und Faktoren",
        "Seite 1 von",
    ):
        assert expected in text, expected
    for english in ("CO2e avoided by device reuse", "outside the Scope-3 inventory", "Page 1 of", "By month"):
        assert english not in text, english


def test_chart_has_one_bar_per_month_in_two_panels(document: dict[str, Any]) -> None:
    """Avoided emissions (central bars, range whiskers) and treatment emissions are separate panels."""
    figure = co2_chart_figure(document)
    avoided, treatment = panel(figure, AVOIDED_AXES), panel(figure, TREATMENT_AXES)
    assert avoided is not treatment
    months = document["by_month"]
    assert len(months) == 3
    assert len(bars(avoided)) == len(months)
    assert len(bars(treatment)) == len(months)
    assert [bar.get_height() for bar in bars(avoided)] == pytest.approx(
        [float(month["avoided_kg"]["central"]) for month in months]
    )
    assert [bar.get_height() for bar in bars(treatment)] == pytest.approx(
        [float(month["treatment_kg"]["central"]) for month in months]
    )
    assert [label.get_text() for label in treatment.get_xticklabels()] == ["Jan 2026", "Feb 2026", "Mar 2026"]


def test_chart_png_is_reproducible(document: dict[str, Any]) -> None:
    """The same document gives the same PNG bytes, at the fixed size and resolution."""
    png = co2_chart_png(document)
    assert png.startswith(PNG_SIGNATURE)
    assert co2_chart_png(document) == png
    assert b"Software" not in png
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (round(CHART_SIZE[0] * CHART_DPI), round(CHART_SIZE[1] * CHART_DPI))
    assert co2_chart_png(document, locale="de") != png  # German month names and digits


def test_twelve_months_give_twelve_bars() -> None:
    """A year's report draws a bar for every month, and renders as a PDF."""
    year = report(12, reused=2, recycled=1)
    figure = co2_chart_figure(year, locale="de")
    assert len(bars(panel(figure, AVOIDED_AXES))) == 12
    assert co2_report_pdf(year).startswith(b"%PDF")


def test_empty_report_renders() -> None:
    """A period without devices gives an empty chart and a PDF with zero totals."""
    empty = co2_report_document(
        [],
        factors=CO2Factors.bundled(),
        company=COMPANY,
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
        generated_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    assert bars(panel(co2_chart_figure(empty), AVOIDED_AXES)) == []
    assert co2_report_pdf(empty).startswith(b"%PDF")


def test_without_matplotlib_the_error_names_the_extra(
    document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without matplotlib the chart and the PDF raise ConfigurationError naming the pip command."""
    for name in [name for name in sys.modules if name == "matplotlib" or name.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'tradein-sdk\[reports\]'"):
        co2_chart_png(document)
    with pytest.raises(ConfigurationError) as raised:
        co2_report_pdf(document)
    assert REPORTS_EXTRA in str(raised.value)


def test_german_labels_are_complete_and_english_is_the_fallback() -> None:
    """Every label has a German text; a language without texts gets English, with its own numbers."""
    english, german = set(_LABELS["en"]), set(_LABELS["de"])
    notes = {key for key in german if key.startswith("note.")}
    assert german - notes == english
    assert {key.removeprefix("note.") for key in notes} == set(SCOPE3_NOTES)
    french = _Texts("fr")
    assert french("title") == "CO2e avoided by device reuse"
    assert french.kg("1234.5") == "1\u202f234"
    assert french.note("category_5", SCOPE3_NOTES["category_5"]) == SCOPE3_NOTES["category_5"]
    assert _Texts("de").note("category_5", "changed") == "changed"  # only the known text is translated


def test_a_document_that_is_not_a_report_is_refused(document: dict[str, Any]) -> None:
    """Another document, a report lacking its figures, or a bad locale raise the library's errors."""
    with pytest.raises(DocumentInvalidError):
        co2_report_pdf({"report": "something-else"})
    with pytest.raises(DocumentInvalidError, match="by_month"):
        co2_chart_png({key: value for key, value in document.items() if key != "by_month"})
    with pytest.raises(UnsupportedLocaleError):
        co2_report_pdf(document, locale="xx-not-a-locale")
