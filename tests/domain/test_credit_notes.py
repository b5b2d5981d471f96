"""Self-billing credit notes and purchase statements: VAT carved out of what is paid, treatments, checks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradein_sdk._domain.credit_notes import (
    CREDIT_NOTE_TITLE,
    MARGIN_SCHEME_NOTE,
    NOT_TAXABLE_NOTE,
    PURCHASE_STATEMENT_TITLE,
    REVERSE_CHARGE_NOTE,
    SMALL_BUSINESS_NOTE,
    CreditNote,
    DocumentKind,
    LineInput,
    Party,
    SelfBillingAgreement,
    SellerVatStatus,
    VatTreatment,
    build_credit_note,
    credit_note_problems,
    document_number,
)
from tradein_sdk._domain.money import Money
from tradein_sdk._errors import CreditNoteError

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
    tax_number="22/815/08154",
)
AGREEMENT = SelfBillingAgreement(version="2026-01", accepted_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
ISSUED = date(2026, 12, 7)
SUPPLIED = date(2026, 12, 1)


def eur(amount: str) -> Money:
    """An amount in euros."""
    return Money(amount, "EUR")


def note(
    *amounts: str,
    status: SellerVatStatus = SellerVatStatus.REGULAR,
    **changes: Any,  # noqa: ANN401
) -> CreditNote:
    """A document for one device line per amount (IMEIs and asset tags numbered), with ``changes`` applied."""
    arguments: dict[str, Any] = {
        "number": document_number(DocumentKind.CREDIT_NOTE, 2026, 42),
        "issued_on": ISSUED,
        "supplied_on": SUPPLIED,
        "issuer": ISSUER,
        "seller": SELLER,
        "status": status,
        "lines": [
            (f"Apple iPhone 13 128 GB #{index}", f"35678901234{index:04d}", f"IT-{index:03d}", eur(amount))
            for index, amount in enumerate(amounts, start=1)
        ],
        "agreement": AGREEMENT,
        "payment_due": date(2026, 12, 21),
        "references": {"batch": "bat_1", "order": "ord_1", "settlement": "set_1"},
    }
    arguments.update(changes)
    return build_credit_note(**arguments)


def leaves(data: object) -> list[object]:
    """Every scalar of a JSON document."""
    if isinstance(data, dict):
        return [leaf for value in data.values() for leaf in leaves(value)]
    if isinstance(data, list):
        return [leaf for value in data for leaf in leaves(value)]
    return [data]


def cents(money: Money) -> str:
    """The amount as a plain string with its cents (``215.13``)."""
    return format(money.amount, "f")


# -- the VAT maths, by hand ----------------------------------------------------------------------------------


def test_three_lines_carve_19_percent_out_of_what_is_paid() -> None:
    """120.00 + 80.00 + 56.00 = 256.00 paid: net 215.13, VAT 40.87, no rounding; line nets 100.84/67.23/47.06.

    256.00 / 1.19 = 215.1260… → 215.13; 215.13 × 0.19 = 40.8747 → 40.87; 215.13 + 40.87 = 256.00. The net
    is spread 120:80:56 over 21,513 cents: 10,084.22 / 6,722.81 / 4,705.97 → floors 10,084 / 6,722 / 4,705
    and the two cents left go to the largest remainders (.97 and .81).
    """
    document = note("120.00", "80.00", "56.00")
    assert document.kind is DocumentKind.CREDIT_NOTE
    assert document.treatment is VatTreatment.STANDARD
    assert document.title == CREDIT_NOTE_TITLE == "Gutschrift"
    assert document.rate == Decimal(19)
    assert cents(document.payable) == "256.00"
    assert cents(document.net_total) == "215.13"
    assert cents(document.vat_total) == "40.87"
    assert document.rounding.is_zero()
    assert [cents(line.net) for line in document.lines] == ["100.84", "67.23", "47.06"]
    assert [cents(line.amount) for line in document.lines] == ["120.00", "80.00", "56.00"]
    assert document.notes == ()
    assert credit_note_problems(document) == []


@pytest.mark.parametrize(
    ("payable", "net", "vat", "rounding"),
    [
        # 99.99 / 1.19 = 84.0252… → 84.03; 84.03 × 0.19 = 15.9657 → 15.97; 84.03 + 15.97 = 100.00
        ("99.99", "84.03", "15.97", "-0.01"),
        # 100.12 / 1.19 = 84.1344… → 84.13; 84.13 × 0.19 = 15.9847 → 15.98; 84.13 + 15.98 = 100.11
        ("100.12", "84.13", "15.98", "0.01"),
        # 119.00 / 1.19 = 100 exactly; 19 % of it is 19.00
        ("119.00", "100.00", "19.00", "0.00"),
        # 4,999.99 / 1.19 = 4,201.6722… → 4,201.67; × 0.19 = 798.3173 → 798.32; together 4,999.99
        ("4999.99", "4201.67", "798.32", "0.00"),
    ],
    ids=["one-cent-down", "one-cent-up", "exact", "just-below-reverse-charge"],
)
def test_net_plus_vat_missing_by_a_cent_is_the_rounding_amount(
    payable: str, net: str, vat: str, rounding: str
) -> None:
    """Where net + VAT, each rounded half up, miss what is paid, the difference is the rounding (BT-114)."""
    document = note(payable)
    assert document.treatment is VatTreatment.STANDARD
    assert (cents(document.net_total), cents(document.vat_total)) == (net, vat)
    assert cents(document.rounding) == rounding
    assert document.net_total + document.vat_total + document.rounding == document.payable == eur(payable)
    assert credit_note_problems(document) == []


def test_from_5000_a_regular_seller_is_reverse_charge() -> None:
    """5,000.00 paid (§ 13b Abs. 2 Nr. 10 UStG): no VAT, rate 0, net = payable, the § 14a Abs. 5 note."""
    document = note("3000.00", "2000.00")
    assert document.kind is DocumentKind.CREDIT_NOTE
    assert document.treatment is VatTreatment.REVERSE_CHARGE
    assert document.rate == 0
    assert document.vat_total.is_zero()
    assert document.rounding.is_zero()
    assert document.net_total == document.payable == eur("5000.00")
    assert [line.net for line in document.lines] == [eur("3000.00"), eur("2000.00")]
    assert document.notes == (REVERSE_CHARGE_NOTE,)
    assert REVERSE_CHARGE_NOTE == "Steuerschuldnerschaft des Leistungsempfängers (§ 13b Abs. 2 Nr. 10 UStG)"
    assert credit_note_problems(document) == []


def test_one_cent_below_5000_is_standard_and_the_threshold_is_a_parameter() -> None:
    """4,999.99 is taxed at 19 %; with the threshold at 4,000 it would be reverse charge."""
    assert note("2999.99", "2000.00").treatment is VatTreatment.STANDARD
    lowered = note("2999.99", "2000.00", reverse_charge_threshold=Decimal(4000))
    assert lowered.treatment is VatTreatment.REVERSE_CHARGE


@pytest.mark.parametrize(
    ("status", "treatment", "text"),
    [
        (SellerVatStatus.SMALL_BUSINESS, VatTreatment.SMALL_BUSINESS, SMALL_BUSINESS_NOTE),
        (SellerVatStatus.MARGIN_SCHEME, VatTreatment.MARGIN_SCHEME, MARGIN_SCHEME_NOTE),
    ],
    ids=["kleinunternehmer", "margin-scheme"],
)
def test_sellers_who_charge_no_vat_still_get_a_gutschrift_with_their_note(
    status: SellerVatStatus, treatment: VatTreatment, text: str
) -> None:
    """§ 19 and § 25a UStG: a Gutschrift without VAT, never reverse charge even above 5,000, with the note."""
    document = note("4000.00", "2500.00", status=status)
    assert document.kind is DocumentKind.CREDIT_NOTE
    assert document.title == "Gutschrift"
    assert document.treatment is treatment
    assert document.rate == 0
    assert document.vat_total.is_zero()
    assert document.net_total == document.payable == eur("6500.00")
    assert document.notes == (text,)
    assert credit_note_problems(document) == []


def test_margin_scheme_and_small_business_notes_are_the_legal_wording() -> None:
    """The notes carry the words of § 14a Abs. 6 and § 19 UStG."""
    assert MARGIN_SCHEME_NOTE == "Gebrauchtgegenstände/Sonderregelung (§ 25a UStG)"
    assert (
        SMALL_BUSINESS_NOTE == "Kein Ausweis von Umsatzsteuer: der Lieferer ist Kleinunternehmer (§ 19 UStG)"
    )


def test_a_seller_who_is_not_registered_gets_a_purchase_statement() -> None:
    """Ankaufbeleg: never VAT, no agreement or VAT id needed, the not-taxable note; payable = sum of lines."""
    private = attrs.evolve(SELLER, vat_id=None, tax_number=None)
    document = note(
        "4000.00",
        "2500.00",
        status=SellerVatStatus.NOT_REGISTERED,
        seller=private,
        agreement=None,
        number=document_number(DocumentKind.PURCHASE_STATEMENT, 2026, 7),
    )
    assert document.kind is DocumentKind.PURCHASE_STATEMENT
    assert document.title == PURCHASE_STATEMENT_TITLE == "Ankaufbeleg"
    assert document.number == "AB-2026-000007"
    assert document.treatment is VatTreatment.NOT_TAXABLE
    assert document.rate == 0
    assert document.vat_total.is_zero()
    assert document.payable == document.net_total == eur("6500.00")
    assert document.notes == (NOT_TAXABLE_NOTE,)
    assert document.agreement is None
    assert credit_note_problems(document) == []


def test_a_purchase_statement_keeps_no_agreement_even_when_one_is_given() -> None:
    """The agreement is a Gutschrift's; a purchase statement does not carry it."""
    document = note("10.00", status=SellerVatStatus.NOT_REGISTERED)
    assert document.agreement is None


