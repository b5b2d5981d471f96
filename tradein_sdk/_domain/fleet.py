"""Fleet trade-in: company accounts, framework contracts, portfolio quotes, pickups and batch true-ups.

A company (a KMU returning its employees' phones) holds a **company account**: its legal name and address, its
VAT identification number (checked for form and check digits with python-stdnum), whether it sells as a
business for VAT (:class:`~tradein_sdk._domain.credit_notes.SellerVatStatus`), and a **framework contract**:
its own price book or a factor on the shop's, how long a portfolio quote is guaranteed, and the pickup and
payment promises in working days of a country's holiday calendar (the ``holidays`` package).

A **batch** is one company's devices traded in together. Its life:

``quoted`` (a signed portfolio quote: one line per device, totals, validity, the expected range of what
inspection may find when the conditions are self-declared) → ``booked`` (a pickup for 4 or more devices with
a manifest: the device list, seal numbers, box count; the batch's order opens with one device per line) →
``picked_up`` (a signed hand-over record: who handed what over, when, under which seals) → ``received`` (the
boxes opened: devices found, devices on the manifest but not in the boxes, devices in the boxes but not on
the manifest) → ``inspected`` (every device found has its inspection; the true-up compares each line with
what inspection found) → ``settled`` (one settlement for the batch in the ledger, one credit note).

Everything here is pure: amounts come from the pricing module, dates from the caller, signatures from the
signing module; the use cases (``_app/fleet.py``) store and move batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from grading_questionnaire._i18n import N_
from tradein_sdk._domain.credit_notes import SelfBillingAgreement, SellerVatStatus
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import DeviceState
from tradein_sdk._errors import FleetError, ImportProblem, InvalidVatIdError

if TYPE_CHECKING:
    from grading_questionnaire import Questionnaire
    from tradein_sdk._domain.devices import DeviceModel
    from tradein_sdk._domain.pricing import PriceBook

PORTFOLIO_PURPOSE: Final = "fleet-portfolio-quote"
"""The signature purpose of a portfolio quote (a signature made for another document never verifies it)."""
HANDOVER_PURPOSE: Final = "fleet-handover"
"""The signature purpose of a pickup's hand-over record."""
MAX_BOXES: Final = 500
"""A pickup takes at most this many boxes."""
MAX_SEAL_LENGTH: Final = 40
"""A seal number is 1 to this many printable characters."""
MIN_PICKUP_DEVICES: Final = 4
"""A pickup takes at least this many devices; fewer travel by parcel label like a shopper's."""
CONTRACT_ADJUSTMENT: Final = "framework-contract"
"""The price book adjustment that applies a framework contract's price factor."""
_T = TypeVar("_T")
CONTRACT_MESSAGE: Final = N_("Framework contract price")
"""Its explanation (a gettext msgid)."""


# -- company accounts ------------------------------------------------------------------------------------


def check_vat_id(value: str, *, country: str | None = None) -> str:
    """Return a VAT identification number in its compact form (``DE136695976``) after checking it.

    The form and the check digits are checked per EU member state by python-stdnum (``stdnum.eu.vat``); the
    number is not looked up in VIES (that needs the network and says only whether it is registered today).

    Args:
        value: the number as written (spaces, dots and dashes allowed).
        country: the company's country (ISO 3166 alpha-2): the number must be one of it (Greece writes EL).

    Raises:
        InvalidVatIdError: ``format`` (no country prefix or wrong length/characters), ``check_digit`` or
            ``country``.
    """
    from stdnum import exceptions  # noqa: PLC0415 - python-stdnum loads with the first check
    from stdnum.eu import vat  # noqa: PLC0415

    text = value.strip()
    try:
        compact = str(vat.validate(text))
    except exceptions.InvalidChecksum:
        raise InvalidVatIdError(text, rule="check_digit") from None
    except exceptions.ValidationError:
        raise InvalidVatIdError(text, rule="format") from None
    if country is not None:
        prefix = compact[:2].upper()
        wanted = "EL" if country.upper() == "GR" else country.upper()
        if prefix != wanted:
            raise InvalidVatIdError(text, rule="country", country=country.upper())
    return compact


