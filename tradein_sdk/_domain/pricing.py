"""Pricing: a device variant, its condition report and a date in; an itemized :class:`Valuation` out.

Pricing is pure. The price book (``schemas/pricebook.schema.json``) for one market and currency gives the
value of a variant in a pricing grade, either from an explicit price list or from the reference
residual-value model:

    value = launch price of the base variant in the model's launch market
            × (1 + storage uplift × doublings of storage over the base variant)
            × brand factor
            × max(at_launch × monthly_retention ^ months since release, minimum_share)
            × grade factor

then applies the book's adjustments (carrier lock, missing accessories, a worn battery, ...), its floor and
cap, and its rounding rule. Every step is a :class:`ValuationLine` with a message id and an amount; each
line is the difference between two running totals rounded to the currency's minor units, so the lines
always add up to the total exactly. A knocked-out device gets a zero, recycling-only valuation that says
why.
"""

from __future__ import annotations

import contextlib
import decimal
import math
import re
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire._extract import json_extractor
from grading_questionnaire._i18n import N_, translate
from grading_questionnaire._schemas import schema_problems
from tradein_sdk._domain.converters import build_document
from tradein_sdk._domain.devices import format_storage
from tradein_sdk._domain.money import Money, minor_units
from tradein_sdk._errors import DocumentProblem, PriceUnavailableError, canonical_locale

if TYPE_CHECKING:
    from collections.abc import Iterator

    from grading_questionnaire import ConditionReport
    from tradein_sdk._domain.devices import DeviceModel, DeviceVariant


class RoundingMode(StrEnum):
    """How the final value is rounded to the book's increment."""

    DOWN = "down"
    HALF_UP = "half_up"
    UP = "up"


_DECIMAL_ROUNDING = {
    RoundingMode.DOWN: ROUND_FLOOR,
    RoundingMode.HALF_UP: ROUND_HALF_UP,
    RoundingMode.UP: ROUND_CEILING,
}


@attrs.frozen(kw_only=True)
class Curve:
    """How a category's value falls with age (shares of the launch price)."""

    at_launch: Decimal
    monthly_retention: Decimal
    minimum_share: Decimal

    def share(self, months: int) -> Decimal:
        """The share of the launch price a device of this age fetches."""
        return max(self.at_launch * self.monthly_retention**months, self.minimum_share)


@attrs.frozen(kw_only=True)
class ReferenceModel:
    """The residual-value model (see the module docstring)."""

    launch_price_market: str
    curves: Mapping[str, Curve]
    grade_factors: Mapping[str, Decimal]
    brand_factors: Mapping[str, Decimal] = attrs.field(factory=dict)
    storage_uplift_per_doubling: Decimal = Decimal(0)

    def brand_factor(self, brand: str) -> Decimal:
        """The factor for ``brand``: its own, else the ``*`` entry, else 1."""
        return self.brand_factors.get(brand, self.brand_factors.get("*", Decimal(1)))


@attrs.frozen(kw_only=True)
class AdjustmentCondition:
    """When an adjustment applies: every condition given must hold (each list means "any of")."""

    cosmetic: tuple[str, ...] | None = None
    functional: tuple[int, ...] | None = None
    lock: tuple[str, ...] | None = None
    battery: tuple[str, ...] | None = None
    liquid: tuple[str, ...] | None = None
    findings: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None

    def holds(self, report: ConditionReport) -> bool:
        """Return whether the condition holds for ``report``."""
        checks: list[tuple[tuple[Any, ...] | None, Any]] = [
            (self.cosmetic, report.cosmetic.value),
            (self.functional, report.functional),
            (self.lock, report.lock.value),
            (self.battery, report.battery.value),
            (self.liquid, report.liquid.value),
            (self.categories, report.category),
        ]
        if any(allowed is not None and value not in allowed for allowed, value in checks):
            return False
        return self.findings is None or any(finding.id in self.findings for finding in report.findings)


@attrs.frozen(kw_only=True)
class Adjustment:
    """A change to the value when a condition holds: a percentage of the graded value, or an amount."""

    id: str
    message: str
    when: AdjustmentCondition
    percent: Decimal | None = None
    amount: Decimal | None = None