# -- what a Gutschrift needs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"seller": attrs.evolve(SELLER, vat_id=None, tax_number=None)}, "vat_id or tax_number"),
        ({"agreement": None}, r"prior self-billing agreement .*§ 14 Abs. 2"),
        (
            {
                "agreement": SelfBillingAgreement(
                    version="2026-12", accepted_at=datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
                )
            },
            "must precede",
        ),
        ({"seller": attrs.evolve(SELLER, street="")}, "seller's street"),
        ({"issuer": attrs.evolve(ISSUER, postcode=" ", city="")}, "issuer's postcode, city"),
        ({"issuer": attrs.evolve(ISSUER, country="Germany")}, "issuer's country"),
        ({"seller": attrs.evolve(SELLER, vat_id="136695976")}, "not a VAT identification number"),
        ({"number": " "}, "number"),
        ({"lines": []}, "at least one line"),
        ({"rate": Decimal(0)}, "VAT rate"),
        ({"reverse_charge_threshold": 5000}, "threshold must be a Decimal"),
        ({"issuer": "Beispiel Mobilfunk GmbH"}, "issuer must be a Party"),
    ],
    ids=[
        "no-vat-id",
        "no-agreement",
        "agreement-after-issue",
        "no-street",
        "no-postcode-city",
        "bad-country",
        "vat-id-without-prefix",
        "no-number",
        "no-lines",
        "zero-rate",
        "float-like-threshold",
        "issuer-not-a-party",
    ],
)
def test_a_gutschrift_without_a_mandatory_field_is_refused(changes: dict[str, Any], match: str) -> None:
    """The seller's VAT id or tax number, a prior agreement, full addresses and a number are required."""
    with pytest.raises(CreditNoteError, match=match):
        note("120.00", **changes)


