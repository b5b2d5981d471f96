"""The data erasure certificate as a PDF: translated, text extractable, and a QR code that verifies offline.

``pdftotext``, ``pdftoppm`` and ``pdfimages`` (poppler-utils) read the rendered documents back; without them
those checks are skipped with the reason, unless ``CI`` is set, where they fail instead.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import segno
from PIL import Image

from grading_questionnaire._i18n import translate
from tradein_sdk._adapters.pdf import QR_ERROR_LEVEL, VERIFY_COMMAND, certificate_pdf, certificate_qr
from tradein_sdk._domain.erasure import (
    IssuedCertificate,
    issue_certificate,
    parse_erasure_report,
    verify_certificate,
)
from tradein_sdk._domain.signing import PrivateKey, SigningKeys
from tradein_sdk._errors import DocumentInvalidError, UnsupportedLocaleError

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RING = SigningKeys(keys=[PrivateKey(kid="e1", d=bytes(range(32)))], active_kid="e1")
JWKS = RING.jwks()
IMEI = "352099001761481"
CERTIFICATE_ID = "cert_0123456789abcdef0123456789abcdef"

# What each language prints for the sample certificate: title, method, technique, masked IMEI, verified.
EXPECTED = {
    "de": (
        "Zertifikat über die Datenlöschung",
        "Purge (Wiederherstellung selbst mit Labormethoden nicht möglich)",
        "Kryptografische Löschung",
        "endet auf 1481",
        "Bestanden",
    ),
    "fr": (
        "Certificat d’effacement des données",
        "Purge (récupération impossible même avec des techniques de laboratoire)",
        "Effacement cryptographique",
        "se terminant par 1481",
        "Réussie",
    ),
    "en": (
        "Data erasure certificate",
        "Purge (recovery infeasible even with laboratory techniques)",
        "Cryptographic erase",
        "ending in 1481",
        "Passed",
    ),
}


def report_document(**changes: Any) -> dict[str, Any]:  # noqa: ANN401 - any field
    """A valid erasure report for device d1 of one order, with top-level ``changes``."""
    document: dict[str, Any] = {
        "order_id": "ord_4f2a9c1e7b3d5a60c8e1",
        "device_id": "d1",
        "device": {
            "manufacturer": "Apple",
            "model": "iPhone 13",
            "imei": IMEI,
            "serial_number": "C39XK0AB1234",
            "media_type": "embedded_flash",
            "capacity_gb": 128,
        },
        "sanitization": {
            "method": "purge",
            "technique": "cryptographic_erase",
            "tool": {"name": "Blancco Mobile", "version": "7.2.1"},
            "operator_role": "Erasure technician",
            "site": "Köln returns centre",
            "started_at": "2026-11-25T10:00:00Z",
            "ended_at": "2026-11-25T10:12:00Z",
        },
        "verification": {
            "method": "crypto_key_destruction",
            "result": "passed",
            "verifier_role": "Quality lead",
            "verified_at": "2026-11-25T10:20:00Z",
        },
        "destination": "resale",
        "custody": [
            {
                "step": "received",
                "at": "2026-11-24T09:00:00Z",
                "site": "Köln returns centre",
                "role": "Goods-in clerk",
            },
            {
                "step": "erased",
                "at": "2026-11-25T10:12:00Z",
                "site": "Köln returns centre",
                "role": "Erasure technician",
            },
        ],
    }
    document.update(changes)
    return document


def issue(issuer: str = "Beispiel Handel GmbH", **changes: Any) -> IssuedCertificate:  # noqa: ANN401 - any field
    """Issue the sample certificate (with top-level report ``changes``) at NOW."""
    return issue_certificate(
        parse_erasure_report(report_document(**changes)),
        issuer=issuer,
        keys=RING,
        now=NOW,
        certificate_id=CERTIFICATE_ID,
        salt=bytes(16),
    )


def tool(name: str) -> str:
    """The path of a poppler-utils program; skip without it, or fail when CI is set."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} (poppler-utils) is not installed: apt-get install poppler-utils"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def pdf_text(path: Path) -> str:
    """The document's text as pdftotext extracts it, white space collapsed."""
    result = subprocess.run(
        [tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(result.stdout.split())


def modules(image: Image.Image, size: int) -> list[list[bool]]:
    """Read a QR symbol's dark modules from its image (a quiet zone of 4 modules around ``size``)."""
    gray = image.convert("L")
    pitch = gray.width / (size + 8)
    pixels = gray.tobytes()  # L mode: one byte of brightness a pixel, row by row

    def dark(row: int, column: int) -> bool:
        x, y = int((4 + column + 0.5) * pitch), int((4 + row + 0.5) * pitch)
        return pixels[y * gray.width + x] < 128

    return [[dark(row, column) for column in range(size)] for row in range(size)]


def symbol_matrix(text: str, error: str = QR_ERROR_LEVEL) -> list[list[bool]]:
    """The dark modules of the QR symbol segno makes for ``text``."""
    symbol = segno.make(text, error=error, boost_error=False, micro=False, encoding="utf-8")
    return [[bool(bit) for bit in row] for row in symbol.matrix]


@pytest.mark.parametrize("language", ["de", "fr", "en"])
def test_certificate_reads_in_the_customers_language(language: str, tmp_path: Path) -> None:
    """Every field a certificate of sanitization names is on the page, translated, and the text extracts."""
    path = tmp_path / f"certificate-{language}.pdf"
    path.write_bytes(certificate_pdf(issue(), locale=language))
    text = pdf_text(path)
    for expected in EXPECTED[language]:
        assert expected in text, expected
    for value in (
        CERTIFICATE_ID,
        "Beispiel Handel GmbH",
        "ord_4f2a9c1e7b3d5a60c8e1 / d1",
        "Apple",
        "iPhone 13",
        "128 GB",
        "Blancco Mobile 7.2.1",
        "Köln returns centre",
        "Erasure technician",
        "Quality lead",
        "NIST SP 800-88 Rev. 1, IEEE 2883-2022",
        "Ed25519",
        VERIFY_COMMAND,
    ):
        assert value in text, value
    assert IMEI not in text
    assert "C39XK0AB1234" not in text

    prefix = tmp_path / f"page-{language}"
    subprocess.run(
        [tool("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(prefix)], check=True
    )
    (page,) = tmp_path.glob(f"page-{language}*.png")
    with Image.open(page) as image:
        assert image.width in {496, 497}  # A4 at 60 dpi: one page, kept in tmp_path as an artefact
        assert image.height == 702


def test_french_keeps_the_colon_with_its_word(tmp_path: Path) -> None:
    """French typography: a no-break space before the colon, so the colon never starts a line."""
    message = (
        "The QR code holds the complete signed certificate. Save its content, or the certificate file you "
        "received, as a file and verify it offline with the issuer's published keys:"
    )
    assert translate(message, "fr").endswith("l’émetteur\u00a0:")
    path = tmp_path / "certificate-fr.pdf"
    path.write_bytes(certificate_pdf(issue(), locale="fr"))
    result = subprocess.run([tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True)
    assert any(line.endswith("l’émetteur :") for line in result.stdout.splitlines())


def test_qr_code_holds_the_signed_certificate_that_verifies() -> None:
    """The QR code is the compact signed envelope (UTF-8), which verifies offline with the JWKS alone."""
    issued = issue()
    qr = certificate_qr(issued)
    assert qr.complete
    assert json.loads(qr.text) == issued.to_json()
    assert len(qr.text.encode()) < 2953  # byte capacity of version 40 at level L
    assert 20 <= qr.version <= 40
    assert verify_certificate(qr.text.encode(), JWKS).ok
    with Image.open(io.BytesIO(qr.png)) as image:
        assert image.size == ((17 + 4 * qr.version + 8) * qr.scale,) * 2
        assert modules(image, 17 + 4 * qr.version) == symbol_matrix(qr.text)


def test_qr_code_in_the_pdf_is_the_certificates(tmp_path: Path) -> None:
    """The image embedded in the PDF reads back module by module as the symbol of the signed certificate."""
    issued = issue()
    qr = certificate_qr(issued)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(certificate_pdf(issued, locale="de"))
    subprocess.run([tool("pdfimages"), "-png", str(path), str(tmp_path / "embedded")], check=True)
    (embedded,) = tmp_path.glob("embedded-*.png")
    with Image.open(embedded) as image:
        read = modules(image, 17 + 4 * qr.version)
    assert read == symbol_matrix(qr.text)
    assert verify_certificate(qr.text, JWKS).ok


def test_certificate_too_long_for_a_qr_code_gets_a_reference(tmp_path: Path) -> None:
    """A certificate beyond a QR code's capacity gets its id, key id, signature and the command instead."""
    long = "x" * 110
    custody = [
        {"step": "received", "at": "2026-11-24T09:00:00Z", "site": f"Site {long}", "role": f"Clerk {long}"},
        *(
            {
                "step": "transferred",
                "at": f"2026-11-24T1{index}:00:00Z",
                "site": f"Hub {index} {long}",
                "role": f"Driver {long}",
            }
            for index in range(8)
        ),
        {
            "step": "erased",
            "at": "2026-11-25T10:12:00Z",
            "site": "Köln returns centre",
            "role": "Erasure technician",
        },
    ]
    issued = issue(custody=custody)
    qr = certificate_qr(issued)
    assert len(json.dumps(issued.document, separators=(",", ":")).encode()) > 2953
    assert not qr.complete
    signature = issued.document["signature"]
    assert qr.text == (
        f"erasure-certificate {CERTIFICATE_ID} kid=e1 sig={signature['value']} verify: {VERIFY_COMMAND}"
    )
    with Image.open(io.BytesIO(qr.png)) as image:
        assert modules(image, 17 + 4 * qr.version) == symbol_matrix(qr.text, error="m")
    path = tmp_path / "long.pdf"
    path.write_bytes(certificate_pdf(issued, locale="en"))
    text = pdf_text(path)
    assert "The QR code holds the certificate ID, the key ID and the signature." in text
    assert "Hub 7" in text


def test_envelope_and_issued_certificate_give_the_same_document() -> None:
    """The PDF is reproducible, from the issued certificate or its signed document read from a file."""
    issued = issue()
    envelope = json.loads(issued.to_text())
    assert certificate_pdf(issued, locale="it") == certificate_pdf(envelope, locale="it_IT")
    assert certificate_pdf(issued, locale="es").startswith(b"%PDF-")


def test_text_outside_the_core_font_is_printed_not_failed_on() -> None:
    """A name in another script prints as ``?`` instead of failing the document."""
    document = certificate_pdf(issue(issuer="Магазин Handel"), locale="de", compress=False)
    assert b"??????? Handel" in document


def test_what_is_not_a_certificate_is_refused() -> None:
    """Not an envelope, a payload that is not a valid certificate, an unknown locale: typed errors."""
    with pytest.raises(DocumentInvalidError, match="expected a signed certificate"):
        certificate_pdf({"payload": {}}, locale="de")
    envelope = issue().to_json()
    envelope["payload"]["id"] = "cert_nothex"
    with pytest.raises(DocumentInvalidError, match=r"\$\.id"):
        certificate_pdf(envelope, locale="de")
    with pytest.raises(UnsupportedLocaleError):
        certificate_pdf(issue(), locale="xx_YY")
