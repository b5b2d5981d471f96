"""A credit note's documents: a PDF to read, the EN 16931 e-invoice (CII XML) and their Factur-X hybrid.

* :func:`credit_note_pdf`: an A4 PDF of a Gutschrift or an Ankaufbeleg (fpdf2) with every field of § 14
  Abs. 4 Satz 1 UStG: both parties with addresses and tax ids, the dates, the lines, the totals by rate, the
  legal notes, the references, the payment date and the self-billing agreement. Labels are German for
  ``de`` and English otherwise; the legal words (the title "Gutschrift", the notes) are German always.
* :func:`credit_note_xml`: the e-invoice, UN/CEFACT CII in the Factur-X/ZUGFeRD profile EN 16931 (guideline
  ``urn:cen.eu:en16931:2017``), built with drafthorse. Between businesses a Gutschrift is an invoice like
  any other, so an e-invoice: receiving one is mandatory since 2025, issuing one from 2027 or 2028 (§ 27
  Abs. 38 UStG).
* :func:`validate_credit_note_xml`: the XSD (through factur-x) and the EN 16931 business rules this
  document can break, checked in Python.
* :func:`facturx_pdf` / :func:`extract_credit_note_xml`: the PDF with the XML embedded (factur-x), and back.

drafthorse, factur-x and fpdf2 load with the first document, not on import; without them a
:class:`~tradein_sdk._errors.CreditNoteError` names the extra to install (``pip install
'tradein-sdk[fleet]'``). The page follows the other documents' habits (:mod:`tradein_sdk._adapters.pdf`):
the core font Helvetica in Windows-1252, money and dates formatted by Babel.

**Self-billing in EN 16931.** The invoice type code is 389, "self-billed invoice" (UNTDID 1001). The roles
are those of the supply, not of the writer: the **seller** (BG-4) is the company that sells its phones, the
**buyer** (BG-7) is the dealer who issues the document. The VAT breakdown (BG-23) by treatment:

==================  ========  =============================================  ===============
treatment           category  exemption reason (BT-120)                      code (BT-121)
==================  ========  =============================================  ===============
``standard``        ``S``     (19 % shown)                                   —
``reverse_charge``  ``AE``    Steuerschuldnerschaft des Leistungsempfängers  ``VATEX-EU-AE``
``small_business``  ``E``     Kleinunternehmer gemäß § 19 UStG               —
``margin_scheme``   ``E``     Gebrauchtgegenstände/Sonderregelung            ``VATEX-EU-F``
==================  ========  =============================================  ===============

EN 16931 has no VAT category for the margin scheme (UNCL 5305 as the standard restricts it: S, Z, E, AE, K,
G, O, L, M). A margin-scheme supply shows no VAT to its buyer, so the category is ``E`` (nothing charged on
this document), and the VATEX code ``VATEX-EU-F`` ("margin scheme: second-hand goods", Art. 311 ff. of
Directive 2006/112/EC) with the § 14a Abs. 6 UStG wording as the reason says why; ``O`` (outside the scope
of VAT) would be wrong, the supply is taxable (on the seller's margin). The Kleinunternehmer has no VATEX
code in the list the EN 16931 rules accept, so the reason is given as text (BR-E-10 takes either).
Reverse charge needs a VAT id of the seller (or its tax number) and of the buyer (BR-AE-02): the dealer's
VAT id is then required. A seller known only by its tax number (scheme ``FC``) gets that number as its
seller identifier (BT-29) too, because BR-CO-26 asks for an identifier, a legal registration or a VAT id.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from datetime import UTC, datetime, time
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import attrs

from tradein_sdk._adapters.pdf import _ENCODING, _FONT, _printable
from tradein_sdk._domain.credit_notes import (
    CreditNote,
    DocumentKind,
    VatTreatment,
    credit_note_problems,
)
from tradein_sdk._domain.money import Money
from tradein_sdk._errors import CreditNoteError, canonical_locale

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import date

    from fpdf import FPDF

    from tradein_sdk._domain.credit_notes import DocumentLine, Party

FLEET_EXTRA: Final = "pip install 'tradein-sdk[fleet]'"
"""How to install what the documents need (named by the error raised without it)."""
GUIDELINE_ID: Final = "urn:cen.eu:en16931:2017"
"""The specification identifier (BT-24) of the Factur-X/ZUGFeRD profile EN 16931."""
SELF_BILLED_INVOICE: Final = "389"
"""The invoice type code (BT-3, UNTDID 1001) of a self-billed invoice."""
FACTURX_LEVEL: Final = "en16931"
"""The factur-x library's name of the profile."""

_CATEGORIES: Final[Mapping[VatTreatment, tuple[str, str | None, str | None]]] = {
    VatTreatment.STANDARD: ("S", None, None),
    VatTreatment.REVERSE_CHARGE: ("AE", "Steuerschuldnerschaft des Leistungsempfängers", "VATEX-EU-AE"),
    VatTreatment.SMALL_BUSINESS: ("E", "Kleinunternehmer gemäß § 19 UStG", None),
    VatTreatment.MARGIN_SCHEME: ("E", "Gebrauchtgegenstände/Sonderregelung", "VATEX-EU-F"),
}
_PIECE: Final = "H87"  # UN/ECE Rec. 20: piece
_CENT: Final = Decimal("0.01")


@contextmanager
def _fleet_extra(package: str) -> Iterator[None]:
    """Turn a missing optional package into a CreditNoteError naming the extra (a ``with`` around imports)."""
    try:
        yield
    except ImportError as exc:
        raise CreditNoteError(
            "credit note documents need {package}: {command}", package=package, command=FLEET_EXTRA
        ) from exc


# -- the PDF -----------------------------------------------------------------------------------------------

