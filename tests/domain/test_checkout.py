from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grading_questionnaire import example_answers
from tradein_sdk import (
    CheckoutChangedError,
    CheckoutInvalidError,
    FixedClock,
    Money,
    QuoteAlreadyRedeemedError,
    SQLStore,
    TradeIn,
)
from tradein_sdk._domain.checkout import (
    BillCreditSchedule,
    CheckoutRequest,
    ClawbackPolicy,
    CreditPlan,
    CreditTiming,
    NewDevice,
    RemainderRule,
)
from tradein_sdk._domain.insurance import ConsentDecision
from tradein_sdk._domain.promotions import parse_promotions
from tradein_sdk._domain.tokens import KeyRing

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

GALAXY = NewDevice(
    sku="SM-S931B-256",
    name="Samsung Galaxy S25 256 GB",
    brand="Samsung",
    category="smartphone",
    price=Money("999.00", "EUR"),
)


def answers(name: str) -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


def promotions(max_redemptions: int | None = None) -> Any:  # noqa: ANN401 - a PromotionBook
    """One combinable +50 € bonus for any Samsung or Apple phone traded in (optionally limited)."""
    promotion: dict[str, Any] = {
        "id": "bonus-50",
        "title": "Bonus for your old phone",
        "kind": "fixed_bonus",
        "stacking": "combinable",
        "amount": {"amount": "50.00", "currency": "EUR"},
        "conditions": {"traded_device": {"brands": ["Samsung", "Apple"]}},
    }
    if max_redemptions is not None:
        promotion["max_redemptions"] = max_redemptions
    return parse_promotions(
        {
            "promotions_id": "test",
            "version": "1",
            "market": "DE",
            "currency": "EUR",
            "promotions": [promotion],
        }
    )


@pytest.fixture
def start() -> datetime:
    """December 2026: this module's checkouts happen then."""
    return datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop(tmp_path: Path, clock: FixedClock) -> Iterator[TradeIn]:
    """An embedded shop with the +50 € promotion."""
    facade = TradeIn.embedded(tmp_path, clock=clock, promotions=promotions())
    yield facade
    facade.close()


def quote_id(shop: TradeIn, device: str = "apple-iphone-13-128gb", name: str = "flawless") -> str:
    """Issue a quote and return its id."""
    return shop.quote(device, answers(name)).quote.id


def test_instant_discount_with_promotion_and_protection(shop: TradeIn) -> None:
    """Due now = price − trade-ins − promotions + premium; the lines add up to it; clawback terms shown."""
    quotes = (quote_id(shop), quote_id(shop, "samsung-galaxy-s23-128gb", "worn-samsung"))
    offer = shop.insurance_offers(CheckoutRequest(quote_ids=quotes, new_device=GALAXY))[0]
    summary = shop.checkout(
        CheckoutRequest(quote_ids=quotes, new_device=GALAXY, insurance_offer_id=offer.offer_id)
    )
    quoted = [trade_in.quoted for trade_in in summary.trade_ins]
    assert summary.total_credit == quoted[0] + quoted[1] + Money("100.00", "EUR")
    assert summary.due_now == GALAXY.price - summary.total_credit + offer.premium.gross
    charged = [line.amount for line in summary.lines if line.amount is not None and not line.monthly]
    assert Money.total(charged, "EUR") == summary.due_now
    assert [line.code for line in summary.lines].count("promotion") == 2
    assert summary.clawback.applies
    assert [device.if_not_sent for device in summary.clawback.devices] == [
        quoted[0] + Money("50", "EUR"),
        quoted[1] + Money("50", "EUR"),
    ]
    assert summary.signature.startswith("cs1.k1.")


def test_summary_speaks_the_shoppers_language(shop: TradeIn) -> None:
    """Lines, promotion titles and clawback terms render in German."""
    summary = shop.checkout(CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY, locale="de_DE"))
    texts = " ".join(text for text, _ in summary.describe()) + " ".join(summary.clawback.describe("de_DE"))
    assert "Neues Gerät" in texts
    assert "999,00\xa0€" in " ".join(amount for _, amount in summary.describe())


