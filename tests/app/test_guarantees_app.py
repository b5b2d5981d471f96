"""Forward trade-in through the facade: sold, stored, verified offline, exercised once, in the liability."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradein_sdk._domain.guarantees import CONTRACT_PURPOSE, ExerciseBasis, liability_view
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.signing import verify_document
from tradein_sdk._domain.tenancy import Role, Scope
from tradein_sdk._errors import GuaranteeError, GuaranteeNotFoundError

if TYPE_CHECKING:
    from tradein_sdk import FixedClock, TradeIn

PHONE = "samsung-galaxy-s23-128gb"


def eur(amount: str) -> Money:
    """An amount in euros."""
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def start() -> dt.datetime:
    """Friday 4 December 2026, 10:00 UTC: the day of the purchase."""
    return dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)


def test_a_guarantee_sold_verifies_offline_and_is_exercised_once_a_year_later(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """Sold at 899.00 (50 % at month 12 = 449.50), exercised on 10 December 2027 at a market of 300.00."""
    trade_in = any_store_trade_in
    offers = trade_in.offer_guarantees(PHONE, eur("899.00"))
    assert [offer.plan_id for offer in offers] == ["buyback-24"]
    envelope = trade_in.sell_guarantee("buyback-24", PHONE, eur("899.00"), customer_ref="cus_1")
    keys = trade_in.signing_keys
    assert keys is not None
    payload = verify_document(envelope, keys.public_keys(), purpose=CONTRACT_PURPOSE)
    contract_id = payload["id"]
    assert trade_in.guarantee(contract_id).offer.schedule[0].amount == eur("449.50")
    with pytest.raises(GuaranteeError) as early:
        trade_in.exercise_guarantee(contract_id, grade="good", locked=False, market=eur("300"))
    assert early.value.rule == "not_yet_exercisable"
    clock.set(dt.datetime(2027, 12, 10, 10, 0, tzinfo=dt.UTC))
    done = trade_in.exercise_guarantee(contract_id, grade="good", locked=False, market=eur("300.00"))
    assert (done.amount, done.basis) == (eur("449.50"), ExerciseBasis.GUARANTEED)
    with pytest.raises(GuaranteeError) as twice:
        trade_in.exercise_guarantee(contract_id, grade="good", locked=False, market=eur("300.00"))
    assert twice.value.rule == "already_exercised"
    assert trade_in.guarantee_liability().months == ()  # exercised: no longer outstanding


def test_two_exercises_at_once_pay_once(any_store_trade_in: TradeIn, clock: FixedClock) -> None:
    """Eight concurrent exercises of one contract: one succeeds, seven are refused as exercised already."""
    trade_in = any_store_trade_in
    contract_id = trade_in.sell_guarantee("buyback-24", PHONE, eur("899.00"))["payload"]["id"]
    clock.set(dt.datetime(2027, 12, 10, 10, 0, tzinfo=dt.UTC))

    def attempt(_: int) -> str:
        try:
            trade_in.exercise_guarantee(contract_id, grade="good", locked=False, market=eur("300"))
        except GuaranteeError as refused:
            return refused.rule
        return "paid"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert sorted(outcomes) == ["already_exercised"] * 7 + ["paid"]


def test_the_stored_liability_is_the_contracts_liability(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """The view read in batches from the store equals the view of the contracts themselves."""
    trade_in = any_store_trade_in
    ids = []
    for number, price in enumerate(["899.00", "1199.00", "649.50", "2100.00"]):
        clock.set(dt.datetime(2026, 12, 4 + number, 10, 0, tzinfo=dt.UTC))
        ids.append(trade_in.sell_guarantee("buyback-24", PHONE, eur(price))["payload"]["id"])
    as_of = dt.date(2027, 3, 1)
    stored = trade_in.guarantee_liability(as_of=as_of)
    direct = liability_view(
        [trade_in.guarantee(contract_id) for contract_id in ids], as_of=as_of, currency="EUR"
    )
    assert stored == direct
    assert stored.totals.contracts == 4
    assert stored.totals.guaranteed == eur(
        str(sum(Decimal(p) for p in ["449.50", "599.50", "324.75", "1050.00"]))
    )


def test_a_guarantee_stays_with_its_tenant_and_its_plan(any_store_trade_in: TradeIn) -> None:
    """Another tenant reads no contract; a plan that does not cover the purchase is refused with its rule."""
    trade_in = any_store_trade_in
    shop = trade_in.scoped(Scope(tenant="berlin", organisation="carrier-x", role=Role.STORE))
    contract_id = shop.sell_guarantee("buyback-24", PHONE, eur("899.00"))["payload"]["id"]
    other = trade_in.scoped(Scope(tenant="rome", organisation="carrier-y", role=Role.STORE))
    with pytest.raises(GuaranteeNotFoundError):
        other.guarantee(contract_id)
    assert other.guarantee_liability(as_of=dt.date(2027, 1, 1)).months == ()
    assert shop.guarantee_liability(as_of=dt.date(2027, 1, 1)).totals.contracts == 1
    with pytest.raises(GuaranteeError) as cheap:
        shop.sell_guarantee("buyback-24", PHONE, eur("199.00"))
    assert cheap.value.rule == "not_eligible"
    with pytest.raises(GuaranteeError) as unknown:
        shop.sell_guarantee("lifetime", PHONE, eur("899.00"))
    assert unknown.value.rule == "not_eligible"