@attrs.frozen(kw_only=True)
class Address:
    """A postal address.

    Attributes:
        street: street and number.
        postcode: the postcode.
        city: the city.
        country: ISO 3166 alpha-2 (``DE``).
    """

    street: str
    postcode: str
    city: str
    country: str


@attrs.frozen(kw_only=True)
class FrameworkContract:
    """The terms a company trades its fleet in under.

    Attributes:
        reference: the contract's reference (printed on documents).
        price_factor: a factor on the shop's price book (``1.05``: 5 % above the shop's prices); ignored when
            the contract brings its own price book.
        pricebook: the contract's own price book document (``schemas/pricebook.schema.json``), or ``None``.
        quote_validity_days: how long a portfolio quote is guaranteed (calendar days).
        pickup_days: the devices are picked up within this many working days of booking.
        payment_days: a settled batch is paid within this many working days.
        holiday_country: the country whose public holidays are not working days (ISO alpha-2).
        holiday_subdivision: its state or region, when holidays differ (``BY``), else ``None``.
        revisions_binding: inspection results are binding without asking per device (a revised offer is
            accepted on the company's behalf, as the contract agreed); else each revision waits for an answer.
        self_billing: the self-billing agreement (§ 14 Abs. 2 UStG), needed before a credit note is issued.
    """

    reference: str
    price_factor: Decimal = Decimal(1)
    pricebook: Mapping[str, Any] | None = attrs.field(default=None, eq=False)
    quote_validity_days: int = 30
    pickup_days: int = 5
    payment_days: int = 10
    holiday_country: str = "DE"
    holiday_subdivision: str | None = None
    revisions_binding: bool = True
    self_billing: SelfBillingAgreement | None = None

    def __attrs_post_init__(self) -> None:
        """Refuse terms no contract can have."""
        exponent = self.price_factor.as_tuple().exponent
        if (
            not self.price_factor.is_finite()
            or not Decimal("0.5") <= self.price_factor <= Decimal(2)
            or not isinstance(exponent, int)
            or exponent < -4
        ):
            raise FleetError(
                "a contract's price factor is between 0.5 and 2 with at most 4 decimals, not {factor}",
                factor=str(self.price_factor),
            )
        for name in ("quote_validity_days", "pickup_days", "payment_days"):
            days = getattr(self, name)
            if not 1 <= days <= 365:
                raise FleetError("{name} is between 1 and 365 days, not {days}", name=name, days=days)
        holiday_calendar(self.holiday_country, self.holiday_subdivision)  # refuses an unknown calendar

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the library's converter: amounts as Money JSON, dates as ISO text)."""
        return _to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FrameworkContract:
        """Read the JSON form back."""
        return _from_json(data, cls)


@attrs.frozen(kw_only=True)
class Company:
    """A company account.

    Attributes:
        id: the account's id (``co_...``).
        legal_name: the registered name, as on invoices.
        address: the registered address.
        vat_id: the VAT identification number (compact, checked), or ``None``.
        tax_number: the national tax number (Steuernummer), or ``None``.
        vat_status: how the company sells for VAT: it decides between a credit note and a purchase statement.
        contract: the framework contract.
        contact_ref: the reference of the contact persons' data, kept apart as personal data (erasable).
        created_at: when the account was opened (UTC).
    """

    id: str
    legal_name: str
    address: Address
    vat_status: SellerVatStatus
    contract: FrameworkContract
    vat_id: str | None = None
    tax_number: str | None = None
    contact_ref: str | None = None
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the library's converter: amounts as Money JSON, dates as ISO text)."""
        return _to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Company:
        """Read the JSON form back."""
        return _from_json(data, cls)


