"""Bundled device-protection (insurance) offers, with the EU and German disclosure duties.

Pure: a plan catalog (``schemas/insurance-plans.schema.json``), a device and dates in; priced offers,
consent records and withdrawal refunds out. Nothing here reads the clock, the network or the disk,
except :func:`load_insurance_plans` and the document-backed :class:`PlanCatalogOfferSource`.

Pricing of one offer (a plan with one term), in the plan's currency::

    list gross      = the catalog's price point (the upfront premium, or one monthly instalment)
    bundle discount = list gross × discount % / 100, rounded half up to minor units (trade-in only)
    gross           = list gross − bundle discount
    tax             = gross × rate / (100 + rate), rounded half up   (rate: the country's tax in %)
    net             = gross − tax                                     (so net + tax == gross exactly)

A monthly offer splits each instalment; its first-year total is 12 instalments, so the yearly tax is
12 × the instalment's tax (the tax charged on each payment), not the tax of the yearly sum.

The ancillary-intermediary exemption (see :func:`exceeds_ancillary_exemption`) is judged on the annual
premium: the gross premium per year of cover, pro rata (the 24-month premium halved, the monthly
instalment times 12).

Withdrawal (see :func:`withdrawal_refund`): 14 days, refund of the premium for the days after the
withdrawal, pro rata per day, split with :meth:`Money.allocate` so refund + retained premium == paid.

The HTTP provider adapter (an embedded-insurance API such as XCover's offers endpoint) is not built yet;
it will implement :class:`InsuranceOfferSource` like :class:`PlanCatalogOfferSource` does.
"""

from __future__ import annotations

import calendar
import decimal
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from babel.numbers import format_percent

from grading_questionnaire._extract import json_extractor
from grading_questionnaire._i18n import N_, translate
from grading_questionnaire._schemas import content_hash, json_path, schema_problems
from tradein_sdk._domain.catalog import read_json_document
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.converters import build_document
from tradein_sdk._domain.devices import DeviceCategory
from tradein_sdk._domain.money import Money
from tradein_sdk._errors import (
    DocumentProblem,
    TradeInError,
    WithdrawalPeriodOverError,
    canonical_locale,
)
from tradein_sdk._resources import DATA_DIR

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence


EXAMPLE_INSURANCE_PLANS = DATA_DIR / "insurance" / "example-plans.json"
"""Three example plans for Germany: illustrations of the format, not offers of any insurer."""

WITHDRAWAL_PERIOD_DAYS = 14
"""The right of withdrawal from an insurance contract (Germany: § 8 VVG), in days."""

ANCILLARY_EXEMPTION_THRESHOLD = Money("600", "EUR")
"""The annual premium from which an offer is flagged as leaving the ancillary-intermediary exemption."""

_WIDE = decimal.Context(prec=50, rounding=ROUND_HALF_UP)


# -- the plan catalog ------------------------------------------------------------------------------------


class Coverage(StrEnum):
    """What a plan covers."""

    DAMAGE = "damage"
    """Accidental damage (screen, liquid, drops)."""
    DAMAGE_AND_THEFT = "damage_and_theft"
    """Accidental damage and theft."""
    EXTENDED_WARRANTY = "extended_warranty"
    """Breakdowns after the manufacturer's warranty."""


class PurchaseCondition(StrEnum):
    """Whether the insured device is bought new or refurbished."""

    NEW = "new"
    REFURBISHED = "refurbished"


class PremiumTerm(StrEnum):
    """How an offer is paid."""

    UPFRONT_12 = "upfront_12"
    """Once, for 12 months of cover."""
    UPFRONT_24 = "upfront_24"
    """Once, for 24 months of cover."""
    MONTHLY = "monthly"
    """Every month, for at least the plan's minimum term."""


class ClaimType(StrEnum):
    """A kind of claim with its own excess."""

    DAMAGE = "damage"
    SCREEN = "screen"
    THEFT = "theft"
    MALFUNCTION = "malfunction"


class Ineligibility(StrEnum):
    """Why a plan cannot be offered with a device."""

    CATEGORY = "category"
    CURRENCY = "currency"
    """The device's price is in another currency than the plan's."""
    DEVICE_PRICE = "device_price"
    CONDITION = "condition"
    COUNTRY = "country"
    SELLABLE_WINDOW = "sellable_window"
    """Too many days have passed since the device's purchase."""


@attrs.frozen(kw_only=True)
class PriceBand:
    """The device prices a plan may be sold with, both edges included."""

    min: Decimal
    max: Decimal


@attrs.frozen(kw_only=True)
class Eligibility:
    """Which devices a plan may be sold with; every condition must hold.

    Attributes:
        categories: device categories.
        device_price: the band the device's purchase price must fall in.
        conditions: new, refurbished or both.
        countries: ISO 3166-1 alpha-2 codes of the customer's country.
        sellable_days: how many days after the device's purchase the plan may still be sold.
    """

    categories: tuple[DeviceCategory, ...]
    device_price: PriceBand
    conditions: tuple[PurchaseCondition, ...]
    countries: tuple[str, ...]
    sellable_days: int


