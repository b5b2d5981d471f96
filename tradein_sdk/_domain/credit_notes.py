"""Self-billing credit notes (Gutschriften) and purchase statements for devices bought from a company.

A company (the **seller**, the supplier for VAT) sells its used phones to the dealer (the **issuer**, the
recipient of the supply). In self-billing the recipient writes the invoice: § 14 Abs. 2 Satz 5 UStG (before
2025: Satz 2) lets the recipient issue it "sofern dies vorher vereinbart wurde (Gutschrift)". The document
then has to carry every field of § 14 Abs. 4 Satz 1 UStG, the word "Gutschrift" among them (Nr. 10), and it
loses its effect when the seller objects to it.

The amounts agreed per device are what the dealer **pays** to the company: the consideration including any
VAT. The payable amount is therefore the exact sum of the line amounts, always, so that the document ties to
the ledger of payouts to the cent; the VAT is carved out of it, never added on top. The seller's VAT status
(:class:`SellerVatStatus`) decides the rest (:func:`build_credit_note`):

================  ==================  =============================================================
seller            treatment           document
================  ==================  =============================================================
regular, < 5,000  ``standard``        Gutschrift, 19 % VAT carved out of the payable amount
regular, ≥ 5,000  ``reverse_charge``  Gutschrift without VAT: the dealer owes it (§ 13b Abs. 2 Nr. 10
                                      and Abs. 5 UStG; the note of § 14a Abs. 5 UStG)
Kleinunternehmer  ``small_business``  Gutschrift without VAT (§ 19 UStG)
margin scheme     ``margin_scheme``   Gutschrift without VAT (§ 25a UStG; the note of § 14a Abs. 6)
not registered    ``not_taxable``     Ankaufbeleg (purchase statement): never a VAT amount (§ 14c
                                      Abs. 2 UStG); the payee's name and address (§ 160 AO)
================  ==================  =============================================================

Everything here is pure and exact (``Decimal`` through :class:`~tradein_sdk._domain.money.Money`, never a
float); the PDF and the EN 16931 e-invoice are made by :mod:`tradein_sdk._adapters.credit_note_documents`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, TypeVar

import attrs

from tradein_sdk._domain.money import Money
from tradein_sdk._errors import CreditNoteError, InvalidMoneyError

CREDIT_NOTE_TITLE: Final = "Gutschrift"
"""The title of a self-billing credit note: the word § 14 Abs. 4 Satz 1 Nr. 10 UStG requires, in German."""
PURCHASE_STATEMENT_TITLE: Final = "Ankaufbeleg"
"""The title of a purchase statement (a voucher for buying from a seller who is not a VAT entrepreneur)."""

REVERSE_CHARGE_NOTE: Final = "Steuerschuldnerschaft des Leistungsempfängers (§ 13b Abs. 2 Nr. 10 UStG)"
"""The note § 14a Abs. 5 UStG requires when the recipient owes the VAT."""
SMALL_BUSINESS_NOTE: Final = "Kein Ausweis von Umsatzsteuer: der Lieferer ist Kleinunternehmer (§ 19 UStG)"
"""The note for a seller under the small business rule (§ 19 UStG)."""
MARGIN_SCHEME_NOTE: Final = "Gebrauchtgegenstände/Sonderregelung (§ 25a UStG)"
"""The note § 14a Abs. 6 UStG requires for a supply under the margin scheme for second-hand goods."""
NOT_TAXABLE_NOTE: Final = (
    "Kein Ausweis von Umsatzsteuer: Ankauf von einem nicht umsatzsteuerpflichtigen Verkäufer"
)
"""The note of a purchase statement: the seller makes no taxable supply, so no VAT is shown (§ 14c Abs. 2)."""

STANDARD_RATE: Final = Decimal(19)
"""The German standard VAT rate in percent (§ 12 Abs. 1 UStG)."""
REVERSE_CHARGE_THRESHOLD: Final = Decimal(5000)
"""§ 13b Abs. 2 Nr. 10 UStG: phones and tablets: the recipient owes the VAT from 5,000 € a transaction."""

_PREFIXES: Final[Mapping[str, str]] = {"credit_note": "GS", "purchase_statement": "AB"}
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
_VAT_ID: Final = re.compile(r"[A-Z]{2}[0-9A-Z+*.]{2,13}")
_HUNDRED: Final = Decimal(100)
_E = TypeVar("_E", bound=StrEnum)


class SellerVatStatus(StrEnum):
    """How the selling company stands for VAT: decides the document and its VAT treatment."""

    REGULAR = "regular"
    """A VAT entrepreneur under the general rules: 19 % VAT, or reverse charge from 5,000 € (§ 13b)."""
    SMALL_BUSINESS = "small_business"
    """A Kleinunternehmer (§ 19 UStG): charges no VAT."""
    MARGIN_SCHEME = "margin_scheme"
    """A dealer reselling second-hand goods under the margin scheme (§ 25a UStG): shows no VAT."""
    NOT_REGISTERED = "not_registered"
    """Not an entrepreneur for VAT: no invoice exists, the dealer writes a plain purchase statement."""


class VatTreatment(StrEnum):
    """The VAT treatment printed on the document (and its EN 16931 VAT category)."""

    STANDARD = "standard"
    """VAT at the standard rate is shown (EN 16931 category ``S``)."""
    REVERSE_CHARGE = "reverse_charge"
    """The recipient owes the VAT, § 13b Abs. 2 Nr. 10 UStG (category ``AE``)."""
    SMALL_BUSINESS = "small_business"
    """No VAT: the seller is a Kleinunternehmer, § 19 UStG (category ``E``)."""
    MARGIN_SCHEME = "margin_scheme"
    """No VAT shown: margin scheme for second-hand goods, § 25a UStG (category ``E``, VATEX-EU-F)."""
    NOT_TAXABLE = "not_taxable"
    """No taxable supply at all (a purchase statement; no e-invoice)."""


class DocumentKind(StrEnum):
    """What the dealer issues for a purchase."""

    CREDIT_NOTE = "credit_note"
    """A self-billing credit note, "Gutschrift" (§ 14 Abs. 2 Satz 5 UStG): an invoice written by the buyer."""
    PURCHASE_STATEMENT = "purchase_statement"
    """A purchase statement, "Ankaufbeleg": the dealer's voucher for buying from a non-entrepreneur."""