def _to_json(value: object) -> dict[str, Any]:
    from tradein_sdk._domain.converters import json_converter  # noqa: PLC0415 - cattrs loads with the first use

    data: dict[str, Any] = json_converter().unstructure(value)
    return data


def _from_json(data: Mapping[str, Any], kind: type[_T]) -> _T:
    from tradein_sdk._domain.converters import json_converter  # noqa: PLC0415 - cattrs loads with the first use

    return json_converter().structure(data, kind)


# -- working days ----------------------------------------------------------------------------------------


@cache
def holiday_calendar(country: str, subdivision: str | None = None) -> Any:  # noqa: ANN401 - a holidays.HolidayBase
    """The public holidays of a country (and subdivision), from the ``holidays`` package.

    Raises:
        FleetError: the package knows no such country or subdivision.
    """
    import holidays  # noqa: PLC0415 - loads with the first date computed

    try:
        return holidays.country_holidays(country.upper(), subdiv=subdivision)
    except NotImplementedError:
        raise FleetError("no holiday calendar is known for {country}", country=country) from None


def add_working_days(start: dt.date, days: int, *, country: str, subdivision: str | None = None) -> dt.date:
    """The date ``days`` working days after ``start`` (weekends and the country's public holidays skipped).

    Args:
        start: the day counting starts from (not itself counted).
        days: how many working days; ``0`` returns ``start``.
        country: the holiday calendar's country (ISO alpha-2).
        subdivision: its state or region, when holidays differ.
    """
    calendar = holiday_calendar(country, subdivision)
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in calendar:
            left -= 1
    return day


# -- prices ------------------------------------------------------------------------------------------------


def contract_pricebook(book: PriceBook, contract: FrameworkContract, *, company_id: str) -> PriceBook:
    """The price book a company's devices are priced with under ``contract``.

    A contract with its own price book uses it (validated like any price book); a price factor becomes a
    first adjustment of the shop's book (``framework-contract``, so each quote line explains it), under a
    price book id of its own so a quote names the book it was priced with and can be reproduced.

    Raises:
        DocumentInvalidError: the contract's own price book is not valid.
        FleetError: it prices another market or currency than the shop's book.
    """
    from tradein_sdk._domain.pricing import parse_pricebook  # noqa: PLC0415 - jsonschema loads with it

    if contract.pricebook is not None:
        own = parse_pricebook(dict(contract.pricebook), origin=f"contract {contract.reference}")
        if own.currency != book.currency or own.market != book.market:
            raise FleetError(
                "the contract's price book prices {market} in {currency}; the shop prices {shop}",
                market=own.market,
                currency=own.currency,
                shop=f"{book.market} in {book.currency}",
            )
        return own
    if contract.price_factor == 1:
        return book
    document = dict(book.document)
    percent = ((contract.price_factor - 1) * 100).quantize(Decimal("0.01")).normalize()
    adjustment = {
        "id": CONTRACT_ADJUSTMENT,
        "message": CONTRACT_MESSAGE,
        "when": {"categories": ["smartphone", "tablet", "smartwatch"]},
        "percent": format(percent, "f"),
    }
    document["adjustments"] = [adjustment, *document.get("adjustments", [])]
    slug = company_id.replace("_", "-").lower()
    document["pricebook_id"] = f"{book.pricebook_id}-{slug}"[:120]
    return parse_pricebook(document, origin=f"contract {contract.reference}")


# -- condition from a grade ------------------------------------------------------------------------------

_GRADE_ANSWERS: Final[Mapping[str, Mapping[str, object]]] = {
    "excellent": {},
    "good": {"display_glass": "light_scratches", "frame": "light_wear", "case": "light_wear"},
    "fair": {"display_glass": "deep_scratches", "frame": "heavy_wear", "case": "heavy_wear"},
    "damaged": {"display_glass": "cracked"},
    "faulty": {"powers_on": False},
}


