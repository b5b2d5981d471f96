from __future__ import annotations

import copy
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grading_questionnaire._schemas import validator
from tradein_sdk import (
    ConfigurationError,
    CurrencyMismatchError,
    DeviceCategory,
    DocumentInvalidError,
    Money,
    WithdrawalPeriodOverError,
)
from tradein_sdk._domain.insurance import (
    EXAMPLE_INSURANCE_PLANS,
    ClaimType,
    ConsentDecision,
    Coverage,
    Ineligibility,
    InsuranceOffer,
    InsurancePlans,
    PlanCatalogOfferSource,
    PremiumTerm,
    PurchaseCondition,
    annual_premium,
    bundle_discount,
    cover_days,
    exceeds_ancillary_exemption,
    extract_insurance_messages,
    ineligibility,
    insurance_plans_problems,
    load_insurance_plans,
    offers_for,
    parse_insurance_plans,
    record_consent,
    split_premium,
    withdrawal_deadline,
    withdrawal_refund,
)
from tradein_sdk._errors import InvalidMoneyError, TradeInError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tradein_sdk._ports import InsuranceOfferSource

PURCHASE = date(2026, 3, 1)
START = date(2026, 3, 1)
AT = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


# -- documents written for the tests ---------------------------------------------------------------------


def plan_document(**overrides: Any) -> dict[str, Any]:  # noqa: ANN401 - any JSON value
    """One plan: smartphones bought new in Germany for 100.00 to 1000.00, sellable for 30 days."""
    plan: dict[str, Any] = {
        "id": "screen-cover",
        "name": "Screen cover",
        "coverage": "damage",
        "currency": "EUR",
        "eligibility": {
            "categories": ["smartphone"],
            "device_price": {"min": "100.00", "max": "1000.00"},
            "conditions": ["new"],
            "countries": ["DE"],
            "sellable_days": 30,
        },
        "prices": {"upfront_12": "119.00"},
        "deductibles": {"theft": "99", "damage": "49.00"},
        "ipid_url": "https://insurer.example.com/ipid/screen-cover.pdf",
        "terms_url": "https://insurer.example.com/terms/screen-cover.pdf",
        "terms_version": "2026-01",
    }
    plan.update(overrides)
    return plan


