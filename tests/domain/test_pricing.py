from __future__ import annotations

import copy
import decimal
import json
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from grading_questionnaire import (
    ConditionReport,
    Question,
    QuestionKind,
    VerificationDepth,
    Worse,
    example_answer_names,
    example_answers,
    load_questionnaire,
)
from tradein_sdk import (
    Catalog,
    DeviceCategory,
    DeviceModel,
    DeviceVariant,
    DocumentInvalidError,
    LaunchPrice,
    Money,
    minor_units,
)
from tradein_sdk._adapters.prices import BUNDLED_PRICEBOOKS, PriceBookSource
from tradein_sdk._domain.pricing import (
    PriceBook,
    RoundingMode,
    Valuation,
    iter_lines,
    months_between,
    parse_pricebook,
    pricebook_problems,
    value_device,
)
from tradein_sdk._errors import PriceUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# -- devices written for the tests ----------------------------------------------------------------------

RELEASE = date(2024, 1, 15)


def _launch(market: str, amount: str, currency: str) -> LaunchPrice:
    return LaunchPrice(market=market, price=Money(amount, currency), tax_included=market == "DE")


ACME_PHONE = DeviceModel(
    id="acme-phone",
    brand="Acme",
    name="Phone",
    category=DeviceCategory.SMARTPHONE,
    release_date=RELEASE,
    variants=(
        DeviceVariant(id="acme-phone-64gb", storage_gb=64),
        DeviceVariant(
            id="acme-phone-128gb",
            storage_gb=128,
            launch_prices=(_launch("DE", "1000", "EUR"), _launch("US", "900", "USD")),
        ),
        # Its own launch price is not used: the model scales the base (smallest priced) variant's.
        DeviceVariant(id="acme-phone-256gb", storage_gb=256, launch_prices=(_launch("DE", "1149", "EUR"),)),
        DeviceVariant(id="acme-phone-1tb", storage_gb=1024),
    ),
)
GLOBEX_PHONE = DeviceModel(
    id="globex-phone",
    brand="Globex",
    name="Phone",
    category=DeviceCategory.SMARTPHONE,
    release_date=RELEASE,
    variants=(
        DeviceVariant(id="globex-phone-128gb", storage_gb=128, launch_prices=(_launch("DE", "1000", "EUR"),)),
    ),
)
ACME_TABLET = DeviceModel(
    id="acme-tablet",
    brand="Acme",
    name="Tablet",
    category=DeviceCategory.TABLET,
    release_date=RELEASE,
    variants=(
        DeviceVariant(id="acme-tablet-64gb", storage_gb=64, launch_prices=(_launch("DE", "500", "EUR"),)),
    ),
)
ACME_WATCH = DeviceModel(
    id="acme-watch",
    brand="Acme",
    name="Watch",
    category=DeviceCategory.SMARTWATCH,
    release_date=RELEASE,
    variants=(
        DeviceVariant(id="acme-watch-32gb", storage_gb=32, launch_prices=(_launch("DE", "400", "EUR"),)),
    ),
)
US_ONLY_PHONE = DeviceModel(
    id="acme-phone-us",
    brand="Acme",
    name="Phone US",
    category=DeviceCategory.SMARTPHONE,
    release_date=RELEASE,
    variants=(
        DeviceVariant(id="acme-phone-us-128gb", storage_gb=128, launch_prices=(_launch("US", "900", "USD"),)),
    ),
)
MODEL_FOR_CATEGORY = {"smartphone": ACME_PHONE, "tablet": ACME_TABLET, "smartwatch": ACME_WATCH}


# -- a small price book written for the tests -----------------------------------------------------------

GRADES = ("excellent", "good", "fair", "damaged", "faulty")


def reference_model(**changes: object) -> dict[str, Any]:
    """The test book's residual-value model, with ``changes`` laid over it."""
    model: dict[str, Any] = {
        "launch_price_market": "DE",
        "curves": {
            "smartphone": {"at_launch": "0.8", "monthly_retention": "0.9", "minimum_share": "0.1"},
            "tablet": {"at_launch": "0.5", "monthly_retention": "0.95", "minimum_share": "0.2"},
        },
        "brand_factors": {"Acme": "1.1", "*": "0.5"},
        "storage_uplift_per_doubling": "0.05",
        "grade_factors": {"excellent": "1", "good": "0.8", "fair": "0.5", "damaged": "0.3", "faulty": "0.1"},
    }
    model.update(changes)
    return model


def book_document(**changes: object) -> dict[str, Any]:
    """The test book's document (DE, EUR, reference model only), with ``changes`` laid over it."""
    document: dict[str, Any] = {
        "pricebook_id": "test-shop-de",
        "version": "1.0",
        "market": "DE",
        "currency": "EUR",
        "reference_model": reference_model(),
    }
    document.update(changes)
    return {key: value for key, value in document.items() if value is not None}


def book(**changes: object) -> PriceBook:
    """The test book, validated and parsed."""
    return parse_pricebook(book_document(**changes))


def listed_book(price: str, **changes: object) -> PriceBook:
    """A book that lists ``price`` for every grade of every test variant (isolates the later steps)."""
    variants = ["acme-phone-256gb", "acme-tablet-64gb", "acme-watch-32gb"]
    prices = [{"variant_id": variant, "grades": dict.fromkeys(GRADES, price)} for variant in variants]
    return book(prices=prices, **changes)


# -- condition reports from real answers ----------------------------------------------------------------

SELF = VerificationDepth.SELF_DECLARED
STAFF = VerificationDepth.STAFF_VERIFIED
STAFF_CHECKS_PASSED = {
    "liquid_indicator": "not_triggered",
    "blocklist_status": "clear",
    "authenticity": "genuine",
}
POWERED_ONLY = ("display_defects", "faults", "battery_health", "battery_lasts_day")