def grade_answers(questionnaire: Questionnaire, model: DeviceModel, grade: str) -> dict[str, object]:
    """Self-declared answers that describe a device in pricing grade ``grade`` (a fleet list's default grade).

    Every question the shopper sees is answered at its best, then the answers that mark the grade are set
    (light scratches for ``good``, deep scratches for ``fair``, cracked glass for ``damaged``, not switching
    on for ``faulty``); the platform is the device's own, so its lock questions are asked and answered as
    released.

    Raises:
        FleetError: the grade is not one of the questionnaire's pricing grades.
    """
    from grading_questionnaire._conditions import compile_condition  # noqa: PLC0415
    from tradein_sdk._domain.device_answers import PLATFORM_QUESTION, expected_platforms  # noqa: PLC0415

    known = tuple(grade.id for grade in questionnaire.pricing_grades)
    if grade not in _GRADE_ANSWERS or grade not in known:
        raise FleetError(
            "“{grade}” is not a pricing grade; use one of {known}", grade=grade, known=", ".join(known)
        )
    overrides = _GRADE_ANSWERS[grade]
    ranks = {
        question.id: {option.id: rank for rank, option in enumerate(question.options)}
        for question in questionnaire.questions
    }
    answers: dict[str, object] = {}
    for question in questionnaire.questions:
        if question.staff_only:
            continue
        if question.show_if is not None and not compile_condition(question.show_if, ranks)(answers):
            continue
        value: object
        if question.id == PLATFORM_QUESTION:
            fitting = expected_platforms(model, tuple(option.id for option in question.options))
            value = fitting[0] if fitting else question.options[0].id
        elif question.id in overrides:
            value = overrides[question.id]
        else:
            value = _best_answer(question)
        if value is not None:
            answers[question.id] = value
    return answers


def _best_answer(question: Any) -> object:  # noqa: ANN401 - a grading_questionnaire Question
    """The answer that marks no damage (``None`` for a question of another kind)."""
    from grading_questionnaire import QuestionKind, Worse  # noqa: PLC0415

    value: object = None
    if question.kind is QuestionKind.YES_NO:
        value = question.worse is Worse.NO
    elif question.kind is QuestionKind.SINGLE_CHOICE:
        value = question.options[0].id
    elif question.kind is QuestionKind.MULTIPLE_CHOICE:
        value = []
    elif question.kind is QuestionKind.NUMBER and question.number is not None:
        value = question.number.maximum if question.worse is Worse.LOWER else question.number.minimum
    return value


# -- portfolio quotes ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PortfolioLine:
    """One device of a portfolio quote.

    Attributes:
        line: the line number (1, 2, ...), the row's place in the batch.
        row: the asset list's row it came from.
        variant_id: the catalog variant.
        description: the trade name (``Apple iPhone 13 128 GB``).
        imei: the IMEI, when known.
        serial: the serial number, when no IMEI.
        asset_tag: the company's asset tag.
        cost_centre: the company's cost centre.
        lock_released: the company says MDM and Activation Lock are released (the price assumes they are).
        grade: the pricing grade the answers give (``None``: recycling only).
        answers: the self-declared answers priced.
        amount: the quoted amount.
        low: the amount if inspection finds the device one pricing grade worse (equal to ``amount`` for a
            faulty device or one priced at the lowest grade).
        recycle_only: no value: the device is recycled free of charge.
    """

    line: int
    row: int
    variant_id: str
    description: str
    imei: str | None
    serial: str | None
    asset_tag: str | None
    cost_centre: str | None
    lock_released: bool
    grade: str | None
    answers: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    amount: Money
    low: Money
    recycle_only: bool

    @property
    def identifier(self) -> str:
        """The IMEI, else the serial number, else ``line <n>``."""
        return self.imei or self.serial or f"line {self.line}"

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the library's converter: amounts as Money JSON, dates as ISO text)."""
        return _to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PortfolioLine:
        """Read the JSON form back."""
        return _from_json(data, cls)