def test_party_fields_are_texts() -> None:
    """A party's fields are stripped texts; the country is upper case; a number is refused."""
    party = Party(
        name=" Muster GmbH ", street="Weg 1", postcode="20095", city="Hamburg", country="de", vat_id=""
    )
    assert (party.name, party.country, party.vat_id) == ("Muster GmbH", "DE", None)
    with pytest.raises(CreditNoteError, match="expected a text, not int"):
        Party(name="Muster GmbH", street="Weg 1", postcode=20095, city="Hamburg", country="DE")


def test_a_tax_number_is_enough_without_a_vat_id() -> None:
    """§ 14 Abs. 4 Satz 1 Nr. 2 UStG takes the Steuernummer or the USt-IdNr."""
    document = note("120.00", seller=attrs.evolve(SELLER, vat_id=None))
    assert document.seller.tax_number == "22/815/08154"
    assert credit_note_problems(document) == []


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ([("Phone", None, None, eur("-1.00"))], "negative"),
        ([("Phone", None, None, eur("1.00")), ("Phone", None, None, Money("1.00", "USD"))], "one currency"),
        ([("Phone", None, None, eur("1.005"))], "whole minor units"),
        ([("  ", None, None, eur("1.00"))], "trade name"),
        ([LineInput(description="Phone", amount=eur("1.00"), quantity=0)], "quantity"),
        (["Phone"], "LineInput"),
        ([("Phone", None, None, "1.00")], "must be Money"),
        ([("Pho\x01ne", None, None, eur("1.00"))], "control character"),
    ],
    ids=[
        "negative",
        "two-currencies",
        "fraction-of-a-cent",
        "no-description",
        "no-quantity",
        "not-a-line",
        "not-money",
        "control-character",
    ],
)
def test_lines_are_checked(lines: list[Any], match: str) -> None:
    """Never a negative line, one currency, whole cents, a trade name and a quantity."""
    with pytest.raises(CreditNoteError, match=match):
        note(lines=lines)