# name: (category, example, answers to change, answers to remove, verification)
REPORTS: dict[str, tuple[str, str, dict[str, Any], tuple[str, ...], VerificationDepth]] = {
    "flawless": ("smartphone", "flawless", {}, (), SELF),
    "scratched": ("smartphone", "flawless", {"display_glass": "light_scratches"}, (), SELF),
    "deep-scratches": ("smartphone", "flawless", {"display_glass": "deep_scratches"}, (), SELF),
    "cracked": ("smartphone", "cracked-display", {}, (), SELF),
    "carrier-locked": ("smartphone", "flawless", {"carrier_lock": "locked"}, (), SELF),
    "scratched-and-locked": (
        "smartphone",
        "flawless",
        {"display_glass": "light_scratches", "carrier_lock": "locked"},
        (),
        SELF,
    ),
    "worn-battery": ("smartphone", "flawless", {"battery_health": 70}, (), SELF),
    "liquid": ("smartphone", "flawless", {"liquid_contact": True}, (), SELF),
    "vibration": ("smartphone", "flawless", {"faults": ["vibration"]}, (), SELF),
    "no-power": ("smartphone", "flawless", {"powers_on": False}, POWERED_ONLY, SELF),
    "replaced-parts": (
        "smartphone",
        "flawless",
        {**STAFF_CHECKS_PASSED, "authenticity": "replaced_parts"},
        (),
        STAFF,
    ),
    "activation-locked": ("smartphone", "activation-locked", {}, (), SELF),
    "swollen-and-locked": ("smartphone", "activation-locked", {"battery_swollen": True}, (), SELF),
    "tablet-flawless": ("tablet", "flawless", {}, (), SELF),
    "tablet-no-power": (
        "tablet",
        "flawless",
        {"powers_on": False},
        ("display_defects", "faults", "battery_lasts_day"),
        SELF,
    ),
    "watch-flawless": ("smartwatch", "flawless", {}, (), SELF),
}


@cache
def report(name: str) -> ConditionReport:
    """Evaluate the named answers with the bundled questionnaire of their category."""
    category, example, changes, removed, verification = REPORTS[name]
    answers = example_answers(category, example).answers
    for key in removed:
        del answers[key]
    answers.update(changes)
    return load_questionnaire(category).evaluate(answers, verification=verification)


def value(
    priced_by: PriceBook,
    condition: str,
    *,
    model: DeviceModel | None = None,
    storage_gb: int | None = None,
    as_of: date = date(2024, 3, 15),
) -> Valuation:
    """Value a test device (by default the model of the report's category, 256 GB for the phone)."""
    graded = report(condition)
    model = model or MODEL_FOR_CATEGORY[graded.category]
    if storage_gb is None:
        storage_gb = 256 if model is ACME_PHONE else model.variants[0].storage_gb
    variant = model.variant_for_storage(storage_gb)
    return value_device(priced_by, model=model, variant=variant, report=graded, as_of=as_of)


def lines_of(valuation: Valuation) -> list[tuple[str, str]]:
    """(code, amount) of each line, amounts as plain strings."""
    return [(code, format(amount.amount, "f")) for code, amount in iter_lines(valuation)]


def test_the_reports_used_here_have_the_grades_they_are_named_for() -> None:
    """The answer sets grade as their names say (so the price cases below test what they claim)."""
    grades = {name: report(name).pricing_grade for name in REPORTS}
    assert grades == {
        "flawless": "excellent",
        "scratched": "good",
        "deep-scratches": "fair",
        "cracked": "damaged",
        "carrier-locked": "good",
        "scratched-and-locked": "good",
        "worn-battery": "good",
        "liquid": "fair",
        "vibration": "good",
        "no-power": "faulty",
        "replaced-parts": "good",
        "activation-locked": None,
        "swollen-and-locked": None,
        "tablet-flawless": "excellent",
        "tablet-no-power": "faulty",
        "watch-flawless": "excellent",
    }


# -- the reference model, by hand -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "device", "condition", "as_of", "expected"),
    [
        (
            {},
            (ACME_PHONE, 256),
            "scratched",
            date(2024, 3, 15),
            # the 256 GB variant has its own launch price: 1149.00, no storage uplift;
            # × brand 1.1 = 1263.90 (+114.90); 2 months: max(0.8 × 0.9² = 0.648, 0.1) → 1263.90 × 0.648
            # = 819.0072 → 819.01 (−444.89); good 0.8 → 655.20576 → 655.21 (−163.80)
            [("launch_price", "1149.00"), ("brand", "114.90"), ("age", "-444.89"), ("condition", "-163.80")],
        ),
        (
            {},
            (ACME_PHONE, 64),
            "flawless",
            RELEASE,
            # below the base: round(log2(64 / 128)) = −1 → 1000 × 0.95 = 950.00; × 1.1 = 1045.00 (+95.00);
            # 0 months: 0.8 → 836.00 (−209.00); excellent × 1 → 836.00 (0.00)
            [("launch_price", "950.00"), ("brand", "95.00"), ("age", "-209.00"), ("condition", "0.00")],
        ),
        (
            {},
            (ACME_PHONE, 1024),
            "deep-scratches",
            date(2025, 1, 15),
            # 1024 / 128 = 8 = 3 doublings → 1000 × 1.15 = 1150.00; × 1.1 = 1265.00 (+115.00);
            # 12 months: 0.9¹² = 0.282429536481, × 0.8 = 0.2259436291848 → 1265 × that = 285.8186909... →
            # 285.82 (−979.18); fair 0.5 → 142.9093454... → 142.91 (−142.91)
            [("launch_price", "1150.00"), ("brand", "115.00"), ("age", "-979.18"), ("condition", "-142.91")],
        ),
        (
            {},
            (GLOBEX_PHONE, 128),
            "cracked",
            date(2026, 1, 15),
            # brand not listed → "*" 0.5: 1000.00 → 500.00 (−500.00); 24 months: 0.8 × 0.9²⁴ ≈ 0.064 < 0.1,
            # so the minimum share 0.1 → 50.00 (−450.00); damaged 0.3 → 15.00 (−35.00)
            [("launch_price", "1000.00"), ("brand", "-500.00"), ("age", "-450.00"), ("condition", "-35.00")],
        ),
        (
            {"brand_factors": {}},
            (ACME_PHONE, 128),
            "flawless",
            date(2024, 2, 15),
            # no brand factors: factor 1, no brand line; 1 month: 0.8 × 0.9 = 0.72 → 720.00 (−280.00)
            [("launch_price", "1000.00"), ("age", "-280.00"), ("condition", "0.00")],
        ),
        (
            {},
            (ACME_TABLET, 64),
            "tablet-no-power",
            date(2024, 3, 15),
            # tablet curve: 500 × 1.1 = 550.00 (+50.00); 2 months: 0.5 × 0.95² = 0.45125 → 248.1875 →
            # 248.19 (−301.81); faulty 0.1 → 24.81875 → 24.82 (−223.37)
            [("launch_price", "500.00"), ("brand", "50.00"), ("age", "-301.81"), ("condition", "-223.37")],
        ),
        (
            {},
            (ACME_PHONE, 128),
            "flawless",
            date(2023, 12, 1),
            # a date before release counts as 0 months: 1000 → 1100.00 (+100.00) → × 0.8 = 880.00 (−220.00)
            [("launch_price", "1000.00"), ("brand", "100.00"), ("age", "-220.00"), ("condition", "0.00")],
        ),
    ],
    ids=[
        "one-doubling-brand-age-good",
        "storage-below-the-base-variant",
        "three-doublings-twelve-months-fair",
        "fallback-brand-minimum-share",
        "no-brand-factor-no-brand-line",
        "tablet-curve-faulty",
        "date-before-release",
    ],
)
def test_reference_model_lines_by_hand(
    changes: dict[str, Any],
    device: tuple[DeviceModel, int],
    condition: str,
    as_of: date,
    expected: list[tuple[str, str]],
) -> None:
    """Launch × storage uplift × brand × max(at_launch × retention^months, minimum) × grade, by line."""
    model, storage_gb = device
    valuation = value(
        book(reference_model=reference_model(**changes)),
        condition,
        model=model,
        storage_gb=storage_gb,
        as_of=as_of,
    )
    assert lines_of(valuation) == expected
    total = sum((Decimal(amount) for _, amount in expected), Decimal(0))
    assert valuation.total == Money(total, "EUR")


