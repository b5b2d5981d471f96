"""Promised equals paid, through the facade: every checkout promise carried to what the order pays.

Each test walks an order the way a shop does — quote, checkout, confirm, label, ship, receive, inspect,
settle — and compares what the ledger says was paid or credited with what the checkout summary promised.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from grading_questionnaire import example_answers
from tradein_sdk import (
    BankTransfer,
    DeviceState,
    FixedClock,
    Money,
    TradeIn,
    order_outcome,
)
from tradein_sdk._adapters.sql.ledger import insert_entries
from tradein_sdk._domain.checkout import (
    CheckoutRequest,
    ClawbackPolicy,
    CreditPlan,
    CreditTiming,
    NewDevice,
    RemainderRule,
)
from tradein_sdk._domain.ledger import EntryKind, billing_period
from tradein_sdk._domain.promotions import parse_promotions
from tradein_sdk._errors import InvalidPeriodError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk._domain.checkout import CheckoutSummary
    from tradein_sdk._domain.orders.model import TradeInOrder

EUR = "EUR"
IPHONE = "apple-iphone-13-128gb"
IMEI = "490154203237518"
STAFF_CHECKS = {"liquid_indicator": False, "blocklist_status": "clean", "authenticity": "genuine"}
PHONE = NewDevice(
    sku="SM-S931B-256",
    name="Samsung Galaxy S25",
    brand="Samsung",
    category="smartphone",
    price=Money("999", EUR),
)
BANK = BankTransfer(iban="DE89370400440532013000", holder="Erika Mustermann")


def worn() -> dict[str, Any]:
    """The iPhone as declared: light wear, grade good, quoted 150 €."""
    return dict(example_answers("smartphone", "worn").answers)


def inspected(answers: dict[str, Any]) -> dict[str, Any]:
    """The inspector's answers: the declared ones plus the staff checks, all clean."""
    store = example_answers("smartphone", "store-inspected").answers
    return {**answers, **{key: store[key] for key in STAFF_CHECKS}}


def cracked() -> dict[str, Any]:
    """The same iPhone as found with a cracked display: below grade good."""
    return {**inspected(worn()), "display_glass": "cracked"}


def book() -> Any:  # noqa: ANN401 - a PromotionBook
    """At least 200 € for an iPhone in grade good or better, from a budget of 1,000 €."""
    return parse_promotions(
        {
            "promotions_id": "ledger-test",
            "version": "1",
            "market": "DE",
            "currency": EUR,
            "promotions": [
                {
                    "id": "minimum-200",
                    "title": "At least 200 €",
                    "kind": "guaranteed_minimum",
                    "amount": {"amount": "200.00", "currency": EUR},
                    "stacking": "combinable",
                    "budget": {"amount": "1000.00", "currency": EUR},
                    "conditions": {"traded_device": {"brands": ["Apple"], "min_grade": "good"}},
                }
            ],
        }
    )


@pytest.fixture
def shop(tmp_path: Path, clock: FixedClock, database_url: str | None) -> Iterator[TradeIn]:
    """An embedded shop with the guaranteed-minimum promotion, on SQLite and on PostgreSQL."""
    facade = TradeIn.embedded(tmp_path, database_url=database_url, clock=clock, promotions=book())
    yield facade
    facade.close()


def checkout(shop: TradeIn, answers: dict[str, Any] | None = None, **choices: Any) -> CheckoutSummary:  # noqa: ANN401
    """A checkout of one iPhone trade-in with ``choices``."""
    quote = shop.quote(IPHONE, answers or worn(), imei=IMEI).quote
    request = CheckoutRequest(quote_ids=(quote.id,), new_device=choices.pop("new_device", PHONE), **choices)
    return shop.checkout(request)


def arrive(shop: TradeIn, order: TradeInOrder, answers: dict[str, Any]) -> None:
    """Label, ship, receive and inspect the order's only device."""
    shop.issue_label(order.id)
    shop.ship(order.id, "d1", tracking="TRACK1")
    shop.receive(order.id, "d1")
    shop.inspect(order.id, "d1", answers, imei=IMEI)


def spent(shop: TradeIn) -> Money:
    """What the promotion's budget has used."""
    usage = shop.store.promotion_usage().get("minimum-200")
    return Money("0", EUR) if usage is None else usage[1]


def assert_balanced(shop: TradeIn, order_id: str) -> None:
    """Paid + credited + open − clawed back == owed, per device and order; outcome == clawbacks."""
    ledger = shop.ledger(order_id)
    for balance in (ledger.total, *ledger.devices.values()):
        assert balance.paid + balance.credited + balance.open - balance.clawed_back == balance.owed
    outcome = shop.order_outcome(order_id)
    assert {device.device_id: device.clawback for device in outcome.devices} == shop.clawbacks(order_id)