def plans_document(*plans: dict[str, Any], taxes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A plan catalog with ``plans`` (one default plan when none is given) and German tax at 19 %."""
    return {
        "$schema": "urn:tradein-sdk:schemas:insurance-plans",
        "catalog_id": "test-de",
        "version": "1.0",
        "insurer": {"name": "Test Insurance SE", "country": "DE"},
        "plans": list(plans) or [plan_document()],
        "taxes": taxes if taxes is not None else {"DE": {"rate_percent": "19", "note": "§ 6 VersStG"}},
    }


def catalog(*plans: dict[str, Any], taxes: dict[str, Any] | None = None) -> InsurancePlans:
    """The parsed catalog of :func:`plans_document`."""
    return parse_insurance_plans(plans_document(*plans, taxes=taxes))


def offers(
    plans: InsurancePlans,
    *,
    price: str = "500.00",
    with_trade_in: bool = False,
    today: date = PURCHASE,
    **changes: Any,  # noqa: ANN401 - keyword arguments of offers_for
) -> tuple[InsuranceOffer, ...]:
    """The offers for a new 500.00 € smartphone bought in Germany today."""
    arguments: dict[str, Any] = {
        "category": DeviceCategory.SMARTPHONE,
        "device_price": Money(price, "EUR"),
        "condition": PurchaseCondition.NEW,
        "country": "DE",
        "purchased_on": PURCHASE,
        "today": today,
        "with_trade_in": with_trade_in,
    } | changes
    return offers_for(plans, **arguments)


def only_offer(plans: InsurancePlans, **changes: Any) -> InsuranceOffer:  # noqa: ANN401
    """The one offer of a one-plan, one-term catalog."""
    (offer,) = offers(plans, **changes)
    return offer


# -- tax split -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gross", "currency", "rate", "tax", "net"),
    [
        # 119.00 × 19 / 119 = 19.00 exactly; net 100.00
        ("119.00", "EUR", "19", "19.00", "100.00"),
        # 99.99 × 19 / 119 = 15.9647… → 15.96; net 99.99 − 15.96 = 84.03
        ("99.99", "EUR", "19", "15.96", "84.03"),
        # 9.99 × 19 / 119 = 1.5950… → 1.60; net 8.39
        ("9.99", "EUR", "19", "1.60", "8.39"),
        # 116.10 × 19 / 119 = 18.5368… → 18.54; net 97.56
        ("116.10", "EUR", "19", "18.54", "97.56"),
        # 0.01 × 19 / 119 = 0.0016 → 0.00; the cent is all net
        ("0.01", "EUR", "19", "0.00", "0.01"),
        # 12.50 × 9.5 / 109.5 = 1.0844… → 1.08; net 11.42 (a rate a shop might supply)
        ("12.50", "EUR", "9.5", "1.08", "11.42"),
        # no tax: all net
        ("100.00", "EUR", "0", "0.00", "100.00"),
        # yen have no minor units: 1190 × 19 / 119 = 190; net 1000
        ("1190", "JPY", "19", "190", "1000"),
    ],
    ids=["119-even", "99.99", "9.99-monthly", "116.10-discounted", "one-cent", "other-rate", "no-tax", "yen"],
)
def test_gross_premium_splits_into_net_and_tax(
    gross: str, currency: str, rate: str, tax: str, net: str
) -> None:
    """The tax is gross × rate / (100 + rate) rounded half up; the net is gross − tax."""
    split = split_premium(Money(gross, currency), Decimal(rate))
    assert split.tax == Money(tax, currency)
    assert split.net == Money(net, currency)
    assert split.gross == Money(gross, currency)


@given(
    st.integers(min_value=0, max_value=10**11).map(lambda cents: Money(Decimal(cents) / 100, "EUR")),
    st.integers(min_value=0, max_value=9999).map(lambda hundredths: Decimal(hundredths) / 100),
)
def test_net_plus_tax_is_always_the_gross(gross: Money, rate: Decimal) -> None:
    """For any gross premium and rate, net + tax == gross, both in whole cents and neither negative."""
    split = split_premium(gross, rate)
    assert split.net + split.tax == gross
    assert split.tax.amount >= 0
    assert split.net.amount >= 0
    assert split.tax == split.tax.rounded()


def test_a_negative_tax_rate_is_refused() -> None:
    """A negative rate is a programming error."""
    with pytest.raises(ValueError, match="negative"):
        split_premium(Money("10.00", "EUR"), Decimal(-1))


# -- bundle discount -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("list_gross", "percent", "discount"),
    [
        ("129.00", "10", "12.90"),  # 10 % of 129.00 = 12.90 → the customer pays 116.10
        ("9.99", "10", "1.00"),  # 0.999 → 1.00 → 8.99 a month
        ("11.99", "15", "1.80"),  # 1.7985 → 1.80 → 10.19 a month
        ("79.00", "12.5", "9.88"),  # 9.875 → 9.88 (half up) → 69.12
        ("49.00", "100", "49.00"),  # everything off
        ("49.00", "0", "0.00"),
    ],
    ids=["10-of-129", "10-of-9.99", "15-of-11.99", "half-cent-up", "all", "none"],
)
def test_bundle_discount_is_a_rounded_share_of_the_gross(
    list_gross: str, percent: str, discount: str
) -> None:
    """The discount is list gross × percent / 100, rounded half up to cents."""
    assert bundle_discount(Money(list_gross, "EUR"), Decimal(percent)) == Money(discount, "EUR")


def test_trade_in_applies_the_discount_before_the_tax_split() -> None:
    """With a trade-in, 129.00 − 12.90 = 116.10 is split (tax 18.54, net 97.56); the discount is a line."""
    plans = catalog(plan_document(prices={"upfront_12": "129.00"}, bundle_discount_percent="10"))
    offer = only_offer(plans, with_trade_in=True)
    assert offer.list_price == Money("129.00", "EUR")
    assert offer.bundle_discount == Money("12.90", "EUR")
    assert offer.bundle_discount_percent == Decimal(10)
    assert offer.premium.gross == Money("116.10", "EUR")
    assert offer.premium.tax == Money("18.54", "EUR")
    assert offer.premium.net == Money("97.56", "EUR")
    assert offer.list_price - offer.bundle_discount == offer.premium.gross
    codes = [text.code for text in offer.texts]
    assert codes.index("bundle_discount") == codes.index("price") + 1
    assert "Trade-in bundle: 10% off, €12.90 less than the regular €129.00." in offer.disclosures("en")


@pytest.mark.parametrize(
    ("discount", "with_trade_in"),
    [(None, True), ("10", False)],
    ids=["plan-without-discount", "no-trade-in"],
)
def test_no_discount_without_a_trade_in_or_a_plan_discount(
    discount: str | None, *, with_trade_in: bool
) -> None:
    """Without a trade-in, or on a plan without a bundle discount, the list price is paid: 129.00."""
    extra = {"bundle_discount_percent": discount} if discount else {}
    plans = catalog(plan_document(prices={"upfront_12": "129.00"}, **extra))
    offer = only_offer(plans, with_trade_in=with_trade_in)
    assert offer.bundle_discount == Money("0.00", "EUR")
    assert offer.bundle_discount_percent is None
    assert offer.premium.gross == Money("129.00", "EUR")
    assert "bundle_discount" not in [text.code for text in offer.texts]


@given(
    st.integers(min_value=1, max_value=10**9).map(lambda cents: Decimal(cents) / 100),
    st.integers(min_value=0, max_value=10000).map(lambda hundredths: Decimal(hundredths) / 100),
)
def test_discounted_offers_always_add_up(list_amount: Decimal, percent: Decimal) -> None:
    """For any price and discount, list − discount == gross == net + tax, and the gross is not negative."""
    plan = plan_document(prices={"upfront_12": str(list_amount)}, bundle_discount_percent=str(percent))
    offer = only_offer(catalog(plan), with_trade_in=True)
    assert offer.list_price - offer.bundle_discount == offer.premium.gross
    assert offer.premium.net + offer.premium.tax == offer.premium.gross
    assert offer.premium.gross.amount >= 0


# -- terms, monthly amounts, first year and annual premium -----------------------------------------------


def test_monthly_offer_shows_the_instalment_and_the_first_year() -> None:
    """9.99 a month: tax 1.60, net 8.39 per instalment; 12 × 9.99 = 119.88 a year (tax 19.20, net 100.68)."""
    plans = catalog(plan_document(prices={"monthly": {"amount": "9.99", "minimum_term_months": 12}}))
    offer = only_offer(plans)
    assert offer.term is PremiumTerm.MONTHLY
    assert offer.term_months == 12
    assert offer.monthly_amount == Money("9.99", "EUR")
    assert (offer.premium.tax, offer.premium.net) == (Money("1.60", "EUR"), Money("8.39", "EUR"))
    assert offer.first_year.gross == Money("119.88", "EUR")
    assert offer.first_year.tax == Money("19.20", "EUR")  # 12 × 1.60
    assert offer.first_year.net == Money("100.68", "EUR")  # 12 × 8.39
    assert offer.annual_premium == Money("119.88", "EUR")
    assert "€9.99 a month, minimum term 12 months (€119.88 over 12 months)" in offer.disclosures("en")


def test_monthly_offer_without_a_minimum_term_is_cancellable_every_month() -> None:
    """A one-month minimum term reads as cancellable monthly; the trade-in discount applies per instalment."""
    plan = plan_document(
        prices={"monthly": {"amount": "11.99", "minimum_term_months": 1}}, bundle_discount_percent="15"
    )
    offer = only_offer(catalog(plan), with_trade_in=True)
    # 11.99 − 1.80 = 10.19 a month; 12 × 10.19 = 122.28
    assert offer.monthly_amount == Money("10.19", "EUR")
    assert offer.first_year.gross == Money("122.28", "EUR")
    assert "€10.19 a month, cancellable every month (€122.28 over 12 months)" in offer.disclosures("en")


def test_upfront_terms_are_paid_once() -> None:
    """139.99 for 24 months: all paid in the first year, 69.995 → 70.00 a year pro rata; no monthly amount."""
    plans = catalog(plan_document(prices={"upfront_12": "79.00", "upfront_24": "139.99"}))
    twelve, twenty_four = offers(plans)
    assert (twelve.term, twelve.term_months) == (PremiumTerm.UPFRONT_12, 12)
    assert twelve.monthly_amount is None
    assert twelve.first_year.gross == twelve.annual_premium == Money("79.00", "EUR")
    assert (twenty_four.term, twenty_four.term_months) == (PremiumTerm.UPFRONT_24, 24)
    assert twenty_four.first_year.gross == Money("139.99", "EUR")
    assert twenty_four.annual_premium == Money("70.00", "EUR")
    assert twelve.disclosures("en")[2] == "€79.00, paid once, for 12 months of cover"
    assert twenty_four.disclosures("en")[2] == "€139.99, paid once, for 24 months of cover"


@pytest.mark.parametrize(
    ("gross", "term", "annual"),
    [
        ("119.00", PremiumTerm.UPFRONT_12, "119.00"),
        ("139.00", PremiumTerm.UPFRONT_24, "69.50"),  # 139.00 / 2
        ("9.99", PremiumTerm.MONTHLY, "119.88"),  # 9.99 × 12
    ],
    ids=["upfront-12", "upfront-24", "monthly"],
)
def test_annual_premium_is_pro_rata_per_year(gross: str, term: PremiumTerm, annual: str) -> None:
    """The annual premium is the gross per year of cover."""
    assert annual_premium(Money(gross, "EUR"), term) == Money(annual, "EUR")


def test_offers_come_in_plan_order_then_term_order() -> None:
    """Each eligible plan gives one offer per term, upfront 12, upfront 24, then monthly; ids are stable."""
    first = plan_document(
        id="all-terms",
        prices={
            "monthly": {"amount": "5.00", "minimum_term_months": 24},
            "upfront_24": "100.00",
            "upfront_12": "55.00",
        },
    )
    second = plan_document(id="second", prices={"upfront_24": "99.00"})
    found = offers(catalog(first, second))
    assert [offer.offer_id for offer in found] == [
        "test-de/all-terms/upfront_12",
        "test-de/all-terms/upfront_24",
        "test-de/all-terms/monthly",
        "test-de/second/upfront_24",
    ]
    offer = found[0]
    assert (offer.catalog_id, offer.catalog_version) == ("test-de", "1.0")
    assert offer.catalog_hash.startswith("sha256:")
    assert offer.insurer == "Test Insurance SE"
    assert offer.coverage is Coverage.DAMAGE
    assert offer.ipid_url == "https://insurer.example.com/ipid/screen-cover.pdf"
    assert offer.terms_version == "2026-01"
    assert (offer.tax_country, offer.tax_rate_percent) == ("DE", Decimal(19))
    assert offer.sellable_until == date(2026, 3, 31)  # 1 March + 30 days


def test_deductibles_are_listed_per_claim_type_in_a_fixed_order() -> None:
    """Excesses come as damage, screen, theft, malfunction, in cents; none gives one 'no excess' text."""
    offer = only_offer(catalog())
    assert [(item.claim_type, item.amount) for item in offer.deductibles] == [
        (ClaimType.DAMAGE, Money("49.00", "EUR")),
        (ClaimType.THEFT, Money("99.00", "EUR")),
    ]
    assert "Excess per theft claim: €99.00" in offer.disclosures("en")
    bare = only_offer(catalog(plan_document(deductibles={})))
    assert bare.deductibles == ()
    assert "No excess to pay per claim." in bare.disclosures("en")


# -- the ancillary-intermediary exemption ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("prices", "discount", "annual", "exceeds"),
    [
        ({"upfront_12": "600.00"}, None, "600.00", True),  # exactly 600 € a year: flagged
        ({"upfront_12": "599.99"}, None, "599.99", False),  # one cent below
        ({"upfront_24": "1200.00"}, None, "600.00", True),  # 1200.00 / 2
        ({"upfront_24": "1199.98"}, None, "599.99", False),  # 1199.98 / 2
        ({"upfront_24": "1199.99"}, None, "600.00", True),  # 599.995 → 600.00, rounded half up
        ({"monthly": {"amount": "50.00", "minimum_term_months": 1}}, None, "600.00", True),  # 50.00 × 12
        ({"monthly": {"amount": "49.99", "minimum_term_months": 1}}, None, "599.88", False),  # 49.99 × 12
        ({"upfront_12": "650.00"}, "10", "585.00", False),  # 650.00 − 65.00 after a trade-in
    ],
    ids=[
        "600-exactly",
        "one-cent-below",
        "24-months-at-600",
        "24-months-below",
        "24-months-rounded-up",
        "monthly-at-600",
        "monthly-below",
        "discount-brings-it-below",
    ],
)
def test_offers_from_600_euros_a_year_leave_the_exemption(
    prices: dict[str, Any], discount: str | None, annual: str, *, exceeds: bool
) -> None:
    """An offer is flagged when its gross annual premium (after any discount) is 600.00 € or more."""
    extra = {"bundle_discount_percent": discount} if discount else {}
    offer = only_offer(catalog(plan_document(prices=prices, **extra)), with_trade_in=True)
    assert offer.annual_premium == Money(annual, "EUR")
    assert offer.exceeds_ancillary_exemption is exceeds


def test_the_exemption_threshold_can_be_given_in_another_currency() -> None:
    """A catalog in another currency needs the threshold converted; comparing across currencies is refused."""
    assert exceeds_ancillary_exemption(Money("2600", "PLN"), threshold=Money("2550", "PLN"))
    assert not exceeds_ancillary_exemption(Money("2500", "PLN"), threshold=Money("2550", "PLN"))
    with pytest.raises(CurrencyMismatchError):
        exceeds_ancillary_exemption(Money("2600", "PLN"))


def test_a_catalog_in_another_currency_needs_a_matching_threshold() -> None:
    """Offers priced in PLN are flagged against the PLN threshold given, and refused without one."""
    plan = plan_document(
        currency="PLN",
        eligibility=plan_document()["eligibility"] | {"countries": ["PL"]},
        prices={"upfront_12": "2600.00"},
    )
    plans = catalog(plan, taxes={"PL": {"rate_percent": "0"}})
    arguments: dict[str, Any] = {"country": "PL", "device_price": Money("500.00", "PLN")}
    with pytest.raises(CurrencyMismatchError):
        offers(plans, **arguments)
    (offer,) = offers(plans, exemption_threshold=Money("2550.00", "PLN"), **arguments)
    assert offer.exceeds_ancillary_exemption
    assert "No insurance premium tax is included." in offer.disclosures("en")


# -- eligibility -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({}, ()),
        ({"category": DeviceCategory.TABLET}, (Ineligibility.CATEGORY,)),
        ({"device_price": Money("99.99", "EUR")}, (Ineligibility.DEVICE_PRICE,)),
        ({"device_price": Money("100.00", "EUR")}, ()),
        ({"device_price": Money("1000.00", "EUR")}, ()),
        ({"device_price": Money("1000.01", "EUR")}, (Ineligibility.DEVICE_PRICE,)),
        ({"device_price": Money("500.00", "USD")}, (Ineligibility.CURRENCY,)),
        ({"condition": PurchaseCondition.REFURBISHED}, (Ineligibility.CONDITION,)),
        ({"country": "AT"}, (Ineligibility.COUNTRY,)),
        ({"country": "de"}, ()),
        ({"today": PURCHASE + timedelta(days=30)}, ()),
        ({"today": PURCHASE + timedelta(days=31)}, (Ineligibility.SELLABLE_WINDOW,)),
        (
            {"category": DeviceCategory.SMARTWATCH, "country": "FR", "today": date(2027, 1, 1)},
            (Ineligibility.CATEGORY, Ineligibility.COUNTRY, Ineligibility.SELLABLE_WINDOW),
        ),
    ],
    ids=[
        "eligible",
        "category",
        "price-below-band",
        "price-at-min",
        "price-at-max",
        "price-above-band",
        "other-currency",
        "refurbished",
        "country",
        "country-lower-case",
        "last-sellable-day",
        "day-after-window",
        "several",
    ],
)
def test_each_eligibility_criterion(changes: dict[str, Any], reasons: tuple[Ineligibility, ...]) -> None:
    """A plan is offered only when category, price band (edges in), condition, country and window fit."""
    plans = catalog()
    arguments: dict[str, Any] = {
        "category": DeviceCategory.SMARTPHONE,
        "device_price": Money("500.00", "EUR"),
        "condition": PurchaseCondition.NEW,
        "country": "DE",
        "purchased_on": PURCHASE,
        "today": PURCHASE,
    } | changes
    assert ineligibility(plans.plans[0], **arguments) == reasons
    found = offers_for(plans, with_trade_in=False, **arguments)
    assert len(found) == (0 if reasons else 1)


def test_a_plan_with_a_zero_day_window_is_sold_only_on_the_purchase_day() -> None:
    """sellable_days 0: day 0 fits, day 1 does not."""
    eligibility = plan_document()["eligibility"] | {"sellable_days": 0}
    plans = catalog(plan_document(eligibility=eligibility))
    assert len(offers(plans)) == 1
    assert offers(plans, today=PURCHASE + timedelta(days=1)) == ()


def test_a_purchase_after_today_is_refused() -> None:
    """A purchase date in the future is a caller's mistake, not an ineligible plan."""
    with pytest.raises(ValueError, match="after today"):
        offers(catalog(), purchased_on=PURCHASE + timedelta(days=1))


# -- texts -----------------------------------------------------------------------------------------------


def test_offer_texts_carry_the_disclosures_in_order() -> None:
    """The texts give plan, cover, price, tax, excess, insurer, optional nature, IPID, terms, withdrawal."""
    offer = only_offer(catalog())
    assert [text.code for text in offer.texts] == [
        "name",
        "coverage",
        "price",
        "tax",
        "deductible",
        "deductible",
        "insurer",
        "optional",
        "ipid",
        "terms",
        "withdrawal",
    ]
    english = offer.disclosures("en")
    assert english[0] == "Screen cover"
    assert english[3] == "Includes €19.00 insurance premium tax (19%); net premium €100.00."
    assert english[6] == "Insurer: Test Insurance SE"
    assert english[8].endswith(": https://insurer.example.com/ipid/screen-cover.pdf")
    assert (
        english[9] == "Insurance terms, version 2026-01: https://insurer.example.com/terms/screen-cover.pdf"
    )
    assert "14 days" in english[10]


def test_offer_texts_format_amounts_for_the_locale() -> None:
    """Amounts and the tax rate are formatted with Babel for the locale asked (119,00 €, 19 %)."""
    german = only_offer(catalog()).disclosures("de-DE")
    assert "119,00\xa0€" in german[2]
    assert "19,00\xa0€" in german[3]
    assert "19\xa0%" in german[3]


@pytest.mark.parametrize(
    ("coverage", "words"),
    [("damage", "accidental damage"), ("damage_and_theft", "theft"), ("extended_warranty", "breakdowns")],
    ids=["damage", "damage-and-theft", "extended-warranty"],
)
def test_coverage_is_explained(coverage: str, words: str) -> None:
    """Each kind of cover has its own explanation."""
    offer = only_offer(catalog(plan_document(coverage=coverage)))
    assert offer.coverage == Coverage(coverage)
    assert words in offer.disclosures("en")[1]


# -- consent ---------------------------------------------------------------------------------------------


def test_an_accepted_offer_records_what_was_shown_when_and_to_whom() -> None:
    """The record holds offer, plan, terms version, texts in the locale shown, the UTC time, the decision."""
    offer = only_offer(catalog())
    consent = record_consent(
        offer,
        decision=ConsentDecision.ACCEPTED,
        customer_ref="cus_8f2a",
        locale="de-de",
        at=datetime(2026, 3, 1, 11, 30, tzinfo=timezone(timedelta(hours=1))),
    )
    assert consent.accepted
    assert (consent.offer_id, consent.plan_id) == ("test-de/screen-cover/upfront_12", "screen-cover")
    assert (consent.catalog_id, consent.catalog_version) == ("test-de", "1.0")
    assert consent.terms_version == "2026-01"
    assert consent.ipid_url == offer.ipid_url
    assert consent.terms_url == offer.terms_url
    assert consent.term is PremiumTerm.UPFRONT_12
    assert consent.premium == Money("119.00", "EUR")
    assert consent.locale == "de_DE"
    assert consent.texts_shown == offer.disclosures("de_DE")
    assert consent.texts_hash.startswith("sha256:")
    assert consent.recorded_at == AT  # 11:30 at +01:00 is 10:30 UTC
    assert consent.recorded_at.tzinfo is UTC
    assert consent.customer_ref == "cus_8f2a"


def test_an_opt_out_is_recorded_with_the_texts_actually_shown() -> None:
    """A declined offer is recorded too; texts passed in are stored as shown, and change the hash."""
    offer = only_offer(catalog())
    shown = ("Screen cover", "119,00 € für 12 Monate")
    declined = record_consent(
        offer,
        decision=ConsentDecision.DECLINED,
        customer_ref="cus_8f2a",
        locale="de",
        at=AT,
        texts_shown=shown,
    )
    assert not declined.accepted
    assert declined.decision is ConsentDecision.DECLINED
    assert declined.texts_shown == shown
    default = record_consent(
        offer, decision=ConsentDecision.DECLINED, customer_ref="cus_8f2a", locale="de", at=AT
    )
    assert declined.texts_hash != default.texts_hash


@pytest.mark.parametrize(
    "customer_ref",
    ["", "jane doe", "jane@example.com", "x" * 129],
    ids=["empty", "space", "e-mail", "too-long"],
)
def test_the_customer_reference_must_be_pseudonymous(customer_ref: str) -> None:
    """An empty reference, one with spaces, an e-mail address or an over-long text is refused."""
    with pytest.raises(ValueError, match="pseudonymous"):
        record_consent(
            only_offer(catalog()),
            decision=ConsentDecision.ACCEPTED,
            customer_ref=customer_ref,
            locale="en",
            at=AT,
        )


def test_a_consent_time_without_a_timezone_is_refused() -> None:
    """A naive datetime is ambiguous and refused."""
    with pytest.raises(ValueError, match="no timezone"):
        record_consent(
            only_offer(catalog()),
            decision=ConsentDecision.ACCEPTED,
            customer_ref="cus_1",
            locale="en",
            at=datetime(2026, 3, 1, 10, 30),  # noqa: DTZ001 - the point of the test
        )


# -- withdrawal ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("withdrawn_on", "premium", "term_days", "refund"),
    [
        (date(2026, 3, 1), "119.00", 365, "119.00"),  # day 0: nothing used
        (date(2026, 3, 6), "119.00", 365, "117.37"),  # day 5: 119.00 × 360 / 365 = 117.369… → 117.37
        (date(2026, 3, 15), "119.00", 365, "114.44"),  # day 14: 119.00 × 351 / 365 = 114.435… → 114.44
        (date(2026, 2, 27), "119.00", 365, "119.00"),  # before cover began: all of it
        (date(2026, 3, 6), "9.99", 31, "8.38"),  # a monthly instalment: 9.99 × 26 / 31 = 8.378… → 8.38
        (date(2026, 3, 13), "10.00", 10, "0.00"),  # day 12 of a 10-day term: all used
        (date(2026, 3, 2), "0.01", 2, "0.01"),  # 0.005 each way: the tie goes to the customer
        (date(2026, 3, 6), "0.00", 365, "0.00"),  # nothing paid, nothing refunded
    ],
    ids=["day-0", "day-5", "day-14", "before-start", "monthly", "term-used-up", "tie", "nothing-paid"],
)
def test_withdrawal_refunds_the_unused_days_pro_rata(
    withdrawn_on: date, premium: str, term_days: int, refund: str
) -> None:
    """Within 14 days the premium for the days after the withdrawal comes back, to the cent."""
    assert withdrawal_refund(START, withdrawn_on, Money(premium, "EUR"), term_days) == Money(refund, "EUR")