@pytest.mark.parametrize(
    ("context", "as_of", "expected"),
    [
        # the third hand-computed case: 12 months, 142.91
        (decimal.Context(prec=4), date(2025, 1, 15), "142.91"),
        # 30 months: 0.9³⁰ has 30 digits (inexact at 28); 0.8 × 0.9³⁰ ≈ 0.034 < 0.1, so the minimum share:
        # 1150 × 1.1 = 1265 → × 0.1 = 126.50 → fair × 0.5 = 63.25
        (
            decimal.Context(traps=[decimal.Inexact, decimal.InvalidOperation, decimal.DivisionByZero]),
            date(2026, 7, 15),
            "63.25",
        ),
    ],
    ids=["low-precision", "inexact-trapped"],
)
def test_valuation_does_not_depend_on_the_callers_decimal_context(
    context: decimal.Context, as_of: date, expected: str
) -> None:
    """A pure valuation gives the same cents whatever decimal context the calling thread has set."""
    assert value(book(), "deep-scratches", storage_gb=1024, as_of=as_of).total == Money(expected, "EUR")
    with decimal.localcontext(context):
        valuation = value(book(), "deep-scratches", storage_gb=1024, as_of=as_of)
    assert valuation.total == Money(expected, "EUR")


def test_reference_lines_carry_their_parameters() -> None:
    """Each reference line names its storage, brand, age in months and grade for the explanation."""
    valuation = value(book(), "scratched", storage_gb=256, as_of=date(2024, 3, 15))
    assert [(line.code, dict(line.params)) for line in valuation.lines] == [
        ("launch_price", {"storage": "256 GB"}),
        ("brand", {"brand": "Acme"}),
        ("age", {"months": "2"}),
        ("condition", {"grade": "good"}),
    ]
    assert valuation.lines[0].message_id == "Launch price of the {storage} model"
    assert valuation.lines[0].describe("en") == "Launch price of the 256 GB model"
    assert value(book(), "flawless", storage_gb=1024).lines[0].params == {"storage": "1 TB"}


def test_valuation_records_what_was_priced() -> None:
    """The valuation names the variant, market, date, grade and the book's id, version and hash."""
    priced_by = book()
    valuation = value(priced_by, "scratched", storage_gb=256, as_of=date(2024, 3, 15))
    assert valuation.variant_id == "acme-phone-256gb"
    assert valuation.market == "DE"
    assert valuation.as_of == date(2024, 3, 15)
    assert valuation.pricing_grade == "good"
    assert not valuation.recycle_only
    assert (valuation.pricebook_id, valuation.pricebook_version) == ("test-shop-de", "1.0")
    assert valuation.pricebook_hash == priced_by.content_hash
    assert valuation.pricebook_hash.startswith("sha256:")


def test_a_book_in_another_market_prices_from_its_own_launch_prices() -> None:
    """A US book with launch_price_market US values in USD from the US launch price."""
    us_book = book(
        pricebook_id="test-shop-us",
        market="US",
        currency="USD",
        reference_model=reference_model(launch_price_market="US"),
    )
    valuation = value(us_book, "flawless", storage_gb=128, as_of=RELEASE)
    # 900 USD × 1.1 = 990.00 (+90.00); 0 months × 0.8 = 792.00 (−198.00); excellent (0.00)
    assert lines_of(valuation) == [
        ("launch_price", "900.00"),
        ("brand", "90.00"),
        ("age", "-198.00"),
        ("condition", "0.00"),
    ]
    assert valuation.total == Money("792.00", "USD")


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2024, 1, 15), date(2024, 1, 15), 0),
        (date(2024, 1, 15), date(2024, 2, 14), 0),
        (date(2024, 1, 15), date(2024, 2, 15), 1),
        (date(2024, 1, 15), date(2025, 1, 14), 11),
        (date(2024, 1, 15), date(2025, 1, 15), 12),
        (date(2023, 11, 30), date(2024, 1, 30), 2),
        # the 31st is never reached in February: the first month is complete on 1 March
        (date(2024, 1, 31), date(2024, 2, 29), 0),
        (date(2024, 1, 31), date(2024, 3, 1), 1),
        (date(2024, 1, 31), date(2024, 3, 31), 2),
        (date(2024, 2, 29), date(2025, 2, 28), 11),
        (date(2024, 2, 29), date(2025, 3, 1), 12),
        (date(2024, 1, 15), date(2024, 1, 14), 0),
        (date(2024, 1, 15), date(2020, 6, 1), 0),
    ],
    ids=[
        "same-day",
        "day-before-first-month",
        "first-month",
        "day-before-anniversary",
        "anniversary",
        "across-new-year",
        "end-of-january-to-end-of-february",
        "end-of-january-to-first-of-march",
        "end-of-january-to-end-of-march",
        "leap-day-to-28-february",
        "leap-day-to-1-march",
        "day-before-release",
        "years-before-release",
    ],
)
def test_months_between_counts_whole_months(start: date, end: date, months: int) -> None:
    """A month counts once its day of the month is reached; a date before the start is 0 months."""
    assert months_between(start, end) == months