def test_trade_in_worth_more_than_the_purchase(shop: TradeIn) -> None:
    """Credit beyond the price is not lost: the remainder is shown and nothing is due."""
    cheap = attrs.evolve(GALAXY, price=Money("100.00", "EUR"))
    summary = shop.checkout(
        CheckoutRequest(quote_ids=(quote_id(shop),), new_device=cheap, remainder_rule=RemainderRule.PAYOUT)
    )
    assert summary.applied_now == cheap.price
    assert summary.remainder == summary.total_credit - cheap.price
    assert summary.due_now == Money("0.00", "EUR")
    assert any(line.code == "remainder" for line in summary.lines)


def test_deferred_bill_credits(shop: TradeIn) -> None:
    """Bill credits: the full price is due now, the credit comes monthly after inspection; no clawback."""
    summary = shop.checkout(
        CheckoutRequest(
            quote_ids=(quote_id(shop),),
            new_device=GALAXY,
            timing=CreditTiming.DEFERRED,
            plan=CreditPlan.BILL_CREDITS,
            months=24,
        )
    )
    assert summary.due_now == GALAXY.price
    assert summary.bill_credits is not None
    assert Money.total(summary.bill_credits.installments, "EUR") == summary.total_credit
    assert summary.monthly == -summary.bill_credits.installments[0]
    assert not summary.clawback.applies


@given(
    cents=st.integers(min_value=0, max_value=10_000_000),
    months=st.integers(min_value=1, max_value=60),
    currency=st.sampled_from(["EUR", "JPY", "BHD"]),
)
def test_bill_credit_schedules_sum_exactly(cents: int, months: int, currency: str) -> None:
    """Installments always sum to the credit and differ by at most one minor unit."""
    total = Money(Decimal(cents).scaleb(-Money.zero(currency).minor_units), currency)
    schedule = BillCreditSchedule.spread(total, months)
    assert len(schedule.installments) == months
    assert Money.total(schedule.installments, currency) == total
    unit = Decimal(1).scaleb(-total.minor_units)
    assert max(schedule.installments).amount - min(schedule.installments).amount <= unit


@pytest.mark.parametrize(
    "changes",
    [
        {"timing": CreditTiming.DEFERRED, "plan": CreditPlan.DISCOUNT},
        {"timing": CreditTiming.INSTANT, "plan": CreditPlan.PAYOUT},
        {"timing": CreditTiming.DEFERRED, "plan": CreditPlan.BILL_CREDITS},
        {"timing": CreditTiming.DEFERRED, "plan": CreditPlan.BILL_CREDITS, "months": 0},
        {"months": 12},
        {"new_device": attrs.evolve(GALAXY, price=Money("-1.00", "EUR"))},
        {"insurance_offer_id": "no/such/offer"},
        {"new_device": attrs.evolve(GALAXY, device_category="laptop")},
        {"guarantee_plan_id": "no-such-plan"},
    ],
    ids=[
        "deferred-discount",
        "instant-payout",
        "bill-credits-without-months",
        "zero-months",
        "months-without-bill-credits",
        "negative-price",
        "unknown-protection-offer",
        "unknown-device-category",
        "unknown-guarantee-plan",
    ],
)
def test_requests_that_do_not_hold_together(shop: TradeIn, changes: dict[str, Any]) -> None:
    """Each impossible combination is refused with checkout_invalid before anything is computed."""
    request = CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY)
    with pytest.raises(CheckoutInvalidError) as caught:
        shop.checkout(attrs.evolve(request, **changes))
    assert caught.value.code == "checkout_invalid"