def _text(value: object) -> str:
    """A text field, stripped; a control character (which XML cannot hold) is refused."""
    if not isinstance(value, str):
        raise CreditNoteError("expected a text, not {kind}", kind=type(value).__name__)
    text = value.strip()
    if any(unicodedata.category(character) in {"Cc", "Cs"} for character in text):
        raise CreditNoteError("{text!r} holds a control character", text=text)
    return text


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    text = _text(value)
    return text or None


def _country(value: object) -> str:
    return _text(value).upper()


@attrs.frozen(kw_only=True)
class Party:
    """A party of the document: the seller (the company) or the issuer (the dealer).

    Attributes:
        name: the full name (the company's legal name).
        street: street and number.
        postcode: the postcode.
        city: the city.
        country: ISO 3166 alpha-2 (``DE``), upper case.
        vat_id: the VAT identification number (USt-IdNr., ``DE136695976``), or ``None``.
        tax_number: the tax number (Steuernummer, ``22/815/08154``), or ``None``.
    """

    name: str = attrs.field(converter=_text)
    street: str = attrs.field(converter=_text)
    postcode: str = attrs.field(converter=_text)
    city: str = attrs.field(converter=_text)
    country: str = attrs.field(converter=_country)
    vat_id: str | None = attrs.field(default=None, converter=_optional_text)
    tax_number: str | None = attrs.field(default=None, converter=_optional_text)

    def address_lines(self) -> tuple[str, str, str]:
        """The printed address: street, ``postcode city``, country."""
        return self.street, f"{self.postcode} {self.city}", self.country

    def missing(self) -> list[str]:
        """The address fields that are empty (``street``, ``postcode``, ...), or a malformed country."""
        empty = [
            name for name in ("name", "street", "postcode", "city", "country") if not getattr(self, name)
        ]
        if self.country and not _COUNTRY.fullmatch(self.country):
            empty.append("country")
        return empty

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (every field; ``null`` for an absent VAT id or tax number)."""
        return {
            "name": self.name,
            "street": self.street,
            "postcode": self.postcode,
            "city": self.city,
            "country": self.country,
            "vat_id": self.vat_id,
            "tax_number": self.tax_number,
        }

    @classmethod
    def from_json(cls, data: object, *, path: str = "$") -> Party:
        """Read the form written by :meth:`to_json`.

        Raises:
            CreditNoteError: ``data`` is not such an object; the message names the JSON path.
        """
        fields = _object(data, path)
        return cls(
            name=_field(fields, "name", str, path),
            street=_field(fields, "street", str, path),
            postcode=_field(fields, "postcode", str, path),
            city=_field(fields, "city", str, path),
            country=_field(fields, "country", str, path),
            vat_id=_field(fields, "vat_id", str, path, optional=True),
            tax_number=_field(fields, "tax_number", str, path, optional=True),
        )


def _utc(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise CreditNoteError("the agreement's acceptance time must be a datetime with a time zone")
    return value.astimezone(UTC)


@attrs.frozen(kw_only=True)
class SelfBillingAgreement:
    """The prior agreement that the dealer invoices by credit note (§ 14 Abs. 2 Satz 5 UStG).

    The law names no form for it; what is kept is the version of the terms the company accepted and when.

    Attributes:
        version: the version of the self-billing terms accepted (``2026-01``).
        accepted_at: when they were accepted, in UTC (an aware datetime is converted; a naive one refused).
    """

    version: str = attrs.field(converter=_text)
    accepted_at: datetime = attrs.field(converter=_utc)

    def to_json(self) -> dict[str, str]:
        """Return ``{"version": ..., "accepted_at": "2026-01-05T10:00:00+00:00"}``."""
        return {"version": self.version, "accepted_at": self.accepted_at.isoformat()}

    @classmethod
    def from_json(cls, data: object, *, path: str = "$") -> SelfBillingAgreement:
        """Read the form written by :meth:`to_json`.

        Raises:
            CreditNoteError: ``data`` is not such an object; the message names the JSON path.
        """
        fields = _object(data, path)
        accepted = _field(fields, "accepted_at", str, path)
        try:
            moment = datetime.fromisoformat(accepted)
        except ValueError:
            raise CreditNoteError(
                "{path}.accepted_at: {value!r} is not a time", path=path, value=accepted
            ) from None
        return cls(version=_field(fields, "version", str, path), accepted_at=moment)


@attrs.frozen(kw_only=True)
class LineInput:
    """One device bought, as :func:`build_credit_note` takes it.

    A plain tuple ``(description, identifier, asset_tag, amount)`` is accepted in its place.

    Attributes:
        description: the trade name (``Apple iPhone 13 128 GB``), § 14 Abs. 4 Satz 1 Nr. 5 UStG.
        identifier: the IMEI or serial number, or ``None``.
        asset_tag: the company's inventory number, or ``None``.
        amount: what is paid for the line (VAT included where there is any).
        quantity: how many items the line holds (1 for a device).
    """

    description: str
    identifier: str | None = None
    asset_tag: str | None = None
    amount: Money
    quantity: int = 1


@attrs.frozen(kw_only=True)
class DocumentLine:
    """A line of the document.

    Attributes:
        line_no: the position, from 1.
        description: the trade name of the goods (``Apple iPhone 13 128 GB``).
        identifier: the IMEI or serial number, or ``None``.
        asset_tag: the company's inventory number, or ``None``.
        amount: what is paid for the line, VAT included where there is any.
        net: the line's share of the net total (equal to ``amount`` when no VAT is shown).
        quantity: how many items (1 for a device).
    """

    line_no: int
    description: str
    identifier: str | None
    asset_tag: str | None
    amount: Money
    net: Money
    quantity: int = 1

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (amounts as ``{"amount": "120.00", "currency": "EUR"}``)."""
        return {
            "line_no": self.line_no,
            "description": self.description,
            "identifier": self.identifier,
            "asset_tag": self.asset_tag,
            "quantity": self.quantity,
            "amount": self.amount.to_json(),
            "net": self.net.to_json(),
        }

    @classmethod
    def from_json(cls, data: object, *, path: str = "$") -> DocumentLine:
        """Read the form written by :meth:`to_json`.

        Raises:
            CreditNoteError: ``data`` is not such an object; the message names the JSON path.
        """
        fields = _object(data, path)
        return cls(
            line_no=_field(fields, "line_no", int, path),
            description=_field(fields, "description", str, path),
            identifier=_field(fields, "identifier", str, path, optional=True),
            asset_tag=_field(fields, "asset_tag", str, path, optional=True),
            quantity=_field(fields, "quantity", int, path),
            amount=_money(fields, "amount", path),
            net=_money(fields, "net", path),
        )