# -- explicit prices ------------------------------------------------------------------------------------


def test_explicit_prices_win_over_the_reference_model() -> None:
    """A listed variant and grade takes the list price; other grades and variants use the model."""
    priced_by = book(prices=[{"variant_id": "acme-phone-256gb", "grades": {"excellent": "555.555"}}])
    listed = value(priced_by, "flawless", storage_gb=256)
    # 555.555 rounded half up to cents
    assert lines_of(listed) == [("list_price", "555.56")]
    assert listed.lines[0].params == {"grade": "excellent"}
    assert listed.total == Money("555.56", "EUR")
    assert priced_by.explicit_prices("acme-phone-256gb") == {"excellent": Decimal("555.555")}
    assert priced_by.explicit_prices("acme-phone-128gb") is None
    # the good grade is not listed: the model's 655.21 of the first hand-computed case
    other_grade = value(priced_by, "scratched", storage_gb=256, as_of=date(2024, 3, 15))
    assert other_grade.total == Money("655.21", "EUR")
    assert next(code for code, _ in iter_lines(other_grade)) == "launch_price"
    # 128 GB is not listed at all: 1000 × 1.1 × 0.8 (0 months) × 1 = 880.00
    assert value(priced_by, "flawless", storage_gb=128, as_of=RELEASE).total == Money("880.00", "EUR")


# -- when a price is unavailable ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priced_by", "model", "condition", "message"),
    [
        (
            lambda: book(reference_model=None),
            ACME_PHONE,
            "flawless",
            "no price for acme-phone-256gb in grade excellent (test-shop-de@1.0)",
        ),
        (
            lambda: book(
                reference_model=None,
                prices=[{"variant_id": "acme-phone-256gb", "grades": {"excellent": "500"}}],
            ),
            ACME_PHONE,
            "scratched",
            "no price for acme-phone-256gb in grade good (test-shop-de@1.0)",
        ),
        (
            book,
            ACME_WATCH,
            "watch-flawless",
            "no price for acme-watch-32gb in grade excellent (test-shop-de@1.0)",
        ),
        (
            lambda: book(reference_model=reference_model(grade_factors={"excellent": "1"})),
            ACME_PHONE,
            "scratched",
            "no price for acme-phone-256gb in grade good (test-shop-de@1.0)",
        ),
        (
            book,
            US_ONLY_PHONE,
            "flawless",
            "no price for acme-phone-us-128gb in grade excellent (test-shop-de@1.0)",
        ),
        (
            lambda: book(market="US", currency="USD"),
            ACME_PHONE,
            "flawless",
            "no launch price in USD for acme-phone-256gb in grade excellent (test-shop-de@1.0)",
        ),
    ],
    ids=[
        "no-prices-no-model",
        "listed-variant-lacks-the-grade",
        "no-curve-for-the-category",
        "no-grade-factor",
        "no-launch-price-in-the-market",
        "launch-price-in-another-currency",
    ],
)
def test_price_unavailable(
    priced_by: Callable[[], PriceBook], model: DeviceModel, condition: str, message: str
) -> None:
    """Without a list price or a usable reference model: PriceUnavailableError naming device and book."""
    with pytest.raises(PriceUnavailableError) as caught:
        value(priced_by(), condition, model=model)
    assert caught.value.code == "price_unavailable"
    assert str(caught.value) == message


# -- recycling only -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "reasons"),
    [
        ("activation-locked", "activation_lock_on"),
        ("swollen-and-locked", "battery_swollen, activation_lock_on"),
    ],
    ids=["one-knockout", "two-knockouts"],
)
def test_knocked_out_device_is_recycle_only(condition: str, reasons: str) -> None:
    """A knockout gives a zero total with one recycle_only line naming the knockouts (floor ignored)."""
    priced_by = listed_book(
        "200",
        floor="50",
        adjustments=[
            {"id": "any-lock", "message": "Locked", "when": {"lock": ["account_locked"]}, "amount": "5"}
        ],
    )
    valuation = value(priced_by, condition)
    assert valuation.recycle_only
    assert valuation.pricing_grade is None
    (line,) = valuation.lines
    assert line.code == "recycle_only"
    assert line.params == {"reasons": reasons}
    assert line.amount == Money.zero("EUR")
    assert valuation.total.amount.as_tuple() == Decimal("0.00").as_tuple()
    assert valuation.total.currency == "EUR"
    assert line.describe("en") == f"No price ({reasons}): the device can be recycled free of charge."


def test_knocked_out_device_needs_no_price_in_the_book() -> None:
    """A book that cannot price the device still gives the recycling-only valuation of a knocked-out one."""
    valuation = value(book(reference_model=None), "activation-locked")
    assert valuation.recycle_only
    assert valuation.total.is_zero()


