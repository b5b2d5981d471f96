from __future__ import annotations

import copy
import io
import json
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from babel.messages.catalog import Catalog as MessageCatalog
from babel.messages.mofile import write_mo
from hypothesis import given
from hypothesis import strategies as st

from tradein_sdk import Catalog, CurrencyMismatchError, DeviceCategory, DocumentInvalidError, Money
from tradein_sdk._domain.params import Phrase, Weekday
from tradein_sdk._domain.promotions import (
    EXAMPLE_PROMOTIONS,
    PRICING_GRADES,
    CustomerCase,
    Promotion,
    PromotionBook,
    PromotionConditions,
    PromotionKind,
    PromotionOutcome,
    PromotionUsage,
    Purchase,
    RejectionReason,
    Stacking,
    TradedDevice,
    evaluate_promotions,
    extract_promotions_messages,
    format_param,
    load_promotions,
    parse_promotions,
    promotions_problems,
)
from tradein_sdk._domain.quotes import Channel

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

# -- the shopper of the scenario table --------------------------------------------------------------------
# A Galaxy S22 (released 2022-02-25) in grade good, quoted 180 €, traded in online on Saturday 5 December
# 2026 with an upgrade to a Galaxy S25 bought for 899 €.

TODAY = date(2026, 12, 5)
S22 = TradedDevice(
    model_id="samsung-galaxy-s22",
    brand="Samsung",
    category=DeviceCategory.SMARTPHONE,
    release_date=date(2022, 2, 25),
    grade="good",
    quoted=Money("180.00", "EUR"),
)
S25 = Purchase(sku="SM-S931BZKDEUB", brand="Samsung", category="smartphones", price=Money("899.00", "EUR"))


def eur(amount: str) -> dict[str, str]:
    """A money object of a promotions document."""
    return {"amount": amount, "currency": "EUR"}


def promotion(pid: str = "boost", **fields: Any) -> dict[str, Any]:  # noqa: ANN401 - JSON values
    """A promotion document: a combinable +50 € bonus unless ``fields`` say otherwise."""
    document: dict[str, Any] = {
        "id": pid,
        "title": f"Offer {pid}",
        "kind": "fixed_bonus",
        "amount": eur("50.00"),
        "stacking": "combinable",
    }
    document.update(fields)
    return document


def book_document(*promotions: dict[str, Any]) -> dict[str, Any]:
    """A promotions document in EUR for Germany holding ``promotions``."""
    return {
        "$schema": "urn:tradein-sdk:schemas:promotions",
        "promotions_id": "test-promotions",
        "version": "1.0",
        "market": "DE",
        "currency": "EUR",
        "promotions": list(promotions),
    }


def book(*promotions: dict[str, Any]) -> PromotionBook:
    """The parsed promotions document holding ``promotions``."""
    return parse_promotions(book_document(*promotions))


def evaluate(
    promotions: PromotionBook,
    *,
    traded: TradedDevice = S22,
    purchase: Purchase | None = S25,
    channel: Channel = Channel.ONLINE,
    customer_case: CustomerCase = CustomerCase.UPGRADE,
    today: date = TODAY,
    spent: Mapping[str, PromotionUsage] | None = None,
) -> PromotionOutcome:
    """Evaluate ``promotions`` for the scenario's shopper, with some inputs changed."""
    return evaluate_promotions(
        promotions,
        traded=traded,
        purchase=purchase,
        channel=channel,
        customer_case=customer_case,
        today=today,
        spent=spent or {},
    )


def with_device(**changes: Any) -> TradedDevice:  # noqa: ANN401 - any field of the device
    """The scenario's S22 with some fields changed."""
    return attrs.evolve(S22, **changes)


def with_purchase(**changes: Any) -> Purchase:  # noqa: ANN401 - any field of the purchase
    """The scenario's S25 purchase with some fields changed."""
    return attrs.evolve(S25, **changes)


# -- the scenario table ---------------------------------------------------------------------------------

