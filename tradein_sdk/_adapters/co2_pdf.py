"""The CO2 company report as an A4 PDF with a chart: what :func:`co2_report_document` holds, for people.

:func:`co2_report_pdf` prints the avoided emissions in a box of their own, apart from the inventory
figures (the GHG Protocol's Scope 3 categories they touch), with a chart per month (:func:`co2_chart_png`),
the totals per category and month, every factor row used with its source, the sources, and the method and
factor version the figures were computed with. The devices are counted, not listed (a report can hold
100,000 of them; the signed JSON document lists each).

The chart is drawn by matplotlib, an optional dependency (``pip install 'tradein-sdk[reports]'``) that loads
with the first chart. The page follows the certificate's habits (:mod:`tradein_sdk._adapters.pdf`): the core
font Helvetica in Windows-1252, texts in the reader's language (:data:`_LABELS`, English where a language
has no text), numbers and dates by Babel.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire._i18n import translate
from tradein_sdk._adapters.pdf import _ENCODING, _FONT, _heading, _printable, _table
from tradein_sdk._domain.co2 import SCOPE3_NOTES
from tradein_sdk._domain.dates import long_date
from tradein_sdk._errors import ConfigurationError, DocumentInvalidError, DocumentProblem, canonical_locale

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fpdf import FPDF
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

REPORTS_EXTRA: Final = "pip install 'tradein-sdk[reports]'"
"""How to install what the chart needs (named by the error raised without it)."""

CHART_DPI: Final = 150
"""The chart's resolution: fixed, so the same document always gives the same PNG."""
CHART_SIZE: Final = (7.2, 4.6)
"""The chart's size in inches (width, height): the page's text width, a little over half its height."""

AVOIDED_AXES: Final = "avoided"
"""The label of the chart's panel of avoided emissions (one bar a month)."""
TREATMENT_AXES: Final = "treatment"
"""The label of the chart's panel of treatment emissions (an inventory figure, one bar a month)."""

_AVOIDED_COLOR: Final = "#2e7d32"
_TREATMENT_COLOR: Final = "#8d6e63"
_ERROR_COLOR: Final = "#333333"
_APPROX: Final = "\u00bb"  # ≈ in the Symbol core font's own encoding (byte 0xBB)
_TRUNCATED: Final = "…"
_LINE: Final = 4.6
_SMALL: Final = 8.5