@attrs.frozen(kw_only=True)
class MonthlyPrice:
    """A monthly gross instalment and the contract's minimum term."""

    amount: Decimal
    minimum_term_months: int


@attrs.frozen(kw_only=True)
class PlanPrices:
    """Gross premiums (insurance premium tax included) per term; a term left out is not offered."""

    upfront_12: Decimal | None = None
    upfront_24: Decimal | None = None
    monthly: MonthlyPrice | None = None


@attrs.frozen(kw_only=True)
class InsurancePlan:
    """One plan of the catalog.

    Attributes:
        id: the plan's identifier.
        name: its name, an English msgid.
        coverage: what it covers.
        currency: the currency of its price band, premiums and excesses.
        eligibility: which devices it may be sold with.
        prices: gross premiums per term.
        deductibles: the excess per claim type.
        ipid_url: the insurance product information document.
        terms_url: the full terms.
        terms_version: the version of the terms and IPID.
        bundle_discount_percent: the discount when a trade-in is in the same checkout.
    """

    id: str
    name: str
    coverage: Coverage
    currency: str
    eligibility: Eligibility
    prices: PlanPrices
    deductibles: Mapping[ClaimType, Decimal] = attrs.field(factory=dict)
    ipid_url: str
    terms_url: str
    terms_version: str
    bundle_discount_percent: Decimal | None = None


@attrs.frozen(kw_only=True)
class Insurer:
    """The insurance undertaking that carries the risk.

    Attributes:
        name: its name, as named to the customer (never translated).
        country: where it has its head office.
        example: the insurer and its plans are made up (the bundled examples): the offer's texts say so,
            in the customer's language.
    """

    name: str
    country: str | None = None
    example: bool = False


@attrs.frozen(kw_only=True)
class InsurancePremiumTax:
    """A country's insurance premium tax, in percent of the net premium (Germany: 19)."""

    rate_percent: Decimal
    note: str | None = None


@attrs.frozen(kw_only=True)
class InsurancePlans:
    """A validated plan catalog. Build it with :func:`parse_insurance_plans` or :func:`load_insurance_plans`.

    Attributes:
        catalog_id: the catalog's identifier.
        version: its version.
        insurer: who carries the risk.
        plans: the plans, in document order.
        taxes: insurance premium tax per country.
        description: a maintainers' note.
        content_hash: ``sha256:`` of the document's canonical form.
    """

    catalog_id: str
    version: str
    insurer: Insurer
    plans: tuple[InsurancePlan, ...]
    taxes: Mapping[str, InsurancePremiumTax]
    description: str | None = None
    content_hash: str = ""
    document: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


def insurance_plans_problems(document: object) -> list[DocumentProblem]:
    """Return every problem of a plan catalog document, each with its JSON path.

    Beyond the schema: an unknown currency, a price band whose min is above its max, a plan id used
    twice, and a country a plan is sold in without an entry in ``taxes``.

    Args:
        document: the decoded JSON document.

    Returns:
        The problems, schema problems first, then rule problems in document order; empty when valid.
    """
    problems = [
        DocumentProblem(path=path, message=message)
        for path, message in schema_problems("insurance-plans", document)
    ]
    if problems or not isinstance(document, dict):
        return problems
    taxed = set(document["taxes"])
    seen: dict[str, int] = {}
    for index, plan in enumerate(document["plans"]):
        try:
            Money(0, plan["currency"])
        except TradeInError:
            problems.append(
                DocumentProblem(
                    path=json_path("plans", index, "currency"),
                    message=f"unknown currency {plan['currency']!r}",
                )
            )
        band = plan["eligibility"]["device_price"]
        if Decimal(band["min"]) > Decimal(band["max"]):
            problems.append(
                DocumentProblem(
                    path=json_path("plans", index, "eligibility", "device_price"),
                    message=f"min {band['min']} is above max {band['max']}",
                )
            )
        problems.extend(
            DocumentProblem(
                path=json_path("plans", index, "eligibility", "countries", position),
                message=f"no insurance premium tax rate for {country} in $.taxes",
            )
            for position, country in enumerate(plan["eligibility"]["countries"])
            if country not in taxed
        )
        if plan["id"] in seen:
            first = json_path("plans", seen[plan["id"]])
            problems.append(
                DocumentProblem(
                    path=json_path("plans", index, "id"),
                    message=f"plan id {plan['id']!r} is already used at {first}",
                )
            )
        seen.setdefault(plan["id"], index)
    return problems