ELIGIBLE: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    # id, promotion fields, changed inputs, boost, English explanation
    ("fixed-bonus", {}, {}, "50.00", "Bonus of €50.00 on top of the trade-in value."),
    (
        "percent-bonus",
        {"kind": "percent_bonus", "percent": "10", "amount": None},
        {},
        "18.00",
        "Bonus of 10% of the trade-in value: €18.00.",
    ),
    (
        "percent-bonus-fraction",
        {"kind": "percent_bonus", "percent": "7.5", "amount": None},
        {},
        "13.50",
        "Bonus of 7.5% of the trade-in value: €13.50.",
    ),
    (
        "percent-bonus-rounds-half-up",
        {"kind": "percent_bonus", "percent": "5", "amount": None},
        {"traded": with_device(quoted=Money("100.10", "EUR"))},
        "5.01",
        "Bonus of 5% of the trade-in value: €5.01.",
    ),
    (
        "percent-bonus-capped",
        {"kind": "percent_bonus", "percent": "10", "amount": None, "cap": eur("15.00")},
        {},
        "15.00",
        "Bonus of 10% of the trade-in value, at most €15.00: €15.00.",
    ),
    (
        "percent-bonus-below-cap",
        {"kind": "percent_bonus", "percent": "10", "amount": None, "cap": eur("20.00")},
        {},
        "18.00",
        "Bonus of 10% of the trade-in value: €18.00.",
    ),
    (
        "guaranteed-minimum-above-quote",
        {"kind": "guaranteed_minimum", "amount": eur("200.00")},
        {},
        "20.00",
        "Guaranteed minimum of €200.00: €20.00 added to the trade-in value.",
    ),
    (
        "guaranteed-minimum-capped",
        {"kind": "guaranteed_minimum", "amount": eur("300.00"), "cap": eur("100.00")},
        {},
        "100.00",
        "Guaranteed minimum of €300.00, top-up at most €100.00: €100.00 added.",
    ),
    (
        "every-condition-holds",
        {
            "conditions": {
                "traded_device": {
                    "brands": ["samsung", "Google"],
                    "model_ids": ["samsung-galaxy-s22"],
                    "categories": ["smartphone"],
                    "released_on_or_after": "2022-02-25",
                    "max_age_months": 60,
                    "min_grade": "good",
                },
                "purchase": {
                    "skus": ["SM-S931BZKDEUB"],
                    "brands": ["SAMSUNG"],
                    "categories": ["smartphones"],
                    "min_price": eur("899.00"),
                },
                "channels": ["online", "store"],
                "customer_cases": ["new_contract", "upgrade"],
                "valid_from": "2026-12-05",
                "valid_until": "2026-12-05",
                "weekdays": ["saturday", "sunday"],
            }
        },
        {},
        "50.00",
        "Bonus of €50.00 on top of the trade-in value.",
    ),
    (
        "better-grade-than-needed",
        {"conditions": {"traded_device": {"min_grade": "fair"}}},
        {"traded": with_device(grade="excellent")},
        "50.00",
        "Bonus of €50.00 on top of the trade-in value.",
    ),
    (
        "no-purchase-needed",
        {"conditions": {"channels": ["online"]}},
        {"purchase": None},
        "50.00",
        "Bonus of €50.00 on top of the trade-in value.",
    ),
]

INELIGIBLE: list[tuple[str, dict[str, Any], dict[str, Any], RejectionReason, str]] = [
    # id, conditions, changed inputs, reason, English explanation
    (
        "recycling-only",
        {},
        {"traded": with_device(grade=None, quoted=Money("0.00", "EUR"))},
        RejectionReason.RECYCLE_ONLY,
        "Not eligible: a device accepted for free recycling only gets no promotion.",
    ),
    (
        "brand",
        {"traded_device": {"brands": ["Apple"]}},
        {},
        RejectionReason.BRAND,
        "Not eligible: only for Apple devices.",
    ),
    (
        "brands",
        {"traded_device": {"brands": ["Apple", "Google", "Fairphone"]}},
        {},
        RejectionReason.BRAND,
        "Not eligible: only for Apple, Google, or Fairphone devices.",
    ),
    (
        "model",
        {"traded_device": {"model_ids": ["samsung-galaxy-s23", "samsung-galaxy-s24"]}},
        {},
        RejectionReason.MODEL,
        "Not eligible: this offer is for other device models.",
    ),
    (
        "category",
        {"traded_device": {"categories": ["tablet", "smartwatch"]}},
        {},
        RejectionReason.CATEGORY,
        "Not eligible: only for these kinds of device: Tablet or Smartwatch.",
    ),
    (
        "release-date",
        {"traded_device": {"released_on_or_after": "2022-02-26"}},
        {},
        RejectionReason.RELEASE_DATE,
        "Not eligible: only for devices released on or after February 26, 2022.",
    ),
    (
        "age",
        {"traded_device": {"max_age_months": 56}},
        {},
        RejectionReason.AGE,
        "Not eligible: the traded device is older than 56 months.",
    ),
    (
        "grade",
        {"traded_device": {"min_grade": "excellent"}},
        {},
        RejectionReason.GRADE,
        "Not eligible: the traded device must be in grade “Excellent” or better.",
    ),
    (
        "no-purchase",
        {"purchase": {"min_price": eur("0.00")}},
        {"purchase": None},
        RejectionReason.NO_PURCHASE,
        "Not eligible: this offer needs the purchase of a new product.",
    ),
    (
        "purchase-sku",
        {"purchase": {"skus": ["SM-S938BZKDEUB"]}},
        {},
        RejectionReason.PURCHASE_SKU,
        "Not eligible: this offer is for the purchase of other products.",
    ),
    (
        "purchase-brand",
        {"purchase": {"brands": ["Apple"]}},
        {},
        RejectionReason.PURCHASE_BRAND,
        "Not eligible: only when you buy a product by Apple.",
    ),
    (
        "purchase-category",
        {"purchase": {"categories": ["tablets"]}},
        {},
        RejectionReason.PURCHASE_CATEGORY,
        "Not eligible: the product you buy is not in a category of this offer.",
    ),
    (
        "purchase-min-price",
        {"purchase": {"min_price": eur("899.01")}},
        {},
        RejectionReason.PURCHASE_PRICE,
        "Not eligible: the product you buy must cost at least €899.01.",
    ),
    (
        "channel",
        {"channels": ["store"]},
        {},
        RejectionReason.CHANNEL,
        "Not eligible: this offer is only available in store.",
    ),
    (
        "not-started",
        {"valid_from": "2026-12-06"},
        {},
        RejectionReason.NOT_STARTED,
        "Not available yet: the offer starts on December 6, 2026.",
    ),
    (
        "ended",
        {"valid_from": "2026-11-01", "valid_until": "2026-12-04"},
        {},
        RejectionReason.ENDED,
        "No longer available: the offer ended on December 4, 2026.",
    ),
    (
        "weekday",
        {"weekdays": ["saturday", "sunday"]},
        {"today": date(2026, 12, 7)},
        RejectionReason.WEEKDAY,
        "Not available today: the offer runs on Saturday or Sunday only.",
    ),
    (
        "customer-case",
        {"customer_cases": ["new_contract", "none"]},
        {},
        RejectionReason.CUSTOMER_CASE,
        "Not eligible: this offer is for a new contract or a purchase without a contract.",
    ),
]


