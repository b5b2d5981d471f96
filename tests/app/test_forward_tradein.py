"""Forward trade-in over its whole life, through the facade, with the clock moved on.

A Samsung Galaxy S23 128 GB is bought on Friday 4 December 2026 for 899.00 € with an iPhone 13 traded in
(150.00 €) and the guaranteed buy-back ``buyback-24`` (fee 29.00 €): 50 % of the price up to month 13
(449.50 €), 40 % from month 13 (359.60 €), 35 % from month 19 (314.65 €); exercisable from month 12
(4 December 2027), early from month 6 for a 50.00 € fee, last day 3 January 2029; floor: grade ``good``, no
lock. A year later the same phone is quoted at 144.00 € as declared (grade good) and at 50.00 € with a
cracked display (grade damaged), on the bundled price book. Every amount below is worked out by hand from
those figures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, DeviceState, Money
from tradein_sdk._domain.checkout import CheckoutRequest, NewDevice
from tradein_sdk._domain.guarantees import CONTRACT_PURPOSE, ExerciseBasis, InflowStatus
from tradein_sdk._domain.ledger import EntryKind
from tradein_sdk._domain.signing import verify_document
from tradein_sdk._errors import CheckoutInvalidError, GuaranteeError

if TYPE_CHECKING:
    from tradein_sdk import FixedClock, TradeIn
    from tradein_sdk._app.checkout import ConfirmedCheckout
    from tradein_sdk._domain.orders.model import TradeInOrder

S23 = "samsung-galaxy-s23-128gb"
IPHONE = "apple-iphone-13-128gb"
BANK = BankTransfer(iban="DE89370400440532013000", holder="Erika Mustermann")
STAFF_CHECKS = ("liquid_indicator", "blocklist_status", "authenticity")
BOUGHT = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
A_YEAR_LATER = dt.datetime(2027, 12, 10, 10, 0, tzinfo=dt.UTC)


def eur(amount: str) -> Money:
    """An amount in euros."""
    return Money(Decimal(amount), "EUR")


def galaxy(**changes: Any) -> dict[str, Any]:  # noqa: ANN401
    """The Galaxy S23 as its owner declares it a year later: light wear, grade good."""
    answers = dict(example_answers("smartphone", "worn").answers)
    answers.pop("find_my_off")
    return {
        **answers,
        "platform": "samsung",
        "google_account_removed": True,
        "samsung_account_removed": True,
        **changes,
    }


def as_inspected(answers: dict[str, Any]) -> dict[str, Any]:
    """The inspector's answers: the given ones and clean staff checks."""
    store = example_answers("smartphone", "store-inspected").answers
    return {**answers, **{key: store[key] for key in STAFF_CHECKS}}


def buy(trade_in: TradeIn, *, plan: str | None, accept: bool = True, **request: Any) -> ConfirmedCheckout:  # noqa: ANN401
    """Buy the Galaxy S23 at 899.00 € with an iPhone 13 traded in, choosing ``plan``."""
    worn = dict(example_answers("smartphone", "worn").answers)
    quote = trade_in.quote(IPHONE, worn).quote
    new = NewDevice(
        sku="SM-S911B-128",
        name="Samsung Galaxy S23",
        brand="Samsung",
        category="smartphone",
        price=eur("899.00"),
        catalog_id=S23,
    )
    summary = trade_in.checkout(
        CheckoutRequest(quote_ids=(quote.id,), new_device=new, guarantee_plan_id=plan, **request)
    )
    return trade_in.confirm_checkout(summary, payout=BANK, guarantee_accepted=accept)


def bring_back(trade_in: TradeIn, order: TradeInOrder, found: dict[str, Any]) -> TradeInOrder:
    """Send the device in, receive it and inspect it as ``found``."""
    trade_in.issue_label(order.id)
    trade_in.ship(order.id, "d1", tracking="TRACK1")
    trade_in.receive(order.id, "d1")
    trade_in.inspect(order.id, "d1", as_inspected(found))
    return trade_in.order(order.id)


def contingent(trade_in: TradeIn, order_id: str) -> Money:
    """The contingent liability the order's ledger carries."""
    return trade_in.ledger(order_id).total.contingent


