"""PDF documents: a purchase receipt rendered with fpdf2, an A4 page to print or attach to an e-mail.

fpdf2 loads with the first document, not on import. The page uses the PDF core font Helvetica in the
Windows-1252 encoding, which holds the texts of every shipped language (umlauts, accents, ``€``, ``§``);
a character outside it (a name in another script) is printed as ``?``, never dropped silently or failed on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from tradein_sdk._domain.receipt import receipt_text

if TYPE_CHECKING:
    from fpdf import FPDF

    from tradein_sdk._domain.receipt import PurchaseReceipt

_ENCODING: Final = "cp1252"
_SPACES: Final = str.maketrans(
    {
        "\u202f": "\u00a0",  # narrow no-break space (French digit groups) → no-break space
        "\u2009": " ",  # thin space
        "\u2011": "-",  # non-breaking hyphen
        "\u2212": "-",  # minus sign
    }
)
_FONT: Final = "Helvetica"
_LINE: Final = 5.5
_LABEL_WIDTH: Final = 62.0
_AMOUNT_WIDTH: Final = 40.0


def _printable(text: str) -> str:
    """``text`` as the core font can print it: Windows-1252, anything else as ``?``."""
    return text.translate(_SPACES).encode(_ENCODING, errors="replace").decode(_ENCODING)


def receipt_pdf(receipt: PurchaseReceipt, *, compress: bool = True) -> bytes:
    """Render a purchase receipt as a one-page A4 PDF in the receipt's language.

    The document is reproducible: its creation date is the date of purchase, so the same receipt gives
    the same bytes.

    Args:
        receipt: the receipt.
        compress: compress the page's content stream (``False`` leaves the text readable in the bytes, for
            tests and debugging).

    Returns:
        The PDF document.
    """
    from fpdf import FPDF  # noqa: PLC0415 - fpdf2 loads with the first document

    text = receipt_text(receipt)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_compression(compress)
    pdf.set_creation_date(receipt.purchased_at)
    pdf.set_title(f"{text.title} {receipt.number}")
    pdf.set_author(receipt.issuer.name)
    pdf.set_lang(text.language)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    pdf.set_font(_FONT, style="B", size=18)
    pdf.cell(0, 10, _printable(text.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table(pdf, text.facts)
    pdf.ln(4)
    _parties(pdf, (text.buyer_heading, text.buyer), (text.seller_heading, text.seller))
    pdf.ln(4)
    _heading(pdf, text.device_heading)
    _table(pdf, text.device)
    pdf.ln(4)
    _heading(pdf, text.price_heading)
    _table(pdf, text.payments, amounts=True)
    pdf.set_draw_color(0)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_font(_FONT, style="B", size=11)
    _table(pdf, (text.total,), amounts=True, bold=True)
    pdf.ln(6)
    pdf.set_font(_FONT, size=10)
    pdf.set_draw_color(0)
    top = pdf.get_y()
    for paragraph in text.statement:
        pdf.set_x(pdf.l_margin + 3)
        pdf.multi_cell(pdf.epw - 6, _LINE, _printable(paragraph), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.rect(pdf.l_margin, top - 2, pdf.epw, pdf.get_y() - top + 3)
    return bytes(pdf.output())


def _heading(pdf: FPDF, heading: str) -> None:
    pdf.set_font(_FONT, style="B", size=12)
    pdf.cell(0, 8, _printable(heading), new_x="LMARGIN", new_y="NEXT")


def _table(
    pdf: FPDF, rows: tuple[tuple[str, str], ...], *, amounts: bool = False, bold: bool = False
) -> None:
    """Label and value side by side, one row each; a long text wraps in its column.

    Amounts are right-aligned in a narrow column, so their labels get the rest of the line.
    """
    width = pdf.epw - _AMOUNT_WIDTH if amounts else _LABEL_WIDTH
    for label, value in rows:
        pdf.set_font(_FONT, style="B" if bold else "", size=10)
        top = pdf.get_y()
        pdf.multi_cell(width, _LINE, _printable(label), align="L", new_x="LMARGIN", new_y="NEXT")
        below_label = pdf.get_y()
        pdf.set_xy(pdf.l_margin + width, top)
        pdf.multi_cell(
            0, _LINE, _printable(value), align="R" if amounts else "L", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_y(max(pdf.get_y(), below_label))


def _parties(pdf: FPDF, *columns: tuple[str, tuple[str, ...]]) -> None:
    """Buyer and seller in two columns, each a heading over its lines."""
    width = (pdf.epw - 10) / len(columns)
    top = pdf.get_y()
    bottom = top
    for index, (heading, lines) in enumerate(columns):
        x = pdf.l_margin + index * (width + 10)
        pdf.set_xy(x, top)
        pdf.set_font(_FONT, style="B", size=12)
        pdf.cell(width, 8, _printable(heading), new_x="LEFT", new_y="NEXT")
        pdf.set_font(_FONT, size=10)
        pdf.multi_cell(width, _LINE, _printable("\n".join(lines)), align="L", new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom)