@pytest.mark.parametrize(
    ("fields", "inputs", "boost", "explanation"),
    [row[1:] for row in ELIGIBLE],
    ids=[row[0] for row in ELIGIBLE],
)
def test_eligible_promotion_applies_with_its_boost_and_explanation(
    fields: dict[str, Any], inputs: dict[str, Any], boost: str, explanation: str
) -> None:
    """An eligible promotion of each kind adds the boost it promises and says so in English."""
    document = {key: value for key, value in (promotion() | fields).items() if value is not None}
    outcome = evaluate(book(document), **inputs)
    assert outcome.rejected == ()
    (applied,) = outcome.applied
    assert applied.boost == Money(boost, "EUR")
    assert applied.describe("en") == explanation
    assert outcome.total_boost == Money(boost, "EUR")
    assert outcome.boosted_value == outcome.quoted + Money(boost, "EUR")


@pytest.mark.parametrize(
    ("conditions", "inputs", "reason", "explanation"),
    [row[1:] for row in INELIGIBLE],
    ids=[row[0] for row in INELIGIBLE],
)
def test_ineligible_promotion_is_rejected_with_the_failing_condition(
    conditions: dict[str, Any], inputs: dict[str, Any], reason: RejectionReason, explanation: str
) -> None:
    """A promotion whose condition fails is rejected, naming that condition in English; nothing is added."""
    outcome = evaluate(book(promotion(conditions=conditions)), **inputs)
    assert outcome.applied == ()
    (rejected,) = outcome.rejected
    assert (rejected.promotion_id, rejected.reason) == ("boost", reason)
    assert rejected.describe("en") == explanation
    assert outcome.total_boost == Money("0.00", "EUR")


def test_age_limit_accepts_a_device_exactly_that_old() -> None:
    """A device exactly max_age_months old is still eligible; one more month and it is not."""
    promotions = book(promotion(conditions={"traded_device": {"max_age_months": 57}}))
    assert evaluate(promotions, today=date(2026, 12, 24)).applied
    assert not evaluate(promotions, today=date(2026, 12, 25)).applied


def test_the_first_failing_condition_is_reported() -> None:
    """With several conditions failing, the rejection names the first in the documented order."""
    conditions = {
        "traded_device": {"brands": ["Apple"], "min_grade": "excellent"},
        "purchase": {"skus": ["other"]},
        "channels": ["store"],
        "valid_until": "2026-01-31",
    }
    promotions = book(promotion(conditions=conditions))
    steps: list[tuple[dict[str, Any], RejectionReason]] = [
        ({}, RejectionReason.ENDED),
        ({"today": date(2026, 1, 31)}, RejectionReason.BRAND),
        ({"traded": with_device(brand="Apple")}, RejectionReason.GRADE),
        ({"traded": with_device(brand="Apple", grade="excellent")}, RejectionReason.CHANNEL),
        ({"channel": Channel.STORE}, RejectionReason.PURCHASE_SKU),
    ]
    inputs: dict[str, Any] = {}
    for change, reason in steps:
        inputs |= change
        assert evaluate(promotions, **inputs).rejected[0].reason is reason, change


# -- guaranteed minimum and zero boosts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quoted", "boost"),
    [("120.00", "80.00"), ("199.99", "0.01"), ("200.00", None), ("250.00", None)],
    ids=["far-below", "just-below", "equal", "above"],
)
def test_guaranteed_minimum_tops_up_only_a_lower_quote(quoted: str, boost: str | None) -> None:
    """The minimum adds the difference to a lower quote; a quote at or above it gets nothing, with why."""
    promotions = book(promotion(kind="guaranteed_minimum", amount=eur("200.00")))
    outcome = evaluate(promotions, traded=with_device(quoted=Money(quoted, "EUR")))
    if boost is not None:
        assert outcome.applied[0].boost == Money(boost, "EUR")
        assert outcome.boosted_value == Money("200.00", "EUR")
    else:
        (rejected,) = outcome.rejected
        assert rejected.reason is RejectionReason.NO_BOOST
        assert rejected.describe("en") == (
            "No top-up needed: the trade-in value is already at least the guaranteed €200.00."
        )
        assert outcome.boosted_value == Money(quoted, "EUR")