def test_confirm_records_the_order_consent_and_summary(shop: TradeIn) -> None:
    """Confirming opens the order, claims the quote, records the protection decision and keeps the summary."""
    request = CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY)
    offer = shop.insurance_offers(request)[0]
    summary = shop.checkout(attrs.evolve(request, insurance_offer_id=offer.offer_id))
    confirmed = shop.confirm_checkout(summary, insurance_accepted=True, customer_ref="cus_1")
    assert confirmed.consent is not None
    assert confirmed.consent.decision is ConsentDecision.ACCEPTED
    stored = json.loads(shop.store.get_checkout(confirmed.order.id) or "{}")
    assert stored["summary"]["checkout_id"] == summary.checkout_id
    assert stored["consent"]["decision"] == "accepted"
    assert shop.get_quote(summary.request.quote_ids[0]).redemption is not None
    declined = shop.confirm_checkout(shop.checkout(attrs.evolve(request, quote_ids=(quote_id(shop),))))
    assert declined.consent is not None
    assert declined.consent.decision is ConsentDecision.DECLINED


def test_tampered_expired_and_unsigned_summaries_are_refused(shop: TradeIn, clock: FixedClock) -> None:
    """Any altered amount, a summary older than 30 minutes, or a missing signature is refused."""
    summary = shop.checkout(CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY))
    for altered in (
        attrs.evolve(summary, due_now=Money("1.00", "EUR")),
        attrs.evolve(
            summary,
            request=attrs.evolve(summary.request, new_device=attrs.evolve(GALAXY, price=Money("1", "EUR"))),
        ),
        attrs.evolve(summary, signature=""),
        attrs.evolve(summary, signature=summary.signature.replace("cs1.k1.", "cs1.k9.")),
    ):
        with pytest.raises(CheckoutChangedError):
            shop.confirm_checkout(altered)
    clock.advance(minutes=31)
    with pytest.raises(CheckoutChangedError, match="expired"):
        shop.confirm_checkout(summary)


def test_a_promotion_used_up_meanwhile_changes_the_checkout(tmp_path: Path, clock: FixedClock) -> None:
    """Two summaries promise a once-only bonus; the first confirms, the second is refused as changed."""
    shop = TradeIn.embedded(tmp_path, clock=clock, promotions=promotions(max_redemptions=1))
    first = shop.checkout(CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY))
    second = shop.checkout(CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY))
    assert first.total_credit - first.trade_ins[0].quoted == Money("50.00", "EUR")
    shop.confirm_checkout(first)
    with pytest.raises(CheckoutChangedError):
        shop.confirm_checkout(second)
    assert shop.store.promotion_usage()["bonus-50"] == (1, Money("50.00", "EUR"))
    shop.close()


@pytest.fixture
def any_store_shop(tmp_path: Path, clock: FixedClock, database_url: str | None) -> Iterator[TradeIn]:
    """A shop on a SQLite file, and on PostgreSQL when a server is reachable."""
    store = (
        SQLStore.sqlite_file(tmp_path / "shop.sqlite3")
        if database_url is None
        else SQLStore(database_url, pool_size=10)
    )
    facade = TradeIn(
        store=store,
        key_ring=KeyRing.generate(key_id="k1"),
        audience="shop",
        clock=clock,
        promotions=promotions(),
    )
    yield facade
    facade.close()