def test_sold_at_checkout_it_is_signed_consented_and_a_contingent_liability(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """The summary explains it and charges its fee; the contract verifies offline; the ledger holds 449.50."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    sold = buy(trade_in, plan="buyback-24")
    summary = sold.summary
    assert [offer.plan_id for offer in summary.guarantee_offers] == ["buyback-24"]
    line = next(line for line in summary.lines if line.code == "guarantee")
    assert line.amount == eur("29.00")
    assert (
        line.describe("en") == "Buy-back guarantee: Guaranteed buy-back, up to €449.50 from December 4, 2027"
    )
    assert summary.due_now == eur("778.00")  # 899.00 - 150.00 trade-in + 29.00 fee
    offer = summary.guarantee_offers[0]
    assert offer.title("de_DE") == "Garantierter Rückkauf"
    assert [line.describe("fr_FR") for line in offer.schedule] == [
        "Mois 0 à 12 (du 4 déc. 2026 au 3 janv. 2028)\u00a0: 449,50\u00a0€",
        "Mois 13 à 18 (du 4 janv. 2028 au 3 juil. 2028)\u00a0: 359,60\u00a0€",
        "Mois 19 à 24 (du 4 juil. 2028 au 3 janv. 2029)\u00a0: 314,65\u00a0€",
    ]
    assert sold.guarantee is not None
    keys = trade_in.signing_keys
    assert keys is not None
    payload = verify_document(dict(sold.guarantee), keys.public_keys(), purpose=CONTRACT_PURPOSE)
    assert payload["device"] == S23
    assert sold.guarantee_consent is not None
    assert (sold.guarantee_consent.decision, sold.guarantee_consent.contract_id) == (
        "accepted",
        payload["id"],
    )
    assert contingent(trade_in, sold.order.id) == eur("449.50")
    kinds = [entry.kind for entry in trade_in.ledger(sold.order.id).entries]
    assert EntryKind.GUARANTEE_CONTINGENT in kinds
    actions = [entry.action for entry in trade_in.store.audit_entries() if entry.subject == payload["id"]]
    assert "guarantee.sold" in actions


def test_declined_at_checkout_it_is_recorded_and_owes_nothing(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """Offered but not accepted: the opt-out is recorded, no contract is made, no liability is posted."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    declined = buy(trade_in, plan="buyback-24", accept=False)
    assert declined.guarantee is None
    assert declined.guarantee_consent is not None
    assert declined.guarantee_consent.decision == "declined"
    assert declined.guarantee_consent.offered == ("buyback-24",)
    assert trade_in.guarantee_consent(declined.order.id) == declined.guarantee_consent
    assert contingent(trade_in, declined.order.id) == eur("0")
    consent = [
        entry
        for entry in trade_in.store.audit_entries()
        if (entry.subject, entry.action) == (declined.order.id, "guarantee.consent")
    ]
    assert [entry.details["decision"] for entry in consent] == ["declined"]


def test_a_plan_not_offered_is_refused_by_name(any_store_trade_in: TradeIn, clock: FixedClock) -> None:
    """The upgrade plan needs a financed amount: without one it is not offered, and choosing it is refused."""
    clock.set(BOUGHT)
    with pytest.raises(CheckoutInvalidError, match="upgrade-12"):
        buy(any_store_trade_in, plan="upgrade-12")


def test_exercised_a_year_later_above_the_floor_pays_the_guarantee_once(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """10 Dec 2027, age 12 months: 50 % of 899.00 = 449.50 (market 144.00); paid once, liability released."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    sold = buy(trade_in, plan="buyback-24")
    assert sold.guarantee is not None
    contract_id = sold.guarantee["payload"]["id"]
    assert trade_in.guarantee_consent(sold.order.id) == sold.guarantee_consent
    clock.set(A_YEAR_LATER)
    issued = trade_in.quote(S23, galaxy())
    assert issued.quote.amount == eur("144.00")
    preview = trade_in.guarantee_promise(contract_id, issued.token)  # shown before the customer commits
    assert (preview.amount, preview.basis) == (eur("449.50"), ExerciseBasis.GUARANTEED)
    assert trade_in.guarantee_status(contract_id).status is InflowStatus.OPEN  # the preview wrote nothing
    order = trade_in.redeem_guarantee(contract_id, issued.token)
    assert trade_in.guarantee_status(contract_id).status is InflowStatus.IN_PROGRESS
    device = order.device("d1")
    assert (device.quoted, device.guarantee.contract_id if device.guarantee else None) == (
        eur("449.50"),
        contract_id,
    )
    with pytest.raises(GuaranteeError) as held:  # a second order for the same contract
        trade_in.redeem_guarantee(contract_id, trade_in.quote(S23, galaxy()).token)
    assert held.value.rule == "already_exercised"
    assert bring_back(trade_in, order, galaxy()).device("d1").state is DeviceState.CONFIRMED
    paid = trade_in.settle(order.id, "d1", payout=BANK)
    assert paid.device("d1").state is DeviceState.PAID
    ledger = trade_in.ledger(order.id)
    assert (ledger.total.promised, ledger.total.paid, ledger.total.open) == (
        eur("449.50"),
        eur("449.50"),
        eur("0"),
    )
    assert contingent(trade_in, sold.order.id) == eur("0")
    exercised = trade_in.guarantee_status(contract_id)
    assert (exercised.status, exercised.received, exercised.received_on, exercised.order_id) == (
        InflowStatus.EXERCISED,
        eur("449.50"),
        A_YEAR_LATER.date(),
        order.id,
    )
    with pytest.raises(GuaranteeError) as twice:
        trade_in.redeem_guarantee(contract_id, trade_in.quote(S23, galaxy()).token)
    assert twice.value.rule == "already_exercised"
    assert trade_in.guarantee_liability().months == ()


def test_below_the_floor_the_fallback_applies_but_never_below_the_market(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """Found cracked (grade damaged, below good): fallback 0.00, so the market value 50.00 is offered."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    sold = buy(trade_in, plan="buyback-24")
    assert sold.guarantee is not None
    contract_id = sold.guarantee["payload"]["id"]
    clock.set(A_YEAR_LATER)
    order = trade_in.redeem_guarantee(contract_id, trade_in.quote(S23, galaxy()).token)
    found = bring_back(trade_in, order, galaxy(display_glass="cracked"))
    device = found.device("d1")
    assert (device.state, device.offer) == (DeviceState.REVISED, eur("50.00"))
    trade_in.respond_to_revision(order.id, "d1", accept=True)
    trade_in.settle(order.id, "d1", payout=BANK)
    ledger = trade_in.ledger(order.id)
    assert (ledger.total.promised, ledger.total.revised, ledger.total.paid) == (
        eur("449.50"),
        eur("-399.50"),
        eur("50.00"),
    )
    assert contingent(trade_in, sold.order.id) == eur("0")


def test_a_declined_revision_frees_the_contract_for_a_later_exercise(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """The customer keeps the cracked phone: the contract is free again, and a second try later is paid."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    sold = buy(trade_in, plan="buyback-24")
    assert sold.guarantee is not None
    contract_id = sold.guarantee["payload"]["id"]
    clock.set(A_YEAR_LATER)
    first = trade_in.redeem_guarantee(contract_id, trade_in.quote(S23, galaxy()).token)
    bring_back(trade_in, first, galaxy(display_glass="cracked"))
    trade_in.respond_to_revision(first.id, "d1", accept=False)
    assert trade_in.guarantee_status(contract_id).status is InflowStatus.OPEN
    assert contingent(trade_in, sold.order.id) == eur("449.50")
    clock.set(dt.datetime(2028, 1, 15, 10, 0, tzinfo=dt.UTC))  # month 13: 40 % of 899.00 = 359.60
    second = trade_in.redeem_guarantee(contract_id, trade_in.quote(S23, galaxy()).token)
    assert second.device("d1").quoted == eur("359.60")


def test_early_exercise_pays_less_its_fee_and_before_that_it_is_refused(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """Month 5: refused (early from month 6); month 6 (10 June 2027): 449.50 - 50.00 fee = 399.50."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    sold = buy(trade_in, plan="buyback-24")
    assert sold.guarantee is not None
    contract_id = sold.guarantee["payload"]["id"]
    clock.set(dt.datetime(2027, 5, 10, 10, 0, tzinfo=dt.UTC))
    with pytest.raises(GuaranteeError) as early:
        trade_in.redeem_guarantee(contract_id, trade_in.quote(S23, galaxy()).token)
    assert early.value.rule == "not_yet_exercisable"
    clock.set(dt.datetime(2027, 6, 10, 10, 0, tzinfo=dt.UTC))
    order = trade_in.redeem_guarantee(contract_id, trade_in.quote(S23, galaxy()).token)
    assert order.device("d1").quoted == eur("399.50")


def test_after_expiry_it_is_refused_and_its_liability_lapses(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """4 January 2029 is a day after its last: refused as expired; the lapse run releases 449.50 once."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    sold = buy(trade_in, plan="buyback-24")
    assert sold.guarantee is not None
    contract_id = sold.guarantee["payload"]["id"]
    clock.set(dt.datetime(2029, 1, 3, 10, 0, tzinfo=dt.UTC))
    assert trade_in.release_lapsed_guarantees() == 0  # its last day
    clock.set(dt.datetime(2029, 1, 4, 10, 0, tzinfo=dt.UTC))
    with pytest.raises(GuaranteeError) as expired:
        trade_in.redeem_guarantee(contract_id, trade_in.quote(S23, galaxy()).token)
    assert expired.value.rule == "expired"
    assert expired.value.localized("de_DE") == f"Die Garantie {contract_id} ist am 2029-01-03 abgelaufen."
    assert trade_in.release_lapsed_guarantees() == 1
    assert trade_in.release_lapsed_guarantees() == 0
    assert contingent(trade_in, sold.order.id) == eur("0")
    released = [e for e in trade_in.ledger(sold.order.id).entries if e.kind is EntryKind.GUARANTEE_RELEASED]
    assert [(entry.amount, entry.details["released"]) for entry in released] == [(eur("-449.50"), "lapsed")]


def test_the_carrier_upgrade_pays_the_balance_still_owed_against_a_new_contract(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """800.00 financed, at most 50 % = 400.00; 300.00 owed after a year: 300.00 credited (market 144)."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    sold = buy(trade_in, plan="upgrade-12", financed_amount=eur("800.00"))
    assert sold.guarantee is not None
    contract_id = sold.guarantee["payload"]["id"]
    assert contingent(trade_in, sold.order.id) == eur("400.00")
    clock.set(A_YEAR_LATER)
    token = trade_in.quote(S23, galaxy()).token
    with pytest.raises(GuaranteeError) as without:
        trade_in.redeem_guarantee(contract_id, token, outstanding_balance=eur("300.00"))
    assert without.value.rule == "new_contract_required"
    order = trade_in.redeem_guarantee(
        contract_id, token, outstanding_balance=eur("300.00"), new_contract=True
    )
    assert order.device("d1").quoted == eur("300.00")
    bring_back(trade_in, order, galaxy())
    trade_in.settle(order.id, "d1", payout=BANK)
    assert trade_in.ledger(order.id).total.paid == eur("300.00")
    assert contingent(trade_in, sold.order.id) == eur("0")


def test_a_guarantee_buys_back_its_own_device_only(any_store_trade_in: TradeIn, clock: FixedClock) -> None:
    """A quote for another model cannot exercise the contract."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    sold = buy(trade_in, plan="buyback-24")
    assert sold.guarantee is not None
    clock.set(A_YEAR_LATER)
    other = trade_in.quote(IPHONE, dict(example_answers("smartphone", "worn").answers))
    with pytest.raises(GuaranteeError) as refused:
        trade_in.redeem_guarantee(sold.guarantee["payload"]["id"], other.token)
    assert refused.value.rule == "device_mismatch"


def test_a_companys_calendar_of_inflows_per_device_and_cost_centre(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """Three phones, two cost centres: 2 x 449.50 expected in Dec 2027 for IT, one exercised for Sales."""
    clock.set(BOUGHT)
    trade_in = any_store_trade_in
    company = "cmp_acme"
    ids = [
        trade_in.sell_guarantee("buyback-24", S23, eur("899.00"), customer_ref=company, cost_centre=centre)[
            "payload"
        ]["id"]
        for centre in ("IT", "IT", "Sales")
    ]
    trade_in.sell_guarantee("buyback-24", S23, eur("899.00"), customer_ref="cmp_other")
    clock.set(A_YEAR_LATER)
    trade_in.exercise_guarantee(ids[2], grade="good", locked=False, market=eur("144.00"))
    calendar = trade_in.guarantee_calendar(company)
    assert [(line.cost_centre, line.status) for line in calendar.lines] == [
        ("IT", InflowStatus.OPEN),
        ("IT", InflowStatus.OPEN),
        ("Sales", InflowStatus.EXERCISED),
    ]
    totals = {
        (total.month, total.cost_centre): (total.devices, total.expected, total.received)
        for total in calendar.totals
    }
    assert totals == {
        ("2027-12", "IT"): (2, eur("899.00"), eur("0")),
        ("2027-12", "Sales"): (1, eur("0"), eur("449.50")),
    }
    rows = calendar.to_csv().splitlines()
    assert rows[0].startswith("month,cost_centre,contract_id")
    assert len(rows) == 4