def test_percent_of_a_zero_quote_adds_nothing() -> None:
    """A percent bonus on a zero quote is rejected as adding nothing rather than applied as zero."""
    promotions = book(
        {k: v for k, v in promotion(kind="percent_bonus", percent="10").items() if k != "amount"}
    )
    outcome = evaluate(promotions, traded=with_device(quoted=Money("0.00", "EUR")))
    assert [item.reason for item in outcome.rejected] == [RejectionReason.NO_BOOST]
    assert outcome.rejected[0].describe("en") == "No bonus: the offer adds nothing to this trade-in value."


def test_a_zero_top_up_does_not_block_other_promotions() -> None:
    """An exclusive guaranteed minimum the quote already exceeds leaves the combinable bonus in place."""
    promotions = book(
        promotion(
            "minimum", kind="guaranteed_minimum", amount=eur("100.00"), stacking="exclusive", priority=9
        ),
        promotion("bonus"),
    )
    outcome = evaluate(promotions)
    assert [item.promotion_id for item in outcome.applied] == ["bonus"]
    assert outcome.total_boost == Money("50.00", "EUR")


# -- stacking ------------------------------------------------------------------------------------------

STACKING = [
    # id, promotions, applied ids, {rejected id: reason}, total
    (
        "exclusive-beats-lower-combinable",
        [
            promotion("launch", stacking="exclusive", priority=10, amount=eur("100.00")),
            promotion("bonus", priority=5),
        ],
        ["launch"],
        {"bonus": RejectionReason.EXCLUSIVE_APPLIES},
        "100.00",
    ),
    (
        "higher-combinable-beats-exclusive",
        [
            promotion("launch", stacking="exclusive", priority=5, amount=eur("100.00")),
            promotion("bonus", priority=10),
        ],
        ["bonus"],
        {"launch": RejectionReason.NOT_COMBINABLE},
        "50.00",
    ),
    (
        "two-combinables-add-up",
        [
            promotion("bonus"),
            promotion("weekend", kind="percent_bonus", percent="10", amount=None, priority=1),
        ],
        ["weekend", "bonus"],
        {},
        "68.00",
    ),
    (
        "highest-priority-exclusive-wins-over-larger-boost",
        [
            promotion("big", stacking="exclusive", priority=1, amount=eur("150.00")),
            promotion("small", stacking="exclusive", priority=2, amount=eur("20.00")),
        ],
        ["small"],
        {"big": RejectionReason.EXCLUSIVE_APPLIES},
        "20.00",
    ),
    (
        "equal-priority-keeps-document-order",
        [
            promotion("first", stacking="exclusive", amount=eur("20.00")),
            promotion("second", stacking="exclusive", amount=eur("150.00")),
        ],
        ["first"],
        {"second": RejectionReason.EXCLUSIVE_APPLIES},
        "20.00",
    ),
    (
        "ineligible-exclusive-does-not-block",
        [
            promotion("launch", stacking="exclusive", priority=10, conditions={"channels": ["store"]}),
            promotion("bonus"),
            promotion("minimum", kind="guaranteed_minimum", amount=eur("200.00"), priority=-1),
        ],
        ["bonus", "minimum"],
        {"launch": RejectionReason.CHANNEL},
        "70.00",
    ),
    (
        "ineligible-promotion-keeps-its-own-reason-after-an-exclusive",
        [
            promotion("launch", stacking="exclusive", priority=10),
            promotion("apple", conditions={"traded_device": {"brands": ["Apple"]}}),
        ],
        ["launch"],
        {"apple": RejectionReason.BRAND},
        "50.00",
    ),
]


@pytest.mark.parametrize(
    ("promotions", "applied", "rejected", "total"),
    [row[1:] for row in STACKING],
    ids=[row[0] for row in STACKING],
)
def test_stacking_follows_priority_and_exclusivity(
    promotions: list[dict[str, Any]], applied: list[str], rejected: dict[str, RejectionReason], total: str
) -> None:
    """The first eligible promotion by priority decides: an exclusive one stands alone, combinables add up."""
    documents = [{key: value for key, value in item.items() if value is not None} for item in promotions]
    outcome = evaluate(book(*documents))
    assert [item.promotion_id for item in outcome.applied] == applied
    assert {item.promotion_id: item.reason for item in outcome.rejected} == rejected
    assert outcome.total_boost == Money(total, "EUR")


def test_stacking_rejections_name_the_offer_that_applies() -> None:
    """A promotion left out by stacking tells the shopper which offer applies instead."""
    exclusive_first = evaluate(book(promotion("a", stacking="exclusive", priority=1), promotion("b")))
    assert (
        exclusive_first.rejected[0].describe("en")
        == "Not combined: the exclusive offer “Offer a” applies instead."
    )
    combinable_first = evaluate(book(promotion("a", priority=1), promotion("b", stacking="exclusive")))
    assert combinable_first.rejected[0].describe("en") == (
        "Not combined: this offer cannot be combined with “Offer a”, which applies."
    )