def test_line_inputs_and_tuples_are_the_same_line() -> None:
    """A LineInput and a (description, identifier, asset_tag, amount) tuple give the same document line."""
    as_tuple = note(lines=[("Apple iPhone 13", "356789012345675", "IT-1", eur("120"))])
    as_input = note(
        lines=[
            LineInput(
                description=" Apple iPhone 13 ",
                identifier="356789012345675",
                asset_tag="IT-1",
                amount=eur("120"),
            )
        ]
    )
    assert as_tuple == as_input
    (line,) = as_tuple.lines
    assert line.line_no == 1
    assert line.quantity == 1
    assert str(line.amount) == "120.00 EUR"  # whole cents, as paid


def test_the_agreement_is_kept_in_utc_and_needs_a_time_zone() -> None:
    """An acceptance time in another zone is converted to UTC; a naive one is refused."""
    berlin = timezone(timedelta(hours=1))
    agreement = SelfBillingAgreement(version="1", accepted_at=datetime(2026, 1, 5, 11, 0, tzinfo=berlin))
    assert agreement.accepted_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert agreement.accepted_at.tzinfo is UTC
    with pytest.raises(CreditNoteError, match="time zone"):
        SelfBillingAgreement(version="1", accepted_at=datetime(2026, 1, 5, 11, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("kind", "year", "sequence", "expected"),
    [
        (DocumentKind.CREDIT_NOTE, 2026, 42, "GS-2026-000042"),
        (DocumentKind.PURCHASE_STATEMENT, 2026, 42, "AB-2026-000042"),
        (DocumentKind.CREDIT_NOTE, 2027, 1, "GS-2027-000001"),
        (DocumentKind.CREDIT_NOTE, 2026, 1_234_567, "GS-2026-1234567"),
    ],
    ids=["credit-note", "purchase-statement", "first", "past-a-million"],
)
def test_document_numbers(kind: DocumentKind, year: int, sequence: int, expected: str) -> None:
    """GS- for a Gutschrift, AB- for an Ankaufbeleg, the year, and a six-digit sequence."""
    assert document_number(kind, year, sequence) == expected


@pytest.mark.parametrize(
    ("year", "sequence"), [(26, 1), (2026, 0), (2026, -3)], ids=["short-year", "zero", "negative"]
)
def test_document_numbers_refuse_a_bad_year_or_sequence(year: int, sequence: int) -> None:
    """The year has four digits, the sequence starts at 1."""
    with pytest.raises(CreditNoteError):
        document_number(DocumentKind.CREDIT_NOTE, year, sequence)


# -- the checklist -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": "Rechnung"}, "Nr. 10"),
        ({"agreement": None}, "§ 14 Abs. 2 Satz 5"),
        ({"number": ""}, "Nr. 4"),
        ({"vat_total": eur("40.88")}, "net total + VAT + rounding"),
        ({"payable": eur("256.01")}, "sum of the line amounts"),
        ({"rounding": eur("0.02"), "vat_total": eur("40.85")}, "more than one minor unit"),
        ({"net_total": eur("215.12"), "rounding": eur("0.01")}, "line nets do not add up"),
        ({"treatment": VatTreatment.REVERSE_CHARGE}, "no VAT may be shown"),
        ({"notes": (), "treatment": VatTreatment.SMALL_BUSINESS, "rate": Decimal(0)}, "note"),
        ({"seller": attrs.evolve(SELLER, city="")}, "Nr. 1 UStG: the seller's city"),
        ({"lines": ()}, "no lines"),
        (
            {"agreement": SelfBillingAgreement(version="9", accepted_at=datetime(2027, 1, 1, tzinfo=UTC))},
            "later than the Gutschrift",
        ),
        ({"treatment": VatTreatment.NOT_TAXABLE, "rate": Decimal(0)}, "VAT entrepreneur"),
        ({"currency": "USD"}, "document's currency USD"),
        ({"treatment": VatTreatment.STANDARD, "rate": Decimal(0)}, "rate is missing"),
    ],
    ids=[
        "title",
        "agreement",
        "number",
        "vat",
        "payable",
        "rounding",
        "net-total",
        "vat-under-reverse-charge",
        "missing-note",
        "address",
        "no-lines",
        "late-agreement",
        "not-taxable-gutschrift",
        "currency",
        "no-rate",
    ],
)
def test_credit_note_problems_name_the_rule(changes: dict[str, Any], expected: str) -> None:
    """A document changed after it was built shows its problem, naming the rule it breaks."""
    document = attrs.evolve(note("120.00", "80.00", "56.00"), **changes)
    problems = credit_note_problems(document)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"description": " "}, "line 1 has no trade name"),
        ({"quantity": 0}, "line 1 has no quantity"),
        ({"line_no": 2}, "not numbered"),
        ({"amount": eur("-1.00"), "net": eur("-0.84")}, "negative"),
    ],
    ids=["no-trade-name", "no-quantity", "numbering", "negative"],
)
def test_credit_note_problems_check_every_line(changes: dict[str, Any], expected: str) -> None:
    """Each line needs a trade name and a quantity (Nr. 5); lines are numbered from 1; none is negative."""
    document = note("120.00")
    changed = attrs.evolve(document, lines=[attrs.evolve(document.lines[0], **changes)])
    problems = credit_note_problems(changed)
    assert any(expected in problem for problem in problems), problems