@attrs.frozen(kw_only=True)
class Rounding:
    """Round the final value to a multiple of ``increment``."""

    increment: Decimal
    mode: RoundingMode


@attrs.frozen(kw_only=True)
class VariantPrices:
    """Explicit prices of one variant, per pricing grade."""

    variant_id: str
    grades: Mapping[str, Decimal]


@attrs.frozen(kw_only=True)
class PriceBook:
    """What a shop pays for used devices in one market.

    Build it with :func:`parse_pricebook` (which validates the document) or load it through a price source.
    """

    pricebook_id: str
    version: str
    market: str
    currency: str
    description: str | None = None
    prices: tuple[VariantPrices, ...] = ()
    reference_model: ReferenceModel | None = None
    adjustments: tuple[Adjustment, ...] = ()
    floor: Decimal | None = None
    cap: Decimal | None = None
    rounding: Rounding | None = None
    content_hash: str = ""
    document: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @cached_property
    def _explicit(self) -> dict[str, Mapping[str, Decimal]]:
        return {entry.variant_id: entry.grades for entry in self.prices}

    def explicit_prices(self, variant_id: str) -> Mapping[str, Decimal] | None:
        """The explicit prices of a variant per grade, or ``None`` when the book does not list it."""
        return self._explicit.get(variant_id)


@attrs.frozen(kw_only=True)
class ValuationLine:
    """One step of a valuation.

    Attributes:
        code: what kind of step (``launch_price``, ``brand``, ``age``, ``condition``, ``list_price``,
            ``adjustment``, ``floor``, ``cap``, ``not_negative``, ``rounding``, ``recycle_only``).
        message_id: the English explanation, a gettext msgid.
        params: the values for the message's ``{named}`` placeholders.
        amount: what the step adds (negative: what it takes away).
        adjustment_id: the price book's adjustment id, for ``adjustment`` lines.
    """

    code: str
    message_id: str
    params: Mapping[str, str] = attrs.field(factory=dict)
    amount: Money
    adjustment_id: str | None = None

    def describe(self, locale: str) -> str:
        """The explanation in ``locale`` (``Age: 38 months since release``), its values formatted there."""
        canonical = canonical_locale(locale)
        return translate(
            self.message_id, canonical, **shown_params(self.params, canonical, self.amount.currency)
        )


_STORAGE_PARAM = re.compile(r"(\d+) (GB|TB)")
_ISO_4217_LENGTH = 3
_GB_PER_TB = 1024


def shown_params(params: Mapping[str, str], locale: str, currency: str) -> dict[str, str]:
    """The parameters of a valuation line as a shopper in ``locale`` reads them.

    A line keeps its parameters as plain text, the same in every language (they are part of the quote);
    three are formatted when the line is shown: ``increment`` (an amount in the line's currency: ``5 €``,
    ``€0.50``), ``currency`` (an ISO 4217 code, shown as the currency's name in the plural: ``euros``) and
    ``storage`` (``128 GB``, shown as the locale writes it: ``128 Go`` in French). Anything else, or a value
    that does not read as expected, is shown as it is.

    Args:
        params: the line's parameters.
        locale: a canonical locale identifier.
        currency: the line's currency.

    Returns:
        The parameters to fill the translated message with.
    """
    from babel.numbers import get_currency_name  # noqa: PLC0415 - Babel loads with the first line shown

    shown = dict(params)
    increment = shown.get("increment")
    if increment is not None:
        with contextlib.suppress(decimal.InvalidOperation, ValueError):  # not an amount: shown as it is
            shown["increment"] = _amount_text(Decimal(increment), currency, locale)
    code = shown.get("currency")
    if code is not None and len(code) == _ISO_4217_LENGTH and code.isalpha():
        shown["currency"] = str(get_currency_name(code.upper(), count=2, locale=locale))
    storage = _STORAGE_PARAM.fullmatch(shown.get("storage", ""))
    if storage is not None:
        size = int(storage[1]) * (_GB_PER_TB if storage[2] == "TB" else 1)
        shown["storage"] = format_storage(size, locale)
    return shown