# -- budgets and redemptions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "reason"),
    [
        (None, None),
        (PromotionUsage(redemptions=499, spent=Money("24950.00", "EUR")), None),
        (PromotionUsage(redemptions=400, spent=Money("24950.01", "EUR")), RejectionReason.BUDGET),
        (PromotionUsage(redemptions=400, spent=Money("25000.00", "EUR")), RejectionReason.BUDGET),
        (PromotionUsage(redemptions=500, spent=Money("0.00", "EUR")), RejectionReason.MAX_REDEMPTIONS),
    ],
    ids=["unused", "last-that-fits", "does-not-fit", "used-up", "redeemed-out"],
)
def test_budget_and_redemptions_limit_a_promotion(
    usage: PromotionUsage | None, reason: RejectionReason | None
) -> None:
    """A boost must fit in what is left of the budget, and redemptions stop at the maximum."""
    promotions = book(promotion(budget=eur("25000.00"), max_redemptions=500))
    outcome = evaluate(promotions, spent={"boost": usage} if usage else {})
    assert [item.reason for item in outcome.rejected] == ([reason] if reason else [])
    assert len(outcome.applied) == (0 if reason else 1)


@pytest.mark.parametrize(
    ("reason", "usage", "explanation"),
    [
        (
            RejectionReason.BUDGET,
            PromotionUsage(redemptions=1, spent=Money("25000.00", "EUR")),
            "No longer available: the offer's budget is used up.",
        ),
        (
            RejectionReason.MAX_REDEMPTIONS,
            PromotionUsage(redemptions=500, spent=Money("0.00", "EUR")),
            "No longer available: the offer has been redeemed as often as planned.",
        ),
    ],
    ids=["budget", "redemptions"],
)
def test_used_up_promotion_explains_itself_and_frees_the_way(
    reason: RejectionReason, usage: PromotionUsage, explanation: str
) -> None:
    """An exclusive promotion that is used up says so, and the next promotion applies instead."""
    promotions = book(
        promotion("launch", stacking="exclusive", priority=1, budget=eur("25000.00"), max_redemptions=500),
        promotion("bonus", amount=eur("10.00")),
    )
    outcome = evaluate(promotions, spent={"launch": usage})
    assert [(item.promotion_id, item.reason) for item in outcome.rejected] == [("launch", reason)]
    assert outcome.rejected[0].describe("en") == explanation
    assert [item.promotion_id for item in outcome.applied] == ["bonus"]


def test_spent_after_counts_the_redemption() -> None:
    """Redeeming an outcome adds one redemption and its boost to each applied promotion's usage."""
    promotions = book(promotion("a"), promotion("b", conditions={"channels": ["store"]}), promotion("c"))
    before = {"a": PromotionUsage(redemptions=2, spent=Money("100.00", "EUR"))}
    after = evaluate(promotions, spent=before).spent_after(before)
    assert after == {
        "a": PromotionUsage(redemptions=3, spent=Money("150.00", "EUR")),
        "c": PromotionUsage(redemptions=1, spent=Money("50.00", "EUR")),
    }
    assert before == {"a": PromotionUsage(redemptions=2, spent=Money("100.00", "EUR"))}


# -- currencies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inputs",
    [
        {"traded": with_device(quoted=Money("180.00", "USD"))},
        {"purchase": with_purchase(price=Money("899.00", "CHF"))},
        {"spent": {"boost": PromotionUsage(spent=Money("0", "GBP"))}},
    ],
    ids=["quote", "purchase", "usage"],
)
def test_amounts_in_another_currency_are_refused(inputs: dict[str, Any]) -> None:
    """A quote, purchase price or usage figure in another currency raises CurrencyMismatchError."""
    with pytest.raises(CurrencyMismatchError) as caught:
        evaluate(book(promotion()), **inputs)
    assert caught.value.code == "currency_mismatch"
    assert caught.value.currencies[0] == "EUR"


# -- translations --------------------------------------------------------------------------------------

SHOP_TRANSLATIONS = {
    "de": {
        "Not eligible: the traded device must be in grade “{grade}” or better.": (
            "Nicht berechtigt: Das Gerät muss mindestens im Zustand „{grade}“ sein."
        ),
        "Not available today: the offer runs on {days} only.": (
            "Heute nicht verfügbar: Das Angebot gilt nur am {days}."
        ),
    },
    "fr": {
        "Bonus of {percent} of the trade-in value: {amount}.": (
            "Bonus de {percent} de la valeur de reprise\u00a0: {amount}."
        ),
        "Offer boost": "Offre boost",
    },
}


@pytest.fixture
def shop_locales(tmp_path: Path) -> tuple[Path, ...]:
    """A shop catalog folder translating a few promotion texts into German and French."""
    for language, messages in SHOP_TRANSLATIONS.items():
        catalog = MessageCatalog(locale=language, domain="tradein")
        for msgid, text in messages.items():
            catalog.add(msgid, text)
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        (folder / "tradein.mo").write_bytes(buffer.getvalue())
    return (tmp_path,)


def test_rejection_reads_in_german(shop_locales: tuple[Path, ...]) -> None:
    """A grade rejection renders in German, with the grade's German label from the bundled catalog."""
    outcome = evaluate(
        book(promotion(conditions={"traded_device": {"min_grade": "good"}})), traded=with_device(grade="fair")
    )
    assert outcome.rejected[0].describe("de_DE", shop_locales) == (
        "Nicht berechtigt: Das Gerät muss mindestens im Zustand „Gut“ sein."
    )


