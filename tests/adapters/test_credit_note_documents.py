"""Credit note documents: the EN 16931 XML and its checks, the PDF's § 14 fields, the Factur-X hybrid.

The PDFs are read back with pypdf; ``pdftoppm`` (poppler-utils) renders a 25-line credit note to PNG in the
test's temporary folder (its artefact). Without ``pdftoppm`` that test is skipped with the reason, unless
``TRADEIN_REQUIRE_BROWSER=1`` is set, where it fails instead.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from PIL import Image
from pypdf import PdfReader

from tradein_sdk._adapters.credit_note_documents import (
    FLEET_EXTRA,
    GUIDELINE_ID,
    SELF_BILLED_INVOICE,
    credit_note_pdf,
    credit_note_xml,
    extract_credit_note_xml,
    facturx_pdf,
    validate_credit_note_xml,
)
from tradein_sdk._domain.credit_notes import (
    MARGIN_SCHEME_NOTE,
    NOT_TAXABLE_NOTE,
    REVERSE_CHARGE_NOTE,
    SMALL_BUSINESS_NOTE,
    CreditNote,
    LineInput,
    Party,
    SelfBillingAgreement,
    SellerVatStatus,
    VatTreatment,
    build_credit_note,
)
from tradein_sdk._domain.money import Money
from tradein_sdk._errors import CreditNoteError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

ISSUER = Party(
    name="Beispiel Mobilfunk GmbH",
    street="Hauptstraße 1",
    postcode="10115",
    city="Berlin",
    country="DE",
    vat_id="DE136695976",
)
SELLER = Party(
    name="Muster Logistik GmbH",
    street="Lagerweg 4",
    postcode="20095",
    city="Hamburg",
    country="DE",
    vat_id="DE811907980",
)
AGREEMENT = SelfBillingAgreement(version="2026-01", accepted_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
# Per treatment: the seller's status and line amounts that lead to it.
CASES = {
    VatTreatment.STANDARD: (SellerVatStatus.REGULAR, ("120.00", "80.00", "56.00")),
    VatTreatment.REVERSE_CHARGE: (SellerVatStatus.REGULAR, ("3000.00", "2000.00", "356.00")),
    VatTreatment.SMALL_BUSINESS: (SellerVatStatus.SMALL_BUSINESS, ("120.00", "80.00")),
    VatTreatment.MARGIN_SCHEME: (SellerVatStatus.MARGIN_SCHEME, ("120.00", "99.99")),
}


def imei(index: int) -> str:
    """A 15-digit IMEI-like number, different per line."""
    return f"35678901{index:07d}"


def note(
    *amounts: str,
    status: SellerVatStatus = SellerVatStatus.REGULAR,
    **changes: Any,  # noqa: ANN401
) -> CreditNote:
    """A Gutschrift GS-2026-000042 with one device line per amount, and ``changes``."""
    arguments: dict[str, Any] = {
        "number": "GS-2026-000042",
        "issued_on": date(2026, 12, 7),
        "supplied_on": date(2026, 12, 1),
        "issuer": ISSUER,
        "seller": SELLER,
        "status": status,
        "lines": [
            (
                f"Apple iPhone 13 128 GB Mitternacht ({index})",
                imei(index),
                f"IT-{index:04d}",
                Money(amount, "EUR"),
            )
            for index, amount in enumerate(amounts, start=1)
        ],
        "agreement": AGREEMENT,
        "payment_due": date(2026, 12, 21),
        "references": {"batch": "bat_7", "order": "ord_7", "settlement": "set_7"},
    }
    arguments.update(changes)
    return build_credit_note(**arguments)


def pdf_text(pdf: bytes) -> str:
    """The text of every page as pypdf extracts it, no-break spaces as spaces, white space collapsed."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def tool(name: str) -> str:
    """The path of a poppler-utils program; skip without it, or fail when TRADEIN_REQUIRE_BROWSER=1."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} (poppler-utils) is not installed: apt-get install poppler-utils"
        if os.environ.get("TRADEIN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (required: TRADEIN_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    return path


# -- the e-invoice -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("treatment", list(CASES), ids=[treatment.value for treatment in CASES])
def test_every_treatment_gives_an_e_invoice_that_passes_the_checks(treatment: VatTreatment) -> None:
    """Standard, reverse charge, Kleinunternehmer and margin scheme: XSD and EN 16931 rules pass."""
    status, amounts = CASES[treatment]
    document = note(*amounts, status=status)
    assert document.treatment is treatment
    xml = credit_note_xml(document)
    assert validate_credit_note_xml(xml) == []
    assert f"<ram:ID>{GUIDELINE_ID}</ram:ID>".encode() in xml
    assert f"<ram:TypeCode>{SELF_BILLED_INVOICE}</ram:TypeCode>".encode() in xml
    assert b"<ram:DuePayableAmount>" + format(document.payable.amount, "f").encode() in xml
    assert (
        f'<ram:TaxTotalAmount currencyID="EUR">{document.vat_total.amount}</ram:TaxTotalAmount>'.encode()
        in xml
    )


@pytest.mark.parametrize(
    ("treatment", "fragments"),
    [
        (
            VatTreatment.STANDARD,
            ("<ram:CategoryCode>S</ram:CategoryCode>", "<ram:RateApplicablePercent>19.00<"),
        ),
        (
            VatTreatment.REVERSE_CHARGE,
            (
                "<ram:CategoryCode>AE</ram:CategoryCode>",
                "<ram:ExemptionReason>Steuerschuldnerschaft des Leistungsempfängers</ram:ExemptionReason>",
                "<ram:ExemptionReasonCode>VATEX-EU-AE</ram:ExemptionReasonCode>",
                '<ram:ID schemeID="VA">DE136695976</ram:ID>',  # the buyer's VAT id (BR-AE-02)
            ),
        ),
        (
            VatTreatment.SMALL_BUSINESS,
            (
                "<ram:CategoryCode>E</ram:CategoryCode>",
                "<ram:ExemptionReason>Kleinunternehmer gemäß § 19 UStG</ram:ExemptionReason>",
            ),
        ),
        (
            VatTreatment.MARGIN_SCHEME,
            (
                "<ram:CategoryCode>E</ram:CategoryCode>",
                "<ram:ExemptionReason>Gebrauchtgegenstände/Sonderregelung</ram:ExemptionReason>",
                "<ram:ExemptionReasonCode>VATEX-EU-F</ram:ExemptionReasonCode>",
            ),
        ),
    ],
    ids=[treatment.value for treatment in CASES],
)
def test_the_vat_breakdown_follows_the_treatment(treatment: VatTreatment, fragments: tuple[str, ...]) -> None:
    """S at 19 %; AE with reason and VATEX-EU-AE; E with the § 19 reason; E with VATEX-EU-F for § 25a."""
    status, amounts = CASES[treatment]
    xml = credit_note_xml(note(*amounts, status=status)).decode()
    for fragment in fragments:
        assert fragment in xml, fragment


def test_the_seller_is_the_company_and_the_buyer_the_dealer() -> None:
    """Self-billing keeps the roles of the supply: BG-4 is the company, BG-7 the issuing dealer."""
    xml = credit_note_xml(note("120.00")).decode()
    seller = xml[xml.index("<ram:SellerTradeParty>") : xml.index("</ram:SellerTradeParty>")]
    buyer = xml[xml.index("<ram:BuyerTradeParty>") : xml.index("</ram:BuyerTradeParty>")]
    assert SELLER.name in seller
    assert "DE811907980" in seller
    assert ISSUER.name in buyer
    assert "<ram:CityName>Berlin</ram:CityName>" in buyer
    for text in (imei(1), "IT-0001", "20261201", "20261221", "Version 2026-01", "set_7"):
        assert text in xml, text


def test_rounding_amount_is_written_when_there_is_one() -> None:
    """99.99 paid: net 84.03 + VAT 15.97 = 100.00, BT-114 −0.01 and BT-115 99.99; the checks pass."""
    xml = credit_note_xml(note("99.99"))
    for fragment in (
        b"<ram:TaxBasisTotalAmount>84.03</ram:TaxBasisTotalAmount>",
        b'<ram:TaxTotalAmount currencyID="EUR">15.97</ram:TaxTotalAmount>',
        b"<ram:RoundingAmount>-0.01</ram:RoundingAmount>",
        b"<ram:GrandTotalAmount>100.00</ram:GrandTotalAmount>",
        b"<ram:DuePayableAmount>99.99</ram:DuePayableAmount>",
    ):
        assert fragment in xml, fragment
    assert validate_credit_note_xml(xml) == []
    assert b"RoundingAmount" not in credit_note_xml(note("120.00"))


def test_a_seller_with_only_a_tax_number_is_identified_by_it() -> None:
    """Scheme FC for the Steuernummer, and the same number as seller identifier (BR-CO-26)."""
    seller = attrs.evolve(SELLER, vat_id=None, tax_number="22/815/08154")
    xml = credit_note_xml(note("120.00", seller=seller))
    assert b'<ram:ID schemeID="FC">22/815/08154</ram:ID>' in xml
    assert validate_credit_note_xml(xml) == []


def test_a_document_without_due_date_or_references_still_has_payment_terms() -> None:
    """Payment terms are always there (BR-CO-25), the due date (BT-9) only when given; no references note."""
    xml = credit_note_xml(note("120.00", payment_due=None, references={}))
    assert b"<ram:Description>Auszahlung an den Lieferer</ram:Description>" in xml
    assert b"DueDateDateTime" not in xml
    assert b"Referenzen" not in xml
    assert validate_credit_note_xml(xml) == []


def test_a_line_of_two_items_has_its_unit_price() -> None:
    """Quantity 2: BT-129 is 2 pieces and the net price (BT-146) is half the line's net amount."""
    document = note(
        lines=[LineInput(description="Apple AirPods Pro", amount=Money("238.00", "EUR"), quantity=2)]
    )
    xml = credit_note_xml(document)
    assert b'<ram:BilledQuantity unitCode="H87">2</ram:BilledQuantity>' in xml
    assert b"<ram:ChargeAmount>100.0000</ram:ChargeAmount>" in xml  # 238.00 / 1.19 = 200.00 net, 100 each
    assert validate_credit_note_xml(xml) == []