def _amount_text(amount: Decimal, currency: str, locale: str) -> str:
    """``amount`` in ``currency`` for ``locale``; a whole amount without minor units (``5 €``, ``€0.50``)."""
    from babel import Locale  # noqa: PLC0415 - Babel loads with the first line shown
    from babel.numbers import format_currency  # noqa: PLC0415

    money = Money(amount, currency)
    if amount != amount.to_integral_value():
        return money.format(locale)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern.replace("0.00", "0")
    return str(format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False))


@attrs.frozen(kw_only=True)
class Valuation:
    """The value of one device in a stated condition, with every step that made it.

    Attributes:
        variant_id: the device variant.
        market: the market priced in.
        as_of: the date the value is for (the device's age is counted up to it).
        pricing_grade: the grade priced, ``None`` for a recycling-only device.
        recycle_only: a knockout applies; the total is zero.
        pricebook_id: the price book used.
        pricebook_version: its version.
        pricebook_hash: its content hash.
        lines: the steps, in order; their amounts add up to ``total`` exactly.
        total: the value.
    """

    variant_id: str
    market: str
    as_of: date
    pricing_grade: str | None
    recycle_only: bool
    pricebook_id: str
    pricebook_version: str
    pricebook_hash: str
    lines: tuple[ValuationLine, ...]
    total: Money


# -- documents -------------------------------------------------------------------------------------------


def pricebook_problems(document: object) -> list[DocumentProblem]:
    """Return every problem of a price book document, each with its JSON path."""
    problems = [
        DocumentProblem(path=path, message=message)
        for path, message in schema_problems("pricebook", document)
    ]
    if problems or not isinstance(document, dict):
        return problems
    try:
        minor_units(document["currency"])
        Money(0, document["currency"])
    except Exception:  # noqa: BLE001 - reported as a problem
        problems.append(
            DocumentProblem(path="$.currency", message=f"unknown currency {document['currency']!r}")
        )
    model = document.get("reference_model")
    grade_ids = set(model["grade_factors"]) if model else set()
    seen: dict[str, int] = {}
    for index, entry in enumerate(document.get("prices", [])):
        variant_id = entry["variant_id"]
        if variant_id in seen:
            first = f"$.prices[{seen[variant_id]}]"
            problems.append(
                DocumentProblem(
                    path=f"$.prices[{index}].variant_id", message=f"{variant_id} is already priced at {first}"
                )
            )
        seen.setdefault(variant_id, index)
        if grade_ids and not set(entry["grades"]) <= grade_ids:
            unknown = sorted(set(entry["grades"]) - grade_ids)
            problems.append(
                DocumentProblem(
                    path=f"$.prices[{index}].grades",
                    message=f"grades {unknown} are not in the reference model's grade_factors",
                )
            )
    if "floor" in document and "cap" in document and Decimal(document["floor"]) > Decimal(document["cap"]):
        problems.append(DocumentProblem(path="$.floor", message="the floor is above the cap"))
    ids = [adjustment["id"] for adjustment in document.get("adjustments", [])]
    problems.extend(
        DocumentProblem(path=f"$.adjustments[{index}].id", message=f"adjustment id {name!r} is used twice")
        for index, name in enumerate(ids)
        if name in ids[:index]
    )
    return problems


def parse_pricebook(document: object, *, origin: str = "<memory>") -> PriceBook:
    """Validate a price book document and build the :class:`PriceBook`.

    Raises:
        DocumentInvalidError: the document has problems (each with its JSON path).
    """
    return build_document(document, PriceBook, kind="pricebook", origin=origin, problems=pricebook_problems)


# -- valuation -------------------------------------------------------------------------------------------


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 when ``end`` is not later)."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return max(months, 0)


_WIDE = decimal.Context(prec=50, rounding=ROUND_HALF_UP)
"""Intermediate values (launch price times factors) keep 50 digits; each line is rounded to minor units."""