def _race(shop: TradeIn, summaries: list[Any]) -> Counter[str]:
    """Confirm the summaries from as many threads at once; count confirmations and refusals."""
    barrier = threading.Barrier(len(summaries))
    outcomes: Counter[str] = Counter()

    def confirm(summary: Any) -> None:  # noqa: ANN401 - a CheckoutSummary
        barrier.wait()
        try:
            shop.confirm_checkout(summary)
            outcomes["confirmed"] += 1
        except (QuoteAlreadyRedeemedError, CheckoutChangedError):
            outcomes["refused"] += 1

    threads = [threading.Thread(target=confirm, args=(summary,)) for summary in summaries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_one_quote_in_two_concurrent_checkouts(any_store_shop: TradeIn) -> None:
    """The same quote confirmed in two checkouts at once: exactly one succeeds, 20 rounds over."""
    for _ in range(20):
        quote = quote_id(any_store_shop)
        summaries = [
            any_store_shop.checkout(CheckoutRequest(quote_ids=(quote,), new_device=GALAXY)) for _ in range(2)
        ]
        assert _race(any_store_shop, summaries) == Counter(confirmed=1, refused=1)


def _received(shop: TradeIn, order_id: str) -> None:
    shop.issue_label(order_id)
    shop.record_event(order_id, "d1", "ship", actor="shopper")
    shop.record_event(order_id, "d1", "receive", actor="staff")


def test_clawback_when_not_sent(tmp_path: Path, clock: FixedClock) -> None:
    """An instant credit not earned because the device never came: credit, promotion and 19 % tax back."""
    shop = TradeIn.embedded(
        tmp_path,
        clock=clock,
        promotions=promotions(),
        clawback_policy=ClawbackPolicy(tax_rate_percent=Decimal(19)),
    )
    summary = shop.checkout(CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY))
    order = shop.confirm_checkout(summary).order
    shop.issue_label(order.id)
    assert shop.clawbacks(order.id) == {"d1": Money("0", "EUR")}
    clock.advance(days=15)
    shop.tick()
    credit = summary.total_credit
    assert shop.clawbacks(order.id) == {"d1": (credit * Decimal("1.19")).rounded()}
    shop.close()


def test_clawback_of_the_difference_when_revised(shop: TradeIn) -> None:
    """A device found worse than declared and bought at the lower offer owes the difference."""
    summary = shop.checkout(CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY))
    order = shop.confirm_checkout(summary).order
    _received(shop, order.id)
    diff = shop.inspect(order.id, "d1", answers("store-inspected"), imei="490154203237518")
    shop.respond_to_revision(order.id, "d1", accept=True)
    assert shop.clawbacks(order.id) == {"d1": summary.trade_ins[0].quoted - diff.revised_offer}


def test_clawback_when_rejected(shop: TradeIn) -> None:
    """A device whose revised offer is declined goes back free, and the whole instant credit is owed."""
    summary = shop.checkout(CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY))
    order = shop.confirm_checkout(summary).order
    _received(shop, order.id)
    shop.inspect(order.id, "d1", answers("store-inspected"), imei="490154203237518")
    returning = shop.respond_to_revision(order.id, "d1", accept=False)
    assert returning.device("d1").state.value == "returning"
    assert shop.clawbacks(order.id) == {"d1": summary.clawback.devices[0].if_rejected}
    assert summary.clawback.devices[0].if_rejected == summary.total_credit


def test_deferred_credit_never_claws_back(shop: TradeIn, clock: FixedClock) -> None:
    """Nothing was credited upfront, so an expired device owes nothing."""
    summary = shop.checkout(
        CheckoutRequest(
            quote_ids=(quote_id(shop),),
            new_device=GALAXY,
            timing=CreditTiming.DEFERRED,
            plan=CreditPlan.VOUCHER,
        )
    )
    order = shop.confirm_checkout(summary).order
    shop.issue_label(order.id)
    clock.advance(days=15)
    shop.tick()
    assert shop.clawbacks(order.id) == {"d1": Money("0", "EUR")}


def test_a_summary_travels_as_json_and_still_confirms(shop: TradeIn) -> None:
    """to_json → JSON text → from_json gives the same summary, which confirms; a bad document names paths."""
    import json  # noqa: PLC0415

    from tradein_sdk import CheckoutSummary, DocumentInvalidError  # noqa: PLC0415

    summary = shop.checkout(CheckoutRequest(quote_ids=(quote_id(shop),), new_device=GALAXY))
    back = CheckoutSummary.from_json(json.loads(json.dumps(summary.to_json())))
    assert back == summary
    assert shop.confirm_checkout(back).summary == summary
    document = summary.to_json()
    document["due_now"] = {"amount": "free", "currency": "EUR"}
    del document["checkout_id"]
    with pytest.raises(DocumentInvalidError) as raised:
        CheckoutSummary.from_json(document)
    paths = {problem.path for problem in raised.value.problems}
    assert {"$.checkout_id", "$.due_now"} <= paths