def _lines(value: Iterable[DocumentLine]) -> tuple[DocumentLine, ...]:
    return tuple(value)


def _texts(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _references(value: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    ):
        raise CreditNoteError("references must map texts to texts")
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class CreditNote:
    """A self-billing credit note (Gutschrift) or a purchase statement (Ankaufbeleg), as issued.

    Build one with :func:`build_credit_note`; :func:`credit_note_problems` lists what a document misses of
    § 14 Abs. 4 UStG and of its own arithmetic.

    Attributes:
        kind: a credit note or a purchase statement.
        number: the document number, unique in the issuer's series (§ 14 Abs. 4 Satz 1 Nr. 4 UStG).
        issued_on: the issue date (Nr. 3).
        supplied_on: the date of the supply, the hand-over of the devices (Nr. 6).
        payment_due: when the payable amount is paid out, or ``None``.
        issuer: the dealer, who issues the document (the recipient of the supply).
        seller: the company, the supplier (Nr. 1 and 2: its name, address and VAT id or tax number).
        lines: the devices (Nr. 5).
        currency: the ISO 4217 currency of every amount.
        treatment: the VAT treatment.
        rate: the VAT rate in percent (19 for ``standard``, else 0).
        net_total: the consideration without VAT (Nr. 7), the sum of the lines' ``net``.
        vat_total: the VAT amount (Nr. 8); zero unless ``standard``.
        rounding: what the payable amount differs from ``net_total + vat_total`` by (at most one cent; the
            EN 16931 rounding amount, BT-114).
        payable: what is paid to the seller: the exact sum of the line amounts.
        notes: the legal notes (German, verbatim: the reason no VAT is shown).
        title: ``Gutschrift`` or ``Ankaufbeleg``.
        references: the caller's references (``batch``, ``order``, ``settlement``: free keys).
        agreement: the self-billing agreement a credit note rests on (``None`` for a purchase statement).
    """

    kind: DocumentKind
    number: str
    issued_on: date
    supplied_on: date
    payment_due: date | None
    issuer: Party
    seller: Party
    lines: tuple[DocumentLine, ...] = attrs.field(converter=_lines)
    currency: str
    treatment: VatTreatment
    rate: Decimal
    net_total: Money
    vat_total: Money
    rounding: Money
    payable: Money
    notes: tuple[str, ...] = attrs.field(converter=_texts)
    title: str
    references: Mapping[str, str] = attrs.field(factory=dict, converter=_references)
    agreement: SelfBillingAgreement | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form: dates ISO 8601, decimals and amounts as strings, enums by value.

        :meth:`from_json` reads it back to an equal document.
        """
        return {
            "kind": self.kind.value,
            "number": self.number,
            "title": self.title,
            "issued_on": self.issued_on.isoformat(),
            "supplied_on": self.supplied_on.isoformat(),
            "payment_due": self.payment_due.isoformat() if self.payment_due else None,
            "issuer": self.issuer.to_json(),
            "seller": self.seller.to_json(),
            "lines": [line.to_json() for line in self.lines],
            "currency": self.currency,
            "treatment": self.treatment.value,
            "rate": format(self.rate, "f"),
            "net_total": self.net_total.to_json(),
            "vat_total": self.vat_total.to_json(),
            "rounding": self.rounding.to_json(),
            "payable": self.payable.to_json(),
            "notes": list(self.notes),
            "references": dict(self.references),
            "agreement": self.agreement.to_json() if self.agreement else None,
        }

    @classmethod
    def from_json(cls, data: object) -> CreditNote:
        """Read the form written by :meth:`to_json`.

        Args:
            data: the decoded JSON document.

        Returns:
            The document, equal to the one written.

        Raises:
            CreditNoteError: ``data`` is not a credit note document; the message names the JSON path.
        """
        path = "$"
        fields = _object(data, path)
        lines = _field(fields, "lines", list, path)
        notes = _field(fields, "notes", list, path)
        if not all(isinstance(note, str) for note in notes):
            raise CreditNoteError("$.notes: expected a list of texts")
        references = _field(fields, "references", dict, path)
        agreement = fields.get("agreement")
        due = _field(fields, "payment_due", str, path, optional=True)
        return cls(
            kind=_choice(DocumentKind, fields, "kind", path),
            number=_field(fields, "number", str, path),
            title=_field(fields, "title", str, path),
            issued_on=_date(_field(fields, "issued_on", str, path), f"{path}.issued_on"),
            supplied_on=_date(_field(fields, "supplied_on", str, path), f"{path}.supplied_on"),
            payment_due=_date(due, f"{path}.payment_due") if due is not None else None,
            issuer=Party.from_json(fields.get("issuer"), path=f"{path}.issuer"),
            seller=Party.from_json(fields.get("seller"), path=f"{path}.seller"),
            lines=tuple(
                DocumentLine.from_json(line, path=f"{path}.lines[{index}]")
                for index, line in enumerate(lines)
            ),
            currency=_field(fields, "currency", str, path),
            treatment=_choice(VatTreatment, fields, "treatment", path),
            rate=_decimal(_field(fields, "rate", str, path), f"{path}.rate"),
            net_total=_money(fields, "net_total", path),
            vat_total=_money(fields, "vat_total", path),
            rounding=_money(fields, "rounding", path),
            payable=_money(fields, "payable", path),
            notes=tuple(notes),
            references=references,
            agreement=(
                SelfBillingAgreement.from_json(agreement, path=f"{path}.agreement")
                if agreement is not None
                else None
            ),
        )


# -- building a document ----------------------------------------------------------------------------------


def document_number(kind: DocumentKind, year: int, sequence: int) -> str:
    """Return the number of a document: ``GS-2026-000042`` (Gutschrift) or ``AB-2026-000042`` (Ankaufbeleg).

    § 14 Abs. 4 Satz 1 Nr. 4 UStG asks for a consecutive number, in one or more series, given once by the
    issuer; one series per kind and year is such a series. Past 999,999 the sequence simply gets longer.

    Args:
        kind: the document's kind (its prefix).
        year: the issue year (four digits).
        sequence: the document's place in the series of that kind and year, from 1.

    Returns:
        The number.

    Raises:
        CreditNoteError: the year is not four digits or the sequence is below 1.
    """
    kind = DocumentKind(kind)
    if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
        raise CreditNoteError("the year of a document number has four digits, not {year!r}", year=year)
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise CreditNoteError("a document number's sequence starts at 1, not {sequence!r}", sequence=sequence)
    return f"{_PREFIXES[kind.value]}-{year:04d}-{sequence:06d}"


def build_credit_note(
    *,
    number: str,
    issued_on: date,
    supplied_on: date,
    issuer: Party,
    seller: Party,
    status: SellerVatStatus | str,
    lines: Sequence[LineInput | tuple[str, str | None, str | None, Money]],
    payment_due: date | None = None,
    agreement: SelfBillingAgreement | None = None,
    references: Mapping[str, str] | None = None,
    rate: Decimal = STANDARD_RATE,
    reverse_charge_threshold: Decimal = REVERSE_CHARGE_THRESHOLD,
) -> CreditNote:
    """Build the document for devices bought from ``seller``: a Gutschrift, or an Ankaufbeleg.

    The payable amount is the exact sum of the line amounts, which are what is paid (VAT included where
    there is any); it is never changed by the VAT computation. Then, by the seller's status:

    * ``regular``: from ``reverse_charge_threshold`` (5,000) payable up, **reverse charge**: § 13b Abs. 2
      Nr. 10 UStG moves the VAT on mobile phones and tablets to the recipient when one transaction reaches
      5,000 €; no VAT is shown, the net total is the payable amount and the note "Steuerschuldnerschaft des
      Leistungsempfängers" (§ 14a Abs. 5 UStG) is printed. Below it, **standard**: the net total is the
      payable amount divided by 1 + ``rate`` / 100 (1.19), rounded half up to the cent; the VAT is the net
      total times the rate, rounded half up; what the two miss the payable amount by (a cent at most) is
      the rounding amount (EN 16931 BT-114). The net total is spread over the lines in proportion to their
      amounts, the cents left over going to the lines that lost most to rounding (largest remainder), so
      the line nets add up to the net total exactly. The threshold is compared with the payable amount in
      the document's currency; the lines are taken to be phones or tablets (what § 13b Abs. 2 Nr. 10
      covers). § 13b counts the consideration without VAT: under reverse charge that is the whole payable
      amount, so from 5,000 paid the agreed prices are read as net prices (a payable amount from 5,000 to
      5,949.99 read as gross would have a net below 5,000; the contract with the seller says which is
      meant).
    * ``small_business``: no VAT (§ 19 UStG), with its note; a Gutschrift all the same, and never reverse
      charge (§ 13b Abs. 5 UStG excludes Kleinunternehmer).
    * ``margin_scheme``: no VAT shown (§ 25a UStG; the note "Gebrauchtgegenstände/Sonderregelung" of
      § 14a Abs. 6); a Gutschrift all the same, and never reverse charge (§ 13b Abs. 5 UStG).
    * ``not_registered``: an **Ankaufbeleg**: no invoice exists, no VAT is ever shown (§ 14c Abs. 2 UStG); no
      agreement or VAT id is needed.

    A Gutschrift needs the seller's VAT id or tax number (§ 14 Abs. 4 Satz 1 Nr. 2), a self-billing agreement
    made before the issue date (§ 14 Abs. 2 Satz 5) and full addresses of both parties (Nr. 1). A purchase
    statement needs the addresses too (§ 160 AO: the payee's name and address).

    Args:
        number: the document number (:func:`document_number`).
        issued_on: the issue date.
        supplied_on: the date of the supply (the hand-over).
        issuer: the dealer.
        seller: the company.
        status: the seller's VAT status.
        lines: the devices, as :class:`LineInput` or ``(description, identifier, asset_tag, amount)`` tuples;
            amounts in one currency, not negative, in whole minor units (cents).
        payment_due: when the amount is paid out, or ``None``.
        agreement: the self-billing agreement (required for a Gutschrift).
        references: the caller's references (``{"batch": ..., "order": ...}``), printed on the documents.
        rate: the VAT rate in percent for ``standard`` (19).
        reverse_charge_threshold: the payable amount from which ``regular`` becomes reverse charge (5,000).

    Returns:
        The document.

    Raises:
        CreditNoteError: no lines; a line is negative, not in whole cents, or in another currency; a field
            the document needs is missing (the message names it); the agreement is missing or later than the
            issue date.
    """
    status = SellerVatStatus(status)
    kind = (
        DocumentKind.PURCHASE_STATEMENT
        if status is SellerVatStatus.NOT_REGISTERED
        else DocumentKind.CREDIT_NOTE
    )
    if not isinstance(number, str) or not number.strip():
        raise CreditNoteError("a document needs a number (§ 14 Abs. 4 Satz 1 Nr. 4 UStG)")
    _check_parties(kind, issuer=issuer, seller=seller)
    if kind is DocumentKind.CREDIT_NOTE:
        if agreement is None:
            raise CreditNoteError(
                "a Gutschrift needs a prior self-billing agreement with the seller "
                "(§ 14 Abs. 2 Satz 5 UStG); none was given"
            )
        if agreement.accepted_at.date() > issued_on:
            raise CreditNoteError(
                "the self-billing agreement ({accepted}) must precede the Gutschrift ({issued}), "
                "§ 14 Abs. 2 UStG",
                accepted=agreement.accepted_at.date().isoformat(),
                issued=issued_on.isoformat(),
            )
    inputs = [_line_input(line, index) for index, line in enumerate(lines, start=1)]
    if not inputs:
        raise CreditNoteError("a document needs at least one line")
    currency = inputs[0].amount.currency
    amounts = [_line_amount(line, index, currency) for index, line in enumerate(inputs, start=1)]
    payable = Money.total(amounts, currency)
    treatment = _treatment(status, payable, reverse_charge_threshold)
    zero = Money.zero(currency).rounded()
    if treatment is VatTreatment.STANDARD:
        if not isinstance(rate, Decimal) or not 0 < rate < _HUNDRED:
            raise CreditNoteError(
                "the VAT rate must be a Decimal percentage above 0, not {rate!r}", rate=rate
            )
        net_total, vat_total = _carve_out(payable, rate)
        rounding = payable - net_total - vat_total
        nets = _spread(net_total, amounts)
        applied_rate = rate
    else:
        net_total, vat_total, rounding, nets, applied_rate = payable, zero, zero, tuple(amounts), Decimal(0)
    document_lines = tuple(
        DocumentLine(
            line_no=index,
            description=line.description,
            identifier=line.identifier,
            asset_tag=line.asset_tag,
            amount=amount,
            net=net,
            quantity=line.quantity,
        )
        for index, (line, amount, net) in enumerate(zip(inputs, amounts, nets, strict=True), start=1)
    )
    return CreditNote(
        kind=kind,
        number=number.strip(),
        issued_on=issued_on,
        supplied_on=supplied_on,
        payment_due=payment_due,
        issuer=issuer,
        seller=seller,
        lines=document_lines,
        currency=currency,
        treatment=treatment,
        rate=applied_rate,
        net_total=net_total,
        vat_total=vat_total,
        rounding=rounding,
        payable=payable,
        notes=_notes(treatment),
        title=CREDIT_NOTE_TITLE if kind is DocumentKind.CREDIT_NOTE else PURCHASE_STATEMENT_TITLE,
        references=dict(references or {}),
        agreement=agreement if kind is DocumentKind.CREDIT_NOTE else None,
    )


def _check_parties(kind: DocumentKind, *, issuer: Party, seller: Party) -> None:
    for role, party in (("issuer", issuer), ("seller", seller)):
        if not isinstance(party, Party):
            raise CreditNoteError("the {role} must be a Party", role=role)
        missing = party.missing()
        if missing:
            raise CreditNoteError(
                "the {role}'s {fields} must be given in full (§ 14 Abs. 4 Satz 1 Nr. 1 UStG; § 160 AO)",
                role=role,
                fields=", ".join(missing),
            )
        if party.vat_id is not None and not _VAT_ID.fullmatch(party.vat_id):
            raise CreditNoteError(
                "the {role}'s vat_id {value!r} is not a VAT identification number (country prefix and "
                "digits, no spaces)",
                role=role,
                value=party.vat_id,
            )
    if kind is DocumentKind.CREDIT_NOTE and not (seller.vat_id or seller.tax_number):
        raise CreditNoteError(
            "a Gutschrift names the seller's vat_id or tax_number (§ 14 Abs. 4 Satz 1 Nr. 2 UStG); "
            "{seller} has neither",
            seller=seller.name,
        )


def _line_input(line: LineInput | tuple[str, str | None, str | None, Money], index: int) -> LineInput:
    if isinstance(line, LineInput):
        item = line
    elif isinstance(line, tuple) and len(line) == 4:
        description, identifier, asset_tag, amount = line
        item = LineInput(description=description, identifier=identifier, asset_tag=asset_tag, amount=amount)
    else:
        raise CreditNoteError(
            "line {index}: expected a LineInput or (description, identifier, asset_tag, amount)", index=index
        )
    description = _text(item.description) if isinstance(item.description, str) else ""
    if not description:
        raise CreditNoteError(
            "line {index} needs the trade name of the device (§ 14 Abs. 4 Satz 1 Nr. 5 UStG)", index=index
        )
    if isinstance(item.quantity, bool) or not isinstance(item.quantity, int) or item.quantity < 1:
        raise CreditNoteError("line {index}: the quantity must be a whole number from 1", index=index)
    if not isinstance(item.amount, Money):
        raise CreditNoteError("line {index}: the amount must be Money", index=index)
    return attrs.evolve(
        item,
        description=description,
        identifier=_optional_text(item.identifier),
        asset_tag=_optional_text(item.asset_tag),
    )


def _line_amount(line: LineInput, index: int, currency: str) -> Money:
    amount = line.amount
    if amount.currency != currency:
        raise CreditNoteError(
            "line {index} is in {other}, the document in {currency}: all lines must be in one currency",
            index=index,
            other=amount.currency,
            currency=currency,
        )
    if amount.amount < 0:
        raise CreditNoteError(
            "line {index} is negative ({amount}): a document never has a negative line",
            index=index,
            amount=str(amount),
        )
    rounded = amount.rounded()
    if rounded != amount:
        raise CreditNoteError(
            "line {index} ({amount}) is not in whole minor units of {currency}: what is paid is in cents",
            index=index,
            amount=str(amount),
            currency=currency,
        )
    return rounded


def _treatment(status: SellerVatStatus, payable: Money, threshold: Decimal) -> VatTreatment:
    if status is SellerVatStatus.REGULAR:
        if not isinstance(threshold, Decimal):
            raise CreditNoteError("the reverse charge threshold must be a Decimal")
        return VatTreatment.REVERSE_CHARGE if payable.amount >= threshold else VatTreatment.STANDARD
    return {
        SellerVatStatus.SMALL_BUSINESS: VatTreatment.SMALL_BUSINESS,
        SellerVatStatus.MARGIN_SCHEME: VatTreatment.MARGIN_SCHEME,
        SellerVatStatus.NOT_REGISTERED: VatTreatment.NOT_TAXABLE,
    }[status]


def _carve_out(payable: Money, rate: Decimal) -> tuple[Money, Money]:
    """Net and VAT inside a gross amount: net = gross / (1 + rate), VAT = net × rate, each rounded half up."""
    factor = (_HUNDRED + rate) / _HUNDRED
    exponent = Decimal(1).scaleb(-payable.minor_units)
    # 40 significant digits: far more than any amount below 10**15 needs before rounding to its cents.
    quotient = Context(prec=40).divide(payable.amount, factor)
    net = Money(quotient.quantize(exponent, rounding=ROUND_HALF_UP), payable.currency)
    return net, (net * rate * Decimal("0.01")).rounded()


def _spread(total: Money, weights: Sequence[Money]) -> tuple[Money, ...]:
    if all(weight.is_zero() for weight in weights):
        return tuple(Money.zero(total.currency).rounded() for _ in weights)
    return total.allocate([weight.amount for weight in weights])


def _notes(treatment: VatTreatment) -> tuple[str, ...]:
    note = {
        VatTreatment.REVERSE_CHARGE: REVERSE_CHARGE_NOTE,
        VatTreatment.SMALL_BUSINESS: SMALL_BUSINESS_NOTE,
        VatTreatment.MARGIN_SCHEME: MARGIN_SCHEME_NOTE,
        VatTreatment.NOT_TAXABLE: NOT_TAXABLE_NOTE,
    }.get(treatment)
    return (note,) if note else ()


# -- the § 14 Abs. 4 checklist -----------------------------------------------------------------------------

_REQUIRED_NOTE: Final[Mapping[VatTreatment, str]] = {
    VatTreatment.REVERSE_CHARGE: REVERSE_CHARGE_NOTE,
    VatTreatment.SMALL_BUSINESS: SMALL_BUSINESS_NOTE,
    VatTreatment.MARGIN_SCHEME: MARGIN_SCHEME_NOTE,
    VatTreatment.NOT_TAXABLE: NOT_TAXABLE_NOTE,
}


def credit_note_problems(note: CreditNote) -> list[str]:
    """List what a document misses of § 14 Abs. 4 Satz 1 UStG and what does not add up; empty when fine.

    The checklist: the full name and address of the seller and the issuer (Nr. 1); the seller's VAT id or tax
    number (Nr. 2, credit notes); a number (Nr. 4: its uniqueness is the series' job); quantity and trade
    name of every line (Nr. 5); the net consideration (Nr. 7);
    the rate and VAT amount, or the note why none is shown (Nr. 8, § 14a Abs. 5 and 6); the word
    "Gutschrift" (Nr. 10); the prior self-billing agreement (§ 14 Abs. 2 Satz 5). A purchase statement is
    titled "Ankaufbeleg" and never shows VAT (§ 14c Abs. 2). The sums: the payable amount is the sum of the
    line amounts, the line nets add up to the net total, net total + VAT + rounding is the payable amount,
    the rounding is at most one minor unit, the VAT is the net total times the rate (rounded half up), every
    amount is in the document's currency and no line is negative. The issue and supply dates (Nr. 3 and 6)
    are required fields of :class:`CreditNote`, so they are always there.

    Args:
        note: the document.

    Returns:
        One English sentence per problem, naming the rule; an empty list when there is none.
    """
    credit = note.kind is DocumentKind.CREDIT_NOTE
    return [
        *_party_problems(note, credit=credit),
        *_line_problems(note),
        *_kind_problems(note, credit=credit),
        *_vat_problems(note),
        *_sum_problems(note),
    ]


def _party_problems(note: CreditNote, *, credit: bool) -> list[str]:
    problems: list[str] = []
    for role, party in (("seller", note.seller), ("issuer", note.issuer)):
        missing = party.missing()
        if missing:
            problems.append(f"§ 14 Abs. 4 Satz 1 Nr. 1 UStG: the {role}'s {', '.join(missing)} missing")
    if credit and not (note.seller.vat_id or note.seller.tax_number):
        problems.append("§ 14 Abs. 4 Satz 1 Nr. 2 UStG: the seller's VAT id or tax number is missing")
    if not note.number.strip():
        problems.append("§ 14 Abs. 4 Satz 1 Nr. 4 UStG: the document number is missing")
    return problems


def _line_problems(note: CreditNote) -> list[str]:
    problems: list[str] = []
    if not note.lines:
        problems.append("§ 14 Abs. 4 Satz 1 Nr. 5 UStG: the document has no lines")
    for line in note.lines:
        if not line.description.strip():
            problems.append(f"§ 14 Abs. 4 Satz 1 Nr. 5 UStG: line {line.line_no} has no trade name")
        if line.quantity < 1:
            problems.append(f"§ 14 Abs. 4 Satz 1 Nr. 5 UStG: line {line.line_no} has no quantity")
    if [line.line_no for line in note.lines] != list(range(1, len(note.lines) + 1)):
        problems.append("the lines are not numbered 1, 2, 3, ...")
    return problems


def _kind_problems(note: CreditNote, *, credit: bool) -> list[str]:
    problems: list[str] = []
    if not credit:
        if note.title != PURCHASE_STATEMENT_TITLE:
            problems.append(f'a purchase statement is titled "{PURCHASE_STATEMENT_TITLE}"')
        if note.treatment is not VatTreatment.NOT_TAXABLE:
            problems.append("a purchase statement's treatment is 'not_taxable'")
        return problems
    if note.title != CREDIT_NOTE_TITLE:
        problems.append(f'§ 14 Abs. 4 Satz 1 Nr. 10 UStG: the title must be "{CREDIT_NOTE_TITLE}"')
    if note.agreement is None:
        problems.append("§ 14 Abs. 2 Satz 5 UStG: a Gutschrift needs a prior self-billing agreement")
    elif note.agreement.accepted_at.date() > note.issued_on:
        problems.append("§ 14 Abs. 2 Satz 5 UStG: the self-billing agreement is later than the Gutschrift")
    if note.treatment is VatTreatment.NOT_TAXABLE:
        problems.append("a Gutschrift is for a seller who is a VAT entrepreneur, not 'not_taxable'")
    return problems


def _vat_problems(note: CreditNote) -> list[str]:
    if note.treatment is VatTreatment.STANDARD:
        return [] if note.rate > 0 else ["§ 14 Abs. 4 Satz 1 Nr. 8 UStG: the VAT rate is missing"]
    problems: list[str] = []
    if not note.vat_total.is_zero() or note.rate != 0:
        problems.append(
            f"§ 14 Abs. 4 Satz 1 Nr. 8, § 14c UStG: no VAT may be shown under '{note.treatment.value}'"
        )
    required = _REQUIRED_NOTE[note.treatment]
    if required not in note.notes:
        problems.append(f"§ 14 Abs. 4 Satz 1 Nr. 8, § 14a UStG: the note {required!r} is missing")
    return problems


def _sum_problems(note: CreditNote) -> list[str]:
    problems: list[str] = []
    amounts = [
        note.net_total,
        note.vat_total,
        note.rounding,
        note.payable,
        *(line.amount for line in note.lines),
        *(line.net for line in note.lines),
    ]
    if any(amount.currency != note.currency for amount in amounts):
        return [f"every amount must be in the document's currency {note.currency}"]
    if any(line.amount.amount < 0 or line.net.amount < 0 for line in note.lines):
        problems.append("a line is negative")
    if note.payable != Money.total((line.amount for line in note.lines), note.currency):
        problems.append("the payable amount is not the sum of the line amounts")
    if note.net_total != Money.total((line.net for line in note.lines), note.currency):
        problems.append("§ 14 Abs. 4 Satz 1 Nr. 7 UStG: the line nets do not add up to the net total")
    if note.net_total + note.vat_total + note.rounding != note.payable:
        problems.append("net total + VAT + rounding is not the payable amount")
    if abs(note.rounding.amount) > Decimal(1).scaleb(-note.payable.minor_units):
        problems.append("the rounding amount is more than one minor unit")
    if (
        note.treatment is VatTreatment.STANDARD
        and note.vat_total != (note.net_total * note.rate * Decimal("0.01")).rounded()
    ):
        problems.append("§ 14 Abs. 4 Satz 1 Nr. 8 UStG: the VAT is not the net total times the rate")
    return problems


# -- JSON helpers ------------------------------------------------------------------------------------------


def _object(data: object, path: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise CreditNoteError("{path}: expected an object", path=path)
    return data


def _field(fields: Mapping[str, Any], key: str, kind: type, path: str, *, optional: bool = False) -> Any:  # noqa: ANN401 - the type is ``kind``
    if key not in fields:
        raise CreditNoteError("{path}.{key}: missing", path=path, key=key)
    value = fields[key]
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CreditNoteError("{path}.{key}: expected {kind}", path=path, key=key, kind=kind.__name__)
    return value


def _choice(enum: type[_E], fields: Mapping[str, Any], key: str, path: str) -> _E:
    value = _field(fields, key, str, path)
    try:
        return enum(value)
    except ValueError:
        raise CreditNoteError(
            "{path}.{key}: {value!r} is not one of {choices}",
            path=path,
            key=key,
            value=value,
            choices=", ".join(item.value for item in enum),
        ) from None


def _date(value: str, path: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CreditNoteError("{path}: {value!r} is not an ISO date", path=path, value=value) from None


def _decimal(value: str, path: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CreditNoteError("{path}: {value!r} is not a decimal number", path=path, value=value) from None
    if not number.is_finite():
        raise CreditNoteError("{path}: {value!r} is not a finite number", path=path, value=value)
    return number


def _money(fields: Mapping[str, Any], key: str, path: str) -> Money:
    try:
        return Money.from_json(fields.get(key), path=f"{path}.{key}")
    except InvalidMoneyError as exc:
        raise CreditNoteError("{problem}", problem=str(exc)) from exc
