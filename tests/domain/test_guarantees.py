"""Forward trade-in: plans, offers, signed contracts, exercise over a contract's life, the liability view.

Every amount in the time-travel tests is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradein_sdk._domain.guarantees import (
    CONTRACT_PURPOSE,
    GRADES,
    ExerciseBasis,
    GuaranteeContract,
    ResidualCurve,
    add_months,
    age_in_months,
    contract_document,
    contract_from_document,
    contract_liability,
    example_guarantee_plans,
    exercise,
    guarantee_offers,
    guarantee_plans_problems,
    liability_view,
    parse_guarantee_plans,
    promised_and_found,
    sell,
)
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.signing import SigningKeys, sign_document, verify_document
from tradein_sdk._errors import DocumentInvalidError, GuaranteeError

PLANS = example_guarantee_plans()
BOUGHT = dt.date(2026, 12, 4)
SOLD_AT = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)


def eur(amount: str) -> Money:
    """An amount in euros."""
    return Money(Decimal(amount), "EUR")


def contract(
    plan_id: str = "buyback-24", price: str = "899.00", financed: str | None = None
) -> GuaranteeContract:
    """A contract of the plan for a phone bought on 4 December 2026."""
    offers = guarantee_offers(
        PLANS,
        category="smartphone",
        price=eur(price),
        purchased_on=BOUGHT,
        channel="store",
        financed_amount=eur(financed) if financed else None,
    )
    offer = next(offer for offer in offers if offer.plan_id == plan_id)
    return sell(
        offer,
        contract_id="gtc_1",
        device="samsung-galaxy-s25-256gb",
        imei=None,
        purchased_on=BOUGHT,
        sold_at=SOLD_AT,
    )


# -- offers and contracts ---------------------------------------------------------------------------------


def test_an_offer_explains_each_band_in_money_and_dates() -> None:
    """899.00 €: 50 % = 449.50 until month 13, 40 % = 359.60 until 19, 35 % = 314.65 until 25."""
    sold = contract()
    offer = sold.offer
    assert [line.amount for line in offer.schedule] == [eur("449.50"), eur("359.60"), eur("314.65")]
    assert [line.starts_on for line in offer.schedule] == [BOUGHT, dt.date(2028, 1, 4), dt.date(2028, 7, 4)]
    assert offer.schedule[1].explanation == "13-18 months: 40 % of the purchase price 899.00 = 359.60"
    assert offer.exercisable_from == dt.date(2027, 12, 4)  # month 12
    assert offer.early_from == dt.date(2027, 6, 4)  # month 6, for the 50.00 fee
    assert offer.expires_on == dt.date(2029, 1, 3)  # the end of month 24
    assert offer.fee == eur("29")


def test_offers_follow_eligibility() -> None:
    """The upgrade plan needs a financed amount; a watch, a cheap phone or a dear one get no buy-back plan."""
    cheap = guarantee_offers(PLANS, category="smartphone", price=eur("299"), purchased_on=BOUGHT)
    assert cheap == ()
    plain = guarantee_offers(PLANS, category="smartphone", price=eur("899"), purchased_on=BOUGHT)
    assert [offer.plan_id for offer in plain] == ["buyback-24"]
    financed = guarantee_offers(
        PLANS, category="smartphone", price=eur("899"), purchased_on=BOUGHT, financed_amount=eur("899")
    )
    assert [offer.plan_id for offer in financed] == ["buyback-24", "upgrade-12"]
    assert guarantee_offers(PLANS, category="smartwatch", price=eur("899"), purchased_on=BOUGHT) == ()
    assert guarantee_offers(PLANS, category="smartphone", price=eur("2600"), purchased_on=BOUGHT) == ()
    with pytest.raises(GuaranteeError) as currency:
        guarantee_offers(PLANS, category="smartphone", price=Money(Decimal(899), "USD"), purchased_on=BOUGHT)
    assert currency.value.rule == "currency"


def test_a_contract_is_signed_and_verifies_offline() -> None:
    """The signed document reads back as the same contract; a changed amount does not verify."""
    keys = SigningKeys.generate()
    sold = contract()
    envelope = sign_document(contract_document(sold), keys, purpose=CONTRACT_PURPOSE)
    payload = verify_document(envelope, keys.public_keys(), purpose=CONTRACT_PURPOSE)
    assert contract_from_document(payload) == sold
    forged = copy.deepcopy(envelope)
    forged["payload"]["schedule"][0]["amount"]["amount"] = "900.00"
    with pytest.raises(Exception, match="signature"):
        verify_document(forged, keys.public_keys(), purpose=CONTRACT_PURPOSE)


# -- a contract's life ------------------------------------------------------------------------------------


def test_exercised_within_the_window_above_the_floor() -> None:
    """Month 12, grade good, market 300.00: the guaranteed 449.50 (band 0-12, 50 % of 899.00)."""
    done = exercise(contract(), on=dt.date(2027, 12, 10), grade="good", locked=False, market=eur("300.00"))
    assert (done.amount, done.basis, done.floor_met) == (eur("449.50"), ExerciseBasis.GUARANTEED, True)


def test_at_month_24_the_last_band_applies() -> None:
    """4 December 2028 is month 24: 35 % of 899.00 = 314.65."""
    done = exercise(
        contract(), on=dt.date(2028, 12, 4), grade="excellent", locked=False, market=eur("120.00")
    )
    assert done.amount == eur("314.65")


def test_below_the_floor_the_fallback_applies_never_below_the_market() -> None:
    """Grade fair misses the floor (good): the fallback 0.00, so the day's market quote 180.00 is paid."""
    done = exercise(contract(), on=dt.date(2027, 12, 10), grade="fair", locked=False, market=eur("180.00"))
    assert (done.amount, done.basis, done.floor_met) == (eur("180.00"), ExerciseBasis.MARKET, False)
    assert done.reasons == ("grade fair is below good",)
    locked = exercise(contract(), on=dt.date(2027, 12, 10), grade="good", locked=True, market=eur("0.00"))
    assert (locked.amount, locked.basis, locked.reasons) == (eur("0.00"), ExerciseBasis.FALLBACK, ("locked",))


