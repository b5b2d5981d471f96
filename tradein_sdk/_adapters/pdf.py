"""PDF documents rendered with fpdf2: A4 pages to print or attach to an e-mail.

A purchase receipt (:func:`receipt_pdf`) and a data erasure certificate for the customer
(:func:`certificate_pdf`, with a QR code of the signed certificate made by segno: :func:`certificate_qr`).

fpdf2 loads with the first document, not on import. The page uses the PDF core font Helvetica in the
Windows-1252 encoding, which holds the texts of every shipped language (umlauts, accents, ``€``, ``§``);
a character outside it (a name in another script) is printed as ``?``, never dropped silently or failed on.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire._i18n import N_, translate
from tradein_sdk._domain.dates import long_date
from tradein_sdk._domain.erasure import (
    CustodyStep,
    ErasureCertificate,
    ErasureDestination,
    IdentifierKind,
    IssuedCertificate,
    SanitizationMethod,
    SanitizationTechnique,
    StorageMediaType,
    VerificationMethod,
    VerificationResult,
)
from tradein_sdk._domain.receipt import receipt_text
from tradein_sdk._errors import DocumentInvalidError, DocumentProblem, canonical_locale

if TYPE_CHECKING:
    from datetime import datetime

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
    pdf: FPDF,
    rows: tuple[tuple[str, str], ...],
    *,
    amounts: bool = False,
    bold: bool = False,
    size: float = 10,
    line: float = _LINE,
    label_width: float = _LABEL_WIDTH,
    bold_labels: bool = False,
) -> None:
    """Label and value side by side, one row each; a long text wraps in its column.

    Amounts are right-aligned in a narrow column, so their labels get the rest of the line. With
    ``bold_labels`` the labels are bold and the values regular.
    """
    width = pdf.epw - _AMOUNT_WIDTH if amounts else label_width
    for label, value in rows:
        pdf.set_font(_FONT, style="B" if bold or bold_labels else "", size=size)
        top = pdf.get_y()
        pdf.multi_cell(width, line, _printable(label), align="L", new_x="LMARGIN", new_y="NEXT")
        below_label = pdf.get_y()
        pdf.set_xy(pdf.l_margin + width, top)
        if bold_labels:
            pdf.set_font(_FONT, style="B" if bold else "", size=size)
        pdf.multi_cell(
            0, line, _printable(value), align="R" if amounts else "L", new_x="LMARGIN", new_y="NEXT"
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


# -- the data erasure certificate ------------------------------------------------------------------------

VERIFY_COMMAND: Final = "tradein certificate verify FILE --keys KEYS.json"
"""The command a customer or an auditor runs to verify a certificate offline (printed on the page)."""
QR_ERROR_LEVEL: Final = "l"
"""The QR code's error correction: L, so the whole signed certificate fits (a printed page, not a sticker)."""

_QR_WIDTH: Final = 62.0
_QR_SCALE: Final = 4
_QR_BORDER: Final = 4
_CERTIFICATE_LABEL_WIDTH: Final = 58.0