def test_weekday_rejection_reads_in_german(shop_locales: tuple[Path, ...]) -> None:
    """Day names come from CLDR in the shopper's language, joined with its word for "or"."""
    outcome = evaluate(
        book(promotion(conditions={"weekdays": ["saturday", "sunday"]})), today=date(2026, 12, 7)
    )
    assert outcome.rejected[0].describe("de", shop_locales) == (
        "Heute nicht verfügbar: Das Angebot gilt nur am Samstag oder Sonntag."
    )


def test_applied_bonus_reads_in_french(shop_locales: tuple[Path, ...]) -> None:
    """An applied percent bonus renders in French with French percent and currency formats."""
    promotions = book(
        {k: v for k, v in promotion(kind="percent_bonus", percent="7.5").items() if k != "amount"}
    )
    applied = evaluate(promotions).applied[0]
    assert applied.describe("fr-FR", shop_locales) == (
        "Bonus de 7,5\u00a0% de la valeur de reprise\u00a0: 13,50\u00a0€."
    )
    assert applied.localized_title("fr", shop_locales) == "Offre boost"
    assert promotions.promotions[0].localized_title("fr", shop_locales) == "Offre boost"


def test_untranslated_title_falls_back_to_english() -> None:
    """A title no catalog translates is shown as written."""
    outcome = evaluate(book(promotion(conditions={"channels": ["store"]})))
    assert outcome.rejected[0].localized_title("it") == "Offer boost"


@pytest.mark.parametrize(
    ("value", "locale", "text"),
    [
        (Money("1234.5", "EUR"), "de_DE", "1.234,50\u00a0€"),
        (Decimal("12.5"), "en", "12.5%"),
        (date(2026, 12, 24), "fr", "24 décembre 2026"),
        (1500, "de", "1.500"),
        (Phrase("in store"), "en", "in store"),
        (DeviceCategory.SMARTWATCH, "fr", "Montre connectée"),
        (Weekday.SUNDAY, "fr", "dimanche"),
        (("Apple", "Samsung"), "de", "Apple oder Samsung"),
        ("Fairphone", "de", "Fairphone"),
    ],
    ids=["money", "percent", "date", "int", "phrase", "category", "weekday", "list", "text"],
)
def test_parameters_are_formatted_for_the_locale(value: Any, locale: str, text: str) -> None:  # noqa: ANN401
    """Each kind of explanation parameter is shown the way the locale writes it."""
    assert format_param(value, locale) == text


def test_describe_refuses_an_unknown_locale() -> None:
    """An explanation asked for in a locale Babel does not know raises ValueError."""
    outcome = evaluate(book(promotion()))
    with pytest.raises(ValueError, match="unknown locale"):
        outcome.applied[0].describe("xx_QQ")


# -- properties -----------------------------------------------------------------------------------------

MONEY = st.decimals(min_value=0, max_value=5000, places=2).map(lambda amount: Money(amount, "EUR"))


@st.composite
def promotion_models(draw: st.DrawFn, index: int) -> Promotion:
    """Any promotion: any kind, stacking and priority; sometimes a cap, a budget, a store-only rule."""
    kind = draw(st.sampled_from(PromotionKind))
    positive = MONEY.filter(lambda money: not money.is_zero())
    return Promotion(
        id=f"p{index}",
        title=f"Promotion {index}",
        kind=kind,
        amount=None if kind is PromotionKind.PERCENT_BONUS else draw(positive),
        percent=draw(st.decimals(min_value="0.01", max_value=200, places=2))
        if kind is PromotionKind.PERCENT_BONUS
        else None,
        cap=draw(st.none() | positive) if kind is not PromotionKind.FIXED_BONUS else None,
        stacking=draw(st.sampled_from(Stacking)),
        priority=draw(st.integers(min_value=-3, max_value=3)),
        budget=draw(st.none() | positive),
        conditions=PromotionConditions(channels=draw(st.none() | st.just((Channel.STORE,)))),
    )


@st.composite
def books(draw: st.DrawFn) -> PromotionBook:
    """A book of up to six arbitrary promotions."""
    count = draw(st.integers(min_value=0, max_value=6))
    promotions = tuple(draw(promotion_models(index)) for index in range(count))
    return PromotionBook(
        promotions_id="prop", version="1", market="DE", currency="EUR", promotions=promotions
    )


@given(
    books(),
    MONEY,
    st.sampled_from((*PRICING_GRADES, None)),
    st.dictionaries(
        st.sampled_from([f"p{i}" for i in range(6)]), MONEY.map(lambda m: PromotionUsage(spent=m))
    ),
)
def test_outcome_invariants(
    promotions: PromotionBook, quoted: Money, grade: str | None, spent: dict[str, PromotionUsage]
) -> None:
    """The total is never negative, is the sum of the applied boosts, and an exclusive one stands alone."""
    outcome = evaluate(promotions, traded=with_device(quoted=quoted, grade=grade), spent=spent)
    assert outcome.total_boost >= Money.zero("EUR")
    assert outcome.total_boost == Money.total((item.boost for item in outcome.applied), "EUR")
    assert all(not item.boost.is_zero() and item.boost == item.boost.rounded() for item in outcome.applied)
    if any(item.stacking is Stacking.EXCLUSIVE for item in outcome.applied):
        assert len(outcome.applied) == 1
    considered = [item.promotion_id for item in outcome.applied] + [
        item.promotion_id for item in outcome.rejected
    ]
    assert sorted(considered) == sorted(item.id for item in promotions.promotions)
    if grade is None:
        assert outcome.applied == ()