# -- adjustments ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "condition", "applies"),
    [
        ({"cosmetic": ["B"]}, "scratched", True),
        ({"cosmetic": ["B"]}, "flawless", False),
        ({"cosmetic": ["B", "C"]}, "deep-scratches", True),
        ({"cosmetic": ["B", "C"]}, "cracked", False),
        ({"functional": [1]}, "vibration", True),
        ({"functional": [1]}, "flawless", False),
        ({"functional": [1, 9]}, "no-power", True),
        ({"lock": ["carrier_locked"]}, "carrier-locked", True),
        ({"lock": ["carrier_locked"]}, "flawless", False),
        ({"battery": ["degraded"]}, "worn-battery", True),
        ({"battery": ["degraded"]}, "no-power", False),
        ({"battery": ["degraded", "unknown"]}, "no-power", True),
        ({"liquid": ["suspected"]}, "liquid", True),
        ({"liquid": ["suspected"]}, "flawless", False),
        ({"findings": ["replaced_parts"]}, "replaced-parts", True),
        ({"findings": ["replaced_parts"]}, "flawless", False),
        ({"findings": ["replaced_parts", "display_scratched"]}, "scratched", True),
        ({"categories": ["tablet"]}, "tablet-flawless", True),
        ({"categories": ["tablet"]}, "flawless", False),
        ({"categories": ["tablet", "smartwatch"]}, "watch-flawless", True),
        ({"cosmetic": ["B"], "lock": ["carrier_locked"]}, "scratched-and-locked", True),
        ({"cosmetic": ["B"], "lock": ["carrier_locked"]}, "scratched", False),
        ({"cosmetic": ["B"], "lock": ["carrier_locked"]}, "carrier-locked", False),
        ({"cosmetic": ["B"], "categories": ["smartphone"], "findings": ["frame_worn"]}, "scratched", False),
    ],
    ids=[
        "cosmetic-matches",
        "cosmetic-differs",
        "cosmetic-any-of",
        "cosmetic-worse-than-listed",
        "functional-matches",
        "functional-differs",
        "functional-any-of",
        "lock-matches",
        "lock-differs",
        "battery-matches",
        "battery-unknown-is-not-degraded",
        "battery-any-of",
        "liquid-matches",
        "liquid-differs",
        "finding-fired",
        "finding-not-fired",
        "findings-any-of",
        "category-matches",
        "category-differs",
        "categories-any-of",
        "all-conditions-hold",
        "only-cosmetic-holds",
        "only-lock-holds",
        "one-of-three-fails",
    ],
)
def test_adjustment_applies_only_when_every_condition_holds(
    when: dict[str, list[Any]], condition: str, applies: bool
) -> None:
    """Each given condition must hold (AND); each list is any-of; the line names the adjustment."""
    adjustment = {"id": "test-adjustment", "message": "Test adjustment", "when": when, "amount": "-10"}
    valuation = value(listed_book("200", adjustments=[adjustment]), condition)
    if applies:
        # 200.00 − 10.00
        assert lines_of(valuation) == [("list_price", "200.00"), ("adjustment", "-10.00")]
        assert valuation.lines[1].adjustment_id == "test-adjustment"
        assert valuation.lines[1].message_id == "Test adjustment"
        assert valuation.total == Money("190.00", "EUR")
    else:
        assert lines_of(valuation) == [("list_price", "200.00")]
        assert valuation.total == Money("200.00", "EUR")


def _adjustment(name: str, **change: str) -> dict[str, Any]:
    return {"id": name, "message": f"Adjustment {name}", "when": {"cosmetic": ["B"]}, **change}