def test_a_purchase_statement_has_no_e_invoice() -> None:
    """An Ankaufbeleg is no invoice: no XML and no Factur-X PDF."""
    statement = note(
        "120.00", status=SellerVatStatus.NOT_REGISTERED, seller=attrs.evolve(SELLER, vat_id=None)
    )
    with pytest.raises(CreditNoteError, match="no e-invoice"):
        credit_note_xml(statement)
    with pytest.raises(CreditNoteError, match="no e-invoice"):
        facturx_pdf(statement)


def test_reverse_charge_needs_the_dealers_vat_id() -> None:
    """BR-AE-02: without the buyer's VAT id the reverse-charge e-invoice is refused."""
    dealer = attrs.evolve(ISSUER, vat_id=None, tax_number="11/222/33333")
    with pytest.raises(CreditNoteError, match="BR-AE-02"):
        credit_note_xml(note("3000.00", "2000.00", issuer=dealer))


def test_an_incomplete_document_is_refused() -> None:
    """A document that fails the § 14 checklist gives no e-invoice."""
    with pytest.raises(CreditNoteError, match=r"Nr\. 10"):
        credit_note_xml(attrs.evolve(note("120.00"), title="Rechnung"))


# -- the checks ----------------------------------------------------------------------------------------------


def document_level(*, charge: bool) -> str:
    """A document-level charge or allowance (BG-21/BG-20) of 5.00 at 19 %, which the totals leave out."""
    indicator = "true" if charge else "false"
    return (
        f"<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>{indicator}</udt:Indicator>"
        "</ram:ChargeIndicator><ram:ActualAmount>5.00</ram:ActualAmount><ram:CategoryTradeTax>"
        "<ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>"
        "<ram:RateApplicablePercent>19.00</ram:RateApplicablePercent></ram:CategoryTradeTax>"
        "</ram:SpecifiedTradeAllowanceCharge>"
    )