# -- documents ------------------------------------------------------------------------------------------


def _problem_cases() -> list[tuple[str, Callable[[dict[str, Any]], object], str, str]]:
    def change(path: list[str | int], value: object) -> Callable[[dict[str, Any]], object]:
        def apply(document: dict[str, Any]) -> object:
            target: Any = document
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
            return document

        return apply

    def remove(key: str) -> Callable[[dict[str, Any]], object]:
        return lambda document: {k: v for k, v in document.items() if k != key}

    return [
        ("not-an-object", lambda _: [], "$", "is not of type 'object'"),
        ("missing-id", remove("promotions_id"), "$", "'promotions_id' is a required property"),
        (
            "unknown-kind",
            change(["promotions", 0, "kind"], "cashback"),
            "$.promotions[0].kind",
            "is not one of",
        ),
        (
            "unknown-channel",
            change(["promotions", 0, "conditions", "channels"], ["phone"]),
            "$.promotions[0].conditions.channels[0]",
            "is not one of",
        ),
        (
            "percent-without-percent",
            change(
                ["promotions", 1], {"id": "w", "title": "W", "kind": "percent_bonus", "stacking": "exclusive"}
            ),
            "$.promotions[1]",
            "'percent' is a required property",
        ),
        (
            "fixed-with-cap",
            change(["promotions", 0, "cap"], eur("10.00")),
            "$.promotions[0].cap",
            "'cap' does not belong to this kind of promotion",
        ),
        (
            "fixed-with-percent",
            change(["promotions", 0, "percent"], "5"),
            "$.promotions[0].percent",
            "'percent' does not belong to this kind of promotion",
        ),
        (
            "percent-with-amount",
            change(["promotions", 1, "amount"], eur("10.00")),
            "$.promotions[1].amount",
            "'amount' does not belong to this kind of promotion",
        ),
        ("unknown-currency", change(["currency"], "XYZ"), "$.currency", "unknown currency 'XYZ'"),
        (
            "impossible-date",
            change(["promotions", 0, "conditions", "valid_until"], "2026-02-30"),
            "$.promotions[0].conditions.valid_until",
            "day is out of range",
        ),
        (
            "unknown-grade",
            change(["promotions", 0, "conditions", "traded_device", "min_grade"], "mint"),
            "$.promotions[0].conditions.traded_device.min_grade",
            "unknown pricing grade 'mint'",
        ),
        (
            "from-after-until",
            change(["promotions", 0, "conditions", "valid_from"], "2027-01-01"),
            "$.promotions[0].conditions.valid_from",
            "starts (2027-01-01) after it ends (2026-12-31)",
        ),
        (
            "duplicate-id",
            change(["promotions", 1, "id"], "bonus"),
            "$.promotions[1].id",
            "'bonus' is already used at $.promotions[0]",
        ),
        (
            "currency-mismatch",
            change(["promotions", 0, "amount"], {"amount": "50", "currency": "USD"}),
            "$.promotions[0].amount.currency",
            "in USD, the document's currency is EUR",
        ),
        (
            "budget-currency-mismatch",
            change(["promotions", 1, "budget"], {"amount": "50", "currency": "CHF"}),
            "$.promotions[1].budget.currency",
            "in CHF",
        ),
        (
            "too-many-decimals",
            change(["promotions", 0, "amount"], eur("50.005")),
            "$.promotions[0].amount.amount",
            "more decimal places than EUR uses",
        ),
        (
            "zero-bonus",
            change(["promotions", 0, "amount"], eur("0")),
            "$.promotions[0].amount.amount",
            "must be above zero",
        ),
        (
            "negative-min-price",
            change(["promotions", 0, "conditions", "purchase"], {"min_price": eur("-1")}),
            "$.promotions[0].conditions.purchase.min_price.amount",
            "must not be negative",
        ),
        (
            "zero-percent",
            change(["promotions", 1, "percent"], "0.00"),
            "$.promotions[1].percent",
            "must be above zero",
        ),
    ]


PROBLEM_CASES = _problem_cases()


def _valid_document() -> dict[str, Any]:
    return book_document(
        promotion(
            "bonus",
            conditions={
                "traded_device": {"min_grade": "good"},
                "valid_from": "2026-12-01",
                "valid_until": "2026-12-31",
            },
        ),
        {k: v for k, v in promotion("weekend", kind="percent_bonus", percent="10").items() if k != "amount"},
    )


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [row[1:] for row in PROBLEM_CASES],
    ids=[row[0] for row in PROBLEM_CASES],
)
def test_document_problems_name_their_json_path(
    mutate: Callable[[dict[str, Any]], object], path: str, message: str
) -> None:
    """Each schema or rule violation is reported at its JSON path, and parsing refuses the document."""
    document = mutate(_valid_document())
    problems = promotions_problems(document)
    assert [(problem.path, message in problem.message) for problem in problems] == [(path, True)], problems
    with pytest.raises(DocumentInvalidError) as caught:
        parse_promotions(document, origin="promotions.json")
    assert (caught.value.kind, caught.value.source, caught.value.problems) == (
        "promotions",
        "promotions.json",
        tuple(problems),
    )