# Every text of the report, by language; a missing text is taken from English. ``note.*`` are the
# translations of the domain's Scope-3 notes (SCOPE3_NOTES), used when the document holds exactly that note.
_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "title": "CO2e avoided by device reuse",
        "period": "Period",
        "generated": "Generated",
        "avoided_heading": "Avoided emissions",
        "kg": "{value} kg CO2e",
        "range": "(range {low}–{high} kg CO2e)",
        "full_displacement": (
            "If every reused device replaced a new one (full displacement): {value} kg CO2e. "
            "Devices reused: {reused} of {devices}."
        ),
        "outside_inventory": (
            "These avoided emissions are outside the Scope-3 inventory: they are reported apart from it and "
            "never added to or subtracted from it."
        ),
        "chart_heading": "Per month",
        "chart_avoided": "Avoided emissions (bars: central value; whiskers: range)",
        "chart_treatment": "Treatment emissions of recycled devices (inventory, categories 5/12; not netted)",
        "chart_axis": "kg CO2e",
        "chart_empty": "No devices in this period",
        "by_category": "By category",
        "by_month": "By month",
        "col_category": "Category",
        "col_month": "Month",
        "col_devices": "Devices",
        "col_reused": "Reused",
        "col_recycled": "Recycled or parts",
        "col_avoided": "Avoided kg CO2e",
        "col_range": "Range kg CO2e",
        "col_treatment": "Treatment kg CO2e",
        "col_weight": "Weight kg",
        "total": "Total",
        "inventory_heading": "Inventory view (GHG Protocol, Scope 3)",
        "devices_recycled": "Devices recycled or kept for parts",
        "treatment": "Treatment emissions",
        "waste_weight": "Waste weight",
        "category_1_2": "Categories 1 and 2",
        "category_5": "Category 5",
        "category_12": "Category 12",
        "factors_heading": "Factors used",
        "col_factor": "Device and report",
        "col_footprint": "Footprint kg CO2e",
        "col_confidence": "Confidence",
        "col_source": "Source",
        "fallback": "{category}: category fallback",
        "sources_heading": "Sources",
        "method_heading": "Method and factors",
        "method": "Method",
        "factors": "Factors",
        "factors_value": "{id}, version {version}, as of {as_of}",
        "content_hash": "Content hash of the factors",
        "devices_count": "Devices in the report",
        "devices_value": "{count} (listed one by one in the report's JSON document, not printed here)",
        "page": "Page {page} of {pages}",
        "confidence.high": "high",
        "confidence.medium": "medium",
        "confidence.low": "low",
        "category.smartphone": "Smartphone",
        "category.tablet": "Tablet",
        "category.smartwatch": "Smartwatch",
    },
    "de": {
        "title": "CO2e-Vermeidung durch Wiederverwendung von Geräten",
        "period": "Zeitraum",
        "generated": "Erstellt",
        "avoided_heading": "Vermiedene Emissionen",
        "kg": "{value} kg CO2e",
        "range": "(Spanne {low}–{high} kg CO2e)",
        "full_displacement": (
            "Wenn jedes wiederverwendete Gerät ein neues ersetzte (vollständige Verdrängung): "
            "{value} kg CO2e. Wiederverwendete Geräte: {reused} von {devices}."
        ),
        "outside_inventory": (
            "Diese vermiedenen Emissionen liegen außerhalb des Scope-3-Inventars: Sie werden getrennt davon "
            "berichtet und ihm nie hinzugerechnet oder davon abgezogen."
        ),
        "chart_heading": "Nach Monat",
        "chart_avoided": "Vermiedene Emissionen (Balken: zentraler Wert; Fehlerbalken: Spanne)",
        "chart_treatment": (
            "Behandlungsemissionen recycelter Geräte (Inventar, Kategorien 5/12; nicht verrechnet)"
        ),
        "chart_axis": "kg CO2e",
        "chart_empty": "Keine Geräte in diesem Zeitraum",
        "by_category": "Nach Kategorie",
        "by_month": "Nach Monat",
        "col_category": "Kategorie",
        "col_month": "Monat",
        "col_devices": "Geräte",
        "col_reused": "Wieder-\nverwendet",
        "col_recycled": "Recycelt oder Ersatzteile",
        "col_avoided": "Vermieden kg CO2e",
        "col_range": "Spanne kg CO2e",
        "col_treatment": "Behandlung kg CO2e",
        "col_weight": "Gewicht kg",
        "total": "Summe",
        "inventory_heading": "Inventarsicht (GHG Protocol, Scope 3)",
        "devices_recycled": "Recycelte oder als Ersatzteile genutzte Geräte",
        "treatment": "Behandlungsemissionen",
        "waste_weight": "Abfallgewicht",
        "category_1_2": "Kategorien 1 und 2",
        "category_5": "Kategorie 5",
        "category_12": "Kategorie 12",
        "factors_heading": "Verwendete Faktoren",
        "col_factor": "Gerät und Bericht",
        "col_footprint": "Fußabdruck kg CO2e",
        "col_confidence": "Verlässlichkeit",
        "col_source": "Quelle",
        "fallback": "{category}: Wert der Kategorie",
        "sources_heading": "Quellen",
        "method_heading": "Methode und Faktoren",
        "method": "Methode",
        "factors": "Faktoren",
        "factors_value": "{id}, Version {version}, Stand {as_of}",
        "content_hash": "Inhalts-Hash der Faktoren",
        "devices_count": "Geräte im Bericht",
        "devices_value": "{count} (einzeln im JSON-Dokument des Berichts aufgeführt, hier nicht gedruckt)",
        "page": "Seite {page} von {pages}",
        "confidence.high": "hoch",
        "confidence.medium": "mittel",
        "confidence.low": "niedrig",
        "category.smartphone": "Smartphone",
        "category.tablet": "Tablet",
        "category.smartwatch": "Smartwatch",
        "note.avoided_emissions": (
            "Vermiedene Emissionen sind eine Wirkung außerhalb des Inventars des berichtenden Unternehmens, "
            "gemessen an einem Referenzszenario (WBCSD Guidance on Avoided Emissions, 2023). Sie werden "
            "getrennt von Scope 1, 2 und 3 berichtet und diesen nie hinzugerechnet oder davon abgezogen."
        ),
        "note.category_1_2": (
            "Kategorien 1 und 2 (eingekaufte Waren, Investitionsgüter): Wer ein generalüberholtes Gerät "
            "kauft, weist in seinem eigenen Inventar einen niedrigeren Wert aus; das ist ein Inventareffekt "
            "beim Käufer, nicht der Anspruch dieses Berichts."
        ),
        "note.category_5": (
            "Kategorie 5 (Abfall aus dem Betrieb): für ein Unternehmen, das eigene Geräte abgibt, die "
            "recycelten oder als Ersatzteile genutzten Geräte, ihr Gewicht und die Behandlungsemissionen "
            "unten."
        ),
        "note.category_12": (
            "Kategorie 12 (Behandlung verkaufter Produkte am Lebensende): für einen Verkäufer der Geräte die "
            "Behandlungsemissionen unten (Recycled-Content-Ansatz; keine Materialgutschrift verrechnet)."
        ),
    },
}