@attrs.frozen(kw_only=True)
class PortfolioTotals:
    """The totals of a portfolio quote.

    Attributes:
        devices: how many devices.
        with_value: how many have a value (the others are recycled free of charge).
        locks_to_release: how many the company has not yet released from MDM or Activation Lock.
        amount: the quoted total.
        low: the total if inspection finds every self-declared device one grade worse.
    """

    devices: int
    with_value: int
    locks_to_release: int
    amount: Money
    low: Money

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the library's converter: amounts as Money JSON, dates as ISO text)."""
        return _to_json(self)


def portfolio_totals(lines: Sequence[PortfolioLine], currency: str) -> PortfolioTotals:
    """Add up the lines of a portfolio quote."""
    amount = sum((line.amount.amount for line in lines), Decimal(0))
    low = sum((line.low.amount for line in lines), Decimal(0))
    return PortfolioTotals(
        devices=len(lines),
        with_value=sum(1 for line in lines if not line.recycle_only),
        locks_to_release=sum(1 for line in lines if not line.lock_released),
        amount=Money(amount, currency),
        low=Money(low, currency),
    )


# -- batches ---------------------------------------------------------------------------------------------


class BatchState(StrEnum):
    """Where a fleet batch is (see the module docstring)."""

    QUOTED = "quoted"
    BOOKED = "booked"
    PICKED_UP = "picked_up"
    RECEIVED = "received"
    SETTLING = "settling"
    """A settlement was claimed: its devices are being paid and its document issued."""
    SETTLED = "settled"
    EXPIRED = "expired"


class LineStatus(StrEnum):
    """What became of one line of a batch at the warehouse."""

    EXPECTED = "expected"
    """On the manifest, not yet received."""
    RECEIVED = "received"
    MISSING = "missing"
    """On the manifest but not in the boxes: nothing is paid for it."""


class ExtraDecision(StrEnum):
    """What happens to a device found in the boxes but not on the manifest."""

    PENDING = "pending"
    RETURN = "return"
    """Sent back to the company at the shop's cost."""
    RECYCLE = "recycle"
    """Recycled free of charge with the company's consent (data erased first)."""


@attrs.frozen(kw_only=True)
class Manifest:
    """What a pickup collects.

    Attributes:
        boxes: how many boxes.
        seals: the seal numbers of the boxes (one per box).
        lines: the batch lines picked up (their line numbers).
        pickup_on: the day the carrier comes (within the contract's working days).
        contact_ref: the reference of the pickup contact's data (personal data, kept apart).
    """

    boxes: int
    seals: tuple[str, ...]
    lines: tuple[int, ...]
    pickup_on: dt.date
    contact_ref: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the library's converter: amounts as Money JSON, dates as ISO text)."""
        return _to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Read the JSON form back."""
        return _from_json(data, cls)


@attrs.frozen(kw_only=True)
class ExtraDevice:
    """A device found in the boxes that the manifest does not list.

    Attributes:
        identifier: its IMEI or serial number as scanned.
        box: the seal of the box it was in, when known.
        decision: what happens to it.
        note: what the warehouse noted.
    """

    identifier: str
    box: str | None = None
    decision: ExtraDecision = ExtraDecision.PENDING
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the library's converter: amounts as Money JSON, dates as ISO text)."""
        return _to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExtraDevice:
        """Read the JSON form back."""
        return _from_json(data, cls)


def manifest_problems(seals: Sequence[str], boxes: int) -> list[str]:
    """What is wrong with a manifest's boxes and seals (empty when nothing)."""
    problems = []
    if not 1 <= boxes <= MAX_BOXES:
        problems.append(f"a pickup has 1 to {MAX_BOXES} boxes, not {boxes}")
    if len(seals) != boxes:
        problems.append(f"{boxes} box(es) need {boxes} seal number(s); {len(seals)} given")
    cleaned = [seal.strip() for seal in seals]
    if any(not seal or len(seal) > MAX_SEAL_LENGTH or not seal.isprintable() for seal in cleaned):
        problems.append(f"a seal number is 1 to {MAX_SEAL_LENGTH} printable characters")
    if len(set(cleaned)) != len(cleaned):
        problems.append("each box has its own seal number")
    return problems