def test_withdrawal_after_14_days_is_refused_with_the_deadline() -> None:
    """Day 15 is too late: WithdrawalPeriodOverError names the deadline and has a stable code."""
    with pytest.raises(WithdrawalPeriodOverError) as caught:
        withdrawal_refund(START, date(2026, 3, 16), Money("119.00", "EUR"), 365)
    error = caught.value
    assert isinstance(error, TradeInError)
    assert error.code == "withdrawal_period_over"
    assert error.deadline == date(2026, 3, 15)
    assert error.withdrawn_on == date(2026, 3, 16)
    assert "2026-03-15" in str(error)
    assert error.localized("en") == str(error)


def test_the_period_starts_when_the_documents_arrive_if_later() -> None:
    """Documents received on 10 March move the deadline to 24 March; days used still count from the start."""
    assert withdrawal_deadline(START) == date(2026, 3, 15)
    assert withdrawal_deadline(START, documents_received_on=date(2026, 3, 10)) == date(2026, 3, 24)
    assert withdrawal_deadline(START, documents_received_on=date(2026, 2, 20)) == date(2026, 3, 15)
    # day 19: 119.00 × 346 / 365 = 112.805… → 112.81
    refund = withdrawal_refund(
        START, date(2026, 3, 20), Money("119.00", "EUR"), 365, documents_received_on=date(2026, 3, 10)
    )
    assert refund == Money("112.81", "EUR")
    with pytest.raises(WithdrawalPeriodOverError):
        withdrawal_refund(
            START, date(2026, 3, 25), Money("119.00", "EUR"), 365, documents_received_on=date(2026, 3, 10)
        )