def parse_insurance_plans(document: object, *, origin: str = "<memory>") -> InsurancePlans:
    """Validate a plan catalog document and build :class:`InsurancePlans`.

    Args:
        document: the decoded JSON document.
        origin: where it came from, for the error message.

    Returns:
        The plan catalog.

    Raises:
        DocumentInvalidError: the document has problems (each with its JSON path).
    """
    return build_document(
        document, InsurancePlans, kind="insurance-plans", origin=origin, problems=insurance_plans_problems
    )


def load_insurance_plans(path: str | Path) -> InsurancePlans:
    """Read and validate a plan catalog file.

    Args:
        path: the JSON file.

    Returns:
        The plan catalog.

    Raises:
        ConfigurationError: the file cannot be read.
        DocumentInvalidError: it is not JSON, or not a valid plan catalog (each problem with its JSON path).
    """
    document = read_json_document(Path(path), kind="insurance-plans")
    return parse_insurance_plans(document, origin=str(path))


# -- offers ----------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PremiumSplit:
    """A gross premium and its two parts: ``net + tax == gross`` exactly."""

    gross: Money
    net: Money
    tax: Money

    def __mul__(self, count: int) -> PremiumSplit:
        """Return the split of ``count`` equal payments (each part multiplied)."""
        return PremiumSplit(gross=self.gross * count, net=self.net * count, tax=self.tax * count)


def split_premium(gross: Money, rate_percent: Decimal) -> PremiumSplit:
    """Split a gross premium into net premium and insurance premium tax.

    ``tax = gross × rate / (100 + rate)`` rounded half up to the currency's minor units, and
    ``net = gross − tax``, so the parts add up to the gross exactly. At 19 %: 119.00 → tax 19.00,
    net 100.00; 99.99 → tax 15.96 (15.9647…), net 84.03.

    Args:
        gross: the premium the customer pays, tax included, in minor units.
        rate_percent: the tax rate in percent of the net premium (19 for Germany).

    Returns:
        The gross, net and tax amounts.

    Raises:
        ValueError: the rate is negative.
    """
    if rate_percent < 0:
        raise ValueError(f"a tax rate of {rate_percent} % is negative")
    exact = _WIDE.divide(_WIDE.multiply(gross.amount, rate_percent), 100 + rate_percent)
    tax = Money(exact, gross.currency).rounded()
    return PremiumSplit(gross=gross, net=gross - tax, tax=tax)


def bundle_discount(list_gross: Money, percent: Decimal) -> Money:
    """Return the trade-in bundle discount: ``list_gross × percent / 100``, rounded half up.

    10 % of 129.00 is 12.90 (the customer pays 116.10); 10 % of 9.99 is 1.00 (0.999 rounded).

    Args:
        list_gross: the catalog's gross premium.
        percent: the discount in percent (0 to 100).

    Returns:
        The amount taken off the gross premium, before the tax split.
    """
    return (list_gross * percent * Decimal("0.01")).rounded()


def annual_premium(gross: Money, term: PremiumTerm) -> Money:
    """Return the gross premium per year of cover, pro rata, rounded half up to minor units.

    ``upfront_12``: the premium; ``upfront_24``: half of it; ``monthly``: the instalment × 12.

    Args:
        gross: the gross premium of one payment (after any bundle discount).
        term: how it is paid.

    Returns:
        The annual premium the exemption threshold is compared with.
    """
    if term is PremiumTerm.UPFRONT_24:
        return (gross * Decimal("0.5")).rounded()
    if term is PremiumTerm.MONTHLY:
        return gross * 12
    return gross


def exceeds_ancillary_exemption(annual: Money, *, threshold: Money = ANCILLARY_EXEMPTION_THRESHOLD) -> bool:
    """Return whether an offer leaves the ancillary-intermediary exemption: annual premium ≥ €600.

    The rule: a shop that sells insurance ancillary to its goods is exempt from the IDD's intermediary
    requirements (Directive (EU) 2016/97, Art. 1(3)) only while, among other conditions, the premium
    stays under €600 a year, computed pro rata annually. Source: EIOPA Q&A 2901 ("premiums less than
    €600 pa"). National transpositions say "does not exceed" (France, Code des assurances L513-1:
    "calculated over one year does not exceed €600"; the Dutch AFM: "not higher than €600 pro rata per
    year"), so a premium of exactly €600.00 may still be exempt there. This flag is raised at ≥ €600 on
    purpose, to err on the side of registration. EIOPA rejected Q&A 2901 without answering whether the
    limit applies per contract or per customer. The flag is therefore per offer, and a shop that sells
    several contracts to one customer must add them up itself. The €200 limit for services lasting three
    months or less is not modelled.

    Args:
        annual: the gross annual premium (see :func:`annual_premium`).
        threshold: the limit in the offer's currency (convert €600 for non-euro markets).

    Returns:
        ``True`` when the annual premium is at or above the threshold.

    Raises:
        CurrencyMismatchError: the premium and the threshold are in different currencies.
    """
    return annual >= threshold