def tampered(xml: bytes, old: str, new: str) -> bytes:
    """``xml`` with the first ``old`` replaced by ``new`` (which must be there)."""
    assert old.encode() in xml, old
    return xml.replace(old.encode(), new.encode(), 1)


@pytest.fixture(scope="module")
def standard_xml() -> bytes:
    """The e-invoice of 120.00 + 80.00 + 56.00 (lines 100.84, 67.23, 47.06; net 215.13, VAT 40.87)."""
    return credit_note_xml(note("120.00", "80.00", "56.00"))


def test_a_changed_line_amount_breaks_br_co_10(standard_xml: bytes) -> None:
    """One line net raised by a euro: the sum of lines no longer matches BT-106, nor the S taxable amount."""
    xml = tampered(
        standard_xml,
        "<ram:LineTotalAmount>100.84</ram:LineTotalAmount>",
        "<ram:LineTotalAmount>101.84</ram:LineTotalAmount>",
    )
    problems = validate_credit_note_xml(xml)
    assert any(problem.startswith("BR-CO-10:") for problem in problems), problems
    assert any(problem.startswith("BR-S-08:") for problem in problems), problems
    assert "216.13" in next(problem for problem in problems if problem.startswith("BR-CO-10"))


@pytest.mark.parametrize(
    ("old", "new", "rules"),
    [
        (
            '<ram:TaxTotalAmount currencyID="EUR">40.87<',
            '<ram:TaxTotalAmount currencyID="EUR">40.88<',
            ("BR-CO-14", "BR-CO-15"),
        ),
        ("<ram:CalculatedAmount>40.87<", "<ram:CalculatedAmount>40.00<", ("BR-S-09", "BR-CO-14", "BR-CO-17")),
        ("<ram:DuePayableAmount>256.00<", "<ram:DuePayableAmount>256.01<", ("BR-CO-16",)),
        ("<ram:TaxBasisTotalAmount>215.13<", "<ram:TaxBasisTotalAmount>215.14<", ("BR-CO-13", "BR-CO-15")),
        ("<ram:Name>Muster Logistik GmbH</ram:Name>", "", ("BR-06",)),
        ("<ram:TypeCode>389</ram:TypeCode>", "<ram:TypeCode>999</ram:TypeCode>", ("BR-CL-01",)),
        (
            '<ram:ID schemeID="VA">DE811907980</ram:ID>',
            '<ram:ID schemeID="VA">XX811907980</ram:ID>',
            ("BR-CO-09",),
        ),
        ("<ram:InvoiceCurrencyCode>EUR<", "<ram:InvoiceCurrencyCode>EUX<", ("BR-CL-04", "BR-CO-15")),
        ("<ram:LineTotalAmount>215.13<", "<ram:LineTotalAmount>215.130<", ("BR-DEC-09",)),
        ("<ram:RateApplicablePercent>19.00<", "<ram:RateApplicablePercent>0.00<", ("BR-S-05", "BR-S-08")),
        ("<ram:ChargeAmount>100.84<", "<ram:ChargeAmount>-100.84<", ("BR-27",)),
        ("<ram:LineID>1</ram:LineID>", "", ("BR-21",)),
        (
            '<ram:ID schemeID="VA">DE811907980</ram:ID>',
            "",
            ("BR-S-02", "BR-CO-26"),
        ),
        ("<ram:SpecifiedTradePaymentTerms>", "<ram:SpecifiedTradePaymentTerms><ram:X/>", ("XSD",)),
        (
            "<ram:SpecifiedTradePaymentTerms>",
            document_level(charge=False) + "<ram:SpecifiedTradePaymentTerms>",
            ("BR-CO-11", "BR-S-08"),
        ),
        (
            "<ram:SpecifiedTradePaymentTerms>",
            document_level(charge=True) + "<ram:SpecifiedTradePaymentTerms>",
            ("BR-CO-12", "BR-S-08"),
        ),
    ],
    ids=[
        "vat-total",
        "category-tax",
        "amount-due",
        "tax-basis",
        "seller-name",
        "type-code",
        "vat-prefix",
        "currency",
        "decimals",
        "line-rate",
        "negative-price",
        "line-id",
        "seller-vat-id",
        "unknown-element",
        "allowance",
        "charge",
    ],
)
def test_each_broken_rule_is_named(standard_xml: bytes, old: str, new: str, rules: tuple[str, ...]) -> None:
    """A tampered e-invoice reports every EN 16931 rule the change breaks, by its id."""
    problems = validate_credit_note_xml(tampered(standard_xml, old, new))
    named = {problem.split(":", 1)[0] for problem in problems}
    assert set(rules) <= named, problems