@pytest.mark.parametrize(
    ("premium", "term_days", "error", "match"),
    [
        ("119.00", 0, ValueError, "too short"),
        ("-1.00", 365, ValueError, "negative"),
        ("1.005", 365, InvalidMoneyError, "decimal places"),
    ],
    ids=["no-term", "negative-premium", "fractions-of-a-cent"],
)
def test_withdrawal_refuses_impossible_inputs(
    premium: str, term_days: int, error: type[Exception], match: str
) -> None:
    """A term under a day, a negative premium or a premium in fractions of a cent is refused."""
    with pytest.raises(error, match=match):
        withdrawal_refund(START, date(2026, 3, 5), Money(premium, "EUR"), term_days)


@given(
    st.integers(min_value=0, max_value=10**9).map(lambda cents: Money(Decimal(cents) / 100, "EUR")),
    st.integers(min_value=1, max_value=800),
    st.integers(min_value=-3, max_value=14),
    st.integers(min_value=-3, max_value=14),
)
def test_refunds_stay_within_the_premium_and_fall_with_time(
    premium: Money, term_days: int, day: int, other_day: int
) -> None:
    """A refund is between zero and the premium paid, in whole cents, and never grows as days pass."""
    early, late = sorted((day, other_day))
    first = withdrawal_refund(START, START + timedelta(days=early), premium, term_days)
    second = withdrawal_refund(START, START + timedelta(days=late), premium, term_days)
    assert Money("0.00", "EUR") <= second <= first <= premium
    assert first == first.rounded()


