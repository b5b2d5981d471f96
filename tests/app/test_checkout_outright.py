"""A new phone bought outright: the same checkout without a trade-in, on SQLite and on PostgreSQL.

A Samsung Galaxy S23 128 GB is bought on Friday 4 December 2026 for 899.00 € with no device traded in. The
example protection plans offer the damage cover for 12 months at 79.00 € upfront and the damage and theft
cover at 11.99 € a month (their trade-in bundle discounts, 10 % and 15 %, only with a trade-in); the buy-back
guarantee ``buyback-24`` costs 29.00 € and guarantees at most 449.50 € (50 % of the price), exercisable from
4 December 2027, its last day 3 January 2029. Every amount below is worked out by hand from those figures.

The purchase is recorded as every checkout without a trade-in is: an order with no devices (closed from the
start: nothing to send, inspect or pay), the signed summary stored with it, its ledger holding the
protection premium and the guarantee's contingent liability.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from grading_questionnaire import example_answers
from tradein_sdk import (
    CheckoutChangedError,
    CheckoutInvalidError,
    CheckoutRequest,
    CheckoutSummary,
    ConsentDecision,
    CreditPlan,
    CreditTiming,
    CustomerCase,
    InvalidTextError,
    Money,
    NewDevice,
    RejectionReason,
    TradeIn,
    parse_promotions,
)
from tradein_sdk._domain.guarantees import CONTRACT_PURPOSE
from tradein_sdk._domain.ledger import EntryKind
from tradein_sdk._domain.signing import verify_document
from tradein_sdk._ports import GuaranteeStore, require

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk import FixedClock, PromotionBook

S23 = "samsung-galaxy-s23-128gb"
BOUGHT = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
DAMAGE_COVER = "example-de/damage-cover/upfront_12"
MONTHLY_COVER = "example-de/damage-and-theft-monthly/monthly"
GALAXY = NewDevice(
    sku="SM-S911B-128",
    name="Samsung Galaxy S23",
    brand="Samsung",
    category="smartphone",
    price=Money("899.00", "EUR"),
    catalog_id=S23,
)


def eur(amount: str) -> Money:
    """An amount in euros."""
    return Money(Decimal(amount), "EUR")


def outright(**choices: Any) -> CheckoutRequest:  # noqa: ANN401
    """The Galaxy S23 bought without a trade-in and without a contract, with ``choices``."""
    return CheckoutRequest(
        quote_ids=(), new_device=GALAXY, customer_case=CustomerCase.NONE, locale="de_DE", **choices
    )


@pytest.fixture
def start() -> dt.datetime:
    """The day the Galaxy S23 is bought."""
    return BOUGHT


def stored_checkout(trade_in: TradeIn, order_id: str) -> dict[str, Any]:
    """The confirmed checkout record kept with the order."""
    text = trade_in.store.get_checkout(order_id)
    assert text is not None
    document: dict[str, Any] = json.loads(text)
    return document


def test_bought_outright_the_price_is_due_and_the_purchase_is_an_order_without_devices(
    any_store_trade_in: TradeIn,
) -> None:
    """No credit, no clawback, no bill credit: 899.00 € due; the summary is signed, stored, and audited."""
    trade_in = any_store_trade_in
    summary = trade_in.checkout(outright())
    assert summary.trade_ins == ()
    assert (summary.total_credit, summary.applied_now, summary.remainder) == (eur("0"), eur("0"), eur("0"))
    assert (summary.due_now, summary.monthly) == (eur("899.00"), eur("0"))
    assert [line.code for line in summary.lines] == ["new_device"]
    assert summary.describe() == (("Neues Gerät: Samsung Galaxy S23", "899,00\u00a0€"),)
    assert summary.bill_credits is None
    assert not summary.clawback.applies
    assert summary.clawback.describe("de_DE") == ()  # no device to send, nothing to charge back
    assert summary.signature.startswith("cs1.")
    assert summary.insurance_offers  # protection is offered, without the trade-in bundle
    assert all(offer.bundle_discount.is_zero() for offer in summary.insurance_offers)
    assert [offer.plan_id for offer in summary.guarantee_offers] == ["buyback-24"]

    confirmed = trade_in.confirm_checkout(summary, customer_ref="cus_outright")
    order = confirmed.order
    assert (order.devices, order.is_closed, order.currency) == ((), True, "EUR")
    assert trade_in.order(order.id) == order
    record = stored_checkout(trade_in, order.id)
    assert CheckoutSummary.from_json(record["summary"]) == summary
    assert record["summary"]["due_now"] == {"amount": "899.00", "currency": "EUR"}
    assert record["summary"]["request"]["quote_ids"] == []
    assert record["ledger_terms"]["devices"] == []
    assert trade_in.ledger(order.id).entries == ()
    assert confirmed.consent is not None
    assert confirmed.consent.decision is ConsentDecision.DECLINED  # offers were shown and not taken
    assert confirmed.guarantee is None
    assert confirmed.guarantee_consent is not None
    assert confirmed.guarantee_consent.decision == "declined"
    accepted = [
        entry
        for entry in trade_in.store.audit_entries()
        if (entry.subject, entry.action) == (order.id, "order.accepted")
    ]
    assert [(entry.details["checkout"], entry.details["quotes"]) for entry in accepted] == [
        (summary.checkout_id, [])
    ]
    assert order.id in [listed.id for listed in trade_in.list_orders(customer_ref="cus_outright")]
    assert order.id not in [listed.id for listed in trade_in.list_orders(open_only=True)]
    assert trade_in.tick() == 0  # no deadline, no reminder
    assert trade_in.reminders() == []
    with pytest.raises(CheckoutChangedError, match="confirmed already"):  # one summary, one order
        trade_in.confirm_checkout(summary)
    assert [listed.id for listed in trade_in.list_orders()] == [order.id]


def test_protection_and_a_guarantee_bought_with_a_phone_paid_outright(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """899.00 + 79.00 + 29.00 = 1007.00 € due; the ledger holds the premium and 449.50 € contingent."""
    trade_in = any_store_trade_in
    offers = {offer.offer_id: offer for offer in trade_in.insurance_offers(outright())}
    assert offers[DAMAGE_COVER].premium.gross == eur("79.00")
    summary = trade_in.checkout(outright(insurance_offer_id=DAMAGE_COVER, guarantee_plan_id="buyback-24"))
    assert [line.code for line in summary.lines] == ["new_device", "insurance", "guarantee"]
    assert [amount for _, amount in summary.describe("en")] == ["€899.00", "€79.00", "€29.00"]
    assert summary.due_now == eur("1007.00")
    assert summary.monthly == eur("0")

    confirmed = trade_in.confirm_checkout(
        summary, customer_ref="cus_outright", insurance_accepted=True, guarantee_accepted=True
    )
    order = confirmed.order
    assert confirmed.consent is not None
    assert (confirmed.consent.decision, confirmed.consent.premium) == (ConsentDecision.ACCEPTED, eur("79.00"))
    assert confirmed.guarantee is not None
    keys = trade_in.signing_keys
    assert keys is not None
    payload = verify_document(dict(confirmed.guarantee), keys.public_keys(), purpose=CONTRACT_PURPOSE)
    assert payload["device"] == S23
    contract_id = payload["id"]
    consent = trade_in.guarantee_consent(order.id)
    assert consent is not None
    assert (consent.decision, consent.contract_id) == ("accepted", contract_id)
    assert require(trade_in.store, GuaranteeStore).get_guarantee(contract_id).sold_order_id == order.id

    ledger = trade_in.ledger(order.id)
    assert [(entry.kind, entry.amount) for entry in ledger.entries] == [
        (EntryKind.INSURANCE_PREMIUM, eur("79.00")),
        (EntryKind.GUARANTEE_CONTINGENT, eur("449.50")),
    ]
    assert (ledger.total.charges, ledger.total.contingent, ledger.total.owed) == (
        eur("79.00"),
        eur("449.50"),
        eur("0"),
    )
    record = stored_checkout(trade_in, order.id)
    assert record["summary"]["due_now"] == {"amount": "1007.00", "currency": "EUR"}
    assert record["ledger_terms"]["guarantees"] == [[contract_id, {"amount": "449.50", "currency": "EUR"}]]
    assert record["consent"]["decision"] == "accepted"

    clock.set(dt.datetime(2029, 1, 4, 10, 0, tzinfo=dt.UTC))  # the day after its last: it lapses
    assert trade_in.release_lapsed_guarantees() == 1
    assert trade_in.ledger(order.id).total.contingent == eur("0")


def test_monthly_protection_is_paid_monthly_not_at_checkout(any_store_trade_in: TradeIn) -> None:
    """The damage and theft cover: 11.99 € a month; 899.00 € due now; its premium on the ledger."""
    trade_in = any_store_trade_in
    summary = trade_in.checkout(outright(insurance_offer_id=MONTHLY_COVER))
    assert (summary.due_now, summary.monthly) == (eur("899.00"), eur("11.99"))
    assert [(line.code, line.monthly) for line in summary.lines] == [
        ("new_device", False),
        ("insurance_monthly", True),
    ]
    confirmed = trade_in.confirm_checkout(summary, insurance_accepted=True)
    entries = trade_in.ledger(confirmed.order.id).entries
    assert [(entry.kind, entry.amount, entry.reason) for entry in entries] == [
        (EntryKind.INSURANCE_PREMIUM, eur("11.99"), "monthly")
    ]


def test_credit_choices_that_need_a_trade_in_do_not_refuse_an_outright_purchase(
    any_store_trade_in: TradeIn,
) -> None:
    """A cart that kept bill credits for 24 months from an earlier trade-in still buys at the price."""
    trade_in = any_store_trade_in
    kept = outright(timing=CreditTiming.DEFERRED, plan=CreditPlan.BILL_CREDITS, months=24)
    summary = trade_in.checkout(kept)
    assert (summary.due_now, summary.monthly, summary.bill_credits) == (eur("899.00"), eur("0"), None)
    assert [line.code for line in summary.lines] == ["new_device"]
    order = trade_in.confirm_checkout(summary).order
    assert trade_in.ledger(order.id).entries == ()


# -- promotions ----------------------------------------------------------------------------------------


def contract_only() -> PromotionBook:
    """A +100 € bonus on any traded device bought with a new contract or an upgrade, for any Samsung."""
    return parse_promotions(
        {
            "promotions_id": "contract-only",
            "version": "1",
            "market": "DE",
            "currency": "EUR",
            "promotions": [
                {
                    "id": "contract-bonus",
                    "title": "Contract bonus",
                    "kind": "fixed_bonus",
                    "stacking": "combinable",
                    "amount": {"amount": "100.00", "currency": "EUR"},
                    "conditions": {
                        "customer_cases": ["new_contract", "upgrade"],
                        "purchase": {"brands": ["Samsung"]},
                    },
                }
            ],
        }
    )


@pytest.fixture
def promoting(tmp_path: Path, clock: FixedClock, database_url: str | None) -> Iterator[TradeIn]:
    """The shop of each store kind with the contract-only bonus."""
    facade = TradeIn.embedded(
        tmp_path / "promotions", database_url=database_url, clock=clock, promotions=contract_only()
    )
    yield facade
    facade.close()


def test_a_contract_only_promotion_does_not_apply_to_a_purchase_without_a_contract(
    promoting: TradeIn,
) -> None:
    """The bonus needs a contract (the customer case) and a traded device it adds to: none applies here.

    With a trade-in the customer case decides (upgrade: +100 €; none: refused, saying why). Bought outright
    there is no device to add a bonus to, with or without a contract: 899.00 € due, no budget reserved.
    """
    trade_in = promoting
    worn = dict(example_answers("smartphone", "worn").answers)

    def traded(case: CustomerCase) -> CheckoutSummary:
        quote = trade_in.quote("apple-iphone-13-128gb", worn).quote
        return trade_in.checkout(
            CheckoutRequest(quote_ids=(quote.id,), new_device=GALAXY, customer_case=case)
        )

    upgrade = traded(CustomerCase.UPGRADE)
    assert [promotion.boost for promotion in upgrade.trade_ins[0].promotions] == [eur("100.00")]
    plain = traded(CustomerCase.NONE)
    assert plain.trade_ins[0].promotions == ()
    assert [rejected.reason for rejected in plain.trade_ins[0].rejected] == [RejectionReason.CUSTOMER_CASE]

    summary = trade_in.checkout(outright())
    assert summary.due_now == GALAXY.price
    assert "promotion" not in [line.code for line in summary.lines]
    with_contract = trade_in.checkout(
        CheckoutRequest(quote_ids=(), new_device=GALAXY, customer_case=CustomerCase.UPGRADE)
    )
    assert with_contract.due_now == GALAXY.price
    trade_in.confirm_checkout(summary)
    assert trade_in.store.promotion_usage() == {}


# -- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (
            CheckoutRequest(quote_ids=(), new_device=attrs.evolve(GALAXY, device_category="laptop")),
            ("new_device.device_category", "laptop"),
        ),
        (
            CheckoutRequest(quote_ids=(), new_device=attrs.evolve(GALAXY, price=eur("-1.00"))),
            ("new_device.price",),
        ),
        (outright(insurance_offer_id="example-de/none/upfront_12"), ("example-de/none/upfront_12",)),
        (outright(guarantee_plan_id="platinum"), ("platinum",)),
    ],
    ids=["category", "negative-price", "unknown-protection", "unknown-guarantee"],
)
def test_bad_input_is_a_typed_error_naming_the_field(
    any_store_trade_in: TradeIn, request_: CheckoutRequest, words: tuple[str, ...]
) -> None:
    """Refused before anything is computed or written, the field or the choice named."""
    with pytest.raises(CheckoutInvalidError) as refused:
        any_store_trade_in.checkout(request_)
    assert all(word in str(refused.value) for word in words), str(refused.value)


def test_a_bad_customer_reference_names_the_field(any_store_trade_in: TradeIn) -> None:
    """At confirm, an unusable customer reference is refused by name; nothing is written."""
    summary = any_store_trade_in.checkout(outright())
    with pytest.raises(InvalidTextError) as refused:
        any_store_trade_in.confirm_checkout(summary, customer_ref="x" * 65)
    assert refused.value.field == "customer_ref"
    assert any_store_trade_in.list_orders() == []