class _Running:
    """A running total in ``Decimal`` that records each change as a line, rounded to minor units."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.exponent = Decimal(1).scaleb(-minor_units(currency))
        self.total = Decimal(0)
        self.lines: list[ValuationLine] = []

    def _record(
        self, change: Decimal, code: str, message_id: str, adjustment_id: str | None, params: dict[str, str]
    ) -> None:
        amount = Money._derived(change, self.currency)  # noqa: SLF001 - arithmetic on validated money
        self.lines.append(
            ValuationLine(
                code=code, message_id=message_id, params=params, amount=amount, adjustment_id=adjustment_id
            )
        )

    def move_to(self, target: Decimal, code: str, message_id: str, **params: str) -> None:
        rounded = target.quantize(self.exponent, rounding=ROUND_HALF_UP, context=_WIDE)
        self._record(rounded - self.total, code, message_id, None, params)
        self.total = rounded

    def add(
        self, change: Decimal, code: str, message_id: str, adjustment_id: str | None = None, **params: str
    ) -> None:
        change = change.quantize(self.exponent, rounding=ROUND_HALF_UP, context=_WIDE)
        self._record(change, code, message_id, adjustment_id, params)
        self.total += change

    def money(self) -> Money:
        return Money._derived(self.total, self.currency)  # noqa: SLF001


def value_device(
    book: PriceBook,
    *,
    model: DeviceModel,
    variant: DeviceVariant,
    report: ConditionReport,
    as_of: date,
) -> Valuation:
    """Price ``variant`` in the condition ``report`` describes, as of ``as_of``.

    Args:
        book: the price book of the market.
        model: the device model.
        variant: the variant (storage size) being priced.
        report: the graded condition.
        as_of: the date the value is for.

    Returns:
        The itemized valuation; zero and recycling-only when a knockout applies.

    Raises:
        PriceUnavailableError: the book has no price for this variant and grade, and its reference model
            cannot price it (no launch price in its market, no curve for the category, no grade factor).
    """
    if report.category != model.category.value:
        raise ValueError(
            f"a {report.category} condition report cannot price {model.id}, a {model.category.value}"
        )
    with decimal.localcontext(_WIDE):
        return _value(book, model=model, variant=variant, report=report, as_of=as_of)


def _value(
    book: PriceBook, *, model: DeviceModel, variant: DeviceVariant, report: ConditionReport, as_of: date
) -> Valuation:
    running = _Running(book.currency)
    grade = report.pricing_grade
    if grade is None:
        reasons = ", ".join(knockout.code for knockout in report.knockouts) or "not acceptable"
        running.add(
            Decimal(0),
            "recycle_only",
            N_("No price ({reasons}): the device can be recycled free of charge."),
            reasons=reasons,
        )
    else:
        explicit = book.explicit_prices(variant.id)
        if explicit is not None and grade in explicit:
            running.move_to(
                explicit[grade],
                "list_price",
                N_("Price for this model in grade {grade}"),
                grade=grade,
            )
        else:
            _reference_value(book, running, model=model, variant=variant, grade=grade, as_of=as_of)
        _adjust(book, running, report)
    return Valuation(
        variant_id=variant.id,
        market=book.market,
        as_of=as_of,
        pricing_grade=grade,
        recycle_only=grade is None,
        pricebook_id=book.pricebook_id,
        pricebook_version=book.version,
        pricebook_hash=book.content_hash,
        lines=tuple(running.lines),
        total=running.money(),
    )


def _reference_value(
    book: PriceBook, running: _Running, *, model: DeviceModel, variant: DeviceVariant, grade: str, as_of: date
) -> None:
    reference = book.reference_model
    unavailable = f"{variant.id} in grade {grade} ({book.pricebook_id}@{book.version})"
    if reference is None:
        raise PriceUnavailableError("no price for {device}", device=unavailable)
    curve = reference.curves.get(model.category.value)
    factor = reference.grade_factors.get(grade)
    base = next(
        (
            candidate
            for candidate in sorted(model.variants, key=lambda v: v.storage_gb)
            if candidate.launch_price(reference.launch_price_market) is not None
        ),
        None,
    )
    if curve is None or factor is None or base is None:
        raise PriceUnavailableError("no price for {device}", device=unavailable)
    own = variant.launch_price(reference.launch_price_market)
    if own is not None:  # the variant's own launch price, where known, needs no storage uplift
        base = variant
    launch = own or base.launch_price(reference.launch_price_market)
    assert launch is not None  # noqa: S101 - chosen for having one
    if launch.price.currency != book.currency:
        raise PriceUnavailableError(
            "no launch price in {currency} for {device}", currency=book.currency, device=unavailable
        )
    doublings = round(math.log2(variant.storage_gb / base.storage_gb))
    value = _WIDE.multiply(launch.price.amount, 1 + reference.storage_uplift_per_doubling * doublings)
    running.move_to(
        value, "launch_price", N_("Launch price of the {storage} model"), storage=variant.storage_label
    )
    brand = reference.brand_factor(model.brand)
    if brand != 1:
        value = _WIDE.multiply(value, brand)
        running.move_to(value, "brand", N_("Demand for {brand} devices"), brand=model.brand)
    months = months_between(model.release_date, as_of)
    value = _WIDE.multiply(value, curve.share(months))
    running.move_to(value, "age", N_("Age: {months} months since release"), months=str(months))
    value = _WIDE.multiply(value, factor)
    running.move_to(value, "condition", N_("Condition: grade {grade}"), grade=grade)


_WHOLE_ROUNDING: Final = {
    # Translators: {currency} is the currency's name in the plural, from CLDR ("euros"; German "Euro").
    RoundingMode.DOWN: N_("Rounded down to whole {currency}"),
    # Translators: {currency} is the currency's name in the plural, from CLDR ("euros"; German "Euro").
    RoundingMode.UP: N_("Rounded up to whole {currency}"),
    # Translators: {currency} is the currency's name in the plural, from CLDR ("euros"; German "Euro").
    RoundingMode.HALF_UP: N_("Rounded to whole {currency}"),
}
"""The rounding line's message when the book rounds to whole units of its currency."""
_MULTIPLE_ROUNDING: Final = {
    # Translators: {increment} is an amount of money ("5 €", "€0.50").
    RoundingMode.DOWN: N_("Rounded down to a multiple of {increment}"),
    # Translators: {increment} is an amount of money ("5 €", "€0.50").
    RoundingMode.UP: N_("Rounded up to a multiple of {increment}"),
    # Translators: {increment} is an amount of money ("5 €", "€0.50").
    RoundingMode.HALF_UP: N_("Rounded to the nearest multiple of {increment}"),
}
"""The rounding line's message for any other increment."""
# Translators: {increment} is an amount of money ("5 €"). The wording of quotes of earlier versions.
LEGACY_ROUNDING: Final = N_("Rounded to a multiple of {increment}")
"""The rounding line's message in quotes issued before: still translated when such a quote is shown."""


