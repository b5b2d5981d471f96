"""The company's fleet report as a PDF (fpdf2): summary, devices table, extras, settlement, CO2.

A4 landscape so the devices table fits one line per device; the table's header repeats on each page. German
labels for ``de``, English otherwise. fpdf2 loads with the first document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from tradein_sdk._adapters.pdf import _heading, _printable, _table

if TYPE_CHECKING:
    from fpdf import FPDF

    from tradein_sdk._domain.fleet_report import FleetReport

_FONT: Final = "Helvetica"
_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "Fleet trade-in report",
        "company": "Company",
        "vat": "VAT id",
        "batch": "Batch",
        "state": "State",
        "summary": "Summary",
        "devices": "Devices",
        "extras": "Devices found that the manifest does not list",
        "settlement": "Settlement",
        "co2": "CO2e avoided by reuse (outside the Scope-3 inventory, method tradein-co2-1)",
        "document": "Document",
        "due": "Payment due",
        "range": "low / central / high (kg)",
    },
    "de": {
        "title": "Bericht Flotten-Ankauf",
        "company": "Unternehmen",
        "vat": "USt-IdNr.",
        "batch": "Charge",
        "state": "Status",
        "summary": "Übersicht",
        "devices": "Geräte",
        "extras": "Gefundene Geräte, die nicht im Lieferschein stehen",
        "settlement": "Abrechnung",
        "co2": "Vermiedenes CO2e durch Wiederverwendung (außerhalb des Scope-3-Inventars, tradein-co2-1)",
        "document": "Beleg",
        "due": "Zahlung bis",
        "range": "niedrig / zentral / hoch (kg)",
    },
}
_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        "#",
        "Asset tag",
        "Device",
        "Outcome",
        "Quoted",
        "Inspected",
        "Paid",
        "Certificate",
        "CN",
        "kg",
    ),
    "de": (
        "#",
        "Inventar",
        "Gerät",
        "Ergebnis",
        "Angebot",
        "Prüfung",
        "Bezahlt",
        "Zertifikat",
        "GS",
        "kg",
    ),
}
_WIDTHS: Final = (10.0, 28.0, 62.0, 24.0, 22.0, 22.0, 22.0, 48.0, 10.0, 14.0)


def fleet_report_pdf(report: FleetReport, *, locale: str = "en", compress: bool = True) -> bytes:
    """Render the report as an A4 landscape PDF.

    Args:
        report: the company's report of one batch.
        locale: ``de`` for German labels; English otherwise.
        compress: compress the page streams (off for tests that read the text).
    """
    from fpdf import FPDF  # noqa: PLC0415 - fpdf2 loads with the first document

    language = "de" if locale.lower().startswith("de") else "en"
    labels = _LABELS[language]
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_compression(compress)
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_title(f"{labels['title']} {report.batch_id}")
    pdf.add_page()
    pdf.set_font(_FONT, style="B", size=16)
    pdf.cell(0, 10, _printable(labels["title"]), new_x="LMARGIN", new_y="NEXT")
    totals = report.totals
    _table(
        pdf,
        (
            (labels["company"], str(report.company.get("legal_name", ""))),
            (labels["vat"], str(report.company.get("vat_id") or "-")),
            (labels["batch"], report.batch_id),
            (labels["state"], report.state),
            *((key.replace("_", " "), value) for key, value in report.dates.items()),
        ),
    )
    _heading(pdf, labels["summary"])
    _table(
        pdf,
        tuple(
            (
                key,
                ", ".join(f"{name}: {count}" for name, count in value.items())
                if isinstance(value, dict)
                else str(value),
            )
            for key, value in totals.items()
        ),
    )
    _heading(pdf, labels["devices"])
    _devices(pdf, report, _COLUMNS[language])
    if report.extras:
        _heading(pdf, labels["extras"])
        _table(pdf, tuple((str(extra["identifier"]), str(extra["decision"])) for extra in report.extras))
    if report.settlement is not None:
        _heading(pdf, labels["settlement"])
        document = report.settlement.get("document", {})
        amount = report.settlement.get("amount", {})
        _table(
            pdf,
            (
                ("id", str(report.settlement.get("id", ""))),
                (labels["document"], f"{document.get('number', '')} ({document.get('kind', '')})"),
                ("SHA-256", str(document.get("sha256", ""))),
                ("amount", f"{amount.get('amount', '')} {amount.get('currency', '')}"),
                (labels["due"], str(report.settlement.get("payment_due", ""))),
            ),
        )
    if report.co2 is not None:
        _heading(pdf, labels["co2"])
        _table(
            pdf,
            (
                (labels["range"], f"{report.co2['low']} / {report.co2['central']} / {report.co2['high']}"),
                ("devices", str(report.co2["devices"])),
            ),
        )
    return bytes(pdf.output())


def _devices(pdf: FPDF, report: FleetReport, columns: tuple[str, ...]) -> None:
    """The devices table, its header repeated on each new page."""

    def header() -> None:
        pdf.set_font(_FONT, style="B", size=8)
        for width, title in zip(_WIDTHS, columns, strict=True):
            pdf.cell(width, 6, _printable(title), border="B")
        pdf.ln(6)
        pdf.set_font(_FONT, size=8)

    header()
    for row in report.rows:
        if pdf.get_y() > pdf.h - 20:
            pdf.add_page()
            header()
        values = row.values(report.currency)
        cells = (
            values["line"],
            values["asset_tag"],
            values["device"][:40],
            values["outcome"],
            values["quoted"],
            values["inspected"],
            values["paid"],
            values["certificate_id"],
            values["credit_note_line"],
            values["co2_avoided_kg"],
        )
        for index, (width, text) in enumerate(zip(_WIDTHS, cells, strict=True)):
            pdf.cell(width, 5, _printable(text), align="R" if index in {4, 5, 6, 9} else "L")
        pdf.ln(5)