def test_a_market_quote_above_the_guarantee_is_paid() -> None:
    """The guarantee is a floor for the customer: 500.00 on the market beats the guaranteed 449.50."""
    done = exercise(
        contract(), on=dt.date(2027, 12, 10), grade="excellent", locked=False, market=eur("500.00")
    )
    assert (done.amount, done.basis, done.guaranteed) == (eur("500.00"), ExerciseBasis.MARKET, eur("449.50"))


def test_early_exercise_costs_its_fee_and_earlier_is_refused() -> None:
    """Month 6 (early, fee 50.00): 449.50 - 50.00 = 399.50; month 5 is refused with its code."""
    done = exercise(contract(), on=dt.date(2027, 6, 4), grade="good", locked=False, market=eur("250.00"))
    assert (done.amount, done.early_fee) == (eur("399.50"), eur("50.00"))
    with pytest.raises(GuaranteeError) as early:
        exercise(contract(), on=dt.date(2027, 6, 3), grade="good", locked=False, market=eur("250.00"))
    assert early.value.rule == "not_yet_exercisable"


def test_after_expiry_or_a_second_time_it_is_refused() -> None:
    """The day after month 24 ends, and a contract exercised before, are refused with their codes."""
    sold = contract()
    assert exercise(sold, on=dt.date(2029, 1, 3), grade="good", locked=False, market=eur("90")).amount == eur(
        "314.65"
    )
    with pytest.raises(GuaranteeError) as expired:
        exercise(sold, on=dt.date(2029, 1, 4), grade="good", locked=False, market=eur("90"))
    assert expired.value.rule == "expired"
    with pytest.raises(GuaranteeError) as twice:
        exercise(
            sold,
            on=dt.date(2027, 12, 10),
            grade="good",
            locked=False,
            market=eur("90"),
            exercised_before=True,
        )
    assert twice.value.rule == "already_exercised"