def test_a_missing_vat_breakdown_and_payment_terms_are_named(standard_xml: bytes) -> None:
    """No VAT breakdown (BR-CO-18) and no payment terms while an amount is due (BR-CO-25)."""
    xml = re.sub(
        rb"<ram:ApplicableTradeTax>\s*<ram:CalculatedAmount>.*?</ram:ApplicableTradeTax>",
        b"",
        standard_xml,
        flags=re.DOTALL,
    )
    xml = re.sub(
        rb"<ram:SpecifiedTradePaymentTerms>.*?</ram:SpecifiedTradePaymentTerms>", b"", xml, flags=re.DOTALL
    )
    named = {problem.split(":", 1)[0] for problem in validate_credit_note_xml(xml)}
    assert {"BR-CO-18", "BR-CO-25", "BR-CO-14", "XSD"} <= named


def test_a_breakdown_without_its_rate_breaks_br_48(standard_xml: bytes) -> None:
    """Every VAT breakdown but O has a rate."""
    header = standard_xml.rindex(b"<ram:RateApplicablePercent>19.00</ram:RateApplicablePercent>")
    xml = standard_xml[:header] + standard_xml[header:].replace(
        b"<ram:RateApplicablePercent>19.00</ram:RateApplicablePercent>", b"", 1
    )
    named = {problem.split(":", 1)[0] for problem in validate_credit_note_xml(xml)}
    assert "BR-48" in named