def test_a_purchase_statement_has_its_own_title_and_treatment() -> None:
    """An Ankaufbeleg titled Gutschrift, or with VAT, is a problem."""
    statement = note("10.00", status=SellerVatStatus.NOT_REGISTERED)
    problems = credit_note_problems(
        attrs.evolve(statement, title="Gutschrift", treatment=VatTreatment.STANDARD)
    )
    assert 'a purchase statement is titled "Ankaufbeleg"' in problems
    assert "a purchase statement's treatment is 'not_taxable'" in problems


def test_the_seller_without_a_tax_id_is_a_problem_of_a_credit_note_only() -> None:
    """Nr. 2 asks a Gutschrift for the seller's tax id; an Ankaufbeleg needs none."""
    anonymous = attrs.evolve(SELLER, vat_id=None, tax_number=None)
    problems = credit_note_problems(attrs.evolve(note("10.00"), seller=anonymous))
    assert problems == ["§ 14 Abs. 4 Satz 1 Nr. 2 UStG: the seller's VAT id or tax number is missing"]
    statement = note("10.00", status=SellerVatStatus.NOT_REGISTERED, seller=anonymous)
    assert credit_note_problems(statement) == []


# -- JSON ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(SellerVatStatus), ids=[status.value for status in SellerVatStatus])
def test_json_round_trip_is_exact(status: SellerVatStatus) -> None:
    """to_json → JSON text → from_json gives an equal document; decimals are strings, never floats."""
    document = note("99.99", "100.12", "0.01", status=status)
    text = json.dumps(document.to_json())
    data = json.loads(text)
    assert CreditNote.from_json(data) == document
    assert data["rate"] in {"19", "0"}
    assert data["payable"] == {"amount": "200.12", "currency": "EUR"}
    assert data["lines"][2]["amount"] == {"amount": "0.01", "currency": "EUR"}
    assert not any(isinstance(value, float) for value in leaves(data))