_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "subtitle.credit_note": "Self-billing credit note (§ 14 Abs. 2 UStG)",
        "subtitle.purchase_statement": "Purchase statement",
        "number": "Document number",
        "issued_on": "Issue date",
        "supplied_on": "Date of supply",
        "payment_due": "Payment due",
        "agreement": "Self-billing agreement",
        "agreement_value": "version {version}, accepted on {date}",
        "references": "References",
        "issuer.credit_note": "Issuer (recipient of the supply)",
        "seller.credit_note": "Supplier (seller)",
        "issuer.purchase_statement": "Buyer",
        "seller.purchase_statement": "Seller",
        "vat_id": "VAT ID",
        "tax_number": "Tax number",
        "col_no": "No.",
        "col_description": "Description",
        "col_quantity": "Qty",
        "col_identifier": "IMEI/serial no.",
        "col_asset_tag": "Asset tag",
        "col_net": "Net",
        "col_amount": "Amount",
        "net_total": "Net total",
        "net_total_rate": "Net total at {rate} %",
        "vat": "VAT {rate} %",
        "rounding": "Rounding",
        "payable": "Amount payable",
        "notes": "Notes",
        "page": "Page {page} of {pages}",
    },
    "de": {
        "subtitle.credit_note": "Abrechnung im Gutschriftsverfahren (§ 14 Abs. 2 UStG)",
        "subtitle.purchase_statement": "Beleg über den Ankauf von Gebrauchtgeräten",
        "number": "Belegnummer",
        "issued_on": "Ausstellungsdatum",
        "supplied_on": "Liefer-/Leistungsdatum",
        "payment_due": "Auszahlung bis",
        "agreement": "Gutschriftsvereinbarung",
        "agreement_value": "Version {version}, angenommen am {date}",
        "references": "Referenzen",
        "issuer.credit_note": "Aussteller (Leistungsempfänger)",
        "seller.credit_note": "Lieferer (Verkäufer)",
        "issuer.purchase_statement": "Käufer",
        "seller.purchase_statement": "Verkäufer",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
        "col_no": "Pos.",
        "col_description": "Bezeichnung",
        "col_quantity": "Menge",
        "col_identifier": "IMEI/Seriennr.",
        "col_asset_tag": "Inventarnr.",
        "col_net": "Netto",
        "col_amount": "Betrag",
        "net_total": "Summe netto",
        "net_total_rate": "Summe netto zu {rate} %",
        "vat": "Umsatzsteuer {rate} %",
        "rounding": "Rundung",
        "payable": "Auszahlungsbetrag",
        "notes": "Hinweise",
        "page": "Seite {page} von {pages}",
    },
}
_LINE: Final = 5.0
_SMALL: Final = 8.0
_WIDTHS: Final = (10.0, 48.0, 13.0, 33.0, 22.0, 23.0, 25.0)  # 174 mm: A4 less 18 mm margins


class _Texts:
    """The document's labels in one locale (German for ``de``, else English); money and dates by Babel."""

    def __init__(self, locale: str) -> None:
        self.locale = canonical_locale(locale)
        self.language = "de" if self.locale.split("_", 1)[0] == "de" else "en"

    def __call__(self, key: str, **params: object) -> str:
        """The label ``key``, its ``{placeholders}`` filled."""
        return _LABELS[self.language][key].format(**params)

    def money(self, amount: Money) -> str:
        """An amount in the locale's form (``1.234,56 €``, ``€1,234.56``)."""
        return amount.format(self.locale)

    def day(self, value: date) -> str:
        """A date, medium form (``07.12.2026``, ``Dec 7, 2026``)."""
        from babel.dates import format_date  # noqa: PLC0415 - Babel's dates load with the first document

        return str(format_date(value, "medium", locale=self.locale))

    def rate(self, value: Decimal) -> str:
        """A VAT rate without its percent sign (``19``, ``7``)."""
        from babel.numbers import format_decimal  # noqa: PLC0415

        return str(format_decimal(value, format="#,##0.##", locale=self.locale))