@attrs.frozen
class _Texts:
    """The report's texts in one locale: labels (English where missing), numbers and dates by Babel."""

    locale: str

    @property
    def language(self) -> str:
        return self.locale.split("_", 1)[0]

    def __call__(self, key: str, **params: object) -> str:
        """The label ``key`` in the language, its ``{placeholders}`` filled."""
        template = _LABELS.get(self.language, {}).get(key) or _LABELS["en"][key]
        return template.format(**params)

    def word(self, prefix: str, value: str) -> str:
        """A vocabulary word (``confidence.high``), or ``value`` itself when it has no label."""
        key = f"{prefix}.{value}"
        if key in _LABELS.get(self.language, {}) or key in _LABELS["en"]:
            return self(key)
        return value

    def note(self, key: str, text: str) -> str:
        """A Scope-3 note of the document, translated when it is the domain's own text, else as written.

        The domain's English text is translated (the labels, else the catalogs); a note the document already
        holds in a language (:func:`co2_report_document`'s ``locale``) is kept as written.
        """
        if text != SCOPE3_NOTES.get(key):
            return text
        return _LABELS.get(self.language, {}).get(f"note.{key}") or translate(text, self.locale)

    def number(self, value: float | Decimal | str, pattern: str = "#,##0.##") -> str:
        """A number in the locale's digits and separators."""
        from babel.numbers import format_decimal  # noqa: PLC0415 - Babel's numbers load with the first report

        amount = value if isinstance(value, float) else Decimal(value)
        return str(format_decimal(amount, format=pattern, locale=self.locale))

    def kg(self, value: Decimal | str) -> str:
        """A mass or an emission: whole kilograms from 100 up, else one decimal (the ranges are wide)."""
        amount = Decimal(value)
        if amount == 0:
            return self.number(amount, "0")
        return self.number(amount, "#,##0" if abs(amount) >= 100 else "#,##0.0")

    def kg_range(self, kg: Mapping[str, str]) -> str:
        """``low–high`` of a ``{"central", "low", "high"}`` figure."""
        return f"{self.kg(kg['low'])}–{self.kg(kg['high'])}"

    def day(self, value: str) -> str:
        """An ISO date, long form (``March 31, 2026``)."""
        return long_date(date.fromisoformat(value), self.locale)

    def moment(self, value: str) -> str:
        """An ISO time (``...Z``) in UTC, medium form."""
        from babel.dates import format_datetime  # noqa: PLC0415

        return f"{format_datetime(_instant(value), 'medium', tzinfo=UTC, locale=self.locale)} UTC"

    def month(self, value: str) -> str:
        """A ``YYYY-MM`` month, short (``Mar 2026``, ``März 2026``)."""
        from babel.dates import format_skeleton  # noqa: PLC0415

        year, month = (int(part) for part in value.split("-", 1))
        return str(format_skeleton("yMMM", date(year, month, 1), locale=self.locale))