def test_deferred_payout_pays_the_promotion(shop: TradeIn) -> None:
    """155 € + 45 € boost promised → 200 € paid after an inspection that finds the device as declared."""
    summary = checkout(shop, timing=CreditTiming.DEFERRED, plan=CreditPlan.PAYOUT)
    assert summary.total_credit == Money("200.00", EUR)  # 150 € quoted + 50 € to the minimum
    order = shop.confirm_checkout(summary, payout=BANK).order
    arrive(shop, order, inspected(worn()))
    paid = shop.settle(order.id, "d1")
    assert paid.device("d1").state is DeviceState.PAID
    assert paid.device("d1").settled == summary.total_credit
    ledger = shop.ledger(order.id)
    assert ledger.total.paid == summary.total_credit
    assert ledger.total.open == Money("0", EUR)
    assert spent(shop) == Money("50.00", EUR)  # consumed exactly as paid
    assert_balanced(shop, order.id)


@pytest.mark.parametrize(
    ("rule", "kind", "payout"),
    [
        (RemainderRule.PAYOUT, EntryKind.PAYOUT_MADE, BANK),
        (RemainderRule.VOUCHER, EntryKind.VOUCHER_ISSUED, None),
    ],
)
def test_remainder_above_the_price_is_paid(
    shop: TradeIn, rule: RemainderRule, kind: EntryKind, payout: BankTransfer | None
) -> None:
    """A 200 € credit on a 55 € purchase: 55 € off at checkout, the 145 € left paid by the shop's rule."""
    cheap = attrs.evolve(PHONE, price=Money("55.00", EUR))
    summary = checkout(shop, new_device=cheap, remainder_rule=rule)
    assert summary.remainder == Money("145.00", EUR)
    order = shop.confirm_checkout(summary, payout=payout).order
    assert shop.ledger(order.id).total.credited == Money("55.00", EUR)
    arrive(shop, order, inspected(worn()))
    shop.settle(order.id, "d1")
    ledger = shop.ledger(order.id)
    settled = [entry for entry in ledger.entries if entry.kind is kind and entry.reason == "settlement"]
    assert [entry.amount for entry in settled] == [summary.remainder]
    assert ledger.total.paid + ledger.total.credited == summary.total_credit
    assert ledger.total.open == Money("0", EUR)
    assert_balanced(shop, order.id)


def test_bill_credits_come_due_month_by_month_and_stop_with_the_contract(
    shop: TradeIn, clock: FixedClock
) -> None:
    """A 24-month bill credit becomes a schedule after inspection; each billing run credits once."""
    summary = checkout(shop, timing=CreditTiming.DEFERRED, plan=CreditPlan.BILL_CREDITS, months=24)
    schedule = summary.bill_credits
    assert schedule is not None
    order = shop.confirm_checkout(summary).order
    arrive(shop, order, inspected(worn()))
    shop.settle(order.id, "d1")
    ledger = shop.ledger(order.id)
    assert len(ledger.installments) == 24
    assert Money.total((item.amount for item in ledger.installments), EUR) == summary.total_credit
    assert [item.amount for item in ledger.installments] == list(schedule.installments)
    first = billing_period(clock.now(), 1)
    assert ledger.installments[0].due_period == first
    assert shop.credit_installments(billing_period(clock.now())) == (0, {})  # nothing due this month
    count, totals = shop.credit_installments(first)
    assert (count, totals) == (1, {EUR: schedule.installments[0]})
    assert shop.credit_installments(first) == (0, {})  # exactly once
    count, _ = shop.credit_installments(billing_period(clock.now(), 2))
    assert count == 1
    stopped = shop.stop_installments(order.id, reason="contract_ended")
    assert len(stopped) == 22
    ledger = shop.ledger(order.id)
    credited = schedule.installments[0] + schedule.installments[1]
    assert (ledger.total.credited, ledger.total.owed, ledger.total.open) == (
        credited,
        credited,
        Money("0", EUR),
    )
    assert ledger.installments == ()
    assert shop.credit_installments(billing_period(clock.now(), 12)) == (0, {})
    assert_balanced(shop, order.id)