def test_json_of_a_document_without_due_date_and_agreement() -> None:
    """Absent optional fields are null and come back as None."""
    document = note("10.00", status=SellerVatStatus.NOT_REGISTERED, payment_due=None, references={})
    data = document.to_json()
    assert data["payment_due"] is None
    assert data["agreement"] is None
    assert CreditNote.from_json(json.loads(json.dumps(data))) == document


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("kind",), "invoice", r"\$\.kind"),
        (("issued_on",), "7.12.2026", r"\$\.issued_on"),
        (("lines", 0, "amount"), {"amount": 1.5, "currency": "EUR"}, r"\$\.lines\[0\]\.amount"),
        (("seller", "name"), None, r"\$\.seller\.name"),
        (("rate",), "nineteen", r"\$\.rate"),
        (("agreement", "accepted_at"), "yesterday", r"\$\.agreement\.accepted_at"),
        (("rate",), "Infinity", r"\$\.rate: 'Infinity' is not a finite number"),
        (("notes",), [1], r"\$\.notes"),
        (("references",), {"batch": 1}, "references must map texts to texts"),
        (("issuer",), "Beispiel", r"\$\.issuer: expected an object"),
        (("seller", "city"), 20095, r"\$\.seller\.city: expected str"),
    ],
    ids=[
        "kind",
        "date",
        "float-amount",
        "missing-name",
        "rate",
        "agreement-time",
        "infinite-rate",
        "notes",
        "references",
        "party",
        "city-number",
    ],
)
def test_from_json_names_the_path_of_a_bad_field(path: tuple[Any, ...], value: object, match: str) -> None:
    """A malformed document raises CreditNoteError naming the JSON path."""
    data = note("10.00").to_json()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(CreditNoteError, match=match):
        CreditNote.from_json(data)


def test_from_json_names_a_missing_field() -> None:
    """A field left out is named with its path."""
    data = note("10.00").to_json()
    del data["supplied_on"]
    with pytest.raises(CreditNoteError, match=r"\$\.supplied_on: missing"):
        CreditNote.from_json(data)


# -- properties ----------------------------------------------------------------------------------------------

LINE_AMOUNTS = st.lists(
    st.integers(min_value=1, max_value=200_000).map(lambda units: Money(Decimal(units).scaleb(-2), "EUR")),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300)
@given(LINE_AMOUNTS)
def test_standard_vat_always_ties_to_what_is_paid(amounts: list[Money]) -> None:
    """Any 1–60 lines of 0.01–2,000.00: payable = Σ lines, |rounding| ≤ 0.01, Σ line nets = net total.

    And net total + VAT + rounding = payable, VAT = net total × 19 % rounded, no line net above its amount.
    """
    document = build_credit_note(
        number="GS-2026-000001",
        issued_on=ISSUED,
        supplied_on=SUPPLIED,
        issuer=ISSUER,
        seller=SELLER,
        status=SellerVatStatus.REGULAR,
        lines=[LineInput(description="Phone", amount=amount) for amount in amounts],
        agreement=AGREEMENT,
        reverse_charge_threshold=Decimal("1e12"),  # keep every case standard-rated
    )
    assert document.treatment is VatTreatment.STANDARD
    assert document.payable == Money.total(amounts, "EUR")
    assert abs(document.rounding.amount) <= Decimal("0.01")
    assert Money.total((line.net for line in document.lines), "EUR") == document.net_total
    assert document.net_total + document.vat_total + document.rounding == document.payable
    assert document.vat_total == (document.net_total * Decimal("0.19")).rounded()
    assert all(Decimal(0) <= line.net.amount <= line.amount.amount for line in document.lines)
    assert credit_note_problems(document) == []


@given(LINE_AMOUNTS, st.sampled_from(list(SellerVatStatus)))
def test_every_status_pays_the_sum_of_the_lines(amounts: list[Money], status: SellerVatStatus) -> None:
    """Whatever the seller's status and the total, the payable amount is the sum of the lines to the cent."""
    document = build_credit_note(
        number="GS-2026-000001",
        issued_on=ISSUED,
        supplied_on=SUPPLIED,
        issuer=ISSUER,
        seller=SELLER,
        status=status,
        lines=[LineInput(description="Phone", amount=amount) for amount in amounts],
        agreement=AGREEMENT,
    )
    assert document.payable == Money.total(amounts, "EUR")
    assert document.net_total + document.vat_total + document.rounding == document.payable
    if document.treatment is not VatTreatment.STANDARD:
        assert document.vat_total.is_zero()
        assert [line.net for line in document.lines] == [line.amount for line in document.lines]
    if status is SellerVatStatus.REGULAR:
        threshold = Decimal(5000)
        wanted = (
            VatTreatment.REVERSE_CHARGE if document.payable.amount >= threshold else VatTreatment.STANDARD
        )
        assert document.treatment is wanted
    assert credit_note_problems(document) == []