def credit_note_pdf(note: CreditNote, *, locale: str = "de", compress: bool = True) -> bytes:
    """Render a Gutschrift or an Ankaufbeleg as an A4 PDF.

    The pages show the title ("Gutschrift" or "Ankaufbeleg", German in every language: § 14 Abs. 4 Satz 1
    Nr. 10 UStG asks for that word) and the number; the issuer and the seller with their addresses, VAT ids
    and tax numbers; the issue date, the supply date, the payment date, the self-billing agreement and the
    references; the lines (position, trade name, quantity, IMEI or serial number, asset tag, net, amount) in
    a table whose heading repeats on every page; the totals by rate (net, VAT rate and amount, the rounding
    when there is any, the payable amount); the legal notes (German, verbatim); and the number and page on
    every page. The document is reproducible: its creation date is the issue date.

    Args:
        note: the document (:func:`~tradein_sdk._domain.credit_notes.build_credit_note`).
        locale: the reader's locale: German labels for ``de``, English for any other.
        compress: compress the pages' content streams (``False`` leaves the text readable in the bytes).

    Returns:
        The PDF document.

    Raises:
        CreditNoteError: fpdf2 is not installed (``pip install 'tradein-sdk[fleet]'``).
        UnsupportedLocaleError: ``locale`` is not a locale.
    """
    with _fleet_extra("fpdf2"):
        from fpdf import FPDF  # noqa: PLC0415 - fpdf2 loads with the first document
        from fpdf.enums import OutputIntentSubType  # noqa: PLC0415
        from fpdf.output import PDFICCProfile  # noqa: PLC0415
        from fpdf.util import builtin_srgb2014_bytes  # noqa: PLC0415

    text = _Texts(locale)
    footer = f"{note.title} {note.number}"

    class _Document(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(_FONT, size=7.5)
            self.set_text_color(110)
            self.cell(self.epw / 2, 4, _printable(footer), align="L")
            self.cell(0, 4, _printable(text("page", page=self.page_no(), pages="{nb}")), align="R")
            self.set_text_color(0)

    pdf = _Document(orientation="portrait", unit="mm", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_compression(compress)
    pdf.set_creation_date(_midnight(note.issued_on))
    pdf.set_title(_printable(footer))
    pdf.set_author(_printable(note.issuer.name))
    pdf.set_subject(_printable(text(f"subtitle.{note.kind.value}")))
    pdf.set_lang("de-DE" if text.language == "de" else "en")
    # The sRGB output intent of PDF/A: the Factur-X hybrid (facturx_pdf) declares PDF/A-3 in its metadata.
    pdf.add_output_intent(
        OutputIntentSubType.PDFA,
        output_condition_identifier="sRGB",
        output_condition="IEC 61966-2-1:1999",
        registry_name="http://www.color.org",
        dest_output_profile=PDFICCProfile(contents=builtin_srgb2014_bytes(), n=3, alternate="DeviceRGB"),
        info="sRGB2014 (v2)",
    )
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()

    pdf.set_font(_FONT, style="B", size=20)
    pdf.cell(0, 10, _printable(f"{note.title} {note.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=10)
    pdf.cell(0, 6, _printable(text(f"subtitle.{note.kind.value}")), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _parties(pdf, note, text)
    pdf.ln(3)
    _facts(pdf, note, text)
    pdf.ln(3)
    _lines(pdf, note, text)
    _keep_room(pdf, _totals_height(note) + _notes_height(pdf, note))  # the totals and notes stay together
    _totals(pdf, note, text)
    _notes(pdf, note, text)
    return bytes(pdf.output())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _party_lines(party: Party, text: _Texts) -> list[str]:
    lines = [party.name, *party.address_lines()]
    if party.vat_id:
        lines.append(f"{text('vat_id')}: {party.vat_id}")
    if party.tax_number:
        lines.append(f"{text('tax_number')}: {party.tax_number}")
    return lines


def _parties(pdf: FPDF, note: CreditNote, text: _Texts) -> None:
    """The issuer and the seller side by side, each a heading over name, address and tax ids."""
    columns = (
        (text(f"issuer.{note.kind.value}"), _party_lines(note.issuer, text)),
        (text(f"seller.{note.kind.value}"), _party_lines(note.seller, text)),
    )
    width = (pdf.epw - 10) / 2
    top = pdf.get_y()
    bottom = top
    for index, (heading, lines) in enumerate(columns):
        pdf.set_xy(pdf.l_margin + index * (width + 10), top)
        pdf.set_font(_FONT, style="B", size=10.5)
        pdf.cell(width, 6, _printable(heading), new_x="LEFT", new_y="NEXT")
        pdf.set_font(_FONT, size=9.5)
        pdf.multi_cell(width, _LINE, _printable("\n".join(lines)), align="L", new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom)


def _facts(pdf: FPDF, note: CreditNote, text: _Texts) -> None:
    """Number, dates, payment date, agreement and references: label beside value."""
    rows = [
        (text("number"), note.number),
        (text("issued_on"), text.day(note.issued_on)),
        (text("supplied_on"), text.day(note.supplied_on)),
    ]
    if note.payment_due is not None:
        rows.append((text("payment_due"), text.day(note.payment_due)))
    if note.agreement is not None:
        accepted = text.day(note.agreement.accepted_at.date())
        rows.append(
            (text("agreement"), text("agreement_value", version=note.agreement.version, date=accepted))
        )
    if note.references:
        rows.append(
            (text("references"), " · ".join(f"{key}: {value}" for key, value in note.references.items()))
        )
    label_width = 48.0
    for label, value in rows:
        top = pdf.get_y()
        pdf.set_font(_FONT, style="B", size=9.5)
        pdf.multi_cell(label_width, _LINE, _printable(label), align="L", new_x="LMARGIN", new_y="NEXT")
        below = pdf.get_y()
        pdf.set_xy(pdf.l_margin + label_width, top)
        pdf.set_font(_FONT, size=9.5)
        pdf.multi_cell(0, _LINE, _printable(value), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), below))


def _lines(pdf: FPDF, note: CreditNote, text: _Texts) -> None:
    """The lines as a ruled table; its heading row repeats on every page the table runs onto."""
    from fpdf.fonts import FontFace  # noqa: PLC0415 - fpdf2 loads with the first document

    headings = [
        text("col_no"),
        text("col_description"),
        text("col_quantity"),
        text("col_identifier"),
        text("col_asset_tag"),
        text("col_net"),
        text("col_amount"),
    ]
    align = "RLRLLRR"
    pdf.set_font(_FONT, size=_SMALL)
    with pdf.table(
        col_widths=_WIDTHS,
        width=pdf.epw,
        line_height=_SMALL * 0.5,
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 236, 240)),
        padding=(0.8, 1.2),
        repeat_headings=1,
    ) as table:
        row = table.row()
        for column, heading in enumerate(headings):
            row.cell(_printable(heading), align=align[column])
        for line in note.lines:
            row = table.row()
            cells = (
                str(line.line_no),
                line.description,
                str(line.quantity),
                line.identifier or "",
                line.asset_tag or "",
                text.money(line.net),
                text.money(line.amount),
            )
            for column, cell in enumerate(cells):
                row.cell(_printable(cell), align=align[column])
    pdf.ln(3)


_TOTAL_ROW: Final = 6.0


def _totals_height(note: CreditNote) -> float:
    """The height of :func:`_totals`: net, VAT when standard-rated, rounding when any, payable; a gap."""
    rows = 2 + (note.treatment is VatTreatment.STANDARD) + (not note.rounding.is_zero())
    return rows * _TOTAL_ROW + 4


def _notes_height(pdf: FPDF, note: CreditNote) -> float:
    """The height of :func:`_notes`: the heading and every line of the notes as they wrap."""
    if not note.notes:
        return 0.0
    pdf.set_font(_FONT, size=9.5)
    lines = sum(_line_count(pdf, pdf.epw - 4, paragraph) for paragraph in note.notes)
    return _TOTAL_ROW + lines * _LINE + 2


def _line_count(pdf: FPDF, width: float, value: str) -> int:
    """How many lines ``value`` takes in a column ``width`` wide, in the current font."""
    lines = pdf.multi_cell(width, _LINE, _printable(value), dry_run=True, output="LINES")
    return len(lines) if isinstance(lines, list) else 1


def _totals(pdf: FPDF, note: CreditNote, text: _Texts) -> None:
    """Net (by rate), VAT, rounding and the payable amount, right-aligned under the table."""
    rows: list[tuple[str, str, bool]] = []
    if note.treatment is VatTreatment.STANDARD:
        rate = text.rate(note.rate)
        rows.append((text("net_total_rate", rate=rate), text.money(note.net_total), False))
        rows.append((text("vat", rate=rate), text.money(note.vat_total), False))
    else:
        rows.append((text("net_total"), text.money(note.net_total), False))
    if not note.rounding.is_zero():
        rows.append((text("rounding"), text.money(note.rounding), False))
    rows.append((text("payable"), text.money(note.payable), True))
    label_width, amount_width = 70.0, 35.0
    left = pdf.l_margin + pdf.epw - label_width - amount_width
    for label, amount, bold in rows:
        if bold:
            pdf.line(left, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
        pdf.set_font(_FONT, style="B" if bold else "", size=10.5 if bold else 9.5)
        pdf.set_x(left)
        pdf.cell(label_width, _TOTAL_ROW, _printable(label), align="L")
        pdf.cell(amount_width, _TOTAL_ROW, _printable(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _notes(pdf: FPDF, note: CreditNote, text: _Texts) -> None:
    """The legal notes in a box, German and verbatim."""
    if not note.notes:
        return
    pdf.set_font(_FONT, style="B", size=10.5)
    pdf.cell(0, _TOTAL_ROW, _printable(text("notes")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=9.5)
    top = pdf.get_y()
    for paragraph in note.notes:
        pdf.set_x(pdf.l_margin + 2)
        pdf.multi_cell(pdf.epw - 4, _LINE, _printable(paragraph), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.rect(pdf.l_margin, top - 1, pdf.epw, pdf.get_y() - top + 2)


def _keep_room(pdf: FPDF, height: float) -> None:
    """Start a new page when less than ``height`` mm are left."""
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()


# -- the e-invoice -----------------------------------------------------------------------------------------


def credit_note_xml(note: CreditNote) -> bytes:
    """Build the EN 16931 e-invoice of a Gutschrift: CII XML, Factur-X/ZUGFeRD profile EN 16931.

    The header: the number (BT-1), type code 389 (self-billed invoice, BT-3), the issue date (BT-2), the
    legal notes and the self-billing agreement as notes (BT-22, subject ``REG``) and the references as a
    note (``AAI``). The seller (BG-4) is the company, the buyer (BG-7) the dealer, each with name, address
    and VAT id (scheme ``VA``) or tax number (``FC``, seller only). The supply date is the actual delivery
    date (BT-72). Each line: its position (BT-126), the trade name (BT-153), the IMEI or serial number and
    the asset tag as item attributes (BT-160/161), one piece (BT-129/130), the net price and net amount
    (BT-146, BT-131) and the VAT category and rate. One VAT breakdown (BG-23) by the table in this module's
    docstring. The totals: the sum of line nets (BT-106), no allowances or charges, the tax basis (BT-109),
    the VAT total with its currency (BT-110), the total with VAT (BT-112), the rounding amount when not
    zero (BT-114) and the amount due (BT-115, the payable amount). Payment terms always (BR-CO-25), with
    the due date (BT-9) when there is one.

    Args:
        note: a credit note.

    Returns:
        The XML, UTF-8, valid against the Factur-X EN 16931 XSD.

    Raises:
        CreditNoteError: the document is a purchase statement (no invoice, so no e-invoice); it fails
            :func:`~tradein_sdk._domain.credit_notes.credit_note_problems`; reverse charge without the
            dealer's VAT id (BR-AE-02); drafthorse is not installed.
    """
    _check_invoice(note)
    with _fleet_extra("drafthorse"):
        from drafthorse.models.document import Document  # noqa: PLC0415 - loads with the first XML
        from drafthorse.models.note import IncludedNote  # noqa: PLC0415

    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE_ID
    doc.header.id = note.number
    doc.header.type_code = SELF_BILLED_INVOICE
    doc.header.issue_date_time = note.issued_on
    for content, subject in _xml_notes(note):
        included = IncludedNote()
        included.content = content
        included.subject_code = subject
        doc.header.notes.add(included)
    _xml_party(doc.trade.agreement.seller, note.seller, seller=True)
    _xml_party(doc.trade.agreement.buyer, note.issuer, seller=False)
    doc.trade.delivery.event.occurrence = note.supplied_on
    for line in note.lines:
        doc.trade.items.add(_xml_line(line, note))
    _xml_settlement(doc.trade.settlement, note)
    try:
        xml = doc.serialize(schema="FACTUR-X_EN16931")
    except Exception as exc:  # drafthorse raises bare exceptions for XSD failures
        raise CreditNoteError(
            "the e-invoice of {number} is not valid CII: {error}", number=note.number, error=str(exc)
        ) from exc
    return bytes(xml)


def _check_invoice(note: CreditNote) -> None:
    """Refuse what cannot be an e-invoice: a purchase statement, an incomplete Gutschrift, BR-AE-02."""
    if note.kind is DocumentKind.PURCHASE_STATEMENT:
        raise CreditNoteError(
            "a purchase statement (Ankaufbeleg) {number} is no invoice: it has no e-invoice",
            number=note.number,
        )
    problems = credit_note_problems(note)
    if problems:
        raise CreditNoteError(
            "credit note {number} cannot be an e-invoice: {problems}",
            number=note.number,
            problems="; ".join(problems),
        )
    if note.treatment is VatTreatment.REVERSE_CHARGE and not note.issuer.vat_id:
        raise CreditNoteError(
            "a reverse-charge e-invoice names the buyer's VAT id (EN 16931 BR-AE-02): "
            "the issuer {name} has none",
            name=note.issuer.name,
        )


def _xml_party(target: Any, party: Party, *, seller: bool) -> None:  # noqa: ANN401 - a drafthorse TradeParty
    """Name, address and tax registrations (``VA``; ``FC`` for the seller only) of a CII trade party."""
    from drafthorse.models.party import TaxRegistration  # noqa: PLC0415 - loaded by credit_note_xml

    target.name = party.name
    target.address.line_one = party.street
    target.address.postcode = party.postcode
    target.address.city_name = party.city
    target.address.country_id = party.country
    if party.vat_id:
        target.tax_registrations.add(TaxRegistration(id=("VA", party.vat_id)))
    if seller and party.tax_number:
        target.tax_registrations.add(TaxRegistration(id=("FC", party.tax_number)))
        if not party.vat_id:
            target.id = party.tax_number  # BT-29: BR-CO-26 wants an identifier when there is no VAT id


def _xml_line(line: DocumentLine, note: CreditNote) -> Any:  # noqa: ANN401 - a drafthorse LineItem
    """One CII line: position, trade name, IMEI and asset tag, quantity, net price and amount, VAT."""
    from drafthorse.models.product import ProductCharacteristic  # noqa: PLC0415 - loaded by credit_note_xml
    from drafthorse.models.tradelines import LineItem  # noqa: PLC0415

    category, _, _ = _CATEGORIES[note.treatment]
    item = LineItem()
    item.document.line_id = str(line.line_no)
    item.product.name = line.description
    for name, value in (("IMEI/Seriennummer", line.identifier), ("Inventarnummer", line.asset_tag)):
        if value:
            characteristic = ProductCharacteristic()
            characteristic.description = name
            characteristic.value = value
            item.product.characteristics.add(characteristic)
    item.agreement.net.amount = _unit_price(line.net, line.quantity)
    item.delivery.billed_quantity = (Decimal(line.quantity), _PIECE)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = category
    item.settlement.trade_tax.rate_applicable_percent = note.rate.quantize(_CENT)
    item.settlement.monetary_summation.total_amount = _amount(line.net)
    return item


def _xml_settlement(settlement: Any, note: CreditNote) -> None:  # noqa: ANN401 - a drafthorse TradeSettlement
    """Currency, the VAT breakdown, the payment terms and the document totals."""
    from drafthorse.models.accounting import ApplicableTradeTax  # noqa: PLC0415 - loaded by credit_note_xml
    from drafthorse.models.payment import PaymentTerms  # noqa: PLC0415

    category, reason, reason_code = _CATEGORIES[note.treatment]
    settlement.currency_code = note.currency
    tax = ApplicableTradeTax()
    tax.calculated_amount = _amount(note.vat_total)
    tax.type_code = "VAT"
    if reason:
        tax.exemption_reason = reason
    tax.basis_amount = _amount(note.net_total)
    tax.category_code = category
    if reason_code:
        tax.exemption_reason_code = reason_code
    tax.rate_applicable_percent = note.rate.quantize(_CENT)
    settlement.trade_tax.add(tax)
    terms = PaymentTerms()
    if note.payment_due is None:
        terms.description = "Auszahlung an den Lieferer"
    else:
        terms.description = f"Auszahlung an den Lieferer bis {note.payment_due.strftime('%d.%m.%Y')}"
        terms.due = note.payment_due
    settlement.terms.add(terms)
    zero = _amount(Money.zero(note.currency))
    sums = settlement.monetary_summation
    sums.line_total = _amount(note.net_total)
    sums.charge_total = zero
    sums.allowance_total = zero
    sums.tax_basis_total = _amount(note.net_total)
    sums.tax_total = (_amount(note.vat_total), note.currency)
    if not note.rounding.is_zero():
        sums.rounding_amount = _amount(note.rounding)
    sums.grand_total = _amount(note.net_total + note.vat_total)
    sums.due_amount = _amount(note.payable)


def _xml_notes(note: CreditNote) -> list[tuple[str, str]]:
    notes = [(text, "REG") for text in note.notes]
    if note.agreement is not None:
        notes.append(
            (
                (
                    f"Gutschrift im Sinne des § 14 Abs. 2 UStG nach der Gutschriftsvereinbarung Version "
                    f"{note.agreement.version}, angenommen am {note.agreement.accepted_at.date().isoformat()}"
                ),
                "REG",
            )
        )
    if note.references:
        references = ", ".join(f"{key}: {value}" for key, value in note.references.items())
        notes.append((f"Referenzen: {references}", "AAI"))
    return notes


def _amount(money: Money) -> Decimal:
    return money.rounded().amount


def _unit_price(net: Money, quantity: int) -> Decimal:
    if quantity == 1:
        return _amount(net)
    return Context(prec=40).divide(net.amount, Decimal(quantity)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


# -- validation --------------------------------------------------------------------------------------------

_NS: Final = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
_TX: Final = "rsm:SupplyChainTradeTransaction"
_AGREEMENT: Final = f"{_TX}/ram:ApplicableHeaderTradeAgreement"
_SETTLEMENT: Final = f"{_TX}/ram:ApplicableHeaderTradeSettlement"
_SUMS: Final = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
_BREAKDOWN: Final = f"{_SETTLEMENT}/ram:ApplicableTradeTax"
_DOC_CHARGES: Final = f"{_SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge"
_LINES: Final = f"{_TX}/ram:IncludedSupplyChainTradeLineItem"
_SELLER: Final = f"{_AGREEMENT}/ram:SellerTradeParty"
_BUYER: Final = f"{_AGREEMENT}/ram:BuyerTradeParty"
# Paths from a line.
_LINE_TAX: Final = "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
_LINE_NET: Final = (
    "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
)
_LINE_PRICE: Final = "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"
_LINE_QUANTITY: Final = "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"

# (rule, path, what): the document must hold an element with content there.
_REQUIRED: Final = (
    ("BR-01", "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", "BT-24"),
    ("BR-02", "rsm:ExchangedDocument/ram:ID", "an Invoice number (BT-1)"),
    ("BR-03", "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString", "an Invoice issue date (BT-2)"),
    ("BR-04", "rsm:ExchangedDocument/ram:TypeCode", "an Invoice type code (BT-3)"),
    ("BR-05", f"{_SETTLEMENT}/ram:InvoiceCurrencyCode", "an Invoice currency code (BT-5)"),
    ("BR-06", f"{_SELLER}/ram:Name", "the Seller name (BT-27)"),
    ("BR-07", f"{_BUYER}/ram:Name", "the Buyer name (BT-44)"),
    ("BR-08", f"{_SELLER}/ram:PostalTradeAddress", "the Seller postal address (BG-5)"),
    ("BR-09", f"{_SELLER}/ram:PostalTradeAddress/ram:CountryID", "the Seller country code (BT-40)"),
    ("BR-10", f"{_BUYER}/ram:PostalTradeAddress", "the Buyer postal address (BG-8)"),
    ("BR-11", f"{_BUYER}/ram:PostalTradeAddress/ram:CountryID", "the Buyer country code (BT-55)"),
    ("BR-12", f"{_SUMS}/ram:LineTotalAmount", "the Sum of Invoice line net amount (BT-106)"),
    ("BR-13", f"{_SUMS}/ram:TaxBasisTotalAmount", "the Invoice total amount without VAT (BT-109)"),
    ("BR-14", f"{_SUMS}/ram:GrandTotalAmount", "the Invoice total amount with VAT (BT-112)"),
    ("BR-15", f"{_SUMS}/ram:DuePayableAmount", "the Amount due for payment (BT-115)"),
    ("BR-16", _LINES, "at least one Invoice line (BG-25)"),
)
# (rule, path from a line, what): every line must hold a value there.
_LINE_REQUIRED: Final = (
    ("BR-21", "ram:AssociatedDocumentLineDocument/ram:LineID", "Invoice line identifier (BT-126)"),
    ("BR-22", _LINE_QUANTITY, "Invoiced quantity (BT-129)"),
    ("BR-23", f"{_LINE_QUANTITY}/@unitCode", "Invoiced quantity unit of measure code (BT-130)"),
    ("BR-24", _LINE_NET, "Invoice line net amount (BT-131)"),
    ("BR-25", "ram:SpecifiedTradeProduct/ram:Name", "Item name (BT-153)"),
    ("BR-26", _LINE_PRICE, "Item net price (BT-146)"),
    ("BR-CO-04", f"{_LINE_TAX}/ram:CategoryCode", "Invoiced item VAT category code (BT-151)"),
)
# (rule, path from a VAT breakdown, what).
_BREAKDOWN_REQUIRED: Final = (
    ("BR-45", "ram:BasisAmount", "VAT category taxable amount (BT-116)"),
    ("BR-46", "ram:CalculatedAmount", "VAT category tax amount (BT-117)"),
    ("BR-47", "ram:CategoryCode", "VAT category code (BT-118)"),
)


@attrs.frozen
class _CategoryRules:
    """The EN 16931 rules of one VAT category, by id (``None``: the category has no such rule)."""

    taxable: str  # BR-x-08: the taxable amount is the sum of the category's line nets, charges, allowances
    tax: str  # BR-x-09: the tax amount (taxable × rate for S, else zero)
    reason: str | None  # BR-x-10: an exemption reason text or code
    vat_id: str | None  # BR-x-02: the seller's VAT id or tax registration (and the buyer's, AE and K)
    line_rate: str | None  # BR-x-05: the line rate (above zero for S, zero otherwise)


_CATEGORY_RULES: Final[Mapping[str, _CategoryRules]] = {
    "S": _CategoryRules("BR-S-08", "BR-S-09", None, "BR-S-02", "BR-S-05"),
    "Z": _CategoryRules("BR-Z-08", "BR-Z-09", None, "BR-Z-02", "BR-Z-05"),
    "E": _CategoryRules("BR-E-08", "BR-E-09", "BR-E-10", "BR-E-02", "BR-E-05"),
    "AE": _CategoryRules("BR-AE-08", "BR-AE-09", "BR-AE-10", "BR-AE-02", "BR-AE-05"),
    "K": _CategoryRules("BR-IC-08", "BR-IC-09", "BR-IC-10", "BR-IC-02", "BR-IC-05"),
    "G": _CategoryRules("BR-G-08", "BR-G-09", "BR-G-10", "BR-G-02", "BR-G-05"),
    "O": _CategoryRules("BR-O-08", "BR-O-09", "BR-O-10", None, None),
}
# Decimal places: at most 2 for these amounts (BR-DEC-*).
_DECIMALS: Final = (
    ("BR-DEC-09", f"{_SUMS}/ram:LineTotalAmount", "BT-106"),
    ("BR-DEC-10", f"{_SUMS}/ram:AllowanceTotalAmount", "BT-107"),
    ("BR-DEC-11", f"{_SUMS}/ram:ChargeTotalAmount", "BT-108"),
    ("BR-DEC-12", f"{_SUMS}/ram:TaxBasisTotalAmount", "BT-109"),
    ("BR-DEC-13", f"{_SUMS}/ram:TaxTotalAmount", "BT-110"),
    ("BR-DEC-14", f"{_SUMS}/ram:GrandTotalAmount", "BT-112"),
    ("BR-DEC-16", f"{_SUMS}/ram:TotalPrepaidAmount", "BT-113"),
    ("BR-DEC-17", f"{_SUMS}/ram:RoundingAmount", "BT-114"),
    ("BR-DEC-18", f"{_SUMS}/ram:DuePayableAmount", "BT-115"),
    ("BR-DEC-19", f"{_BREAKDOWN}/ram:BasisAmount", "BT-116"),
    ("BR-DEC-20", f"{_BREAKDOWN}/ram:CalculatedAmount", "BT-117"),
    ("BR-DEC-23", f"{_LINES}/{_LINE_NET}", "BT-131"),
)
# Code lists, by their id in the Factur-X EN 16931 code database: (rule, path, list id, what).
_CODE_LISTS: Final = (
    ("BR-CL-01", "rsm:ExchangedDocument/ram:TypeCode", 2, "Invoice type code (UNTDID 1001)"),
    ("BR-CL-04", f"{_SETTLEMENT}/ram:InvoiceCurrencyCode", 24, "currency code (ISO 4217)"),
    ("BR-CL-14", f"{_AGREEMENT}/*/ram:PostalTradeAddress/ram:CountryID", 7, "country code (ISO 3166-1)"),
    ("BR-CL-17", f"{_BREAKDOWN}/ram:CategoryCode", 10, "VAT category code (UNTDID 5305)"),
    ("BR-CL-18", f"{_LINES}/{_LINE_TAX}/ram:CategoryCode", 10, "VAT category code (UNTDID 5305)"),
    ("BR-CL-22", f"{_BREAKDOWN}/ram:ExemptionReasonCode", 26, "VAT exemption reason code (VATEX)"),
    ("BR-CL-23", f"{_LINES}/{_LINE_QUANTITY}/@unitCode", 8, "unit code (UN/ECE Rec. 20/21)"),
)
_TWO_DECIMALS: Final = re.compile(r"-?\d+(\.\d{1,2})?")


def validate_credit_note_xml(xml: bytes) -> list[str]:
    """Check an e-invoice against the Factur-X EN 16931 XSD and the EN 16931 business rules it can break.

    The XSD is checked by factur-x (``facturx.xml_check_xsd``). The business rules of EN 16931 are
    Schematron compiled to XSLT 2.0: the KoSIT validator and the Factur-X Schematron run on Java (Saxon),
    which is not run in-process here (factur-x's own Schematron check posts the document to a Saxon
    server). Instead these rules are checked in Python on the parsed XML, each failure named by its id:

    * presence: BR-01 to BR-16 (specification id, number, issue date, type code, currency, seller and buyer
      name, address and country, the four totals, at least one line), BR-21 to BR-27 and BR-CO-04 per line,
      BR-CO-18 and BR-45 to BR-48 per VAT breakdown, BR-CO-25 (payment terms or due date when an amount is
      due), BR-CO-26 (a seller identifier, legal registration or VAT id);
    * arithmetic: BR-CO-10 (BT-106 = Σ BT-131), BR-CO-11/12 (allowance and charge totals), BR-CO-13 (BT-109
      = BT-106 − BT-107 + BT-108), BR-CO-14 (BT-110 = Σ BT-117), BR-CO-15 (BT-112 = BT-109 + BT-110, and
      BT-110 once in the invoice currency), BR-CO-16 (BT-115 = BT-112 − BT-113 + BT-114), BR-CO-17 (BT-117
      = BT-116 × BT-119 / 100, rounded to the cent);
    * per VAT category (S, Z, E, AE, K, G, O): the taxable amount is the sum of that category's line nets
      plus charges less allowances (BR-S-08, BR-AE-08, BR-E-08, ...); the tax amount is the taxable amount
      times the rate, rounded (BR-S-09), or zero (BR-AE-09, BR-E-09, ...); the exemption reason (BR-AE-10,
      BR-E-10, ...); the VAT ids the category needs (BR-S-02, BR-AE-02, BR-E-02, ...); the line rates
      (BR-S-05, BR-AE-05, BR-E-05, ...);
    * BR-CO-09 (VAT id prefixes), BR-DEC-* (two decimals for amounts) and the code lists BR-CL-01, -04, -14,
      -17, -18, -22 and -23, against the code database factur-x ships with the Factur-X Schematron.

    Not checked: the remaining Schematron rules (Factur-X's many "not used in this context" checks, the
    other code lists, identifier schemes, attachments) and any CIUS (XRechnung's BR-DE-* rules). Run the
    KoSIT validator in CI for those.

    Args:
        xml: the e-invoice.

    Returns:
        One message per failure, starting with the rule (``BR-CO-10: ...``; ``XSD: ...`` for the schema);
        an empty list when the document passes.

    Raises:
        CreditNoteError: factur-x or lxml is not installed (``pip install 'tradein-sdk[fleet]'``).
    """
    with _fleet_extra("factur-x"):
        import facturx  # noqa: PLC0415 - loads with the first check

    problems: list[str] = []
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level=FACTURX_LEVEL)
    except Exception as exc:  # noqa: BLE001 - factur-x raises a bare Exception carrying lxml's message
        problems.append(f"XSD: {exc}")
    try:
        root = _parse(xml)
    except SyntaxError as exc:  # lxml's XMLSyntaxError is one
        return [*problems, f"XML: not well-formed: {exc}"]
    return [
        *problems,
        *_presence_rules(root),
        *_line_rules(root),
        *_total_rules(root),
        *_category_rules(root),
        *_identity_rules(root),
        *_format_rules(root),
    ]


def _parse(xml: bytes) -> Any:  # noqa: ANN401 - an lxml element (lxml has no type hints)
    """Parse XML with lxml: no entities resolved, nothing fetched from the network."""
    with _fleet_extra("lxml"):
        from lxml import etree  # noqa: PLC0415 - loads with the first check

    return etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))


def _values(node: Any, path: str) -> list[str]:  # noqa: ANN401 - an lxml element
    """The stripped texts (or attribute values) at ``path`` below ``node``."""
    found = node.xpath(path, namespaces=_NS)
    return [str(item if isinstance(item, str) else (item.text or "")).strip() for item in found]


def _first(node: Any, path: str) -> str | None:  # noqa: ANN401 - an lxml element
    """The first non-empty value at ``path``, or ``None``."""
    return next((value for value in _values(node, path) if value), None)


def _number(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _total(node: Any, path: str) -> Decimal:  # noqa: ANN401 - an lxml element
    """The sum of the numbers at ``path`` (what is not a number is the XSD's to report)."""
    numbers = (_number(value) for value in _values(node, path))
    return sum((number for number in numbers if number is not None), Decimal(0))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _presence_rules(root: Any) -> list[str]:  # noqa: ANN401 - an lxml element
    problems: list[str] = []
    for rule, path, what in _REQUIRED:
        elements = root.xpath(path, namespaces=_NS)
        if not any(len(element) or (element.text or "").strip() for element in elements):
            problems.append(f"{rule}: an Invoice shall have {what}")
    breakdowns = root.xpath(_BREAKDOWN, namespaces=_NS)
    if not breakdowns:
        problems.append("BR-CO-18: an Invoice shall at least have one VAT breakdown group (BG-23)")
    for index, tax in enumerate(breakdowns, start=1):
        problems.extend(
            f"{rule}: VAT breakdown {index} has no {what}"
            for rule, path, what in _BREAKDOWN_REQUIRED
            if _first(tax, path) is None
        )
        if _first(tax, "ram:CategoryCode") != "O" and _first(tax, "ram:RateApplicablePercent") is None:
            problems.append(f"BR-48: VAT breakdown {index} has no VAT category rate (BT-119)")
    due = _number(_first(root, f"{_SUMS}/ram:DuePayableAmount"))
    terms = _first(root, f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:Description") or _first(
        root, f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"
    )
    if due is not None and due > 0 and terms is None:
        problems.append(
            "BR-CO-25: an amount is due (BT-115) but there is no Payment due date (BT-9) "
            "or Payment terms (BT-20)"
        )
    return problems


def _line_rules(root: Any) -> list[str]:  # noqa: ANN401 - an lxml element
    problems: list[str] = []
    for index, line in enumerate(root.xpath(_LINES, namespaces=_NS), start=1):
        problems.extend(
            f"{rule}: Invoice line {index} has no {what}"
            for rule, path, what in _LINE_REQUIRED
            if _first(line, path) is None
        )
        price = _number(_first(line, _LINE_PRICE))
        if price is not None and price < 0:
            problems.append(
                f"BR-27: the Item net price (BT-146) of Invoice line {index} is negative ({price})"
            )
        category = _first(line, f"{_LINE_TAX}/ram:CategoryCode") or ""
        rate = _number(_first(line, f"{_LINE_TAX}/ram:RateApplicablePercent"))
        rules = _CATEGORY_RULES.get(category)
        if rules is None or rules.line_rate is None or rate is None:
            continue
        if category == "S" and rate <= 0:
            problems.append(f"{rules.line_rate}: the VAT rate (BT-152) of line {index} shall be above zero")
        elif category != "S" and rate != 0:
            problems.append(
                f"{rules.line_rate}: the VAT rate (BT-152) of line {index} shall be 0, not {rate}"
            )
    return problems


def _total_rules(root: Any) -> list[str]:  # noqa: ANN401 - an lxml element
    problems: list[str] = []
    currency = _first(root, f"{_SETTLEMENT}/ram:InvoiceCurrencyCode")

    def amount(name: str) -> Decimal | None:
        return _number(_first(root, f"{_SUMS}/ram:{name}"))

    lines = _cents(_total(root, f"{_LINES}/{_LINE_NET}"))
    charges = _cents(
        _total(root, f"{_DOC_CHARGES}[ram:ChargeIndicator/udt:Indicator='true']/ram:ActualAmount")
    )
    allowances = _cents(
        _total(root, f"{_DOC_CHARGES}[ram:ChargeIndicator/udt:Indicator='false']/ram:ActualAmount")
    )
    line_total, basis, grand, due = (
        amount("LineTotalAmount"),
        amount("TaxBasisTotalAmount"),
        amount("GrandTotalAmount"),
        amount("DuePayableAmount"),
    )
    allowance_total, charge_total = amount("AllowanceTotalAmount") or 0, amount("ChargeTotalAmount") or 0
    prepaid, rounding = amount("TotalPrepaidAmount") or 0, amount("RoundingAmount") or 0
    vat_totals = [
        _number((element.text or "").strip())
        for element in root.xpath(f"{_SUMS}/ram:TaxTotalAmount", namespaces=_NS)
        if element.get("currencyID") == currency
    ]
    vat = vat_totals[0] if len(vat_totals) == 1 else None
    categories = _cents(_total(root, f"{_BREAKDOWN}/ram:CalculatedAmount"))
    if line_total is not None and line_total != lines:
        problems.append(f"BR-CO-10: Sum of Invoice line net amount (BT-106) {line_total} ≠ Σ BT-131 {lines}")
    if allowance_total != allowances:
        problems.append(f"BR-CO-11: Sum of allowances (BT-107) {allowance_total} ≠ Σ BT-92 {allowances}")
    if charge_total != charges:
        problems.append(f"BR-CO-12: Sum of charges (BT-108) {charge_total} ≠ Σ BT-99 {charges}")
    if basis is not None and line_total is not None and basis != line_total - allowance_total + charge_total:
        expected = line_total - allowance_total + charge_total
        problems.append(
            f"BR-CO-13: total without VAT (BT-109) {basis} ≠ BT-106 − BT-107 + BT-108 = {expected}"
        )
    if len(vat_totals) != 1:
        problems.append(f"BR-CO-15: the total VAT amount (BT-110) shall be given once in {currency}")
    elif vat is not None and vat != categories:
        problems.append(f"BR-CO-14: Invoice total VAT amount (BT-110) {vat} ≠ Σ BT-117 {categories}")
    if grand is not None and basis is not None and vat is not None and grand != basis + vat:
        problems.append(f"BR-CO-15: total with VAT (BT-112) {grand} ≠ BT-109 + BT-110 = {basis + vat}")
    if due is not None and grand is not None and due != grand - prepaid + rounding:
        expected = grand - prepaid + rounding
        problems.append(f"BR-CO-16: Amount due (BT-115) {due} ≠ BT-112 − BT-113 + BT-114 = {expected}")
    return problems


def _category_nets(root: Any, category: str, rate: Decimal | None) -> Decimal:  # noqa: ANN401
    """Σ line nets + charges − allowances of a VAT category (and, for S, of its rate)."""
    nets = Decimal(0)
    for line in root.xpath(_LINES, namespaces=_NS):
        if _first(line, f"{_LINE_TAX}/ram:CategoryCode") != category:
            continue
        if category == "S" and _number(_first(line, f"{_LINE_TAX}/ram:RateApplicablePercent")) != rate:
            continue
        nets += _number(_first(line, _LINE_NET)) or 0
    same = f"[ram:CategoryTradeTax/ram:CategoryCode='{category}']"
    charges = _total(root, f"{_DOC_CHARGES}[ram:ChargeIndicator/udt:Indicator='true']{same}/ram:ActualAmount")
    allowances = _total(
        root, f"{_DOC_CHARGES}[ram:ChargeIndicator/udt:Indicator='false']{same}/ram:ActualAmount"
    )
    return _cents(nets + charges - allowances)


def _category_rules(root: Any) -> list[str]:  # noqa: ANN401 - an lxml element
    problems: list[str] = []
    for index, tax in enumerate(root.xpath(_BREAKDOWN, namespaces=_NS), start=1):
        category = _first(tax, "ram:CategoryCode") or ""
        rate = _number(_first(tax, "ram:RateApplicablePercent"))
        basis = _number(_first(tax, "ram:BasisAmount"))
        amount = _number(_first(tax, "ram:CalculatedAmount"))
        rules = _CATEGORY_RULES.get(category)
        if rules is None or basis is None or amount is None:
            continue
        expected = _category_nets(root, category, rate)
        if basis != expected:
            problems.append(
                f"{rules.taxable}: the taxable amount (BT-116) of VAT category {category} is {basis}, "
                f"its lines, charges and allowances give {expected}"
            )
        computed = _cents(basis * (rate or 0) / 100)
        if category == "S" and amount != computed:
            problems.append(f"{rules.tax}: the S tax amount (BT-117) {amount} ≠ BT-116 × BT-119 = {computed}")
        elif category != "S" and amount != 0:
            problems.append(
                f"{rules.tax}: the tax amount (BT-117) of category {category} shall be 0, not {amount}"
            )
        if amount != computed:
            problems.append(
                f"BR-CO-17: VAT breakdown {index}: BT-117 {amount} ≠ BT-116 × BT-119 / 100 = {computed}"
            )
        if (
            rules.reason
            and _first(tax, "ram:ExemptionReason") is None
            and _first(tax, "ram:ExemptionReasonCode") is None
        ):
            problems.append(
                f"{rules.reason}: VAT category {category} has no exemption reason (BT-120) or code (BT-121)"
            )
    return problems


def _identity_rules(root: Any) -> list[str]:  # noqa: ANN401 - an lxml element
    problems: list[str] = []
    registration = "ram:SpecifiedTaxRegistration/ram:ID"
    seller_vat = _first(root, f"{_SELLER}/{registration}[@schemeID='VA']")
    seller_tax = _first(root, f"{_SELLER}/{registration}[@schemeID='FC']")
    representative = _first(
        root, f"{_AGREEMENT}/ram:SellerTaxRepresentativeTradeParty/{registration}[@schemeID='VA']"
    )
    buyer_vat = _first(root, f"{_BUYER}/{registration}[@schemeID='VA']")
    buyer_legal = _first(root, f"{_BUYER}/ram:SpecifiedLegalOrganization/ram:ID")
    for category in sorted(set(_values(root, f"{_LINES}/{_LINE_TAX}/ram:CategoryCode"))):
        rules = _CATEGORY_RULES.get(category)
        if rules is None or rules.vat_id is None:
            continue
        if not (seller_vat or seller_tax or representative):
            problems.append(
                f"{rules.vat_id}: category {category} needs the Seller VAT identifier (BT-31) or BT-32"
            )
        if category in {"AE", "K"} and not (buyer_vat or (category == "AE" and buyer_legal)):
            problems.append(f"{rules.vat_id}: category {category} needs the Buyer VAT identifier (BT-48)")
    identifiers = ("ram:ID", "ram:GlobalID", "ram:SpecifiedLegalOrganization/ram:ID")
    if not (seller_vat or any(_first(root, f"{_SELLER}/{path}") for path in identifiers)):
        problems.append(
            "BR-CO-26: the Seller identifier (BT-29), legal registration (BT-30) or VAT id (BT-31) is missing"
        )
    countries = _code_list(7) | {"EL"}
    for role, vat_id in (
        ("Seller", seller_vat),
        ("Seller tax representative", representative),
        ("Buyer", buyer_vat),
    ):
        if vat_id and vat_id[:2] not in countries:
            problems.append(f"BR-CO-09: the {role} VAT identifier {vat_id} has no ISO 3166-1 country prefix")
    return problems


def _format_rules(root: Any) -> list[str]:  # noqa: ANN401 - an lxml element
    problems = [
        f"{rule}: {term} has more than two decimals ({value})"
        for rule, path, term in _DECIMALS
        for value in _values(root, path)
        if value and not _TWO_DECIMALS.fullmatch(value)
    ]
    for rule, path, list_id, what in _CODE_LISTS:
        allowed = _code_list(list_id)
        problems.extend(
            f"{rule}: {value!r} is not a {what}"
            for value in _values(root, path)
            if value and value not in allowed
        )
    return problems


@cache
def _code_list(list_id: int) -> frozenset[str]:
    """A code list of the Factur-X EN 16931 code database (the one its Schematron reads)."""
    import facturx  # noqa: PLC0415 - loaded by validate_credit_note_xml already

    database = _parse(facturx.facturx_schematron_get_codedb_xml_file(FACTURX_LEVEL))
    return frozenset(
        str(value) for value in database.xpath(f"/codedb/cl[@id='{list_id}']/enumeration/@value")
    )


# -- the Factur-X hybrid ---------------------------------------------------------------------------------


def facturx_pdf(note: CreditNote, *, locale: str = "de") -> bytes:
    """Render a Gutschrift as a Factur-X PDF: :func:`credit_note_pdf` with :func:`credit_note_xml` embedded.

    factur-x embeds the XML as ``factur-x.xml`` (AFRelationship ``Data``) and writes the XMP metadata of a
    Factur-X EN 16931 PDF/A-3 document, after checking the XML against the XSD. In a hybrid the XML is the
    invoice (BMF, 15.10.2024); the PDF is its human-readable copy. The page carries the sRGB output intent
    of PDF/A, but it is set in the PDF core font Helvetica, which PDF/A wants embedded: a strict PDF/A
    validator (veraPDF) reports the fonts, the Factur-X readers take the XML.

    Args:
        note: a credit note.
        locale: the reader's locale for the page's labels.

    Returns:
        The PDF document.

    Raises:
        CreditNoteError: as :func:`credit_note_xml` (a purchase statement has no e-invoice), or factur-x
            refuses the document.
    """
    xml = credit_note_xml(note)
    pdf = credit_note_pdf(note, locale=locale)
    with _fleet_extra("factur-x"):
        import facturx  # noqa: PLC0415 - loads with the first hybrid

    metadata = {
        "author": note.issuer.name,
        "keywords": "Factur-X, Gutschrift, self-billed invoice",
        "title": f"{note.title} {note.number}",
        "subject": f"{note.title} {note.number}, {note.issued_on.isoformat()}: {note.seller.name}",
    }
    try:
        hybrid = facturx.generate_from_binary(
            pdf,
            xml,
            flavor="factur-x",
            level=FACTURX_LEVEL,
            check_xsd=True,
            pdf_metadata=metadata,
            lang="de-DE" if _Texts(locale).language == "de" else "en",
        )
    except Exception as exc:  # factur-x raises bare exceptions
        raise CreditNoteError(
            "factur-x could not make the PDF of {number}: {error}", number=note.number, error=str(exc)
        ) from exc
    return bytes(hybrid)


def extract_credit_note_xml(pdf: bytes) -> bytes:
    """Read the e-invoice back out of a Factur-X PDF (:func:`facturx_pdf`).

    Args:
        pdf: the PDF document.

    Returns:
        The embedded XML, byte for byte.

    Raises:
        CreditNoteError: the PDF carries no Factur-X XML or is not a PDF; factur-x is not installed.
    """
    with _fleet_extra("factur-x"):
        import facturx  # noqa: PLC0415 - loads with the first read

    try:
        _, xml = facturx.get_xml_from_pdf(io.BytesIO(pdf), check_xsd=False)
    except Exception as exc:  # pypdf and factur-x raise their own exceptions for damaged files
        raise CreditNoteError("the document is not a readable PDF: {error}", error=str(exc)) from exc
    if not isinstance(xml, bytes) or not xml:
        raise CreditNoteError("the PDF carries no Factur-X XML")
    return xml