def test_bill_credits_are_recomputed_after_a_downward_revision(shop: TradeIn) -> None:
    """A device found worse: the schedule spreads the revised credit, without the withdrawn promotion."""
    summary = checkout(shop, timing=CreditTiming.DEFERRED, plan=CreditPlan.BILL_CREDITS, months=12)
    order = shop.confirm_checkout(summary).order
    arrive(shop, order, cracked())
    revised = shop.order(order.id).device("d1")
    assert revised.state is DeviceState.REVISED
    shop.respond_to_revision(order.id, "d1", accept=True)
    shop.settle(order.id, "d1")
    ledger = shop.ledger(order.id)
    assert len(ledger.installments) == 12
    assert Money.total((item.amount for item in ledger.installments), EUR) == revised.offer
    assert spent(shop) == Money("0", EUR)  # the promotion's budget was released
    assert_balanced(shop, order.id)


def test_a_downgrade_below_the_condition_withdraws_the_promotion(shop: TradeIn) -> None:
    """Instant credit 200 €; found cracked (below grade good): the boost and the difference come back."""
    summary = checkout(shop)
    order = shop.confirm_checkout(summary).order
    assert spent(shop) == Money("50.00", EUR)
    arrive(shop, order, cracked())
    device = shop.order(order.id).device("d1")
    ledger = shop.ledger(order.id)
    withdrawn = [entry for entry in ledger.entries if entry.kind is EntryKind.PROMOTION_WITHDRAWN]
    assert [(entry.reason, entry.amount) for entry in withdrawn] == [("minimum-200", Money("-50.00", EUR))]
    assert spent(shop) == Money("0", EUR)
    assert shop.store.promotion_usage()["minimum-200"][0] == 0
    expected = summary.total_credit - device.offer
    assert shop.clawbacks(order.id) == {"d1": expected}
    assert shop.order_outcome(order.id).clawback == expected
    assert_balanced(shop, order.id)


def test_a_downgrade_that_keeps_the_condition_keeps_the_promotion(shop: TradeIn) -> None:
    """A flawless iPhone (195 €, +5 € to 200 €) found worn (grade good): the boost is still earned, capped."""
    summary = checkout(shop, example_answers("smartphone", "flawless").answers)
    assert summary.trade_ins[0].credit == Money("200.00", EUR)
    order = shop.confirm_checkout(summary).order
    arrive(shop, order, inspected(worn()))
    ledger = shop.ledger(order.id)
    assert not [entry for entry in ledger.entries if entry.kind is EntryKind.PROMOTION_WITHDRAWN]
    device = shop.order(order.id).device("d1")
    assert ledger.total.owed == device.offer + Money("5.00", EUR)
    assert spent(shop) == Money("5.00", EUR)
    assert_balanced(shop, order.id)


def test_not_sent_in_time_claws_back_credit_promotion_and_tax(tmp_path: Path, clock: FixedClock) -> None:
    """Expired: all of the instant credit comes back with 19 % tax, and the promotion's budget is released."""
    shop = TradeIn.embedded(
        tmp_path, clock=clock, promotions=book(), clawback_policy=ClawbackPolicy(tax_rate_percent=Decimal(19))
    )
    summary = checkout(shop)
    order = shop.confirm_checkout(summary).order
    shop.issue_label(order.id)
    clock.advance(days=15)
    shop.tick()
    ledger = shop.ledger(order.id)
    assert ledger.devices["d1"].clawed_back == summary.total_credit
    assert shop.clawbacks(order.id) == {"d1": (summary.total_credit * Decimal("1.19")).rounded()}
    assert spent(shop) == Money("0", EUR)
    assert_balanced(shop, order.id)
    shop.close()


def test_an_order_without_checkout_has_a_ledger_too(shop: TradeIn) -> None:
    """An accepted quote paid by bank: the ledger owes the quote and records the payout."""
    token = shop.quote(IPHONE, worn(), imei=IMEI).token
    order = shop.accept([token], payout=BANK)
    arrive(shop, order, inspected(worn()))
    shop.settle(order.id, "d1")
    ledger = shop.ledger(order.id)
    assert ledger.total.paid == order.device("d1").quoted
    assert order_outcome(shop.order(order.id)).paid == ledger.total.paid
    assert_balanced(shop, order.id)


def test_a_billing_period_must_be_a_month(shop: TradeIn) -> None:
    """A period that is not YYYY-MM is refused with its own error naming it."""
    with pytest.raises(InvalidPeriodError) as caught:
        shop.credit_installments("2027-13")
    assert caught.value.period == "2027-13"
    with pytest.raises(InvalidPeriodError):
        shop.installments_due("next month")