def _adjust(book: PriceBook, running: _Running, report: ConditionReport) -> None:
    graded = running.total
    for adjustment in book.adjustments:
        if not adjustment.when.holds(report):
            continue
        if adjustment.percent is not None:
            change = _WIDE.multiply(graded, adjustment.percent) / 100
        else:
            change = adjustment.amount or Decimal(0)
        running.add(change, "adjustment", adjustment.message, adjustment_id=adjustment.id)
    if book.rounding is not None:
        increment = book.rounding.increment
        steps = (running.total / increment).to_integral_value(rounding=_DECIMAL_ROUNDING[book.rounding.mode])
        target = steps * increment
        if target != running.total:
            if increment == 1:
                message, params = _WHOLE_ROUNDING[book.rounding.mode], {"currency": book.currency}
            else:
                message, params = _MULTIPLE_ROUNDING[book.rounding.mode], {"increment": str(increment)}
            running.move_to(target, "rounding", message, **params)
    if book.floor is not None and running.total < book.floor:
        running.move_to(book.floor, "floor", N_("Minimum price"))
    if book.cap is not None and running.total > book.cap:
        running.move_to(book.cap, "cap", N_("Maximum price"))
    if running.total < 0:
        running.move_to(Decimal(0), "not_negative", N_("A price is never below zero"))


def iter_lines(valuation: Valuation) -> Iterator[tuple[str, Money]]:
    """Yield (code, amount) of each line: a compact view for logs and tests."""
    for line in valuation.lines:
        yield line.code, line.amount


def _adjustment_messages(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for adjustment in document.get("adjustments", []):
        message = adjustment.get("message") if isinstance(adjustment, dict) else None
        if isinstance(message, str):
            yield message, f"price book adjustment {adjustment.get('id')}"


extract_pricebook_messages = json_extractor(
    _adjustment_messages,
    "Yield the adjustment messages of a price book, for Babel (registered in babel.cfg).",
)