def test_the_carrier_variant_credits_the_outstanding_balance_up_to_half_the_financed_amount() -> None:
    """1,099.00 financed over 24 months (45.79 a month); 14 paid, 10 left: 457.90 owed, below 50 % = 549.50.

    Against a new contract, grade good: the balance 457.90. Grade damaged misses the floor (fair): the lesser
    25.00 and the balance, 25.00, as the market quote is 20.00. Without a new contract: refused.
    """
    sold = contract("upgrade-12", price="1099.00", financed="1099.00")
    assert sold.offer.schedule[0].amount == eur("549.50")
    on = dt.date(2028, 2, 10)  # month 14
    owed = eur("457.90")  # 10 × 45.79
    done = exercise(
        sold,
        on=on,
        grade="good",
        locked=False,
        market=eur("300.00"),
        outstanding_balance=owed,
        new_contract=True,
    )
    assert (done.amount, done.basis) == (eur("457.90"), ExerciseBasis.GUARANTEED)
    low = exercise(
        sold,
        on=on,
        grade="damaged",
        locked=False,
        market=eur("20.00"),
        outstanding_balance=owed,
        new_contract=True,
    )
    assert (low.amount, low.basis) == (eur("25.00"), ExerciseBasis.FALLBACK)
    nearly = exercise(
        sold,
        on=on,
        grade="good",
        locked=False,
        market=eur("0"),
        outstanding_balance=eur("700"),
        new_contract=True,
    )
    assert nearly.amount == eur("549.50")  # capped at 50 % of the financed amount
    with pytest.raises(GuaranteeError) as bare:
        exercise(sold, on=on, grade="good", locked=False, market=eur("300.00"), outstanding_balance=owed)
    assert bare.value.rule == "new_contract_required"


# -- plans as data -----------------------------------------------------------------------------------------


def test_a_plan_whose_guarantee_grows_with_age_is_refused() -> None:
    """Bands must not guarantee more later, must meet, and the window must lie inside them."""
    document = {
        "plans_id": "bad",
        "version": "1",
        "currency": "EUR",
        "plans": [
            {
                "id": "grows",
                "name": "Grows",
                "terms_version": "1",
                "kind": "buyback",
                "schedule": [
                    {"from_month": 0, "to_month": 12, "percent": "30"},
                    {"from_month": 13, "to_month": 24, "percent": "40"},
                ],
                "floor": {"minimum_grade": "good"},
                "fallback": {"amount": "0"},
                "window": {"from_month": 6, "to_month": 30},
                "eligibility": {"categories": ["smartphone"]},
            }
        ],
    }
    paths = {problem.path for problem in guarantee_plans_problems(document)}
    assert paths == {"$.plans[0].schedule[1].from_month", "$.plans[0].schedule[1]", "$.plans[0].window"}
    with pytest.raises(DocumentInvalidError):
        parse_guarantee_plans(document)


# -- properties -------------------------------------------------------------------------------------------

prices = st.decimals(min_value=Decimal(300), max_value=Decimal(2500), places=2)
days = st.integers(min_value=0, max_value=800)


@settings(max_examples=200, deadline=None)
@given(price=prices, first=days, later=days)
def test_the_guaranteed_amount_never_increases_with_age(price: Decimal, first: int, later: int) -> None:
    """For any price and two days, the later day's guaranteed amount is not above the earlier one's."""
    sold = contract(price=str(price))
    early, late = sorted((BOUGHT + dt.timedelta(days=first), BOUGHT + dt.timedelta(days=later)))
    if late < sold.offer.schedule[-1].ends_on:
        assert sold.guaranteed_on(late).amount <= sold.guaranteed_on(early).amount


@settings(max_examples=200, deadline=None)
@given(
    price=prices,
    day=st.integers(min_value=182, max_value=760),
    grade=st.sampled_from([*GRADES, None]),
    locked=st.booleans(),
    market=st.decimals(min_value=0, max_value=3000, places=2),
)
def test_an_exercise_never_pays_below_the_days_market_quote(
    price: Decimal, day: int, grade: str | None, locked: bool, market: Decimal
) -> None:
    """Whatever the condition, the day or the market, what is paid is at least the market quote."""
    sold = contract(price=str(price))
    on = BOUGHT + dt.timedelta(days=day)
    if not sold.offer.early_from <= on <= sold.offer.expires_on:  # type: ignore[operator]
        with pytest.raises(GuaranteeError):
            exercise(sold, on=on, grade=grade, locked=locked, market=eur(str(market)))
        return
    done = exercise(sold, on=on, grade=grade, locked=locked, market=eur(str(market)))
    assert done.amount.amount >= market
    assert done.amount.amount == max(done.guaranteed.amount, market)