_METHODS: Final[Mapping[SanitizationMethod, str]] = {
    SanitizationMethod.CLEAR: N_("Clear (logical techniques on user-addressable storage)"),
    SanitizationMethod.PURGE: N_("Purge (recovery infeasible even with laboratory techniques)"),
    SanitizationMethod.DESTRUCT: N_("Destruct (the storage media is physically destroyed)"),
}
_TECHNIQUES: Final[Mapping[SanitizationTechnique, str]] = {
    SanitizationTechnique.CRYPTOGRAPHIC_ERASE: N_("Cryptographic erase"),
    SanitizationTechnique.BLOCK_ERASE: N_("Block erase"),
    SanitizationTechnique.OVERWRITE: N_("Overwrite"),
    SanitizationTechnique.FACTORY_RESET: N_("Factory reset"),
    SanitizationTechnique.PHYSICAL_DESTRUCTION: N_("Physical destruction"),
}
_MEDIA: Final[Mapping[StorageMediaType, str]] = {
    StorageMediaType.EMBEDDED_FLASH: N_("Embedded flash memory"),
    StorageMediaType.REMOVABLE_FLASH: N_("Removable flash memory (memory card)"),
    StorageMediaType.SOLID_STATE_DRIVE: N_("Solid-state drive"),
    StorageMediaType.HARD_DISK_DRIVE: N_("Hard disk drive"),
}
_VERIFICATIONS: Final[Mapping[VerificationMethod, str]] = {
    VerificationMethod.FULL: N_("Full read-back of every addressable location"),
    VerificationMethod.SAMPLING: N_("Read-back of a representative sample"),
    VerificationMethod.TOOL_REPORT: N_("Check of the sanitization tool's report"),
    VerificationMethod.CRYPTO_KEY_DESTRUCTION: N_("Confirmation that the media encryption key was destroyed"),
}
_RESULTS: Final[Mapping[VerificationResult, str]] = {
    VerificationResult.PASSED: N_("Passed"),
    VerificationResult.FAILED: N_("Failed"),
}
_DESTINATIONS: Final[Mapping[ErasureDestination, str]] = {
    ErasureDestination.RESALE: N_("Resale"),
    ErasureDestination.PARTS: N_("Spare parts"),
    ErasureDestination.RECYCLING: N_("Recycling"),
}
_STEPS: Final[Mapping[CustodyStep, str]] = {
    CustodyStep.RECEIVED: N_("Received"),
    CustodyStep.TRANSFERRED: N_("Transferred"),
    CustodyStep.ERASED: N_("Erased"),
    CustodyStep.DISPOSED: N_("Disposed of"),
}
_IDENTIFIERS: Final[Mapping[IdentifierKind, str]] = {
    IdentifierKind.IMEI: N_("IMEI"),
    IdentifierKind.SERIAL_NUMBER: N_("Serial number"),
}


@attrs.frozen(kw_only=True)
class CertificateQR:
    """The QR code printed on a certificate.

    Attributes:
        text: what it holds: the signed certificate as compact JSON (UTF-8) when ``complete``, else the
            line ``erasure-certificate <id> kid=<kid> sig=<signature> verify: <command>``.
        complete: whether it holds the whole signed certificate, so it verifies offline on its own.
        version: the QR version (1-40) segno chose; the symbol is ``17 + 4 * version`` modules wide.
        png: the symbol as a PNG (``scale`` pixels a module, a quiet zone of ``border`` modules).
        scale: pixels per module.
        border: the quiet zone in modules.
    """

    text: str
    complete: bool
    version: int
    png: bytes = attrs.field(repr=False)
    scale: int = _QR_SCALE
    border: int = _QR_BORDER


def _envelope(issued_or_envelope: IssuedCertificate | Mapping[str, Any]) -> Mapping[str, Any]:
    """The signed envelope of an issued certificate, or the envelope as given once its shape is checked."""
    if isinstance(issued_or_envelope, IssuedCertificate):
        return issued_or_envelope.document
    signature = issued_or_envelope.get("signature") if isinstance(issued_or_envelope, Mapping) else None
    if (
        not isinstance(issued_or_envelope, Mapping)
        or not isinstance(issued_or_envelope.get("payload"), Mapping)
        or not isinstance(signature, Mapping)
        or not isinstance(signature.get("kid"), str)
        or not isinstance(signature.get("value"), str)
    ):
        raise DocumentInvalidError(
            kind="erasure-certificate",
            source="<memory>",
            problems=[
                DocumentProblem(
                    path="$",
                    message='expected a signed certificate {"payload": {...}, "signature": {"kid", "value"}}',
                )
            ],
        )
    return issued_or_envelope