@attrs.frozen(kw_only=True)
class OfferText:
    """One shopper-facing text of an offer: an English msgid and its parameters.

    Attributes:
        code: what the text is (``name``, ``coverage``, ``price``, ``bundle_discount``, ``tax``,
            ``deductible``, ``insurer``, ``optional``, ``ipid``, ``terms``, ``withdrawal``).
        message_id: the English text, a gettext msgid, with ``{named}`` placeholders.
        params: their values: :class:`Money` is formatted with Babel for the locale, a ``Decimal`` is a
            percentage (``Decimal("19")`` → ``19 %`` in German), text is filled in as it is.
    """

    code: str
    message_id: str
    params: Mapping[str, Money | Decimal | str] = attrs.field(factory=dict)

    def render(self, locale: str) -> str:
        """Return the text in ``locale``, amounts and percentages formatted for it.

        Raises:
            ValueError: the locale is unknown.
        """
        canonical = canonical_locale(locale)
        values: dict[str, str] = {}
        for name, value in self.params.items():
            if isinstance(value, Money):
                values[name] = value.format(canonical)
            elif isinstance(value, Decimal):
                values[name] = str(format_percent(value / 100, locale=canonical, decimal_quantization=False))
            else:
                values[name] = value
        return translate(self.message_id, canonical, **values)


@attrs.frozen(kw_only=True)
class Deductible:
    """The excess the customer pays per claim of one type."""

    claim_type: ClaimType
    amount: Money


@attrs.frozen(kw_only=True)
class InsuranceOffer:
    """One plan with one way of paying, priced for one device and customer.

    Attributes:
        offer_id: ``<catalog id>/<plan id>/<term>``, stable for the same catalog.
        plan_id: the plan.
        catalog_id: the plan catalog.
        catalog_version: its version.
        catalog_hash: its content hash.
        name: the plan's name, an English msgid.
        coverage: what it covers.
        term: how it is paid.
        term_months: months of cover paid by one upfront payment, or the minimum term of a monthly plan.
        list_price: the catalog's gross premium of one payment, before any bundle discount.
        bundle_discount: what the trade-in bundle takes off each payment (zero without one).
        bundle_discount_percent: the plan's discount rate, when it was applied.
        premium: what one payment costs, after the discount: gross, net and tax.
        monthly_amount: the gross instalment of a monthly offer; ``None`` for an upfront one.
        first_year: what the customer pays in the first year: the upfront premium, or 12 instalments.
        annual_premium: the gross premium per year of cover, pro rata.
        exceeds_ancillary_exemption: the annual premium is at or above €600 (see
            :func:`exceeds_ancillary_exemption`).
        tax_country: the country whose insurance premium tax applies.
        tax_rate_percent: its rate.
        deductibles: the excess per claim type.
        insurer: who carries the risk.
        ipid_url: the insurance product information document.
        terms_url: the full terms.
        terms_version: their version.
        sellable_until: the last day the offer may be sold (purchase date + the plan's sellable days).
        texts: the explanation and the disclosures, in the order they should be shown.
    """

    offer_id: str
    plan_id: str
    catalog_id: str
    catalog_version: str
    catalog_hash: str
    name: str
    coverage: Coverage
    term: PremiumTerm
    term_months: int
    list_price: Money
    bundle_discount: Money
    bundle_discount_percent: Decimal | None
    premium: PremiumSplit
    monthly_amount: Money | None
    first_year: PremiumSplit
    annual_premium: Money
    exceeds_ancillary_exemption: bool
    tax_country: str
    tax_rate_percent: Decimal
    deductibles: tuple[Deductible, ...]
    insurer: str
    ipid_url: str
    terms_url: str
    terms_version: str
    sellable_until: date
    texts: tuple[OfferText, ...]

    def disclosures(self, locale: str) -> tuple[str, ...]:
        """Return every text of the offer in ``locale``, in display order.

        Raises:
            ValueError: the locale is unknown.
        """
        return tuple(text.render(locale) for text in self.texts)


def ineligibility(
    plan: InsurancePlan,
    *,
    category: DeviceCategory,
    device_price: Money,
    condition: PurchaseCondition,
    country: str,
    purchased_on: date,
    today: date,
) -> tuple[Ineligibility, ...]:
    """Return why ``plan`` cannot be sold with this device (empty: it can).

    The price band includes both edges; the sellable window runs from the purchase day (day 0) to
    ``purchased_on + sellable_days`` included.

    Args:
        plan: the plan.
        category: the device's category.
        device_price: what the customer pays for the device.
        condition: whether it is bought new or refurbished.
        country: the customer's country (ISO 3166-1 alpha-2).
        purchased_on: the day the device is or was bought.
        today: the day the plan would be sold.

    Returns:
        Every criterion that fails, in the order of :class:`Ineligibility`.

    Raises:
        ValueError: ``purchased_on`` is after ``today``.
    """
    if purchased_on > today:
        raise ValueError(f"the purchase date {purchased_on} is after today, {today}")
    rules = plan.eligibility
    reasons: list[Ineligibility] = []
    if category not in rules.categories:
        reasons.append(Ineligibility.CATEGORY)
    if device_price.currency != plan.currency:
        reasons.append(Ineligibility.CURRENCY)
    elif not rules.device_price.min <= device_price.amount <= rules.device_price.max:
        reasons.append(Ineligibility.DEVICE_PRICE)
    if condition not in rules.conditions:
        reasons.append(Ineligibility.CONDITION)
    if country.upper() not in rules.countries:
        reasons.append(Ineligibility.COUNTRY)
    if (today - purchased_on).days > rules.sellable_days:
        reasons.append(Ineligibility.SELLABLE_WINDOW)
    return tuple(reasons)