def _instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _texts(locale: str) -> _Texts:
    return _Texts(canonical_locale(locale))


def _checked(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document, once it is seen to be a CO2 report (else DocumentInvalidError)."""
    needed = ("company", "period", "avoided_emissions", "inventory_view", "totals", "by_month")
    if isinstance(document, Mapping) and document.get("report") == "co2-avoided":
        missing = [key for key in needed if key not in document]
        if not missing:
            return document
        message = f"a CO2 report document lacks {', '.join(missing)}"
    else:
        message = 'expected a CO2 report document {"report": "co2-avoided", ...} (co2_report_document)'
    raise DocumentInvalidError(
        kind="co2-report", source="<memory>", problems=[DocumentProblem(path="$", message=message)]
    )


# -- the chart ---------------------------------------------------------------------------------------------


def _spread(figures: Sequence[Mapping[str, str]]) -> tuple[list[float], list[float], list[float]]:
    """Central values and their distances down to low and up to high, as floats for the chart."""
    central = [float(Decimal(kg["central"])) for kg in figures]
    down = [max(0.0, float(Decimal(kg["central"]) - Decimal(kg["low"]))) for kg in figures]
    up = [max(0.0, float(Decimal(kg["high"]) - Decimal(kg["central"]))) for kg in figures]
    return central, down, up


def co2_chart_figure(document: Mapping[str, Any], *, locale: str = "en") -> Figure:
    """Draw the report's chart: avoided emissions per month above, treatment emissions per month below.

    The upper panel (label :data:`AVOIDED_AXES`) has one bar a month of ``by_month``, its height the central
    avoided emissions and its whiskers the low–high range; the lower panel (label :data:`TREATMENT_AXES`),
    apart from it, the end-of-life treatment emissions of the recycled devices, an inventory figure never
    netted against the avoided ones. The figure is not attached to pyplot (no global state); save it with
    :func:`co2_chart_png`.

    Args:
        document: the report (:func:`~tradein_sdk._domain.co2.co2_report_document`).
        locale: the reader's locale: axis numbers, month names and titles.

    Returns:
        The matplotlib figure, drawn on the Agg canvas.

    Raises:
        ConfigurationError: matplotlib is not installed (``pip install 'tradein-sdk[reports]'``).
        DocumentInvalidError: ``document`` is not a CO2 report.
        UnsupportedLocaleError: ``locale`` is not a locale.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - optional, loads late
        from matplotlib.figure import Figure  # noqa: PLC0415
        from matplotlib.ticker import FuncFormatter  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigurationError(f"the CO2 report chart needs matplotlib: {REPORTS_EXTRA}") from exc

    document = _checked(document)
    text = _texts(locale)
    months: Sequence[Mapping[str, Any]] = document["by_month"]
    positions = list(range(len(months)))
    figure = Figure(figsize=CHART_SIZE, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 1, height_ratios=(3, 2))
    avoided = figure.add_subplot(grid[0], label=AVOIDED_AXES)
    treatment = figure.add_subplot(grid[1], sharex=avoided, label=TREATMENT_AXES)
    axis_numbers = FuncFormatter(lambda value, _position: text.number(float(value)))

    panels = (
        (avoided, "avoided_kg", _AVOIDED_COLOR, text("chart_avoided")),
        (treatment, "treatment_kg", _TREATMENT_COLOR, text("chart_treatment")),
    )
    for axes, key, color, title in panels:
        central, down, up = _spread([month[key] for month in months])
        bars = axes.bar(
            positions,
            central,
            width=0.6,
            color=color,
            yerr=[down, up],
            capsize=3,
            error_kw={"elinewidth": 0.9, "ecolor": _ERROR_COLOR, "capthick": 0.9},
        )
        if axes is avoided and months:
            axes.bar_label(
                bars, labels=[text.kg(month[key]["central"]) for month in months], fontsize=6.5, padding=2
            )
        axes.set_title(title, fontsize=8.5, loc="left")
        axes.set_ylabel(text("chart_axis"), fontsize=7.5)
        axes.yaxis.set_major_formatter(axis_numbers)
        axes.tick_params(labelsize=7)
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        if not months:
            _empty(axes, text("chart_empty"))
    avoided.tick_params(labelbottom=False)
    labels = [text.month(month["month"]) for month in months]
    many = len(labels) > 8
    treatment.set_xticks(
        positions, labels=labels, rotation=45 if many else 0, ha="right" if many else "center", fontsize=7
    )
    return figure


def _empty(axes: Axes, message: str) -> None:
    axes.set_xticks([])
    axes.text(0.5, 0.5, message, transform=axes.transAxes, ha="center", va="center", fontsize=8, color="grey")


def co2_chart_png(document: Mapping[str, Any], *, locale: str = "en") -> bytes:
    """Render the report's chart (:func:`co2_chart_figure`) as a PNG.

    The output is reproducible: a fixed size and resolution (:data:`CHART_SIZE`, :data:`CHART_DPI`) and no
    software or date in the PNG's metadata, so the same document and locale give the same bytes.

    Args:
        document: the report (:func:`~tradein_sdk._domain.co2.co2_report_document`).
        locale: the reader's locale.

    Returns:
        The PNG image.

    Raises:
        ConfigurationError: matplotlib is not installed (``pip install 'tradein-sdk[reports]'``).
        DocumentInvalidError: ``document`` is not a CO2 report.
        UnsupportedLocaleError: ``locale`` is not a locale.
    """
    figure = co2_chart_figure(document, locale=locale)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
    return buffer.getvalue()


# -- the PDF -----------------------------------------------------------------------------------------------


def _clipped(value: str, limit: int) -> str:
    """``value`` cut at a word boundary to at most ``limit`` characters, with an ellipsis when cut."""
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;") + _TRUNCATED


def co2_report_pdf(document: Mapping[str, Any], *, locale: str = "en", compress: bool = True) -> bytes:
    """Render a CO2 company report as an A4 PDF in the reader's language.

    The pages show the company and period; the avoided emissions in a box (central value and range, at full
    displacement, with the note that they are outside the Scope-3 inventory); the chart per month
    (:func:`co2_chart_png`); the totals per category and per month; the inventory view (the GHG Protocol
    categories the figures touch, devices recycled or kept for parts, their treatment emissions and waste
    weight); every factor row used and the sources; the method, the factors' version and content hash, and
    the number of devices (not the devices themselves); and page numbers. The document is reproducible: its
    creation date is the report's ``generated_at``.

    Args:
        document: the report (:func:`~tradein_sdk._domain.co2.co2_report_document`).
        locale: the reader's locale (``en``, ``de``, ...); texts fall back to English.
        compress: compress the pages' content streams (``False`` leaves the text readable in the bytes).

    Returns:
        The PDF document.

    Raises:
        ConfigurationError: matplotlib is not installed (``pip install 'tradein-sdk[reports]'``).
        DocumentInvalidError: ``document`` is not a CO2 report.
        UnsupportedLocaleError: ``locale`` is not a locale.
    """
    from fpdf import FPDF  # noqa: PLC0415 - fpdf2 loads with the first document

    document = _checked(document)
    text = _texts(locale)
    chart = co2_chart_png(document, locale=locale)
    period = document["period"]
    title = text("title")
    footer_left = f"{document['company']} · {text.day(period['start'])} – {text.day(period['end'])}"

    class _Report(FPDF):
        def footer(self) -> None:
            self.set_y(-11)
            self.set_font(_FONT, size=7.5)
            self.set_text_color(110)
            self.cell(self.epw * 0.7, 4, _printable(_clipped(footer_left, 90)), align="L")
            self.cell(0, 4, _printable(text("page", page=self.page_no(), pages="{nb}")), align="R")
            self.set_text_color(0)

    pdf = _Report(orientation="portrait", unit="mm", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_compression(compress)
    pdf.set_creation_date(_instant(document.get("generated_at") or f"{period['end']}T00:00:00Z"))
    pdf.set_title(_printable(f"{title} - {document['company']}"))
    pdf.set_author(_printable(str(document["company"])))
    pdf.set_lang(text.language)
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()

    pdf.set_font(_FONT, style="B", size=17)
    pdf.multi_cell(0, 8, _printable(title), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, style="B", size=12)
    pdf.multi_cell(0, 6.5, _printable(str(document["company"])), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=9.5)
    facts = f"{text('period')}: {text.day(period['start'])} – {text.day(period['end'])}"
    if document.get("generated_at"):
        facts += f"    {text('generated')}: {text.moment(document['generated_at'])}"
    pdf.multi_cell(0, 5, _printable(facts), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    _avoided_box(pdf, document, text)
    pdf.ln(4)
    _chart(pdf, chart, text)
    _totals_tables(pdf, document, text)
    _inventory(pdf, document["inventory_view"], text)
    _factors(pdf, document.get("factor_rows", ()), text)
    _sources(pdf, document.get("sources", {}), text)
    _method(pdf, document, text)
    return bytes(pdf.output())


def _avoided_box(pdf: FPDF, document: Mapping[str, Any], text: _Texts) -> None:
    """The avoided emissions, boxed apart from everything else: ≈ central (range), the Scope-3 note."""
    avoided = document["avoided_emissions"]
    kg = avoided["kg"]
    inner = pdf.epw - 10
    left = pdf.l_margin + 5
    top = pdf.get_y()
    pdf.set_xy(left, top + 3)
    pdf.set_font(_FONT, style="B", size=11)
    pdf.cell(inner, 6, _printable(text("avoided_heading")), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Symbol", size=15)
    pdf.cell(pdf.get_string_width(_APPROX) + 1, 9, _APPROX)
    pdf.set_font(_FONT, style="B", size=15)
    value = _printable(" " + text("kg", value=text.kg(kg["central"])))
    pdf.cell(pdf.get_string_width(value) + 1, 9, value)
    pdf.set_font(_FONT, size=10)
    pdf.cell(0, 9, _printable(" " + text("range", low=text.kg(kg["low"]), high=text.kg(kg["high"]))))
    pdf.set_xy(left, pdf.get_y() + 9)
    pdf.set_font(_FONT, size=9)
    full = text(
        "full_displacement",
        value=text.kg(avoided["full_displacement_kg"]),
        reused=text.number(avoided["devices_reused"], "#,##0"),
        devices=text.number(document["totals"]["devices"], "#,##0"),
    )
    pdf.multi_cell(inner, _LINE, _printable(full), align="L", new_x="LEFT", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_x(left)
    pdf.set_font(_FONT, style="B", size=9)
    pdf.multi_cell(inner, _LINE, _printable(text("outside_inventory")), align="L", new_x="LEFT", new_y="NEXT")
    pdf.ln(1)
    pdf.set_x(left)
    pdf.set_font(_FONT, style="I", size=8)
    note = text.note("avoided_emissions", str(avoided.get("note", "")))
    pdf.multi_cell(inner, 4, _printable(note), align="L", new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y() + 3
    pdf.set_draw_color(*_rgb(_AVOIDED_COLOR))
    pdf.set_line_width(0.5)
    pdf.rect(pdf.l_margin, top, pdf.epw, bottom - top)
    pdf.set_fill_color(*_rgb(_AVOIDED_COLOR))
    pdf.rect(pdf.l_margin, top, 2, bottom - top, style="F")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0)
    pdf.set_fill_color(255)
    pdf.set_y(bottom)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _chart(pdf: FPDF, png: bytes, text: _Texts) -> None:
    """The chart at the text width, on the next page when it does not fit below."""
    height = pdf.epw * CHART_SIZE[1] / CHART_SIZE[0]
    if pdf.get_y() + height + 10 > pdf.h - pdf.b_margin:
        pdf.add_page()
    _heading(pdf, text("chart_heading"))
    pdf.image(io.BytesIO(png), x=pdf.l_margin, y=pdf.get_y(), w=pdf.epw, h=height)
    pdf.set_y(pdf.get_y() + height + 3)


def _grid(
    pdf: FPDF,
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    align: str,
    *,
    total: Sequence[str] | None = None,
    size: float = _SMALL,
) -> None:
    """A ruled table with a heading row repeated on every page, and ``total`` as a bold last row.

    ``align`` has a letter a column: ``L`` for texts, ``R`` for numbers.
    """
    from fpdf.fonts import FontFace  # noqa: PLC0415 - fpdf2 loads with the first document

    pdf.set_font(_FONT, size=size)
    bold = FontFace(emphasis="BOLD")
    with pdf.table(
        col_widths=tuple(widths),
        width=pdf.epw,
        line_height=size * 0.5,
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 238, 232)),
        padding=(0.8, 1.2),
    ) as table:
        for cells in (headings, *rows):
            row = table.row()
            for column, cell in enumerate(cells):
                row.cell(_printable(cell), align=align[column])
        if total is not None:
            row = table.row()
            for column, cell in enumerate(total):
                row.cell(_printable(cell), align=align[column], style=bold)
    pdf.ln(3)


def _totals_row(figures: Mapping[str, Any], text: _Texts) -> list[str]:
    outcomes: Mapping[str, int] = figures.get("by_outcome", {})
    recycled = sum(count for outcome, count in outcomes.items() if outcome != "reuse")
    return [
        text.number(figures["devices"], "#,##0"),
        text.number(outcomes.get("reuse", 0), "#,##0"),
        text.number(recycled, "#,##0"),
        text.kg(figures["avoided_kg"]["central"]),
        text.kg_range(figures["avoided_kg"]),
        text.kg(figures["treatment_kg"]["central"]),
        text.kg(figures["weight_kg"]),
    ]


def _totals_tables(pdf: FPDF, document: Mapping[str, Any], text: _Texts) -> None:
    """The totals per category and per month, each with the report's total."""
    columns = [
        text("col_devices"),
        text("col_reused"),
        text("col_recycled"),
        text("col_avoided"),
        text("col_range"),
        text("col_treatment"),
        text("col_weight"),
    ]
    widths = (26, 15, 17, 20, 22, 30, 24, 20)
    total = [text("total"), *_totals_row(document["totals"], text)]
    tables = (
        (
            text("by_category"),
            text("col_category"),
            [
                [text.word("category", item["category"]), *_totals_row(item, text)]
                for item in document.get("by_category", ())
            ],
        ),
        (
            text("by_month"),
            text("col_month"),
            [[text.month(item["month"]), *_totals_row(item, text)] for item in document["by_month"]],
        ),
    )
    for heading, first, rows in tables:
        _keep_room(pdf, 30)
        _heading(pdf, heading)
        _grid(pdf, [first, *columns], rows, widths, "LRRRRRRR", total=total)


def _rows(
    pdf: FPDF, rows: Sequence[tuple[str, str]], *, size: float, line: float, label_width: float
) -> None:
    """Bold labels beside their values (:func:`tradein_sdk._adapters.pdf._table`), page-break safe.

    A row that does not fit at the bottom of a page moves whole to the next one.
    """
    for label, value in rows:
        pdf.set_font(_FONT, style="B", size=size)
        label_lines = _line_count(pdf, label_width, line, label)
        pdf.set_font(_FONT, size=size)
        _keep_room(pdf, max(label_lines, _line_count(pdf, pdf.epw - label_width, line, value)) * line)
        _table(pdf, ((label, value),), size=size, line=line, label_width=label_width, bold_labels=True)


def _line_count(pdf: FPDF, width: float, line: float, value: str) -> int:
    """How many lines ``value`` takes in a column ``width`` wide, in the current font."""
    lines = pdf.multi_cell(width, line, _printable(value), dry_run=True, output="LINES")
    return len(lines) if isinstance(lines, list) else 1


def _keep_room(pdf: FPDF, height: float) -> None:
    """Start a new page when less than ``height`` mm are left (a heading never ends a page)."""
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()


def _inventory(pdf: FPDF, view: Mapping[str, Any], text: _Texts) -> None:
    """The figures for the inventory (Scope 3), apart from the avoided emissions, and the notes."""
    _keep_room(pdf, 40)
    _heading(pdf, text("inventory_heading"))
    treatment = view["treatment_kg"]
    rows = (
        (text("devices_recycled"), text.number(view["devices_recycled_or_parts"], "#,##0")),
        (
            text("treatment"),
            f"{text('kg', value=text.kg(treatment['central']))} "
            + text("range", low=text.kg(treatment["low"]), high=text.kg(treatment["high"])),
        ),
        (text("waste_weight"), f"{text.kg(view['waste_weight_kg'])} kg"),
        *(
            (text(key), text.note(key, str(view[key])))
            for key in ("category_1_2", "category_5", "category_12")
            if view.get(key)
        ),
    )
    _rows(pdf, rows, size=9, line=_LINE, label_width=56)
    pdf.ln(3)


def _factor_description(row: Mapping[str, Any], text: _Texts) -> str:
    description = str(row.get("description", row.get("ref", "")))
    if str(row.get("ref", "")).startswith("$.fallbacks") and description.endswith(" fallback"):
        category = description.removesuffix(" fallback")
        description = text("fallback", category=text.word("category", category))
    report = _clipped(str(row.get("report", "")), 70)
    return f"{description}\n{report}" if report else description


def _footprint(value: object, text: _Texts) -> str:
    """A row's footprint (one figure) or a fallback's range (central with low–high)."""
    if isinstance(value, Mapping):
        central, low, high = (text.number(value[key], "#,##0.#") for key in ("central", "low", "high"))
        return f"{central} ({low}–{high})"
    return text.number(str(value), "#,##0.#")


def _factors(pdf: FPDF, rows: Sequence[Mapping[str, Any]], text: _Texts) -> None:
    """Every factor row the devices used: device and report, devices, footprint, confidence, source."""
    if not rows:
        return
    _keep_room(pdf, 30)
    _heading(pdf, text("factors_heading"))
    _grid(
        pdf,
        [
            text("col_factor"),
            text("col_devices"),
            text("col_footprint"),
            text("col_confidence"),
            text("col_source"),
        ],
        [
            [
                _factor_description(row, text),
                text.number(row.get("devices", 0), "#,##0"),
                _footprint(row.get("footprint_kg", ""), text),
                text.word("confidence", str(row.get("confidence", ""))),
                _clipped(str(row.get("source", "")), 110),
            ]
            for row in rows
        ],
        (56, 14, 25, 19, 60),
        "LRRLL",
        size=7.5,
    )


def _sources(pdf: FPDF, sources: Mapping[str, Mapping[str, str]], text: _Texts) -> None:
    """The cited sources: id, title, reference and date, long references cut."""
    if not sources:
        return
    _keep_room(pdf, 25)
    _heading(pdf, text("sources_heading"))
    rows = tuple(
        (
            key,
            _clipped(
                _sentences(
                    str(source.get("title", "")),
                    str(source.get("reference", "")),
                    str(source.get("published", "")),
                ),
                240,
            ),
        )
        for key, source in sources.items()
    )
    _rows(pdf, rows, size=8, line=4, label_width=44)
    pdf.ln(3)


def _sentences(*parts: str) -> str:
    """The non-empty ``parts`` joined as sentences (a full stop added unless one ends them already)."""
    return " ".join(part if part.endswith((".", "?", "!")) else f"{part}." for part in parts if part)


def _method(pdf: FPDF, document: Mapping[str, Any], text: _Texts) -> None:
    """The method, the factors' version and content hash, and how many devices (not which)."""
    _keep_room(pdf, 30)
    _heading(pdf, text("method_heading"))
    factors = document.get("factors", {})
    rows = (
        (text("method"), str(document.get("method", ""))),
        (
            text("factors"),
            text(
                "factors_value",
                id=factors.get("id", ""),
                version=factors.get("version", ""),
                as_of=factors.get("as_of", ""),
            ),
        ),
        (text("content_hash"), str(factors.get("content_hash", ""))),
        (
            text("devices_count"),
            text("devices_value", count=text.number(document["totals"]["devices"], "#,##0")),
        ),
    )
    _rows(pdf, rows, size=9, line=_LINE, label_width=46)