@pytest.mark.parametrize(
    ("price", "adjustments", "expected"),
    [
        # 199.99 × −10 % = −19.999 → −20.00
        ("199.99", [_adjustment("a", percent="-10")], [("list_price", "199.99"), ("adjustment", "-20.00")]),
        # 123.45 × −12.5 % = −15.43125 → −15.43 (half up)
        ("123.45", [_adjustment("a", percent="-12.5")], [("list_price", "123.45"), ("adjustment", "-15.43")]),
        # 200 × +5 % = +10.00: an adjustment may add
        ("200", [_adjustment("a", percent="5")], [("list_price", "200.00"), ("adjustment", "10.00")]),
        # both percentages are of the value before adjustments: −20, −20 (not −20, −18)
        (
            "200",
            [_adjustment("a", percent="-10"), _adjustment("b", percent="-10")],
            [("list_price", "200.00"), ("adjustment", "-20.00"), ("adjustment", "-20.00")],
        ),
        # a percentage and a fixed amount: −20.00, then −15.50
        (
            "200",
            [_adjustment("a", percent="-10"), _adjustment("b", amount="-15.5")],
            [("list_price", "200.00"), ("adjustment", "-20.00"), ("adjustment", "-15.50")],
        ),
        # a fixed amount with more places than cents: 2.345 → 2.35 (half up)
        ("200", [_adjustment("a", amount="2.345")], [("list_price", "200.00"), ("adjustment", "2.35")]),
    ],
    ids=[
        "percent-rounds-to-cents",
        "percent-half-up",
        "positive-percent",
        "percents-do-not-compound",
        "percent-then-fixed",
        "fixed-rounds-to-cents",
    ],
)
def test_adjustment_amounts_by_hand(
    price: str, adjustments: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    """Percent adjustments take a share of the graded value, fixed ones add their amount, each in cents."""
    valuation = value(listed_book(price, adjustments=adjustments), "scratched")
    assert lines_of(valuation) == expected
    assert [line.adjustment_id for line in valuation.lines[1:]] == [item["id"] for item in adjustments]
    assert valuation.total == Money(sum((Decimal(amount) for _, amount in expected), Decimal(0)), "EUR")


# -- floor, cap, not negative, rounding -----------------------------------------------------------------


def _rounding(increment: str, mode: str) -> dict[str, str]:
    return {"increment": increment, "mode": mode}


MINUS_25 = [{"id": "minus", "message": "Minus", "when": {"cosmetic": ["A"]}, "amount": "-25"}]


@pytest.mark.parametrize(
    ("price", "changes", "expected"),
    [
        ("30", {"floor": "50"}, [("list_price", "30.00"), ("floor", "20.00")]),
        ("80", {"floor": "50"}, [("list_price", "80.00")]),
        ("650", {"cap": "500"}, [("list_price", "650.00"), ("cap", "-150.00")]),
        ("400", {"cap": "500"}, [("list_price", "400.00")]),
        ("500", {"cap": "500", "floor": "500"}, [("list_price", "500.00")]),
        # 10 − 25 = −15 → back to 0.00 (+15.00)
        (
            "10",
            {"adjustments": MINUS_25},
            [("list_price", "10.00"), ("adjustment", "-25.00"), ("not_negative", "15.00")],
        ),
        # 10 − 25 = −15 → the floor 5 (+20.00); nothing left for not_negative to do
        (
            "10",
            {"adjustments": MINUS_25, "floor": "5"},
            [("list_price", "10.00"), ("adjustment", "-25.00"), ("floor", "20.00")],
        ),
        # 123.45 / 1 → 123 (down) / 123 (half up) / 124 (up)
        ("123.45", {"rounding": _rounding("1", "down")}, [("list_price", "123.45"), ("rounding", "-0.45")]),
        (
            "123.45",
            {"rounding": _rounding("1", "half_up")},
            [("list_price", "123.45"), ("rounding", "-0.45")],
        ),
        ("123.50", {"rounding": _rounding("1", "half_up")}, [("list_price", "123.50"), ("rounding", "0.50")]),
        ("123.45", {"rounding": _rounding("1", "up")}, [("list_price", "123.45"), ("rounding", "0.55")]),
        # 123.45 / 5 = 24.69 → 24 × 5 = 120 (down)
        ("123.45", {"rounding": _rounding("5", "down")}, [("list_price", "123.45"), ("rounding", "-3.45")]),
        # 122.49 / 5 = 24.498 → 24 → 120 (half up)
        (
            "122.49",
            {"rounding": _rounding("5", "half_up")},
            [("list_price", "122.49"), ("rounding", "-2.49")],
        ),
        # 122.50 / 5 = 24.5 → 25 → 125 (half up)
        ("122.50", {"rounding": _rounding("5", "half_up")}, [("list_price", "122.50"), ("rounding", "2.50")]),
        # 120.01 / 5 = 24.002 → 25 → 125 (up)
        ("120.01", {"rounding": _rounding("5", "up")}, [("list_price", "120.01"), ("rounding", "4.99")]),
        # 123.47 / 0.05 = 2469.4 → 2469 × 0.05 = 123.45 (half up)
        (
            "123.47",
            {"rounding": _rounding("0.05", "half_up")},
            [("list_price", "123.47"), ("rounding", "-0.02")],
        ),
        # already a multiple: no rounding line
        ("120", {"rounding": _rounding("5", "up")}, [("list_price", "120.00")]),
        # the floor, then rounding (50 is a multiple of 1)
        (
            "30",
            {"floor": "50", "rounding": _rounding("1", "down")},
            [("list_price", "30.00"), ("floor", "20.00")],
        ),
        # the cap, then rounding (500 is a multiple of 5)
        (
            "650",
            {"cap": "500", "rounding": _rounding("5", "up")},
            [("list_price", "650.00"), ("cap", "-150.00")],
        ),
    ],
    ids=[
        "floor-raises",
        "above-floor",
        "cap-lowers",
        "below-cap",
        "floor-equals-cap",
        "never-negative",
        "floor-before-not-negative",
        "down-1",
        "half-up-1-below-half",
        "half-up-1-at-half",
        "up-1",
        "down-5",
        "half-up-5-below-half",
        "half-up-5-at-half",
        "up-5",
        "half-up-5-cents",
        "already-a-multiple",
        "floor-then-rounding",
        "cap-then-rounding",
    ],
)
def test_floor_cap_not_negative_and_rounding_by_hand(
    price: str, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    """The floor, cap, zero limit and rounding rule each move the total and say by how much."""
    valuation = value(listed_book(price, **changes), "flawless")
    assert lines_of(valuation) == expected
    assert valuation.total == Money(sum((Decimal(amount) for _, amount in expected), Decimal(0)), "EUR")
    assert valuation.total.amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("price", "changes"),
    [
        ("0.40", {"floor": "1.50", "rounding": _rounding("1", "down")}),
        ("120", {"cap": "99.50", "rounding": _rounding("1", "up")}),
    ],
    ids=["rounding-below-the-floor", "rounding-above-the-cap"],
)
def test_rounding_never_crosses_the_floor_or_cap(price: str, changes: dict[str, Any]) -> None:
    """A priced device gets at least the floor and at most the cap, whatever the rounding rule."""
    priced_by = listed_book(price, **changes)
    total = value(priced_by, "flawless").total
    if priced_by.floor is not None:
        assert total >= Money(priced_by.floor, "EUR")
    if priced_by.cap is not None:
        assert total <= Money(priced_by.cap, "EUR")


# -- the property: lines add up to the total ------------------------------------------------------------

CATALOG_VARIANTS = [(model, variant) for model in Catalog.bundled() for variant in model.variants]
BUNDLED_BOOKS = PriceBookSource.bundled()
QUESTIONNAIRES = {category: load_questionnaire(category.value) for category in DeviceCategory}


def answer_values(question: Question) -> st.SearchStrategy[Any]:
    """Every answer a question accepts (the harmless answer more often, so fewer devices are knocked out)."""
    if question.kind is QuestionKind.YES_NO:
        if question.worse in {Worse.YES, Worse.NO}:
            return st.one_of(st.just(question.worse is Worse.NO), st.booleans())
        return st.booleans()
    if question.kind is QuestionKind.SINGLE_CHOICE:
        if question.worse is Worse.LATER:
            return st.one_of(st.just(question.option_ids[0]), st.sampled_from(question.option_ids))
        return st.sampled_from(question.option_ids)
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        return st.lists(st.sampled_from(question.option_ids), unique=True)
    assert question.number is not None
    return st.integers(min_value=int(question.number.minimum), max_value=int(question.number.maximum))


@st.composite
def generated_answers(draw: st.DrawFn, category: DeviceCategory) -> tuple[dict[str, Any], VerificationDepth]:
    """Answers drawn from the questionnaire's options, without the questions it would not ask."""
    questionnaire = QUESTIONNAIRES[category]
    verification = draw(st.sampled_from([SELF, STAFF]))
    answers = {
        question.id: draw(answer_values(question))
        for question in questionnaire.questions
        if question.required or draw(st.booleans())
    }
    not_asked = {
        problem.path.removeprefix("$.")
        for problem in questionnaire.answer_problems(answers, verification=verification)
        if problem.code == "question_not_shown"
    }
    answers = {key: answer for key, answer in answers.items() if key not in not_asked}
    assert questionnaire.answer_problems(answers, verification=verification) == ()
    return answers, verification


@st.composite
def bundled_example(draw: st.DrawFn, category: DeviceCategory) -> tuple[dict[str, Any], VerificationDepth]:
    """A bundled example answer set, answered by staff when it holds staff-only checks."""
    answers = example_answers(
        category.value, draw(st.sampled_from(example_answer_names(category.value)))
    ).answers
    staff_only = {question.id for question in QUESTIONNAIRES[category].questions if question.staff_only}
    return answers, STAFF if staff_only & answers.keys() else SELF


@settings(max_examples=300)
@given(data=st.data())
def test_valuation_lines_sum_exactly_to_the_total(data: st.DataObject) -> None:
    """For any device, answers, date and bundled book: lines sum to the total, in cents, ≥ 0, ≥ the floor."""
    model, variant = data.draw(st.sampled_from(CATALOG_VARIANTS), label="variant")
    market = data.draw(st.sampled_from(BUNDLED_BOOKS.markets), label="market")
    as_of = data.draw(st.dates(min_value=model.release_date, max_value=date(2030, 12, 31)), label="as_of")
    answers, verification = data.draw(
        st.one_of(bundled_example(model.category), generated_answers(model.category)), label="answers"
    )
    graded = QUESTIONNAIRES[model.category].evaluate(answers, verification=verification)
    priced_by = BUNDLED_BOOKS.price_book(market)
    priceable = any(candidate.launch_price(market) is not None for candidate in model.variants)
    event("knocked out" if graded.pricing_grade is None else "priced" if priceable else "no launch price")
    if graded.pricing_grade is not None and not priceable:
        with pytest.raises(PriceUnavailableError):
            value_device(priced_by, model=model, variant=variant, report=graded, as_of=as_of)
        return
    valuation = value_device(priced_by, model=model, variant=variant, report=graded, as_of=as_of)
    currency = priced_by.currency
    assert Money.total((line.amount for line in valuation.lines), currency) == valuation.total
    for amount in (valuation.total, *(line.amount for line in valuation.lines)):
        assert amount.currency == currency
        assert amount.amount.as_tuple().exponent == -minor_units(currency)
    assert valuation.total >= Money.zero(currency)
    if valuation.recycle_only:
        assert valuation.total.is_zero()
        assert [line.code for line in valuation.lines] == ["recycle_only"]
    else:
        assert priced_by.floor is not None
        assert valuation.total >= Money(priced_by.floor, currency)


# -- documents ------------------------------------------------------------------------------------------


def full_document() -> dict[str, Any]:
    """A valid book using every part of the format."""
    return book_document(
        description="A shop's prices",
        prices=[
            {"variant_id": "acme-phone-256gb", "grades": {"excellent": "500", "good": "400"}},
            {"variant_id": "acme-phone-128gb", "grades": {"excellent": "450"}},
        ],
        adjustments=[
            {
                "id": "carrier-locked",
                "message": "Carrier lock",
                "when": {"lock": ["carrier_locked"]},
                "percent": "-10",
            },
            {
                "id": "battery-service",
                "message": "Battery",
                "when": {"battery": ["degraded"]},
                "amount": "-15",
            },
        ],
        floor="1",
        cap="1500",
        rounding={"increment": "1", "mode": "down"},
    )


@pytest.mark.parametrize(
    "path",
    sorted(BUNDLED_PRICEBOOKS.glob("*.json")),
    ids=lambda path: path.name,
)
def test_bundled_books_validate(path: Path) -> None:
    """Every bundled price book has no problem and parses."""
    document = json.loads(path.read_text(encoding="utf-8"))
    assert pricebook_problems(document) == []
    assert parse_pricebook(document).market in {"DE", "US"}


def test_full_document_is_valid_and_parses_into_the_model() -> None:
    """A valid document gives a PriceBook with decimals, conditions, rounding and a content hash."""
    document = {"$schema": "urn:tradein-sdk:schemas:pricebook", **full_document()}
    assert pricebook_problems(document) == []
    parsed = parse_pricebook(document)
    assert parsed.description == "A shop's prices"
    assert parsed.reference_model is not None
    assert parsed.reference_model.curves["smartphone"].monthly_retention == Decimal("0.9")
    assert parsed.reference_model.brand_factor("Acme") == Decimal("1.1")
    assert parsed.reference_model.brand_factor("Initech") == Decimal("0.5")
    assert parsed.adjustments[0].when.lock == ("carrier_locked",)
    assert parsed.adjustments[0].percent == Decimal(-10)
    assert parsed.adjustments[1].amount == Decimal(-15)
    assert (parsed.floor, parsed.cap) == (Decimal(1), Decimal(1500))
    assert parsed.rounding is not None
    assert parsed.rounding.mode is RoundingMode.DOWN
    assert parsed.document is document
    reordered = dict(reversed(list(document.items())))
    assert parse_pricebook(reordered).content_hash == parsed.content_hash
    assert parse_pricebook({**document, "version": "1.1"}).content_hash != parsed.content_hash


def _set(*keys: str | int, to: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = to

    return change


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        del document[key]

    return change


def _duplicate_first_price(document: dict[str, Any]) -> None:
    document["prices"].append(copy.deepcopy(document["prices"][0]))


@pytest.mark.parametrize(
    ("corrupt", "path", "message"),
    [
        (_delete("currency"), "$", "'currency' is a required property"),
        (_set("rounding", "mode", to="nearest"), "$.rounding.mode", "'nearest' is not one of"),
        (
            _set("reference_model", "grade_factors", "good", to=0.8),
            "$.reference_model.grade_factors.good",
            "0.8 is not of type 'string'",
        ),
        (_set("floor", to="-1"), "$.floor", "'-1' does not match"),
        (_set("adjustments", 0, "amount", to="-5"), "$.adjustments[0]", "is valid under each of"),
        (_set("surprise", to=True), "$", "'surprise' was unexpected"),
        (
            _duplicate_first_price,
            "$.prices[2].variant_id",
            "acme-phone-256gb is already priced at $.prices[0]",
        ),
        (
            _set("prices", 1, "grades", "mint", to="600"),
            "$.prices[1].grades",
            "grades ['mint'] are not in the reference model's grade_factors",
        ),
        (_set("floor", to="2000"), "$.floor", "the floor is above the cap"),
        (
            _set("adjustments", 1, "id", to="carrier-locked"),
            "$.adjustments[1].id",
            "adjustment id 'carrier-locked' is used twice",
        ),
        (_set("currency", to="ABC"), "$.currency", "unknown currency 'ABC'"),
    ],
    ids=[
        "missing-currency",
        "unknown-rounding-mode",
        "factor-not-a-string",
        "negative-floor",
        "percent-and-amount",
        "unknown-property",
        "duplicate-variant-price",
        "grade-without-factor",
        "floor-above-cap",
        "duplicate-adjustment-id",
        "unknown-currency",
    ],
)
def test_each_problem_is_reported_at_its_path(
    corrupt: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    """A corrupted copy reports its one problem with the JSON path, and parse_pricebook refuses it."""
    document = full_document()
    corrupt(document)
    problems = pricebook_problems(document)
    assert [problem.path for problem in problems] == [path]
    assert message in problems[0].message
    with pytest.raises(DocumentInvalidError) as caught:
        parse_pricebook(document, origin="shop-book.json")
    assert caught.value.problems == tuple(problems)
    assert caught.value.kind == "pricebook"
    assert caught.value.source == "shop-book.json"


def test_document_invalid_error_carries_every_problem() -> None:
    """Several rule violations are all reported, in document order, in one DocumentInvalidError."""
    document = full_document()
    document["currency"] = "ABC"
    document["prices"][1]["grades"]["mint"] = "600"
    _duplicate_first_price(document)
    document["floor"] = "2000"
    document["adjustments"][1]["id"] = "carrier-locked"
    with pytest.raises(DocumentInvalidError) as caught:
        parse_pricebook(document, origin="shop-book.json")
    assert caught.value.code == "document_invalid"
    assert [problem.path for problem in caught.value.problems] == [
        "$.currency",
        "$.prices[1].grades",
        "$.prices[2].variant_id",
        "$.floor",
        "$.adjustments[1].id",
    ]
    for problem in caught.value.problems:
        assert str(problem) in str(caught.value)


def test_explicit_grades_are_free_without_a_reference_model() -> None:
    """Without a reference model a list may use any grade ids (there are no grade factors to match)."""
    document = book_document(
        reference_model=None, prices=[{"variant_id": "acme-phone-256gb", "grades": {"mint": "600"}}]
    )
    assert pricebook_problems(document) == []


def test_a_document_that_is_not_an_object_is_refused() -> None:
    """A JSON array is one problem at the root."""
    assert [problem.path for problem in pricebook_problems([])] == ["$"]


# -- translations ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "code", "words"),
    [
        ("de_DE", "launch_price", ("Einführungspreis", "256\u00a0GB")),
        ("de_DE", "brand", ("Nachfrage", "Acme")),
        ("de_DE", "age", ("Monate", "2")),
        ("de_DE", "condition", ("Zustand", "good")),
        ("de_DE", "floor", ("Mindestpreis",)),
        ("de_DE", "rounding", ("Vielfaches", "5")),
        ("fr_FR", "launch_price", ("Prix de lancement", "256\u202fGo")),
        ("fr_FR", "brand", ("appareils", "Acme")),
        ("fr_FR", "age", ("mois", "2")),
        ("fr_FR", "condition", ("État", "good")),
        ("fr_FR", "floor", ("Prix minimal",)),
        ("fr_FR", "rounding", ("multiple", "5")),
        ("de-DE", "age", ("Monate",)),
    ],
    ids=[
        "de-launch",
        "de-brand",
        "de-age",
        "de-condition",
        "de-floor",
        "de-rounding",
        "fr-launch",
        "fr-brand",
        "fr-age",
        "fr-condition",
        "fr-floor",
        "fr-rounding",
        "dashed-locale",
    ],
)
def test_lines_describe_themselves_in_the_shoppers_language(
    locale: str, code: str, words: tuple[str, ...]
) -> None:
    """describe(locale) translates the line and fills in its parameters."""
    # 655.21 (first hand-computed case) → up to a multiple of 5: 660.00 → below the floor 700: 700.00
    priced_by = book(floor="700", rounding=_rounding("5", "up"))
    lines = {line.code: line for line in value(priced_by, "scratched", storage_gb=256).lines}
    lines["rounding"] = value(listed_book("123", rounding=_rounding("5", "up")), "flawless").lines[-1]
    text = lines[code].describe(locale)
    assert text != lines[code].message_id.format(**lines[code].params)
    for word in words:
        assert word in text


@pytest.mark.parametrize(
    ("condition", "adjustment_id"),
    [
        ("carrier-locked", "carrier-locked"),
        ("worn-battery", "battery-service"),
        ("replaced-parts", "replaced-parts"),
    ],
    ids=["carrier-locked", "battery-service", "replaced-parts"],
)
@pytest.mark.parametrize("locale", ["de_DE", "fr_FR"], ids=["de", "fr"])
def test_bundled_adjustments_describe_themselves_in_the_shoppers_language(
    condition: str, adjustment_id: str, locale: str
) -> None:
    """The adjustment lines of the bundled books are translated like every other line."""
    valuation = value(BUNDLED_BOOKS.price_book("DE"), condition)
    (line,) = [line for line in valuation.lines if line.adjustment_id == adjustment_id]
    assert line.describe(locale) != line.message_id