def offers_for(
    plans: InsurancePlans,
    *,
    category: DeviceCategory,
    device_price: Money,
    condition: PurchaseCondition,
    country: str,
    purchased_on: date,
    today: date,
    with_trade_in: bool,
    exemption_threshold: Money = ANCILLARY_EXEMPTION_THRESHOLD,
) -> tuple[InsuranceOffer, ...]:
    """Price every plan that may be sold with this device, once per term it offers.

    See the module docstring for the computation and :func:`ineligibility` for the criteria.

    Args:
        plans: the plan catalog.
        category: the device's category.
        device_price: what the customer pays for the device (gross).
        condition: whether it is bought new or refurbished.
        country: the customer's country (ISO 3166-1 alpha-2); its insurance premium tax applies.
        purchased_on: the day the device is or was bought.
        today: the day of the sale.
        with_trade_in: a trade-in is in the same checkout (the plans' bundle discounts apply).
        exemption_threshold: the annual premium from which an offer is flagged, in the plans' currency
            (€600; convert it for a catalog in another currency).

    Returns:
        The offers, in plan order, each plan's terms in the order upfront 12, upfront 24, monthly;
        empty when no plan is eligible.

    Raises:
        ValueError: ``purchased_on`` is after ``today``.
        CurrencyMismatchError: an eligible plan's currency differs from ``exemption_threshold``'s.
    """
    country = country.upper()
    offers: list[InsuranceOffer] = []
    for plan in plans.plans:
        reasons = ineligibility(
            plan,
            category=category,
            device_price=device_price,
            condition=condition,
            country=country,
            purchased_on=purchased_on,
            today=today,
        )
        if reasons:
            continue
        offers.extend(
            _price(
                plans,
                plan,
                term,
                list_gross,
                months,
                country=country,
                sellable_until=purchased_on + timedelta(days=plan.eligibility.sellable_days),
                with_trade_in=with_trade_in,
                threshold=exemption_threshold,
            )
            for term, list_gross, months in _price_points(plan)
        )
    return tuple(offers)


def _price_points(plan: InsurancePlan) -> Iterator[tuple[PremiumTerm, Decimal, int]]:
    prices = plan.prices
    if prices.upfront_12 is not None:
        yield PremiumTerm.UPFRONT_12, prices.upfront_12, 12
    if prices.upfront_24 is not None:
        yield PremiumTerm.UPFRONT_24, prices.upfront_24, 24
    if prices.monthly is not None:
        yield PremiumTerm.MONTHLY, prices.monthly.amount, prices.monthly.minimum_term_months


def _price(
    plans: InsurancePlans,
    plan: InsurancePlan,
    term: PremiumTerm,
    list_amount: Decimal,
    months: int,
    *,
    country: str,
    sellable_until: date,
    with_trade_in: bool,
    threshold: Money,
) -> InsuranceOffer:
    list_gross = Money(list_amount, plan.currency).rounded()
    percent = plan.bundle_discount_percent if with_trade_in else None
    discount = bundle_discount(list_gross, percent) if percent is not None else list_gross * 0
    rate = plans.taxes[country].rate_percent
    premium = split_premium(list_gross - discount, rate)
    monthly = term is PremiumTerm.MONTHLY
    annual = annual_premium(premium.gross, term)
    deductibles = tuple(
        Deductible(claim_type=claim, amount=Money(plan.deductibles[claim], plan.currency).rounded())
        for claim in ClaimType
        if claim in plan.deductibles
    )
    first_year = premium * 12 if monthly else premium
    offer = InsuranceOffer(
        offer_id=f"{plans.catalog_id}/{plan.id}/{term.value}",
        plan_id=plan.id,
        catalog_id=plans.catalog_id,
        catalog_version=plans.version,
        catalog_hash=plans.content_hash,
        name=plan.name,
        coverage=plan.coverage,
        term=term,
        term_months=months,
        list_price=list_gross,
        bundle_discount=discount,
        bundle_discount_percent=percent,
        premium=premium,
        monthly_amount=premium.gross if monthly else None,
        first_year=first_year,
        annual_premium=annual,
        exceeds_ancillary_exemption=exceeds_ancillary_exemption(annual, threshold=threshold),
        tax_country=country,
        tax_rate_percent=rate,
        deductibles=deductibles,
        insurer=plans.insurer.name,
        ipid_url=plan.ipid_url,
        terms_url=plan.terms_url,
        terms_version=plan.terms_version,
        sellable_until=sellable_until,
        texts=(),
    )
    return attrs.evolve(offer, texts=_texts(offer, example=plans.insurer.example))