@settings(max_examples=100, deadline=None)
@given(
    sales=st.lists(st.tuples(prices, st.integers(min_value=0, max_value=400)), min_size=1, max_size=40),
    view_day=st.integers(min_value=0, max_value=700),
)
def test_the_liability_total_is_the_sum_of_its_contracts(
    sales: list[tuple[Decimal, int]], view_day: int
) -> None:
    """Months and totals add up to the contracts' rows; a cost is never negative, lower at a higher market."""
    contracts = []
    for number, (price, offset) in enumerate(sales):
        bought = BOUGHT + dt.timedelta(days=offset)
        offer = guarantee_offers(PLANS, category="smartphone", price=eur(str(price)), purchased_on=bought)[0]
        contracts.append(
            sell(
                offer,
                contract_id=f"gtc_{number}",
                device="x",
                imei=None,
                purchased_on=bought,
                sold_at=SOLD_AT,
            )
        )
    as_of = BOUGHT + dt.timedelta(days=view_day)
    view = liability_view(contracts, as_of=as_of, currency="EUR")
    outstanding = [sold for sold in contracts if sold.offer.expires_on >= as_of]
    rows = [contract_liability(sold, as_of=as_of, curve=ResidualCurve()) for sold in outstanding]
    assert view.totals.contracts == len(outstanding) == sum(month.contracts for month in view.months)
    assert view.totals.guaranteed.amount == sum(row.guaranteed.amount for row in rows)
    for index in range(3):
        assert view.totals.cost[index].amount == sum(row.cost[index].amount for row in rows)
        assert view.totals.market[index].amount == sum(row.market[index].amount for row in rows)
    for row in rows:
        assert row.cost[0].amount >= row.cost[1].amount >= row.cost[2].amount >= 0
    assert view.to_csv().count("\r\n") == len(view.months) + 2  # header, months, total


def test_the_liability_view_by_month_with_hand_checked_figures() -> None:
    """One 899.00 phone, exercisable from December 2027 (month 12): guaranteed 449.50.

    Central market at month 12: 899.00 × 0.62 × 0.982^12 (0.804151...) = 448.22, cost 449.50 - 448.22 = 1.28;
    low: × 0.965^12 (0.652120...) = 363.48, cost 86.02; high: × 0.992^12 (0.908113...) = 506.16, cost 0.
    """
    view = liability_view([contract()], as_of=BOUGHT, currency="EUR")
    (month,) = view.months
    assert month.month == "2027-12"
    assert month.guaranteed == eur("449.50")
    assert [market.amount for market in month.market] == [
        Decimal("363.48"),
        Decimal("448.22"),
        Decimal("506.16"),
    ]
    assert [cost.amount for cost in month.cost] == [Decimal("86.02"), Decimal("1.28"), Decimal(0)]
    assert month.reserve == eur("1.28")
    assert "IFRS 15 B64-B76" in view.to_json()["accounting"]


def test_months_are_counted_to_the_same_day() -> None:
    """31 January + 1 month is the last day of February; an age counts whole months."""
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert age_in_months(dt.date(2027, 1, 31), dt.date(2027, 2, 27)) == 0
    assert age_in_months(dt.date(2027, 1, 31), dt.date(2027, 2, 28)) == 1
    assert age_in_months(BOUGHT, dt.date(2027, 12, 3)) == 11
    assert age_in_months(BOUGHT, dt.date(2027, 12, 4)) == 12


@settings(max_examples=300, deadline=None)
@given(
    price=prices,
    day=st.integers(min_value=182, max_value=760),
    declared=st.sampled_from(GRADES),
    found=st.sampled_from([*GRADES, None]),
    locked=st.booleans(),
    quoted=st.decimals(min_value=0, max_value=1500, places=2),
    inspected=st.decimals(min_value=0, max_value=1500, places=2),
)
def test_an_order_exercising_a_guarantee_never_pays_below_the_same_trade_in_without_it(
    *,
    price: Decimal,
    day: int,
    declared: str,
    found: str | None,
    locked: bool,
    quoted: Decimal,
    inspected: Decimal,
) -> None:
    """The order's offer is at least min(quote, inspected value) and never above what it promised."""
    sold = contract(price=str(price))
    on = BOUGHT + dt.timedelta(days=day)
    if not sold.offer.early_from <= on <= sold.offer.expires_on:  # type: ignore[operator]
        return
    promised, offer = promised_and_found(
        sold, on=on, declared=(declared, eur(str(quoted))), found=(found, locked, eur(str(inspected)))
    )
    assert promised.amount >= quoted
    assert min(quoted, inspected) <= offer.amount <= promised.amount