@pytest.mark.parametrize(
    ("start", "months", "days"),
    [
        (date(2026, 3, 1), 12, 365),
        (date(2027, 3, 1), 12, 366),  # through 29 February 2028
        (date(2026, 3, 1), 24, 731),
        (date(2026, 1, 31), 1, 28),  # to 28 February
        (date(2026, 12, 15), 1, 31),
    ],
    ids=["year", "leap-year", "two-years", "month-end", "over-new-year"],
)
def test_cover_days_counts_the_calendar(start: date, months: int, days: int) -> None:
    """The days of cover run to the same date months later, or that month's last day."""
    assert cover_days(start, months) == days


def test_cover_days_needs_a_month() -> None:
    """A term of zero months is refused."""
    with pytest.raises(ValueError, match="too short"):
        cover_days(START, 0)


# -- documents -------------------------------------------------------------------------------------------


def _second_plan_reuses_the_id(document: dict[str, Any]) -> None:
    document["plans"].append(copy.deepcopy(document["plans"][0]))


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def corrupt(document: dict[str, Any]) -> None:
        target: Any = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return corrupt


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    def corrupt(document: dict[str, Any]) -> None:
        del document[key]

    return corrupt


@pytest.mark.parametrize(
    ("corrupt", "path", "message"),
    [
        (
            _set(("plans", 0, "eligibility", "device_price", "min"), "1000.01"),
            "$.plans[0].eligibility.device_price",
            "above max",
        ),
        (_second_plan_reuses_the_id, "$.plans[1].id", "already used at $.plans[0]"),
        (
            _set(("plans", 0, "eligibility", "countries"), ["DE", "AT"]),
            "$.plans[0].eligibility.countries[1]",
            "no insurance premium tax rate for AT",
        ),
        (_set(("plans", 0, "currency"), "XYZ"), "$.plans[0].currency", "unknown currency"),
        (_set(("plans", 0, "coverage"), "screen"), "$.plans[0].coverage", "is not one of"),
        (_set(("plans", 0, "prices"), {}), "$.plans[0].prices", "should be non-empty"),
        (_set(("plans", 0, "prices", "upfront_36"), "99.00"), "$.plans[0].prices", "upfront_36"),
        (
            _set(("plans", 0, "prices", "monthly"), {"amount": "9.99"}),
            "$.plans[0].prices.monthly",
            "minimum_term_months",
        ),
        (
            _set(("plans", 0, "bundle_discount_percent"), "120"),
            "$.plans[0].bundle_discount_percent",
            "does not match",
        ),
        (
            _set(("plans", 0, "ipid_url"), "http://insurer.example.com/ipid.pdf"),
            "$.plans[0].ipid_url",
            "does not match",
        ),
        (_set(("plans", 0, "deductibles", "loss"), "10"), "$.plans[0].deductibles", "loss"),
        (
            _set(("plans", 0, "eligibility", "sellable_days"), -1),
            "$.plans[0].eligibility.sellable_days",
            "minimum",
        ),
        (
            _set(("plans", 0, "eligibility", "conditions"), ["used"]),
            "$.plans[0].eligibility.conditions[0]",
            "is not one of",
        ),
        (_set(("taxes", "DE", "rate_percent"), "100"), "$.taxes.DE.rate_percent", "does not match"),
        (_delete("taxes"), "$", "'taxes' is a required property"),
    ],
    ids=[
        "band-min-above-max",
        "duplicate-plan-id",
        "country-without-tax",
        "unknown-currency",
        "unknown-coverage",
        "no-prices",
        "unknown-term",
        "monthly-without-minimum-term",
        "discount-above-100",
        "ipid-not-https",
        "unknown-claim-type",
        "negative-window",
        "unknown-condition",
        "tax-rate-100",
        "no-taxes",
    ],
)
def test_each_document_problem_is_reported_at_its_path(
    corrupt: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    """A corrupted catalog reports its one problem with the JSON path, and parsing refuses it."""
    document = plans_document()
    corrupt(document)
    problems = insurance_plans_problems(document)
    assert [problem.path for problem in problems] == [path]
    assert message in problems[0].message
    with pytest.raises(DocumentInvalidError) as caught:
        parse_insurance_plans(document, origin="shop-plans.json")
    assert caught.value.problems == tuple(problems)
    assert (caught.value.kind, caught.value.source) == ("insurance-plans", "shop-plans.json")


def test_rule_problems_are_all_reported_in_document_order() -> None:
    """Several rule violations come back together, plan by plan."""
    document = plans_document()
    _second_plan_reuses_the_id(document)
    document["plans"][0]["eligibility"]["countries"] = ["FR"]
    document["plans"][1]["eligibility"]["device_price"]["min"] = "5000"
    assert [problem.path for problem in insurance_plans_problems(document)] == [
        "$.plans[0].eligibility.countries[0]",
        "$.plans[1].eligibility.device_price",
        "$.plans[1].id",
    ]


def test_a_document_that_is_not_an_object_is_refused() -> None:
    """A JSON array is one problem at the root."""
    assert [problem.path for problem in insurance_plans_problems([])] == ["$"]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    """The plan catalog schema is itself valid, with its $id."""
    schema = validator("insurance-plans").schema
    assert isinstance(schema, dict)
    validator("insurance-plans").check_schema(schema)
    assert schema["$id"] == "urn:tradein-sdk:schemas:insurance-plans"


def test_a_parsed_catalog_keeps_its_document_and_hash() -> None:
    """Parsing gives typed plans, the taxes table, the insurer and the content hash of the document."""
    plans = catalog()
    plan = plans.plans[0]
    assert plan.eligibility.categories == (DeviceCategory.SMARTPHONE,)
    assert plan.eligibility.device_price.min == Decimal("100.00")
    assert plan.deductibles[ClaimType.DAMAGE] == Decimal("49.00")
    assert plans.taxes["DE"].rate_percent == Decimal(19)
    assert plans.insurer.country == "DE"
    assert plans.document == plans_document()
    assert plans.content_hash.startswith("sha256:")


# -- files, the example catalog and the offer source -----------------------------------------------------


def test_the_example_catalog_validates_and_says_it_is_an_example() -> None:
    """The bundled example file is a valid catalog of three German plans, labelled examples, not offers."""
    document = json.loads(EXAMPLE_INSURANCE_PLANS.read_text(encoding="utf-8"))
    assert insurance_plans_problems(document) == []
    plans = load_insurance_plans(EXAMPLE_INSURANCE_PLANS)
    assert len(plans.plans) == 3
    assert {plan.coverage for plan in plans.plans} == set(Coverage)
    assert all(plan.eligibility.countries == ("DE",) for plan in plans.plans)
    assert plans.taxes["DE"].rate_percent == Decimal(19)
    assert plans.description is not None
    assert "not offers" in plans.description


def test_the_example_source_offers_every_plan_for_a_new_phone() -> None:
    """The document-backed source, used through the port, prices the example plans for a 899 € phone."""
    source: InsuranceOfferSource = PlanCatalogOfferSource.example()
    found = source.offers(
        category=DeviceCategory.SMARTPHONE,
        device_price=Money("899.00", "EUR"),
        condition=PurchaseCondition.NEW,
        country="DE",
        purchased_on=PURCHASE,
        today=PURCHASE,
        with_trade_in=True,
    )
    assert [offer.offer_id for offer in found] == [
        "example-de/damage-cover/upfront_12",
        "example-de/damage-cover/upfront_24",
        "example-de/damage-and-theft-monthly/monthly",
        "example-de/extended-warranty/upfront_12",
        "example-de/extended-warranty/upfront_24",
    ]
    # damage cover, 12 months: 79.00 − 7.90 (10 %) = 71.10; tax 71.10 × 19 / 119 = 11.352… → 11.35; net 59.75
    assert found[0].premium.gross == Money("71.10", "EUR")
    assert found[0].premium.tax == Money("11.35", "EUR")
    assert not any(offer.exceeds_ancillary_exemption for offer in found)


def test_a_source_loads_a_shop_file_with_its_own_threshold(write_json: Callable[[str, object], Path]) -> None:
    """from_file() validates the shop's catalog; the threshold given is used for the flag."""
    path = write_json("plans.json", plans_document())
    source = PlanCatalogOfferSource.from_file(path, exemption_threshold=Money("100.00", "EUR"))
    assert source.plans.catalog_id == "test-de"
    (offer,) = source.offers(
        category=DeviceCategory.SMARTPHONE,
        device_price=Money("500.00", "EUR"),
        condition=PurchaseCondition.NEW,
        country="DE",
        purchased_on=PURCHASE,
        today=PURCHASE,
        with_trade_in=False,
    )
    assert offer.exceeds_ancillary_exemption  # 119.00 ≥ 100.00


def test_unreadable_or_invalid_files_are_reported(
    write_json: Callable[[str, object], Path], tmp_path: Path
) -> None:
    """A missing file is a configuration error; broken JSON and invalid catalogs are document errors."""
    with pytest.raises(ConfigurationError):
        load_insurance_plans(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(DocumentInvalidError, match="not valid JSON"):
        load_insurance_plans(broken)
    with pytest.raises(DocumentInvalidError) as caught:
        load_insurance_plans(write_json("empty.json", {}))
    assert caught.value.source.endswith("empty.json")


# -- translation -----------------------------------------------------------------------------------------


def test_plan_names_are_extracted_for_translators() -> None:
    """The Babel extractor yields each plan name with its line and a comment naming the plan."""
    with EXAMPLE_INSURANCE_PLANS.open("rb") as handle:
        found = list(extract_insurance_messages(handle, (), (), {}))
    assert [message for _, _, message, _ in found] == [
        "Damage cover",
        "Damage and theft cover, monthly",
        "Extended warranty",
    ]
    text = EXAMPLE_INSURANCE_PLANS.read_text(encoding="utf-8").splitlines()
    for line, context, message, comments in found:
        assert context is None
        assert f'"{message}"' in text[line - 1]
        assert comments[0].startswith("insurance plan ")


@pytest.mark.parametrize(
    "content",
    [b"[1, 2]", b'{"plans": "none"}', b'{"plans": [1, {"id": "no-name"}]}', b"{"],
    ids=["not-an-object", "plans-not-a-list", "plans-without-names", "broken-json"],
)
def test_the_extractor_skips_what_is_not_a_plan_name(content: bytes) -> None:
    """Files that are not plan catalogs yield nothing (validation reports them)."""
    assert list(extract_insurance_messages(io.BytesIO(content), (), (), {})) == []