_COVERAGE_TEXTS = {
    Coverage.DAMAGE: N_("Covers accidental damage to the device, such as a broken screen or liquid damage."),
    Coverage.DAMAGE_AND_THEFT: N_("Covers accidental damage to the device and its theft."),
    Coverage.EXTENDED_WARRANTY: N_("Covers breakdowns after the manufacturer's warranty has ended."),
}

_DEDUCTIBLE_TEXTS = {
    ClaimType.DAMAGE: N_("Excess per damage claim: {amount}"),
    ClaimType.SCREEN: N_("Excess per screen repair: {amount}"),
    ClaimType.THEFT: N_("Excess per theft claim: {amount}"),
    ClaimType.MALFUNCTION: N_("Excess per breakdown repair: {amount}"),
}


def _texts(offer: InsuranceOffer, *, example: bool = False) -> tuple[OfferText, ...]:
    texts = [
        OfferText(code="name", message_id=offer.name),
        OfferText(code="coverage", message_id=_COVERAGE_TEXTS[offer.coverage]),
        _price_text(offer),
    ]
    if offer.bundle_discount_percent is not None:
        texts.append(
            OfferText(
                code="bundle_discount",
                message_id=N_(
                    "Trade-in bundle: {percent} off, {discount} less than the regular {list_price}."
                ),
                params={
                    "percent": offer.bundle_discount_percent,
                    "discount": offer.bundle_discount,
                    "list_price": offer.list_price,
                },
            )
        )
    if offer.premium.tax.is_zero():
        texts.append(OfferText(code="tax", message_id=N_("No insurance premium tax is included.")))
    else:
        texts.append(
            OfferText(
                code="tax",
                message_id=N_("Includes {tax} insurance premium tax ({rate}); net premium {net}."),
                params={"tax": offer.premium.tax, "rate": offer.tax_rate_percent, "net": offer.premium.net},
            )
        )
    texts.extend(
        OfferText(
            code="deductible",
            message_id=_DEDUCTIBLE_TEXTS[deductible.claim_type],
            params={"amount": deductible.amount},
        )
        for deductible in offer.deductibles
    )
    if not offer.deductibles:
        texts.append(OfferText(code="deductible", message_id=N_("No excess to pay per claim.")))
    texts.extend(
        (
            OfferText(
                code="insurer",
                message_id=N_("Insurer: {insurer} (example only)") if example else N_("Insurer: {insurer}"),
                params={"insurer": offer.insurer},
            ),
            OfferText(
                code="optional",
                message_id=N_("This insurance is optional: you can buy the device without it."),
            ),
            OfferText(
                code="ipid",
                message_id=N_(
                    "Read the insurance product information document (IPID) before you decide: {url}"
                ),
                params={"url": offer.ipid_url},
            ),
            OfferText(
                code="terms",
                message_id=N_("Insurance terms, version {version}: {url}"),
                params={"version": offer.terms_version, "url": offer.terms_url},
            ),
            OfferText(
                code="withdrawal",
                message_id=N_(
                    "You can withdraw from this insurance within 14 days without giving reasons, in text "
                    "form. The premium for the days after your withdrawal is refunded pro rata."
                ),
            ),
        )
    )
    return tuple(texts)


def _price_text(offer: InsuranceOffer) -> OfferText:
    if offer.term is PremiumTerm.UPFRONT_12:
        return OfferText(
            code="price",
            message_id=N_("{premium}, paid once, for 12 months of cover"),
            params={"premium": offer.premium.gross},
        )
    if offer.term is PremiumTerm.UPFRONT_24:
        return OfferText(
            code="price",
            message_id=N_("{premium}, paid once, for 24 months of cover"),
            params={"premium": offer.premium.gross},
        )
    params: dict[str, Money | Decimal | str] = {
        "instalment": offer.premium.gross,
        "first_year": offer.first_year.gross,
        "months": str(offer.term_months),
    }
    if offer.term_months == 1:
        message = N_("{instalment} a month, cancellable every month ({first_year} over 12 months)")
    else:
        message = N_("{instalment} a month, minimum term {months} months ({first_year} over 12 months)")
    return OfferText(code="price", message_id=message, params=params)


# -- consent ---------------------------------------------------------------------------------------------