def test_an_exempt_line_with_a_rate_breaks_br_e_05() -> None:
    """Category E lines have rate 0."""
    xml = credit_note_xml(note("120.00", status=SellerVatStatus.SMALL_BUSINESS))
    xml = tampered(xml, "<ram:RateApplicablePercent>0.00<", "<ram:RateApplicablePercent>7.00<")
    named = {problem.split(":", 1)[0] for problem in validate_credit_note_xml(xml)}
    assert "BR-E-05" in named


def test_reverse_charge_without_the_buyers_vat_id_breaks_br_ae_02() -> None:
    """Category AE needs the buyer's VAT id (or legal registration)."""
    xml = credit_note_xml(note("3000.00", "2000.00"))
    xml = tampered(xml, '<ram:ID schemeID="VA">DE136695976</ram:ID>', "")
    named = {problem.split(":", 1)[0] for problem in validate_credit_note_xml(xml)}
    assert "BR-AE-02" in named


def test_an_exempt_breakdown_without_its_reason_breaks_br_e_10() -> None:
    """Category E needs an exemption reason text or code."""
    xml = credit_note_xml(note("120.00", status=SellerVatStatus.SMALL_BUSINESS))
    xml = tampered(xml, "<ram:ExemptionReason>Kleinunternehmer gemäß § 19 UStG</ram:ExemptionReason>", "")
    problems = validate_credit_note_xml(xml)
    assert [problem for problem in problems if problem.startswith("BR-E-10:")], problems


def test_reverse_charge_with_vat_breaks_br_ae_09() -> None:
    """Category AE carries no VAT amount."""
    xml = credit_note_xml(note("3000.00", "2000.00"))
    xml = tampered(xml, "<ram:CalculatedAmount>0.00<", "<ram:CalculatedAmount>950.00<")
    named = {problem.split(":", 1)[0] for problem in validate_credit_note_xml(xml)}
    assert {"BR-AE-09", "BR-CO-14"} <= named


def test_schema_errors_and_broken_xml_are_reported() -> None:
    """An element the schema does not know is an XSD failure; text that is not XML says so."""
    xml = credit_note_xml(note("120.00"))
    unknown = tampered(xml, "<ram:TypeCode>389</ram:TypeCode>", "<ram:TypeCode>389</ram:TypeCode><ram:Oops/>")
    assert any(problem.startswith("XSD:") for problem in validate_credit_note_xml(unknown))
    problems = validate_credit_note_xml(b"<not-closed>")
    assert problems[-1].startswith("XML: not well-formed")


# -- the PDF -------------------------------------------------------------------------------------------------


def test_the_pdf_carries_every_section_14_field() -> None:
    """Title, number, names and addresses, the seller's VAT id, dates, IMEIs and the totals as printed."""
    document = note("120.00", "80.00", "56.00")
    text = pdf_text(credit_note_pdf(document))
    for expected in (
        "Gutschrift GS-2026-000042",
        "Abrechnung im Gutschriftsverfahren (§ 14 Abs. 2 UStG)",
        ISSUER.name,
        "Hauptstraße 1",
        "10115 Berlin",
        SELLER.name,
        "Lagerweg 4",
        "20095 Hamburg",
        "USt-IdNr.: DE811907980",
        "USt-IdNr.: DE136695976",
        "Ausstellungsdatum 07.12.2026",
        "Liefer-/Leistungsdatum 01.12.2026",
        "Auszahlung bis 21.12.2026",
        "Version 2026-01, angenommen am 05.01.2026",
        "batch: bat_7",
        "settlement: set_7",
        *(imei(index) for index in (1, 2, 3)),
        "IT-0002",
        "Apple iPhone 13 128 GB Mitternacht (3)",
        "100,84 €",
        "120,00 €",
        "Summe netto zu 19 % 215,13 €",
        "Umsatzsteuer 19 % 40,87 €",
        "Auszahlungsbetrag 256,00 €",
        "Seite 1 von 1",
    ):
        assert expected in text, expected
    assert "Rundung" not in text  # no rounding to show