def test_valid_document_has_no_problems() -> None:
    """The document the problem cases start from is valid and parses to its promotions."""
    document = _valid_document()
    assert promotions_problems(document) == []
    parsed = parse_promotions(copy.deepcopy(document))
    assert [item.id for item in parsed.promotions] == ["bonus", "weekend"]
    assert parsed.promotions[1].percent == Decimal(10)
    assert parsed.content_hash.startswith("sha256:")


# -- the example file -----------------------------------------------------------------------------------


def test_example_file_validates_and_says_it_is_an_example() -> None:
    """The shipped example document is valid, in EUR for Germany, and not presented as a real offer."""
    example = load_promotions(EXAMPLE_PROMOTIONS)
    assert (example.market, example.currency) == ("DE", "EUR")
    assert 3 <= len(example.promotions) <= 4
    assert "example, not an offer" in (example.description or "")
    assert {item.kind for item in example.promotions} == set(PromotionKind)
    assert {item.stacking for item in example.promotions} == set(Stacking)


def test_example_file_on_a_december_weekend_in_store() -> None:
    """An iPhone 14 in grade good, quoted 180 €, on a December Saturday in store: topped up, then +10 %."""
    example = load_promotions(EXAMPLE_PROMOTIONS)
    iphone = TradedDevice.from_model(
        Catalog.bundled().model("apple-iphone-14"), grade="good", quoted=Money("180.00", "EUR")
    )
    outcome = evaluate(
        example, traded=iphone, purchase=None, channel=Channel.STORE, customer_case=CustomerCase.NEW_CONTRACT
    )
    assert [(item.promotion_id, item.boost) for item in outcome.applied] == [
        ("iphone-12-or-newer-minimum-200", Money("20.00", "EUR")),
        ("december-weekends-in-store", Money("18.00", "EUR")),
    ]
    assert {item.promotion_id: item.reason for item in outcome.rejected} == {
        "galaxy-s26-preorder-bonus": RejectionReason.NOT_STARTED,
        "galaxy-s21-or-newer-for-s25": RejectionReason.BRAND,
    }
    assert outcome.boosted_value == Money("218.00", "EUR")


def test_load_promotions_reports_a_file_that_is_not_json(tmp_path: Path) -> None:
    """A promotions file that is not JSON is a DocumentInvalidError naming the file."""
    path = tmp_path / "promotions.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DocumentInvalidError, match="not valid JSON") as caught:
        load_promotions(path)
    assert caught.value.source == str(path)


def test_titles_are_extracted_for_translation() -> None:
    """The Babel extractor yields each promotion title of a file with its line and a translator comment."""
    with EXAMPLE_PROMOTIONS.open("rb") as handle:
        messages = list(extract_promotions_messages(handle, (), (), {}))
    document = json.loads(EXAMPLE_PROMOTIONS.read_text(encoding="utf-8"))
    assert [message for _, _, message, _ in messages] == [item["title"] for item in document["promotions"]]
    assert all(
        line > 1 and comments[0].startswith("trade-in promotion ") for line, _, _, comments in messages
    )


@pytest.mark.parametrize(
    "content",
    [b"[]", b"{", b'{"promotions": {}}', b'{"promotions": [1, {"id": "x"}]}'],
    ids=["array", "broken", "promotions-not-a-list", "no-titles"],
)
def test_extractor_ignores_documents_without_titles(content: bytes) -> None:
    """A file that is not a promotions document yields no messages (validation reports it)."""
    assert list(extract_promotions_messages(io.BytesIO(content), (), (), {})) == []


# -- inputs ---------------------------------------------------------------------------------------------


def test_traded_device_from_a_catalog_model() -> None:
    """A traded device built from a catalog model carries its brand, category and release date."""
    model = Catalog.bundled().model("samsung-galaxy-s22")
    device = TradedDevice.from_model(model, grade="good", quoted=Money("180.00", "EUR"))
    assert device == S22


def test_traded_device_refuses_an_unknown_grade() -> None:
    """A pricing grade outside the price book's list is refused when the device is described."""
    with pytest.raises(ValueError, match="grade"):
        with_device(grade="mint")


@pytest.mark.parametrize(
    ("day", "weekday"),
    [
        (date(2026, 12, 7), Weekday.MONDAY),
        (date(2026, 12, 5), Weekday.SATURDAY),
        (date(2026, 12, 6), Weekday.SUNDAY),
    ],
    ids=["monday", "saturday", "sunday"],
)
def test_weekday_of_a_date(day: date, weekday: Weekday) -> None:
    """Weekday.of gives the day of the week a date falls on."""
    assert Weekday.of(day) is weekday