def certificate_qr(issued_or_envelope: IssuedCertificate | Mapping[str, Any]) -> CertificateQR:
    """Make the QR code of a signed certificate: the whole signed document if it fits, else a reference.

    The whole document is its compact JSON (no spaces, UTF-8 kept) in byte mode at error level L; segno
    picks the smallest version that holds it (a typical certificate is about 1.5 kB: version 28, 129
    modules). A document too long for version 40 gets a reference line instead, naming the certificate id,
    the key id and the signature value, and the command that verifies the certificate file.

    Args:
        issued_or_envelope: the issued certificate, or its signed envelope.

    Returns:
        The QR code.

    Raises:
        DocumentInvalidError: ``issued_or_envelope`` is not shaped as a signed document.
    """
    import segno  # noqa: PLC0415 - segno loads with the first QR code
    from segno import DataOverflowError  # noqa: PLC0415

    envelope = _envelope(issued_or_envelope)
    text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    complete = True
    try:
        symbol = segno.make(text, error=QR_ERROR_LEVEL, boost_error=False, micro=False, encoding="utf-8")
    except DataOverflowError:
        signature = envelope["signature"]
        text = (
            f"erasure-certificate {envelope['payload'].get('id')} kid={signature['kid']} "
            f"sig={signature['value']} verify: {VERIFY_COMMAND}"
        )
        complete = False
        symbol = segno.make(text, error="m", boost_error=False, micro=False, encoding="utf-8")
    buffer = io.BytesIO()
    symbol.save(buffer, kind="png", scale=_QR_SCALE, border=_QR_BORDER)
    version = symbol.version
    return CertificateQR(
        text=text,
        complete=complete,
        version=version if isinstance(version, int) else int(str(version)),
        png=buffer.getvalue(),
    )


def certificate_pdf(
    issued_or_envelope: IssuedCertificate | Mapping[str, Any], *, locale: str, compress: bool = True
) -> bytes:
    """Render a data erasure certificate as an A4 PDF for the customer, in their language.

    The page shows what NIST SP 800-88 asks a certificate of sanitization to name (device, media, method
    and technique, tool and version, verification, site, destination, the roles involved), the chain of
    custody, the standards, the signing key id, and a QR code with the signed certificate (see
    :func:`certificate_qr`), with how to verify it offline. Identifiers are shown by their last four
    characters only, as the certificate keeps them. The document is reproducible: its creation date is the
    certificate's issue time.

    This renders the content as given; verify a certificate received from elsewhere first
    (:func:`~tradein_sdk._domain.erasure.verify_certificate`).

    Args:
        issued_or_envelope: the issued certificate, or its signed envelope.
        locale: the customer's locale (``de``, ``fr_FR``, ...); texts come from the ``tradein`` catalog.
        compress: compress the page's content stream (``False`` leaves the text readable in the bytes).

    Returns:
        The PDF document.

    Raises:
        DocumentInvalidError: the envelope's payload is not a valid certificate (kind
            ``erasure-certificate``; JSON paths), or it is not shaped as a signed document.
        UnsupportedLocaleError: ``locale`` is not a locale.
    """
    from fpdf import FPDF  # noqa: PLC0415 - fpdf2 loads with the first document

    locale = canonical_locale(locale)
    envelope = _envelope(issued_or_envelope)
    certificate = ErasureCertificate.from_json(envelope["payload"])
    kid = str(envelope["signature"]["kid"])
    qr = certificate_qr(envelope)
    text = _certificate_text(certificate, kid=kid, locale=locale, complete=qr.complete)

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_compression(compress)
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_title(_printable(f"{text.title} {certificate.id}"))
    pdf.set_author(_printable(certificate.issuer))
    pdf.set_lang(locale.split("_", 1)[0])
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()

    pdf.set_font(_FONT, style="B", size=18)
    pdf.cell(0, 10, _printable(text.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=9)
    pdf.multi_cell(0, 4.5, _printable(text.statement), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _certificate_table(pdf, text.facts)
    for heading, rows in text.sections:
        pdf.ln(2)
        _heading(pdf, heading)
        _certificate_table(pdf, rows)

    pdf.ln(3)
    if pdf.get_y() + _QR_WIDTH + 6 > pdf.h - pdf.b_margin:
        pdf.add_page()
    _heading(pdf, text.verify_heading)
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr.png), x=pdf.l_margin, y=top, w=_QR_WIDTH, h=_QR_WIDTH)
    pdf.set_xy(pdf.l_margin + _QR_WIDTH + 6, top + 2)
    pdf.set_font(_FONT, size=9)
    column = pdf.epw - _QR_WIDTH - 6
    for paragraph in text.verify:
        pdf.set_x(pdf.l_margin + _QR_WIDTH + 6)
        pdf.multi_cell(column, 4.5, _printable(paragraph), align="L", new_x="LEFT", new_y="NEXT")
        pdf.ln(1.5)
    pdf.set_x(pdf.l_margin + _QR_WIDTH + 6)
    pdf.set_font("Courier", size=8.5)
    pdf.multi_cell(column, 4.5, VERIFY_COMMAND, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + _QR_WIDTH))
    return bytes(pdf.output())