@pytest.mark.parametrize(
    ("treatment", "notice"),
    [
        (VatTreatment.REVERSE_CHARGE, REVERSE_CHARGE_NOTE),
        (VatTreatment.SMALL_BUSINESS, SMALL_BUSINESS_NOTE),
        (VatTreatment.MARGIN_SCHEME, MARGIN_SCHEME_NOTE),
    ],
    ids=["reverse-charge", "small-business", "margin-scheme"],
)
def test_the_pdf_prints_the_legal_note_and_no_vat_amount(treatment: VatTreatment, notice: str) -> None:
    """Without VAT the page has the net total, the payable amount and the note, but no VAT line."""
    status, amounts = CASES[treatment]
    document = note(*amounts, status=status)
    text = pdf_text(credit_note_pdf(document))
    assert notice in text
    assert "Umsatzsteuer 19 %" not in text
    assert f"Auszahlungsbetrag {document.payable.format('de')}".replace("\u00a0", " ") in text


def test_the_seller_s_tax_number_is_printed() -> None:
    """A seller known by its Steuernummer has it on the page (§ 14 Abs. 4 Satz 1 Nr. 2 UStG)."""
    seller = attrs.evolve(SELLER, vat_id=None, tax_number="22/815/08154")
    text = pdf_text(credit_note_pdf(note("120.00", seller=seller)))
    assert "Steuernummer: 22/815/08154" in text
    assert "DE811907980" not in text


@pytest.mark.parametrize("lines", range(12, 19), ids=lambda lines: f"{lines}-lines")
def test_the_totals_and_the_legal_note_stay_together(lines: int) -> None:
    """Whatever page the table ends on, the totals and the note below them are on one page."""
    document = note(*(["1000.00"] * lines))
    assert document.treatment is VatTreatment.REVERSE_CHARGE
    reader = PdfReader(io.BytesIO(credit_note_pdf(document)))
    pages = [pdf_text_of_page(reader, number) for number in range(len(reader.pages))]
    (together,) = [page for page in pages if "Auszahlungsbetrag" in page]
    assert "Summe netto" in together
    assert REVERSE_CHARGE_NOTE in together
    assert together is pages[-1]


def test_a_rounding_amount_is_printed() -> None:
    """99.99 paid: net 84,03 €, VAT 15,97 €, rounding -0,01 €, payable 99,99 €."""
    text = pdf_text(credit_note_pdf(note("99.99")))
    for expected in ("84,03 €", "15,97 €", "Rundung -0,01 €", "Auszahlungsbetrag 99,99 €"):
        assert expected in text, expected


def test_english_labels_keep_the_legal_words_german() -> None:
    """locale=en: English labels and English money format; "Gutschrift" and the notes stay German."""
    document = note("3000.00", "2000.00")
    text = pdf_text(credit_note_pdf(document, locale="en"))
    for expected in (
        "Gutschrift GS-2026-000042",
        "Self-billing credit note",
        "Issue date Dec 7, 2026",
        "Date of supply Dec 1, 2026",
        "VAT ID: DE811907980",
        "Amount payable €5,000.00",
        REVERSE_CHARGE_NOTE,
        "Page 1 of 1",
    ):
        assert expected in text, expected
    for german in ("Ausstellungsdatum", "Auszahlungsbetrag", "Seite 1"):
        assert german not in text, german