def test_promotions_are_judged_once_at_inspection(shop: TradeIn) -> None:
    """A promotion withdrawn at inspection stays withdrawn when the shop later changes its promotions."""
    summary = checkout(shop, timing=CreditTiming.DEFERRED, plan=CreditPlan.PAYOUT)
    order = shop.confirm_checkout(summary, payout=BANK).order
    arrive(shop, order, cracked())
    judged = shop.order(order.id).device("d1").inspection
    assert judged is not None
    assert judged.promotions == {"minimum-200": Money("0", EUR)}
    shop.promotions = None  # the promotion ended meanwhile
    shop.respond_to_revision(order.id, "d1", accept=True)
    paid = shop.settle(order.id, "d1").device("d1")
    ledger = shop.ledger(order.id)
    assert paid.settled == paid.offer == ledger.total.paid
    assert not [
        entry
        for entry in ledger.entries
        if entry.kind is EntryKind.PROMOTION and entry.amount < Money("0", EUR)
    ]
    assert spent(shop) == Money("0", EUR)
    assert_balanced(shop, order.id)


def test_a_withdrawn_promotion_is_not_restored_by_a_late_arrival(shop: TradeIn, clock: FixedClock) -> None:
    """Expired: the boost is withdrawn, its budget released; received late: only the quote is owed again."""
    summary = checkout(shop)
    order = shop.confirm_checkout(summary).order
    shop.issue_label(order.id)
    clock.advance(days=15)
    shop.tick()
    assert spent(shop) == Money("0", EUR)
    shop.record_event(order.id, "d1", "receive_late", actor="staff", reason="parcel found at the depot")
    ledger = shop.ledger(order.id)
    assert ledger.total.owed == summary.trade_ins[0].quoted
    assert ledger.total.clawed_back == summary.total_credit - summary.trade_ins[0].quoted  # the boost only
    assert spent(shop) == Money("0", EUR)
    assert_balanced(shop, order.id)


def test_a_billing_run_credits_exactly_what_the_carrier_billed(shop: TradeIn, clock: FixedClock) -> None:
    """Only the listed ids are credited; a run id used again credits nothing; stops return what they wrote."""
    orders = []
    for _ in range(2):
        summary = checkout(shop, timing=CreditTiming.DEFERRED, plan=CreditPlan.BILL_CREDITS, months=3)
        order = shop.confirm_checkout(summary).order
        arrive(shop, order, inspected(worn()))
        shop.settle(order.id, "d1")
        orders.append(order.id)
    period = billing_period(clock.now(), 1)
    listed = shop.installments_due(period)
    assert len(listed) == 2
    billed = [listed[0][1].entry_id]
    count, _ = shop.credit_installments(period, run_id="run-1", ids=billed)
    assert count == 1
    assert shop.credit_installments(period, run_id="run-1") == (0, {})  # that run is done
    assert [entry.entry_id for _, entry in shop.installments_due(period)] == [listed[1][1].entry_id]
    left = shop.ledger(orders[0]).installments
    stopped = shop.stop_installments(orders[0], reason="contract_ended")
    assert sorted(entry.settles or "" for entry in stopped) == sorted(entry.entry_id for entry in left)
    assert shop.stop_installments(orders[0], reason="contract_ended") == []
    assert all(entry.kind is EntryKind.INSTALLMENT_STOPPED for entry in stopped)
    for order_id in orders:
        assert_balanced(shop, order_id)


def test_the_audit_verification_reports_a_ledger_entry_written_around_the_library(shop: TradeIn) -> None:
    """An INSERT straight into the ledger (a forged refund) is reported; the chain itself is intact."""
    summary = checkout(shop)
    order = shop.confirm_checkout(summary).order
    assert shop.verify_audit().ok
    forged = attrs.evolve(
        shop.ledger(order.id).entries[0],
        entry_id="led_forged",
        kind=EntryKind.REFUND,
        amount=Money("-500", EUR),
    )
    with shop.store._engine.begin() as conn:  # type: ignore[attr-defined]
        insert_entries(conn, shop.store._t["ledger"], [forged])  # type: ignore[attr-defined]
    verification = shop.verify_audit()
    assert not verification.ok
    assert [problem.kind.value for problem in verification.problems] == ["record_changed"]
    assert "led_forged" in verification.problems[0].message


def test_the_protection_premium_is_charged_once_net_of_its_bundle_discount(shop: TradeIn) -> None:
    """The ledger's charges are what the shopper pays per premium payment: list price less bundle discount."""
    quote = shop.quote(IPHONE, worn(), imei=IMEI).quote
    request = CheckoutRequest(quote_ids=(quote.id,), new_device=PHONE)
    offer = shop.insurance_offers(request)[0]
    summary = shop.checkout(attrs.evolve(request, insurance_offer_id=offer.offer_id))
    order = shop.confirm_checkout(summary, insurance_accepted=True).order
    assert shop.ledger(order.id).total.charges == offer.premium.gross