# -- what the use cases answer ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PortfolioQuote:
    """A priced asset list: one line per device, totals and validity, signed unless it was a dry run.

    Attributes:
        batch_id: the batch it opened (``None`` for a dry run).
        company_id: the company.
        issued_at: when it was priced (UTC).
        valid_until: until when its amounts are guaranteed (the contract's validity).
        currency: the currency.
        pricebook: the price book id and version the lines were priced with.
        lines: the device lines.
        totals: the totals.
        problems: the asset list's rejected rows (when imported with ``skip_invalid``).
        envelope: the signed portfolio document (``None`` for a dry run).
    """

    batch_id: str | None
    company_id: str
    issued_at: dt.datetime
    valid_until: dt.datetime
    currency: str
    pricebook: str
    lines: tuple[PortfolioLine, ...]
    totals: PortfolioTotals
    problems: tuple[ImportProblem, ...] = ()
    envelope: Mapping[str, Any] | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class BatchLineView:
    """One line of a batch as it stands.

    Attributes:
        line: the portfolio line.
        status: expected, received or missing.
        device_id: the order's device for this line, once booked.
        state: the device's state in the order, once booked.
        offer: what the device is bought at now (the quote, or the revised offer after inspection).
        settled: what was paid for it, once settled.
        reasons: why inspection changed the amount (the questions whose answers differed, and mismatches).
    """

    line: PortfolioLine
    status: LineStatus
    device_id: str | None = None
    state: DeviceState | None = None
    offer: Money | None = None
    settled: Money | None = None
    reasons: tuple[str, ...] = ()

    @property
    def adjustment(self) -> Money:
        """Inspected offer minus quoted amount (zero until inspected; negative: lowered)."""
        if self.offer is None:
            return Money(Decimal(0), self.line.amount.currency)
        return Money(self.offer.amount - self.line.amount.amount, self.line.amount.currency)


@attrs.frozen(kw_only=True)
class FleetBatch:
    """A batch and its lines as they stand.

    Attributes:
        id: the batch id.
        company_id: the company.
        state: where the batch is.
        portfolio: the portfolio quote (its envelope carries the signature).
        order_id: the order its devices travel in, once booked.
        manifest: the pickup's manifest, once booked.
        handover: the signed hand-over record, once picked up.
        lines: every line with its status.
        extras: devices found in the boxes but not on the manifest.
        settlement: the batch's settlement, once settled (id, amount, date, document number, payment due).
    """

    id: str
    company_id: str
    state: BatchState
    portfolio: PortfolioQuote
    order_id: str | None
    manifest: Manifest | None
    handover: Mapping[str, Any] | None
    lines: tuple[BatchLineView, ...]
    extras: tuple[ExtraDevice, ...]
    settlement: Mapping[str, Any] | None

    def line(self, number: int) -> BatchLineView:
        """The line with that number.

        Raises:
            FleetError: the batch has no such line.
        """
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        raise FleetError("fleet batch {batch} has no line {line}", batch=self.id, line=number)


@attrs.frozen(kw_only=True)
class BatchTrueUp:
    """What inspection found against what was quoted, per line and for the batch.

    Attributes:
        batch_id: the batch.
        lines: every line (received, missing, mismatched) with its quoted and current amounts.
        quoted: the quoted total of the lines picked up.
        confirmed: the total of what is bought now (missing and returned devices count zero).
        adjustment: ``confirmed - quoted``.
        missing: how many lines were not in the boxes.
        returned: how many go back to the company (a lock not released, another device than listed).
        extras: how many devices came that the manifest does not list.
    """

    batch_id: str
    lines: tuple[BatchLineView, ...]
    quoted: Money
    confirmed: Money
    adjustment: Money
    missing: int
    returned: int
    extras: int