def test_a_purchase_statement_pdf() -> None:
    """An Ankaufbeleg: its title and number, the not-taxable note, no VAT and no agreement."""
    seller = attrs.evolve(SELLER, vat_id=None)
    statement = note(
        "120.00",
        "80.00",
        status=SellerVatStatus.NOT_REGISTERED,
        seller=seller,
        number="AB-2026-000003",
        payment_due=None,
        references={},
    )
    text = pdf_text(credit_note_pdf(statement))
    assert "Ankaufbeleg AB-2026-000003" in text
    assert NOT_TAXABLE_NOTE in text
    assert "Auszahlungsbetrag 200,00 €" in text
    assert "Umsatzsteuer 19" not in text
    assert "Gutschrift" not in text
    assert "Gutschriftsvereinbarung" not in text
    assert "Auszahlung bis" not in text  # no due date given
    assert "Referenzen" not in text


def test_300_lines_break_across_pages_with_every_line_once() -> None:
    """A long credit note runs over many pages, each line printed once, page numbers on every page."""
    amounts = [f"{100 + index % 50}.{index % 100:02d}" for index in range(300)]
    document = note(*amounts)
    pdf = credit_note_pdf(document)
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages > 5
    text = pdf_text(pdf)
    for index in range(1, 301):
        assert text.count(imei(index)) == 1, index
    for number in range(pages):
        page = pdf_text_of_page(reader, number)
        assert f"Seite {number + 1} von {pages}" in page
        if imei(1) not in page and number < pages - 1:
            assert page.startswith("Pos. Bezeichnung"), page[:80]  # the table's heading repeats
    last = pdf_text_of_page(reader, -1)
    assert f"Auszahlungsbetrag {document.payable.format('de')}".replace("\u00a0", " ") in last


def pdf_text_of_page(reader: PdfReader, index: int) -> str:
    """One page's text, white space collapsed."""
    return " ".join(reader.pages[index].extract_text().replace("\u00a0", " ").split())


def test_a_25_line_credit_note_renders_to_png(tmp_path: Path) -> None:
    """Page 1 of a 25-line Factur-X credit note renders at A4 size; the PNG is the test's artefact."""
    pdftoppm = tool("pdftoppm")
    document = note(*(f"{150 + index}.{index:02d}" for index in range(25)))
    path = tmp_path / "credit-note-25.pdf"
    path.write_bytes(facturx_pdf(document))
    target = tmp_path / "credit-note-25-page1"
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path), str(target)],
        check=True,
    )
    png = target.with_suffix(".png")
    with Image.open(png) as image:
        assert image.width in {496, 497}  # A4 at 60 dpi
        assert image.height == 702
        shades = image.convert("L").histogram()
        assert sum(shades[:100]) > 0  # dark text
        assert shades[255] > sum(shades[:255])  # on mostly white paper
    assert png.stat().st_size > 10_000


# -- the Factur-X hybrid -------------------------------------------------------------------------------------


def test_facturx_pdf_round_trip() -> None:
    """The XML embedded in the Factur-X PDF comes back byte for byte; the page reads as the credit note."""
    document = note("120.00", "80.00", "56.00")
    xml = credit_note_xml(document)
    pdf = facturx_pdf(document)
    assert pdf.startswith(b"%PDF")
    assert extract_credit_note_xml(pdf) == xml
    reader = PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["factur-x.xml"]
    root: Any = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp  # PDF/A-3, as Factur-X declares it
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"  # the sRGB output intent of PDF/A
    assert "Gutschrift GS-2026-000042" in pdf_text(pdf)


def test_a_pdf_without_xml_is_refused() -> None:
    """A plain PDF carries no e-invoice; bytes that are no PDF are not readable."""
    with pytest.raises(CreditNoteError, match="no Factur-X XML"):
        extract_credit_note_xml(credit_note_pdf(note("120.00")))
    with pytest.raises(CreditNoteError, match="not a readable PDF"):
        extract_credit_note_xml(b"not a pdf")


@pytest.mark.parametrize(
    ("module", "render"),
    [
        ("drafthorse", credit_note_xml),
        ("facturx", lambda _: validate_credit_note_xml(b"<x/>")),
        ("fpdf", credit_note_pdf),
    ],
    ids=["drafthorse", "factur-x", "fpdf2"],
)
def test_without_the_fleet_extra_the_error_names_it(
    module: str,
    render: Callable[[CreditNote], object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing optional package raises CreditNoteError naming pip install 'tradein-sdk[fleet]'."""
    for name in [name for name in sys.modules if name == module or name.startswith(f"{module}.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(CreditNoteError) as raised:
        render(note("120.00"))
    assert FLEET_EXTRA in str(raised.value)
    assert "tradein-sdk[fleet]" in str(raised.value)