class ConsentDecision(StrEnum):
    """What the customer decided about an offer."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    """The customer opted out (declined the offer)."""


def _pseudonymous(_instance: object, _attribute: object, value: str) -> None:
    if not value or len(value) > 128 or any(character.isspace() for character in value) or "@" in value:
        raise ValueError(
            "customer_ref must be a pseudonymous reference (1 to 128 characters, no spaces, no e-mail "
            f"address), not {value!r}"
        )


@attrs.frozen(kw_only=True)
class InsuranceConsent:
    """The record of what a customer was shown about an offer and what they decided.

    Attributes:
        offer_id: the offer.
        plan_id: its plan.
        catalog_id: the plan catalog.
        catalog_version: its version.
        term: how the offer is paid.
        premium: the gross premium of one payment shown.
        terms_version: the version of the terms and IPID shown.
        ipid_url: the IPID linked.
        terms_url: the terms linked.
        locale: the language the texts were shown in.
        texts_shown: the texts exactly as shown.
        texts_hash: ``sha256:`` of ``texts_shown`` (to compare records without storing the texts twice).
        recorded_at: when the customer decided, in UTC.
        customer_ref: a pseudonymous reference to the customer (an id of the shop's, never an e-mail).
        decision: accepted, or declined (opted out).
    """

    offer_id: str
    plan_id: str
    catalog_id: str
    catalog_version: str
    term: PremiumTerm
    premium: Money
    terms_version: str
    ipid_url: str
    terms_url: str
    locale: str
    texts_shown: tuple[str, ...]
    texts_hash: str
    recorded_at: datetime = attrs.field(converter=as_utc)
    customer_ref: str = attrs.field(validator=_pseudonymous)
    decision: ConsentDecision

    @property
    def accepted(self) -> bool:
        """Whether the customer accepted the offer."""
        return self.decision is ConsentDecision.ACCEPTED


def record_consent(
    offer: InsuranceOffer,
    *,
    decision: ConsentDecision,
    customer_ref: str,
    locale: str,
    at: datetime,
    texts_shown: Sequence[str] | None = None,
) -> InsuranceConsent:
    """Record a customer's decision on an offer, with what they were shown.

    Args:
        offer: the offer shown.
        decision: accepted, or declined (the opt-out).
        customer_ref: a pseudonymous reference to the customer.
        locale: the language the texts were shown in.
        at: when the customer decided (timezone-aware; from the shop's clock).
        texts_shown: the texts exactly as displayed; the offer's disclosures in ``locale`` when omitted.

    Returns:
        The consent record.

    Raises:
        ValueError: ``at`` has no timezone, ``customer_ref`` is empty, too long, has spaces or looks like
            an e-mail address, or the locale is unknown.
    """
    canonical = canonical_locale(locale)
    shown = tuple(texts_shown) if texts_shown is not None else offer.disclosures(canonical)
    return InsuranceConsent(
        offer_id=offer.offer_id,
        plan_id=offer.plan_id,
        catalog_id=offer.catalog_id,
        catalog_version=offer.catalog_version,
        term=offer.term,
        premium=offer.premium.gross,
        terms_version=offer.terms_version,
        ipid_url=offer.ipid_url,
        terms_url=offer.terms_url,
        locale=canonical,
        texts_shown=shown,
        texts_hash=content_hash(list(shown)),
        recorded_at=at,
        customer_ref=customer_ref,
        decision=decision,
    )


# -- withdrawal ------------------------------------------------------------------------------------------


def withdrawal_deadline(contract_start: date, *, documents_received_on: date | None = None) -> date:
    """Return the last day on which the customer may send a withdrawal.

    The 14 days start on the later of the contract's start and the day the customer received the
    policy, the terms and the pre-contract information in text form (Germany: § 8 (2) VVG; the standard
    Belehrung). A period that starts on day 0 ends at the end of day 14; sending the withdrawal in time is
    enough. A deadline on a Saturday, Sunday or public holiday is not moved here (§ 193 BGB may move it to
    the next working day); a shop that wants to honour that passes a later ``documents_received_on``
    or accepts the withdrawal itself.

    Args:
        contract_start: the day the contract (and cover) began.
        documents_received_on: the day the customer received the documents, when later.

    Returns:
        The deadline, included.
    """
    start = max(contract_start, documents_received_on or contract_start)
    return start + timedelta(days=WITHDRAWAL_PERIOD_DAYS)


def withdrawal_refund(
    contract_start: date,
    withdrawn_on: date,
    premium_paid: Money,
    term_days: int,
    *,
    documents_received_on: date | None = None,
) -> Money:
    """Return the premium refunded on withdrawal: the days of cover after it, pro rata per day.

    Days used are ``withdrawn_on − contract_start`` (0 on the start day, and for a withdrawal before cover
    began), at most ``term_days``. The premium is split with :meth:`Money.allocate` in the ratio
    unused days : used days, so refund + retained premium == premium paid to the cent, and a tie in
    rounding goes to the customer (the refund is rounded half up). Paid 119.00 for 365 days:
    withdrawn on day 0 → 119.00; day 5 → 119.00 × 360 / 365 = 117.369… → 117.37; day 14 → 119.00 ×
    351 / 365 = 114.435… → 114.44; day 15 → :class:`WithdrawalPeriodOverError`.

    For a monthly plan pass the instalment paid and the days it covers; for a fixed term, the days from
    the start to the same date 12 or 24 months later (see :func:`cover_days`). ``withdrawn_on`` serves
    both as the day the withdrawal was sent (sending it in time is enough) and as the end of the days
    used. An insurer that counts the days up to the withdrawal's arrival would keep a little more. Passing
    the sending day errs in the customer's favour.

    Args:
        contract_start: the day the contract and cover began.
        withdrawn_on: the day the customer sent the withdrawal.
        premium_paid: the gross premium paid for ``term_days``, in the currency's minor units.
        term_days: the days of cover the premium pays for (at least 1).
        documents_received_on: the day the customer received the policy documents, when later than the
            start (the period starts then; see :func:`withdrawal_deadline`).

    Returns:
        The refund, never negative and never above the premium paid.

    Raises:
        WithdrawalPeriodOverError: the withdrawal was sent after the deadline.
        ValueError: ``term_days`` is below 1 or the premium is negative.
        InvalidMoneyError: the premium has more decimal places than its currency uses.
    """
    if term_days < 1:
        raise ValueError(f"a term of {term_days} days is too short")
    if premium_paid.amount < 0:
        raise ValueError(f"the premium paid, {premium_paid}, is negative")
    deadline = withdrawal_deadline(contract_start, documents_received_on=documents_received_on)
    if withdrawn_on > deadline:
        raise WithdrawalPeriodOverError(deadline=deadline, withdrawn_on=withdrawn_on)
    used = min(max((withdrawn_on - contract_start).days, 0), term_days)
    refund, _retained = premium_paid.allocate([term_days - used, used])
    return refund


def cover_days(start: date, months: int) -> int:
    """Return the days from ``start`` to the same day ``months`` later (the month's last day if shorter).

    ``cover_days(date(2026, 3, 1), 12)`` is 365; from 2027-03-01 it is 366 (2028 is a leap year).

    Args:
        start: the first day of cover.
        months: the term in months (at least 1).

    Returns:
        The number of days of cover.

    Raises:
        ValueError: ``months`` is below 1.
    """
    if months < 1:
        raise ValueError(f"a term of {months} months is too short")
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    end = date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    return (end - start).days


class PlanCatalogOfferSource:
    """Offers priced from a plan catalog document (the default source)."""

    def __init__(
        self, plans: InsurancePlans, *, exemption_threshold: Money = ANCILLARY_EXEMPTION_THRESHOLD
    ) -> None:
        """Serve offers from ``plans``.

        Args:
            plans: the validated plan catalog.
            exemption_threshold: the annual premium from which offers are flagged, in the plans' currency.
        """
        self._plans = plans
        self._threshold = exemption_threshold

    @classmethod
    def from_file(
        cls, path: str | Path, *, exemption_threshold: Money = ANCILLARY_EXEMPTION_THRESHOLD
    ) -> PlanCatalogOfferSource:
        """Load and validate a plan catalog file.

        Raises:
            ConfigurationError: the file cannot be read.
            DocumentInvalidError: it is not a valid plan catalog (each problem with its JSON path).
        """
        return cls(load_insurance_plans(path), exemption_threshold=exemption_threshold)

    @classmethod
    def example(cls) -> PlanCatalogOfferSource:
        """The bundled example plans for Germany: to try the flow, never to sell (they are not offers)."""
        return cls.from_file(EXAMPLE_INSURANCE_PLANS)

    @property
    def plans(self) -> InsurancePlans:
        """The plan catalog served."""
        return self._plans

    def offers(
        self,
        *,
        category: DeviceCategory,
        device_price: Money,
        condition: PurchaseCondition,
        country: str,
        purchased_on: date,
        today: date,
        with_trade_in: bool,
    ) -> tuple[InsuranceOffer, ...]:
        """Return the catalog's offers for this device (see :func:`offers_for`).

        Raises:
            ValueError: ``purchased_on`` is after ``today``.
        """
        return offers_for(
            self._plans,
            category=category,
            device_price=device_price,
            condition=condition,
            country=country,
            purchased_on=purchased_on,
            today=today,
            with_trade_in=with_trade_in,
            exemption_threshold=self._threshold,
        )


def _plan_names(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    plans = document.get("plans")
    for plan in plans if isinstance(plans, list) else []:
        name = plan.get("name") if isinstance(plan, dict) else None
        if isinstance(name, str):
            yield name, f"insurance plan {plan.get('id')}: its name"


extract_insurance_messages = json_extractor(
    _plan_names, "Yield the plan names of a plan catalog, for Babel (registered in babel.cfg)."
)