@attrs.frozen(kw_only=True)
class _CertificateText:
    title: str
    statement: str
    facts: tuple[tuple[str, str], ...]
    sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    verify_heading: str
    verify: tuple[str, ...]


def _certificate_text(
    certificate: ErasureCertificate, *, kid: str, locale: str, complete: bool
) -> _CertificateText:
    """The certificate's texts in ``locale``: labels and vocabulary translated, times by Babel (UTC)."""
    from babel.dates import format_datetime  # noqa: PLC0415 - Babel's dates load with the first document

    def t(message: str, **params: object) -> str:
        return translate(message, locale, **params)

    def when(moment: datetime) -> str:
        return f"{format_datetime(moment, 'medium', tzinfo=UTC, locale=locale)} UTC"

    device = certificate.device
    sanitization = certificate.sanitization
    verification = certificate.verification
    identifiers = tuple(
        (t(_IDENTIFIERS[identifier.kind]), t(N_("ending in {last4}"), last4=identifier.last4))
        for identifier in device.identifiers
    )
    custody = tuple(
        (t(_STEPS[event.step]), f"{when(event.at)} · {event.site} · {event.role}")
        for event in certificate.custody
    )
    how = (
        N_(
            "The QR code holds the complete signed certificate. Save its content, or the certificate file "
            "you received, as a file and verify it offline with the issuer's published keys:"
        )
        if complete
        else N_(
            "The QR code holds the certificate ID, the key ID and the signature. Verify the certificate "
            "file you received offline with the issuer's published keys:"
        )
    )
    return _CertificateText(
        title=t(N_("Data erasure certificate")),
        statement=t(
            N_(
                "The data on the device named below was sanitized and the sanitization was verified. "
                "The IMEI and serial number are kept only as salted hashes; whoever holds the device can "
                "check them against the signed certificate."
            )
        ),
        facts=(
            (t(N_("Certificate ID")), certificate.id),
            (t(N_("Issued on")), long_date(certificate.issued_at.date(), locale)),
            (t(N_("Issuer")), certificate.issuer),
            (t(N_("Order reference")), f"{certificate.order_id} / {certificate.device_id}"),
        ),
        sections=(
            (
                t(N_("Device")),
                (
                    (t(N_("Manufacturer")), device.manufacturer),
                    (t(N_("Model")), device.model),
                    (t(N_("Storage media")), t(_MEDIA[device.media_type])),
                    (t(N_("Capacity")), f"{device.capacity_gb} GB"),
                    *identifiers,
                ),
            ),
            (
                t(N_("Sanitization")),
                (
                    (t(N_("Method")), t(_METHODS[sanitization.method])),
                    (t(N_("Technique")), t(_TECHNIQUES[sanitization.technique])),
                    (t(N_("Tool and version")), f"{sanitization.tool.name} {sanitization.tool.version}"),
                    (t(N_("Performed by")), sanitization.operator_role),
                    (t(N_("Site")), sanitization.site),
                    (t(N_("Period")), f"{when(sanitization.started_at)} - {when(sanitization.ended_at)}"),
                    (t(N_("Destination after sanitization")), t(_DESTINATIONS[certificate.destination])),
                ),
            ),
            (
                t(N_("Verification")),
                (
                    (t(N_("Method")), t(_VERIFICATIONS[verification.method])),
                    (t(N_("Result")), t(_RESULTS[verification.result])),
                    (t(N_("Verified by")), verification.verifier_role),
                    (t(N_("Verified at")), when(verification.verified_at)),
                ),
            ),
            (t(N_("Chain of custody")), custody),
            (
                t(N_("Standards and signature")),
                (
                    (t(N_("Standards")), ", ".join(certificate.standards)),
                    (t(N_("Signature")), t(N_("Ed25519, key ID {kid}"), kid=kid)),
                ),
            ),
        ),
        verify_heading=t(N_("Verify this certificate")),
        verify=(t(how),),
    )


def _certificate_table(pdf: FPDF, rows: tuple[tuple[str, str], ...]) -> None:
    """The certificate's rows: bold labels over regular values, in a smaller type than a receipt's."""
    _table(pdf, rows, size=9, line=4.8, label_width=_CERTIFICATE_LABEL_WIDTH, bold_labels=True)
