from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from stdnum import iban as stdnum_iban

from grading_questionnaire import (
    Option,
    Question,
    QuestionKind,
    Worse,
    example_answers,
    example_diagnostics,
    load_questionnaire,
)
from tradein_sdk import (
    AnswersInvalidError,
    ConfigurationError,
    CurrencyMismatchError,
    KeyRing,
    Money,
    PriceBookSource,
    QuoteExpiredError,
    SQLStore,
    TradeIn,
    TradeInError,
    UnsupportedLocaleError,
)
from tradein_sdk._domain.clock import FixedClock
from tradein_sdk._domain.orders.deadlines import due_actions, reminders_due, tick
from tradein_sdk._domain.orders.inspection import InspectionResult, _favourable, inspect_device
from tradein_sdk._domain.orders.machine import (
    apply,
    inspection_verdict,
    transition_table,
    transitions_mermaid,
)
from tradein_sdk._domain.orders.model import (
    DEFAULT_POLICY,
    DeliveryPolicy,
    DeviceEvent,
    OrderDevice,
    TradeInOrder,
    open_order,
)
from tradein_sdk._domain.orders.vocabulary import (
    Actor,
    DeviceState,
    Disposition,
    EventKind,
    HoldReason,
    MismatchReason,
    ReminderKind,
    SilenceAction,
)
from tradein_sdk._domain.outcome import order_outcome
from tradein_sdk._domain.payouts import (
    BankTransfer,
    PayoutMethod,
    PayoutRef,
    PurchaseCredit,
    Voucher,
    payout_ref,
)
from tradein_sdk._errors import (
    ActorNotAllowedError,
    EventConflictError,
    GuardFailedError,
    IllegalTransitionError,
    InspectionInputError,
    InvalidOrderError,
    InvalidPayoutError,
    InvalidPolicyError,
    OrderDeviceNotFoundError,
    OrderError,
    StaleEventError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradein_sdk import Quote

START = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
IPHONE = "apple-iphone-13-128gb"
IPHONE_256 = "apple-iphone-13-256gb"
IMEI = "490154203237518"
OTHER_IMEI = "356938035643809"
BANK = PayoutRef(method=PayoutMethod.BANK_TRANSFER, reference="pay_bank")
VOUCHER = PayoutRef(method=PayoutMethod.VOUCHER, reference="pay_voucher")
PURCHASE = PayoutRef(method=PayoutMethod.PURCHASE_CREDIT, reference="pay_purchase")
STAFF_ANSWERS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}


def answers(name: str) -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


def inspected(name: str, **changes: Any) -> dict[str, Any]:  # noqa: ANN401 - JSON answer values
    """An inspector's answers: a bundled example with the staff checks answered (and changed)."""
    return {**STAFF_ANSWERS, **answers(name), **changes}


@cache
def quotes() -> dict[str, Quote]:
    """Quotes issued once by the embedded facade at START (estimate, guaranteed, recycling, US, worn)."""
    facade = TradeIn(
        store=SQLStore("sqlite:///:memory:"),
        key_ring=KeyRing.generate(key_id="k1"),
        audience="shop",
        clock=FixedClock(START),
    )
    try:
        return {
            "estimate": facade.quote(IPHONE, answers("flawless"), locale="de_DE").quote,
            "guaranteed": facade.quote(
                IPHONE, answers("store-inspected"), verification="staff_verified", imei=IMEI
            ).quote,
            "recycle": facade.quote(IPHONE, answers("activation-locked")).quote,
            "worn": facade.quote(IPHONE, answers("worn")).quote,
            "no-power": facade.quote(IPHONE, answers("no-power")).quote,
            "usd": facade.quote(IPHONE, answers("flawless"), market="US").quote,
        }
    finally:
        facade.close()


_ids = itertools.count(1)


def ev(kind: EventKind, actor: Actor = Actor.STAFF, device: str = "d1", **fields: Any) -> DeviceEvent:  # noqa: ANN401 - event fields of several types
    """An event with a fresh id."""
    return DeviceEvent(id=f"t{next(_ids)}", kind=kind, device_id=device, actor=actor, **fields)


def order(*names: str, instant_credit: bool = False, payout: PayoutRef | None = None) -> TradeInOrder:
    """An order opened at START for the named quotes (the estimate by default)."""
    chosen = [quotes()[name] for name in names or ("estimate",)]
    return open_order(order_id="o1", quotes=chosen, now=START, instant_credit=instant_credit, payout=payout)


def run(
    trade: TradeInOrder,
    *events: DeviceEvent,
    at: datetime = START,
    policy: DeliveryPolicy = DEFAULT_POLICY,
) -> TradeInOrder:
    """Apply events in order, all at the same time."""
    for event in events:
        trade = apply(trade, event, now=at, policy=policy)
    return trade


def result(device: OrderDevice, offer: Money | None = None, *mismatch: MismatchReason) -> InspectionResult:
    """An inspection result with ``offer`` (the quoted amount by default)."""
    amount = device.quoted if offer is None else offer
    return InspectionResult(offer=amount, inspected_value=amount, mismatch=mismatch)


def eur(amount: str) -> Money:
    """Euros."""
    return Money(amount, "EUR")


def received(trade: TradeInOrder | None = None, device: str = "d1") -> TradeInOrder:
    """An order whose device was labelled, shipped and received."""
    return run(
        trade or order(),
        ev(EventKind.ISSUE_LABEL, Actor.SYSTEM, device),
        ev(EventKind.SHIP, Actor.PROVIDER, device),
        ev(EventKind.RECEIVE, Actor.PROVIDER, device),
    )


def revised(trade: TradeInOrder | None = None, offer: str = "120", device: str = "d1") -> TradeInOrder:
    """An order whose device was inspected and offered less."""
    trade = received(trade, device)
    lower = result(trade.device(device), eur(offer))
    return run(
        trade,
        ev(EventKind.INSPECT, Actor.STAFF, device, inspection=lower),
        ev(EventKind.REVISE, Actor.SYSTEM, device),
    )


def confirmed(trade: TradeInOrder | None = None, device: str = "d1") -> TradeInOrder:
    """An order whose device was inspected and confirmed at the quote."""
    trade = received(trade, device)
    return run(
        trade,
        ev(EventKind.INSPECT, Actor.STAFF, device, inspection=result(trade.device(device))),
        ev(EventKind.CONFIRM, Actor.SYSTEM, device),
    )


def mismatched(reason: MismatchReason = MismatchReason.IMEI_DIFFERS) -> TradeInOrder:
    """An order whose device was found to be another device."""
    trade = received()
    bad = result(trade.device("d1"), eur("0"), reason)
    return run(trade, ev(EventKind.INSPECT, inspection=bad), ev(EventKind.REJECT_MISMATCH, Actor.SYSTEM))


def held() -> TradeInOrder:
    """An order whose received device is on hold after a blocklist hit."""
    return run(received(), ev(EventKind.HOLD, Actor.SYSTEM, hold_reason=HoldReason.BLOCKLIST))


# -- the table --------------------------------------------------------------------------------------------


def test_no_transition_goes_back() -> None:
    """Every transition leads to a state of strictly higher rank: the states form a partial order."""
    for transition in transition_table():
        for source in transition.sources:
            assert transition.target.rank > source.rank, (transition.event, source)


def test_every_state_is_reachable_from_accepted() -> None:
    """Each state can be reached from ``accepted`` through the table."""
    reached = {DeviceState.ACCEPTED}
    for _ in DeviceState:
        reached |= {t.target for t in transition_table() if reached & set(t.sources)}
    assert reached == set(DeviceState)


def test_declared_ranks_and_final_states_follow_the_table() -> None:
    """Each declared rank is the longest path from ``accepted``; final states are those no event leaves."""
    sources = {source for transition in transition_table() for source in transition.sources}
    longest = dict.fromkeys(DeviceState, 0)
    for _ in DeviceState:
        for transition in transition_table():
            for source in transition.sources:
                longest[transition.target] = max(longest[transition.target], longest[source] + 1)
    assert {state: state.rank for state in DeviceState} == longest
    assert {state for state in DeviceState if state.is_final} == set(DeviceState) - sources


def test_final_states() -> None:
    """Only cancelled, surrendered, returned, recycled and disposed devices can no longer change."""
    assert {state for state in DeviceState if state.is_final} == {
        DeviceState.CANCELLED,
        DeviceState.SURRENDERED,
        DeviceState.RETURNED,
        DeviceState.RECYCLED,
        DeviceState.DISPOSED,
    }


def test_transitions_record_only_device_fields() -> None:
    """Each transition's recorded fields are fields of a device, and each names actors and a description."""
    fields = {field.name for field in attrs.fields(OrderDevice)}
    for transition in transition_table():
        assert set(transition.records) <= fields - {"state", "history"}
        assert transition.actors
        assert transition.description


def test_mermaid_draws_the_table() -> None:
    """The Mermaid diagram has one arrow per source of each transition, named by event, actors and guards."""
    text = transitions_mermaid()
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> accepted" in lines
    arrows = {
        (match[1], match[2], match[3])
        for line in lines
        if (match := re.fullmatch(r"    (\w+) --> (\w+) : (\w+) by .*", line))
    }
    assert arrows == {
        (source.value, t.target.value, t.event.value) for t in transition_table() for source in t.sources
    }
    assert (
        "    revised --> revision_declined : respond_timeout by system if respond_window_closed and " in text
    )
    assert {line for line in lines if line.endswith("--> [*]")} == {
        f"    {state.value} --> [*]" for state in DeviceState if state.is_final
    }


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (OrderError, "order_error"),
        (IllegalTransitionError, "illegal_transition"),
        (StaleEventError, "stale_event"),
        (ActorNotAllowedError, "actor_not_allowed"),
        (GuardFailedError, "guard_failed"),
        (EventConflictError, "event_conflict"),
        (OrderDeviceNotFoundError, "order_device_not_found"),
        (InvalidOrderError, "order_invalid"),
        (InspectionInputError, "inspection_input_invalid"),
        (InvalidPolicyError, "invalid_policy"),
        (InvalidPayoutError, "invalid_payout"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_error_codes_are_stable(error: type[TradeInError], code: str) -> None:
    """Each order error is a TradeInError with its documented code."""
    assert issubclass(error, TradeInError)
    assert error.code == code


# -- paths through the machine ----------------------------------------------------------------------------


def test_matching_inspection_is_paid_by_bank_transfer() -> None:
    """Label, ship, receive, inspect, confirm, pay, dispose: paid the quote once, each step in the history."""
    trade = confirmed(order(payout=BANK))
    trade = run(trade, ev(EventKind.PAY, Actor.SYSTEM))
    trade = run(trade, ev(EventKind.DISPOSE, disposition=Disposition.REFURBISH))
    device = trade.device("d1")
    assert device.state is DeviceState.DISPOSED
    assert device.settled == device.quoted
    assert device.payout == BANK
    assert device.disposition is Disposition.REFURBISH
    assert [entry.kind for entry in device.history] == [
        EventKind.ISSUE_LABEL,
        EventKind.SHIP,
        EventKind.RECEIVE,
        EventKind.INSPECT,
        EventKind.CONFIRM,
        EventKind.PAY,
        EventKind.DISPOSE,
    ]
    pay = device.history[5]
    assert pay.details["payout_method"] == "bank_transfer"
    assert pay.details["payout_reference"] == "pay_bank"
    assert pay.details["settled"] == str(device.quoted)
    assert trade.is_closed
    assert [device_id for device_id, _ in trade.history] == ["d1"] * 7
    outcome = order_outcome(trade)
    assert (outcome.paid, outcome.credited, outcome.clawback) == (device.quoted, eur("0"), eur("0"))
    assert outcome.pending == ()


def test_accepted_revision_is_credited_at_the_lower_offer() -> None:
    """A revised offer accepted by the shopper is credited at the revised amount, as a voucher."""
    trade = revised(order(), "120")
    trade = run(trade, ev(EventKind.ACCEPT_REVISION, Actor.SHOPPER), ev(EventKind.CREDIT, payout=VOUCHER))
    device = trade.device("d1")
    assert (device.state, device.offer, device.settled) == (DeviceState.CREDITED, eur("120"), eur("120"))
    assert order_outcome(trade).credited == eur("120")


def test_declined_revision_goes_back_free_of_charge() -> None:
    """Declining a revision starts the return deadline; the device goes back and the order nets nothing."""
    trade = revised(order(instant_credit=True))
    trade = run(trade, ev(EventKind.DECLINE_REVISION, Actor.SHOPPER))
    assert trade.device("d1").return_by == START + timedelta(days=2)
    trade = run(trade, ev(EventKind.START_RETURN, Actor.PROVIDER, tracking="JD0123"))
    trade = run(trade, ev(EventKind.RETURNED, Actor.PROVIDER))
    device = trade.device("d1")
    assert device.state is DeviceState.RETURNED
    assert device.history[-2].details == {"tracking": "JD0123"}
    outcome = order_outcome(trade)
    assert (outcome.returned, outcome.clawback, outcome.shopper_total) == (
        device.quoted,
        device.quoted,
        eur("0"),
    )


def test_guaranteed_quote_is_confirmed_at_the_quote_without_inspection() -> None:
    """A device handed over in store on a guaranteed quote is confirmed and credited to the purchase."""
    trade = order("guaranteed", payout=PURCHASE)
    trade = run(trade, ev(EventKind.HAND_OVER), ev(EventKind.CONFIRM), ev(EventKind.CREDIT, Actor.SYSTEM))
    device = trade.device("d1")
    assert device.guaranteed
    assert device.state is DeviceState.CREDITED
    assert device.inspection is None
    assert order_outcome(trade).credited == device.quoted


def test_hold_then_release_then_inspection() -> None:
    """A blocklist hold is recorded; once released, the device is inspected as usual."""
    trade = run(held(), ev(EventKind.RELEASE, reason="cleared by the carrier"))
    assert trade.device("d1").hold_reason is HoldReason.BLOCKLIST
    trade = run(trade, ev(EventKind.INSPECT, inspection=result(trade.device("d1"))))
    assert inspection_verdict(trade.device("d1")) is EventKind.CONFIRM


@pytest.mark.parametrize(
    ("prepare", "event", "state"),
    [
        (held, ev(EventKind.SURRENDER, reason="police case 17"), DeviceState.SURRENDERED),
        (mismatched, ev(EventKind.SURRENDER, reason="reported stolen"), DeviceState.SURRENDERED),
        (mismatched, ev(EventKind.START_RETURN, Actor.SYSTEM), DeviceState.RETURNING),
        (mismatched, ev(EventKind.RECYCLE, Actor.SHOPPER), DeviceState.RECYCLED),
        (
            lambda: run(held(), ev(EventKind.RELEASE, reason="owner's claim")),
            ev(EventKind.START_RETURN),
            DeviceState.RETURNING,
        ),
    ],
    ids=["hold-surrender", "mismatch-surrender", "mismatch-return", "mismatch-recycle", "release-return"],
)
def test_held_and_mismatched_devices(
    prepare: Callable[[], TradeInOrder], event: DeviceEvent, state: DeviceState
) -> None:
    """Held and mismatched devices are surrendered, sent back or recycled, never paid."""
    trade = run(prepare(), event)
    assert trade.device("d1").state is state
    assert trade.device("d1").payout is None


def test_recycling_quote_is_recycled_at_zero() -> None:
    """A recycling-only quote is confirmed at zero and recycled; paying it is refused."""
    trade = confirmed(order("recycle", payout=BANK))
    with pytest.raises(GuardFailedError) as caught:
        run(trade, ev(EventKind.PAY, Actor.SYSTEM))
    assert caught.value.guard == "has_value"
    trade = run(trade, ev(EventKind.RECYCLE, reason="shopper agreed"))
    assert trade.device("d1").state is DeviceState.RECYCLED
    assert order_outcome(trade).recycled == eur("0")


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (order, None),
        (
            lambda: run(received(), ev(EventKind.INSPECT, inspection=result(received().device("d1")))),
            "confirm",
        ),
        (
            lambda: run(
                received(), ev(EventKind.INSPECT, inspection=result(received().device("d1"), eur("1")))
            ),
            "revise",
        ),
        (
            lambda: run(
                received(),
                ev(
                    EventKind.INSPECT,
                    inspection=result(received().device("d1"), eur("0"), MismatchReason.MODEL_DIFFERS),
                ),
            ),
            "reject_mismatch",
        ),
    ],
    ids=["not-inspected", "matches", "lower", "mismatch"],
)
def test_inspection_verdict(prepare: Callable[[], TradeInOrder], expected: str | None) -> None:
    """The verdict names the event whose guard an inspected device satisfies."""
    trade = prepare()
    verdict = inspection_verdict(trade.device("d1"))
    assert verdict == (None if expected is None else EventKind(expected))
    if verdict is not None:
        assert run(trade, ev(verdict, Actor.SYSTEM)).device("d1").state.rank > DeviceState.INSPECTED.rank


# -- illegal transitions ----------------------------------------------------------------------------------


def labelled(at: datetime = START) -> TradeInOrder:
    """An order whose device got a label at ``at``."""
    return run(order(), ev(EventKind.ISSUE_LABEL), at=at)


def in_transit() -> TradeInOrder:
    """An order whose device is with the carrier."""
    return run(labelled(), ev(EventKind.SHIP, Actor.SHOPPER))


def expired() -> TradeInOrder:
    """An order whose device was not sent in time."""
    return tick(labelled(), START + timedelta(days=14))


def inspected_at(offer: str | None) -> Callable[[], TradeInOrder]:
    """An order whose received device was inspected at ``offer`` (the quote when ``None``)."""

    def prepare() -> TradeInOrder:
        trade = received()
        amount = None if offer is None else eur(offer)
        return run(trade, ev(EventKind.INSPECT, inspection=result(trade.device("d1"), amount)))

    return prepare


def revised_long_ago() -> TradeInOrder:
    """An order whose device was revised eight days ago."""
    trade = received()
    lower = result(trade.device("d1"), eur("100"))
    return run(
        trade, ev(EventKind.INSPECT, inspection=lower), ev(EventKind.REVISE), at=START - timedelta(days=8)
    )


def returned() -> TradeInOrder:
    """An order whose device was sent back to the shopper."""
    trade = run(revised(), ev(EventKind.DECLINE_REVISION, Actor.SHOPPER))
    return run(trade, ev(EventKind.START_RETURN), ev(EventKind.RETURNED))


def paid() -> TradeInOrder:
    """An order whose device was paid by bank transfer."""
    return run(confirmed(), ev(EventKind.PAY, payout=BANK))


def above(currency: str = "EUR", amount: str = "999") -> Callable[[], DeviceEvent]:
    """An inspect event whose offer is above the quote (or in another currency)."""
    offer = Money(amount, currency)
    return lambda: ev(EventKind.INSPECT, inspection=InspectionResult(offer=offer, inspected_value=offer))


def late_acceptance() -> DeviceEvent:
    """The shopper accepts a revision."""
    return ev(EventKind.ACCEPT_REVISION, Actor.SHOPPER)


ILLEGAL: list[tuple[str, Callable[[], TradeInOrder], Callable[[], DeviceEvent], type[OrderError], str]] = [
    ("ship-before-label", order, lambda: ev(EventKind.SHIP, Actor.SHOPPER), IllegalTransitionError, ""),
    (
        "cancel-in-transit",
        in_transit,
        lambda: ev(EventKind.CANCEL, Actor.SHOPPER),
        IllegalTransitionError,
        "",
    ),
    ("pay-uninspected", received, lambda: ev(EventKind.PAY, payout=BANK), IllegalTransitionError, ""),
    ("cancel-returned", returned, lambda: ev(EventKind.CANCEL), IllegalTransitionError, ""),
    ("ship-after-receipt", received, lambda: ev(EventKind.SHIP, Actor.PROVIDER), StaleEventError, ""),
    ("label-after-receipt", received, lambda: ev(EventKind.ISSUE_LABEL), StaleEventError, ""),
    ("shopper-inspects", received, lambda: ev(EventKind.INSPECT, Actor.SHOPPER), ActorNotAllowedError, ""),
    (
        "provider-pays",
        confirmed,
        lambda: ev(EventKind.PAY, Actor.PROVIDER, payout=BANK),
        ActorNotAllowedError,
        "",
    ),
    (
        "system-accepts",
        revised,
        lambda: ev(EventKind.ACCEPT_REVISION, Actor.SYSTEM),
        ActorNotAllowedError,
        "",
    ),
    (
        "ship-after-window",
        lambda: labelled(START - timedelta(days=15)),
        lambda: ev(EventKind.SHIP, Actor.PROVIDER),
        GuardFailedError,
        "send_window_open",
    ),
    (
        "expire-too-early",
        labelled,
        lambda: ev(EventKind.EXPIRE, Actor.SYSTEM),
        GuardFailedError,
        "send_window_closed",
    ),
    ("late-without-reason", expired, lambda: ev(EventKind.RECEIVE_LATE), GuardFailedError, "reason_given"),
    ("hold-without-reason", received, lambda: ev(EventKind.HOLD), GuardFailedError, "hold_reason_given"),
    (
        "release-blank-reason",
        held,
        lambda: ev(EventKind.RELEASE, reason="  "),
        GuardFailedError,
        "reason_given",
    ),
    ("inspect-no-result", received, lambda: ev(EventKind.INSPECT), GuardFailedError, "offer_not_above_quote"),
    ("offer-above-quote", received, above(), GuardFailedError, "offer_not_above_quote"),
    ("offer-in-dollars", received, above("USD", "1"), GuardFailedError, "offer_not_above_quote"),
    ("confirm-uninspected", received, lambda: ev(EventKind.CONFIRM), GuardFailedError, "matches_quote"),
    (
        "confirm-lower-offer",
        inspected_at("100"),
        lambda: ev(EventKind.CONFIRM),
        GuardFailedError,
        "matches_quote",
    ),
    (
        "revise-matching",
        inspected_at(None),
        lambda: ev(EventKind.REVISE),
        GuardFailedError,
        "offer_below_quote",
    ),
    (
        "reject-matching",
        inspected_at(None),
        lambda: ev(EventKind.REJECT_MISMATCH),
        GuardFailedError,
        "major_mismatch",
    ),
    ("accept-after-deadline", revised_long_ago, late_acceptance, GuardFailedError, "respond_window_open"),
    (
        "staff-accepts-silently",
        revised,
        lambda: ev(EventKind.ACCEPT_REVISION),
        GuardFailedError,
        "staff_gives_reason",
    ),
    (
        "timeout-too-early",
        revised,
        lambda: ev(EventKind.RESPOND_TIMEOUT, Actor.SYSTEM),
        GuardFailedError,
        "respond_window_closed",
    ),
    ("pay-without-payout", confirmed, lambda: ev(EventKind.PAY), GuardFailedError, "bank_transfer_chosen"),
    (
        "pay-to-voucher",
        confirmed,
        lambda: ev(EventKind.PAY, payout=VOUCHER),
        GuardFailedError,
        "bank_transfer_chosen",
    ),
    (
        "credit-to-bank",
        confirmed,
        lambda: ev(EventKind.CREDIT, payout=BANK),
        GuardFailedError,
        "credit_chosen",
    ),
    (
        "recycle-valuable",
        confirmed,
        lambda: ev(EventKind.RECYCLE, Actor.SHOPPER),
        GuardFailedError,
        "no_value_or_mismatch",
    ),
    ("dispose-unsaid", paid, lambda: ev(EventKind.DISPOSE), GuardFailedError, "disposition_given"),
]


@pytest.mark.parametrize(
    ("prepare", "make_event", "error", "guard"),
    [case[1:] for case in ILLEGAL],
    ids=[case[0] for case in ILLEGAL],
)
def test_illegal_transitions_raise_typed_errors(
    prepare: Callable[[], TradeInOrder],
    make_event: Callable[[], DeviceEvent],
    error: type[OrderError],
    guard: str,
) -> None:
    """Each illegal event raises exactly its error class and code, naming the failed guard."""
    trade = prepare()
    event = make_event()
    with pytest.raises(error) as caught:
        apply(trade, event, now=START)
    assert type(caught.value) is error
    assert caught.value.code == error.code
    assert isinstance(caught.value, IllegalTransitionError)
    assert caught.value.event is event.kind
    assert caught.value.state is trade.device("d1").state
    if guard:
        assert isinstance(caught.value, GuardFailedError)
        assert caught.value.guard == guard


def test_actor_error_names_who_may() -> None:
    """The actor error lists the actors that may trigger the event, and reads in English."""
    with pytest.raises(ActorNotAllowedError) as caught:
        apply(received(), ev(EventKind.INSPECT, Actor.SHOPPER), now=START)
    assert caught.value.actor is Actor.SHOPPER
    assert caught.value.allowed == (Actor.STAFF, Actor.PROVIDER)
    assert str(caught.value) == "A shopper may not inspect a device that is received."


def test_duplicate_event_is_ignored() -> None:
    """Delivering the same event twice changes the order once."""
    event = ev(EventKind.ISSUE_LABEL, Actor.PROVIDER)
    once = run(order(), event)
    assert apply(once, event, now=START + timedelta(hours=3)) is once


@pytest.mark.parametrize(
    "changes",
    [{"kind": EventKind.CANCEL}, {"device_id": "d2"}, {"actor": Actor.SYSTEM}],
    ids=["other-kind", "other-device", "other-actor"],
)
def test_event_id_reused_for_another_event(changes: dict[str, Any]) -> None:
    """An id reused for a different event is refused, not mistaken for a duplicate."""
    event = ev(EventKind.ISSUE_LABEL, Actor.PROVIDER)
    trade = run(order("estimate", "worn"), event)
    with pytest.raises(EventConflictError) as caught:
        apply(trade, attrs.evolve(event, **changes), now=START)
    assert caught.value.event_id == event.id


def test_unknown_device() -> None:
    """An event for a device the order does not have is refused."""
    with pytest.raises(OrderDeviceNotFoundError) as caught:
        apply(order(), ev(EventKind.ISSUE_LABEL, device="d7"), now=START)
    assert caught.value.device_id == "d7"
    assert order().recorded("nothing") is None


# -- deadlines, tick and reminders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "send", "respond"),
    [(DEFAULT_POLICY, 14, 7), (DeliveryPolicy(send_by_days=21, respond_by_days=14), 21, 14)],
    ids=["default", "shop-policy"],
)
def test_deadlines_follow_the_policy(policy: DeliveryPolicy, send: int, respond: int) -> None:
    """The send-by and respond-by deadlines count from the label and the revision, by the shop's policy."""
    label_at, revise_at = START + timedelta(hours=2), START + timedelta(days=5)
    trade = run(order(), ev(EventKind.ISSUE_LABEL), at=label_at, policy=policy)
    assert trade.device("d1").send_by == label_at + timedelta(days=send)
    assert trade.device("d1").history[0].details == {"send_by": (label_at + timedelta(days=send)).isoformat()}
    trade = run(trade, ev(EventKind.SHIP, Actor.SHOPPER), ev(EventKind.RECEIVE), at=label_at, policy=policy)
    lower = result(trade.device("d1"), eur("99"))
    trade = run(
        trade, ev(EventKind.INSPECT, inspection=lower), ev(EventKind.REVISE), at=revise_at, policy=policy
    )
    assert trade.device("d1").respond_by == revise_at + timedelta(days=respond)


def test_scan_before_the_deadline_counts_even_when_it_arrives_late() -> None:
    """A carrier scan made before the deadline is accepted even if its webhook arrives after it."""
    trade = run(order(), ev(EventKind.ISSUE_LABEL))
    deadline = START + timedelta(days=14)
    scanned = deadline - timedelta(hours=1)
    trade = run(
        trade, ev(EventKind.SHIP, Actor.PROVIDER, occurred_at=scanned), at=deadline + timedelta(hours=5)
    )
    assert trade.device("d1").state is DeviceState.IN_TRANSIT
    assert trade.device("d1").history[-1].details["occurred_at"] == scanned.isoformat()


@pytest.mark.parametrize(
    ("after", "grace", "state"),
    [
        (timedelta(days=14) - timedelta(seconds=1), timedelta(0), DeviceState.AWAITING_SHIPMENT),
        (timedelta(days=14), timedelta(0), DeviceState.EXPIRED),
        (timedelta(days=15), timedelta(days=2), DeviceState.AWAITING_SHIPMENT),
        (timedelta(days=16), timedelta(days=2), DeviceState.EXPIRED),
    ],
    ids=["before", "at-deadline", "in-grace", "after-grace"],
)
def test_tick_expires_unsent_devices(after: timedelta, grace: timedelta, state: DeviceState) -> None:
    """An unsent device expires at its send-by deadline plus the grace, and ticking again changes nothing."""
    policy = DeliveryPolicy(expiry_grace=grace)
    trade = run(order(), ev(EventKind.ISSUE_LABEL))
    ticked = tick(trade, START + after, policy)
    assert ticked.device("d1").state is state
    assert tick(ticked, START + after, policy) is ticked
    assert tick(ticked, START + after + timedelta(days=1), policy).device("d1").state.rank >= state.rank


def test_expired_device_arriving_late_can_be_accepted_by_staff() -> None:
    """Staff can accept a late arrival with a reason; the expiry and the acceptance stay in the history."""
    trade = tick(run(order(instant_credit=True), ev(EventKind.ISSUE_LABEL)), START + timedelta(days=20))
    assert order_outcome(trade).clawback == trade.device("d1").quoted
    trade = run(trade, ev(EventKind.RECEIVE_LATE, reason="honoured: carrier delay"))
    assert [entry.to_state for entry in trade.device("d1").history] == [
        DeviceState.AWAITING_SHIPMENT,
        DeviceState.EXPIRED,
        DeviceState.RECEIVED,
    ]
    assert order_outcome(trade).pending == ("d1",)


@pytest.mark.parametrize(
    ("silence", "state"),
    [
        (SilenceAction.RETURN, DeviceState.REVISION_DECLINED),
        (SilenceAction.ACCEPT, DeviceState.REVISION_ACCEPTED),
    ],
    ids=["return", "accept"],
)
def test_tick_acts_on_silence(silence: SilenceAction, state: DeviceState) -> None:
    """An unanswered revision is declined (free return) or accepted, as the shop's policy says."""
    policy = DeliveryPolicy(on_silence=silence)
    trade = revised()
    assert tick(trade, START + timedelta(days=7) - timedelta(seconds=1), policy) is trade
    ticked = tick(trade, START + timedelta(days=7), policy)
    assert ticked.device("d1").state is state
    assert ticked.device("d1").history[-1].actor is Actor.SYSTEM
    assert due_actions(ticked, START + timedelta(days=30), policy) == ()


def test_due_actions_have_stable_ids() -> None:
    """The same due action computed twice has the same id, so two schedulers apply it once."""
    trade = run(order("estimate", "worn"), ev(EventKind.ISSUE_LABEL), ev(EventKind.ISSUE_LABEL, device="d2"))
    later = START + timedelta(days=15)
    first, second = due_actions(trade, later), due_actions(trade, later + timedelta(hours=1))
    assert first == second
    assert [event.device_id for event in first] == ["d1", "d2"]
    assert first[0].id == "o1/d1/expire/20261208T093000Z"
    once = run(trade, *first, at=later)
    assert run(once, *second, at=later) is once


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (timedelta(days=10), None),
        (timedelta(days=11), timedelta(days=11)),
        (timedelta(days=12, hours=23), timedelta(days=11)),
        (timedelta(days=13, hours=1), timedelta(days=13)),
        (timedelta(days=14), None),
    ],
    ids=["too-early", "three-days-before", "still-three-days", "one-day-before", "deadline-passed"],
)
def test_send_reminders(after: timedelta, expected: timedelta | None) -> None:
    """The shopper is reminded 3 days and 1 day before the send-by deadline; only the latest counts."""
    trade = run(order(), ev(EventKind.ISSUE_LABEL))
    reminders = reminders_due(trade, START + after)
    if expected is None:
        assert reminders == ()
        return
    (reminder,) = reminders
    assert (reminder.kind, reminder.audience) == (ReminderKind.SEND_DEVICE, Actor.SHOPPER)
    assert reminder.deadline == START + timedelta(days=14)
    assert reminder.due_at == START + expected
    assert reminder.key == f"o1/d1/send_device/{(START + expected).strftime('%Y%m%dT%H%M%SZ')}"


def test_reminders_since_the_last_run() -> None:
    """A reminder that fell due before the previous run is not returned again."""
    trade = run(order(), ev(EventKind.ISSUE_LABEL))
    at = START + timedelta(days=11, hours=1)
    assert len(reminders_due(trade, at, since=START + timedelta(days=10))) == 1
    assert reminders_due(trade, at, since=START + timedelta(days=11)) == ()


def test_revision_and_return_reminders() -> None:
    """The shopper is reminded to answer a revision; staff are reminded of an overdue return."""
    trade = run(order("estimate", "worn"), ev(EventKind.ISSUE_LABEL, device="d2"))
    trade = revised(trade)
    (reminder,) = [r for r in reminders_due(trade, START + timedelta(days=6, hours=1)) if r.device_id == "d1"]
    assert (reminder.kind, reminder.due_at) == (ReminderKind.RESPOND_TO_REVISION, START + timedelta(days=6))
    declined = run(trade, ev(EventKind.DECLINE_REVISION, Actor.SHOPPER))
    assert [r.kind for r in reminders_due(declined, START + timedelta(days=1))] == []
    overdue = reminders_due(declined, START + timedelta(days=3))
    assert [(r.kind, r.audience, r.device_id) for r in overdue] == [
        (ReminderKind.RETURN_OVERDUE, Actor.STAFF, "d1")
    ]


@pytest.mark.parametrize(
    ("settings_", "field"),
    [
        ({"send_by_days": 0}, "send_by_days"),
        ({"send_by_days": 61}, "send_by_days"),
        ({"respond_by_days": True}, "respond_by_days"),
        ({"return_within_days": 1.5}, "return_within_days"),
        ({"send_reminders": (timedelta(days=14),)}, "send_reminders"),
        ({"respond_reminders": (timedelta(0),)}, "respond_reminders"),
        ({"expiry_grace": timedelta(hours=-1)}, "expiry_grace"),
    ],
    ids=[
        "no-window",
        "window-too-long",
        "bool",
        "fraction",
        "reminder-at-open",
        "reminder-at-deadline",
        "grace",
    ],
)
def test_policy_settings_are_checked(settings_: dict[str, Any], field: str) -> None:
    """A delivery policy refuses out-of-range settings, naming the setting."""
    with pytest.raises(InvalidPolicyError) as caught:
        DeliveryPolicy(**settings_)
    assert caught.value.field == field
    assert isinstance(caught.value, ConfigurationError)


# -- inspection -------------------------------------------------------------------------------------------


def diff_of(quote: str, inspector: dict[str, Any], *, locale: str = "en", **options: Any) -> Any:  # noqa: ANN401
    """The inspection diff of a bundled quote with the bundled questionnaire and German book."""
    return inspect_device(
        quotes()[quote],
        inspector,
        questionnaire=load_questionnaire("smartphone"),
        book=PriceBookSource.bundled().price_book("DE"),
        locale=locale,
        **options,
    )


@pytest.mark.parametrize(
    ("quote", "inspector"),
    [
        ("estimate", "flawless"),
        ("estimate", "worn"),
        ("estimate", "cracked-display"),
        ("estimate", "no-power"),
        ("estimate", "store-inspected"),
        ("worn", "flawless"),
        ("no-power", "flawless"),
        ("no-power", "cracked-display"),
        ("guaranteed", "worn"),
    ],
    ids=lambda value: value,
)
def test_price_impacts_add_up_to_the_revision(quote: str, inspector: str) -> None:
    """Quote + basis + impacts + cap = revised offer, never above the quote, and a match has no impact."""
    diff = diff_of(quote, inspected(inspector))
    impacts = Money.total((row.price_impact for row in diff.questions), "EUR")
    assert diff.quoted + diff.basis_adjustment + impacts + diff.cap_adjustment == diff.revised_offer
    assert diff.revised_offer == min(diff.quoted, diff.inspected_value) == diff.result.offer
    assert diff.inspected_value == diff.valuation.total
    assert diff.basis_adjustment.is_zero()
    assert all(row.price_impact.is_zero() for row in diff.questions if row.matches)
    assert diff.result.differences == tuple(row.question for row in diff.differences)


def test_identical_answers_confirm_the_quote() -> None:
    """The shopper's own answers, with passing staff checks, confirm the quoted amount."""
    diff = diff_of("estimate", inspected("flawless"))
    assert diff.differences == ()
    assert diff.revised_offer == diff.quoted
    rows = {row.question: row for row in diff.questions}
    assert rows["blocklist_status"].shopper_answer is None
    assert rows["blocklist_status"].explanation == "Checked at inspection: no issue found."
    assert rows["display_glass"].explanation == "As declared."


def test_each_difference_is_explained_in_the_shoppers_language() -> None:
    """A cracked display is shown with both answers in German and its price impact in euros."""
    diff = diff_of("estimate", inspected("cracked-display"), locale="de_DE")
    (glass,) = [row for row in diff.differences if row.question == "display_glass"]
    assert glass.price_impact < eur("0")
    assert glass.shopper_answer == "flawless"
    assert glass.inspector_answer == "cracked"
    assert glass.text == load_questionnaire("smartphone").translate(glass.text, "de_DE")
    assert glass.shopper_answer_text in glass.explanation
    assert glass.inspector_answer_text in glass.explanation
    assert abs(glass.price_impact).format("de_DE") in glass.explanation
    assert diff.locale == "de_DE"
    unchanged = [row for row in diff.differences if row.price_impact.is_zero()]
    assert all("Der Wert ändert sich dadurch nicht." in row.explanation for row in unchanged)


def test_better_condition_is_capped_at_the_quote() -> None:
    """A device better than declared raises the value, but the offer stays at the quote."""
    diff = diff_of("worn", inspected("flawless"))
    assert diff.inspected_value > diff.quoted
    assert diff.revised_offer == diff.quoted
    assert diff.cap_adjustment < eur("0")
    assert any("raises the value" in row.explanation for row in diff.differences)


def test_answers_only_one_side_gave() -> None:
    """A question the inspector skipped is "not applicable"; one the shopper was not asked, "not declared"."""
    inspector = inspected("flawless", blocklist_status="clear")
    del inspector["battery_health"]
    diff = diff_of("no-power", inspector)
    rows = {row.question: row for row in diff.questions}
    assert rows["display_defects"].shopper_answer is None
    assert rows["display_defects"].shopper_answer_text == "not declared"
    assert rows["powers_on"].price_impact > eur("0")
    flawless = diff_of("estimate", inspector)
    battery = {row.question: row for row in flawless.questions}["battery_health"]
    assert (battery.inspector_answer, battery.inspector_answer_text) == (None, "not applicable")


@pytest.mark.parametrize(
    ("inspector", "options", "reasons"),
    [
        (inspected("store-inspected"), {"observed_imei": OTHER_IMEI}, [MismatchReason.IMEI_DIFFERS]),
        (inspected("store-inspected"), {"observed_imei": IMEI}, []),
        (inspected("store-inspected"), {"observed_variant_id": IPHONE_256}, [MismatchReason.VARIANT_DIFFERS]),
        (inspected("store-inspected"), {"observed_variant_id": "apple-iphone-14-128gb"},
         [MismatchReason.MODEL_DIFFERS]),
        (inspected("store-inspected"), {"observed_variant_id": IPHONE}, []),
        (inspected("activation-locked"), {}, [MismatchReason.LOCK_NOT_REMOVABLE]),
        (inspected("activation-locked"), {"lock_removable": True}, []),
        (inspected("store-inspected", blocklist_status="listed"), {}, [MismatchReason.BLOCKLISTED]),
    ],
    ids=["imei", "same-imei", "variant", "model", "same-variant", "lock", "lock-removable", "blocklisted"],
)  # fmt: skip
def test_major_mismatch(
    inspector: dict[str, Any], options: dict[str, Any], reasons: list[MismatchReason]
) -> None:
    """Another IMEI, model or variant, a lock that stays, or a blocklist entry is a major mismatch."""
    diff = diff_of("guaranteed", inspector, **options)
    assert list(diff.mismatch) == reasons
    assert diff.major_mismatch is bool(reasons)
    assert len(diff.mismatch_texts) == len(reasons)
    assert diff.result.major_mismatch is bool(reasons)


def test_inspection_drives_the_order() -> None:
    """The diff's result is the inspect event's payload; the verdict then revises the offer."""
    quote = quotes()["estimate"]
    diff = diff_of("estimate", inspected("cracked-display"))
    trade = run(received(), ev(EventKind.INSPECT, Actor.PROVIDER, inspection=diff.result))
    device = trade.device("d1")
    assert device.offer == diff.revised_offer < quote.amount
    assert device.history[-1].details["differences"] == ",".join(diff.result.differences)
    assert device.history[-1].details["mismatch"] == ""
    verdict = inspection_verdict(device)
    assert verdict is EventKind.REVISE
    assert run(trade, ev(verdict, Actor.SYSTEM)).device("d1").state is DeviceState.REVISED


def test_measured_diagnostics_are_merged() -> None:
    """Diagnostics results win over the inspector's answers: a camera fault lowers the offer."""
    questionnaire = load_questionnaire("smartphone")
    measured = questionnaire.import_diagnostics(example_diagnostics("smartphone", "camera-fault"))
    diff = diff_of("estimate", inspected("flawless"), diagnostics=measured)
    assert "measured" in {source.value for source in diff.report.sources.values()}
    assert diff.revised_offer < diff.quoted


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"questionnaire": load_questionnaire("tablet")}, "questionnaire"),
        ({"book": PriceBookSource.bundled().price_book("US")}, "pricebook"),
    ],
    ids=["questionnaire", "pricebook"],
)
def test_inspection_needs_the_quotes_documents(changes: dict[str, Any], field: str) -> None:
    """Inspecting against another questionnaire or price book than the quote's is refused."""
    arguments = {
        "questionnaire": load_questionnaire("smartphone"),
        "book": PriceBookSource.bundled().price_book("DE"),
        "locale": "en",
        **changes,
    }
    with pytest.raises(InspectionInputError) as caught:
        inspect_device(quotes()["estimate"], inspected("flawless"), **arguments)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("inspector", "locale", "error"),
    [
        ({"powers_on": "maybe"}, "en", AnswersInvalidError),
        (answers("flawless"), "en", AnswersInvalidError),
        (inspected("flawless"), "xx_YY_ZZ", UnsupportedLocaleError),
    ],
    ids=["wrong-type", "staff-checks-missing", "unknown-locale"],
)
def test_inspection_input_errors_are_library_errors(
    inspector: dict[str, Any], locale: str, error: type[TradeInError]
) -> None:
    """Invalid inspector answers or an unknown locale raise the library's own errors."""
    with pytest.raises(error):
        diff_of("estimate", inspector, locale=locale)


def _question(kind: QuestionKind, worse: Worse | None, **fields: Any) -> Question:  # noqa: ANN401 - question fields
    return Question(id="q", kind=kind, text="Q?", worse=worse, section="s", **fields)


OPTIONS = (Option(id="a", label="A"), Option(id="b", label="B"))
HEALTH = load_questionnaire("smartphone").question("battery_health").number
assert HEALTH is not None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (_question(QuestionKind.YES_NO, Worse.YES), False),
        (_question(QuestionKind.YES_NO, Worse.NO), True),
        (_question(QuestionKind.SINGLE_CHOICE, Worse.LATER, options=OPTIONS), "a"),
        (_question(QuestionKind.MULTIPLE_CHOICE, Worse.MORE, options=OPTIONS), ()),
        (_question(QuestionKind.MULTIPLE_CHOICE, Worse.FEWER, options=OPTIONS), ("a", "b")),
        (_question(QuestionKind.NUMBER, Worse.LOWER, number=HEALTH), 100),
        (_question(QuestionKind.NUMBER, Worse.HIGHER, number=attrs.evolve(HEALTH, integer=False)), 0.0),
    ],
    ids=["yes-is-worse", "no-is-worse", "single", "defects", "accessories", "health", "cycles"],
)
def test_unasked_questions_count_as_their_most_favourable_answer(question: Question, expected: Any) -> None:  # noqa: ANN401
    """A question the shopper was not asked is taken as declared at its most favourable answer."""
    assert _favourable(question) == expected


# -- payout data ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iban", "bic", "compact"),
    [
        ("DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "DE89370400440532013000"),
        ("GB82 WEST 1234 5698 7654 32", "NWBKGB2L", "GB82WEST12345698765432"),
        ("nl91abna0417164300", None, "NL91ABNA0417164300"),
        ("FR14 2004 1010 0505 0001 3M02 606", "PSSTFRPPXXX", "FR1420041010050500013M02606"),
    ],
    ids=["DE", "GB", "NL-lowercase-no-bic", "FR"],
)
def test_valid_bank_details(iban: str, bic: str | None, compact: str) -> None:
    """Valid IBANs and BICs are accepted and kept compact; the repr hides the account."""
    details = BankTransfer(iban=iban, bic=bic, holder="  Erika   Mustermann ")
    assert details.iban == compact
    assert details.holder == "Erika Mustermann"
    assert details.masked_iban.startswith(compact[:4])
    assert details.masked_iban.endswith(compact[-4:])
    assert compact not in repr(details)
    assert "Mustermann" not in repr(details)
    reference = payout_ref(details, reference="pay_123")
    assert reference == PayoutRef(method=PayoutMethod.BANK_TRANSFER, reference="pay_123")


def _wrong_bban_iban() -> str:
    bban = "37040044053201300A"
    return "DE" + stdnum_iban.calc_check_digits("DE00" + bban) + bban


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"iban": "DE88 3704 0044 0532 0130 00"}, "iban", "checksum"),
        ({"iban": "GB82 WEST 1234 5698 7654 33"}, "iban", "checksum"),
        ({"iban": "DE89 3704 0044 0532 0130 0"}, "iban", "length"),
        ({"iban": "DE89 3704 0044 0532 0130 000"}, "iban", "length"),
        ({"iban": "XX89 3704 0044 0532 0130 00"}, "iban", "country"),
        ({"iban": "DE89-3704-0044-0532-0130-0!"}, "iban", "format"),
        ({"iban": "3704 0044 0532 0130 00"}, "iban", "format"),
        ({"iban": _wrong_bban_iban()}, "iban", "format"),
        ({"iban": "   "}, "iban", "empty"),
        ({"iban": None}, "iban", "empty"),
        ({"bic": "DEUTDEF"}, "bic", "length"),
        ({"bic": "DEUT1EFF"}, "bic", "format"),
        ({"bic": "DEUTXXFF"}, "bic", "country"),
        ({"bic": ""}, "bic", "empty"),
        ({"holder": ""}, "holder", "empty"),
        ({"holder": " \t"}, "holder", "empty"),
    ],
    ids=["de-checksum", "gb-checksum", "too-short", "too-long", "unknown-country", "characters",
         "no-country", "national-format", "blank", "missing", "bic-length", "bic-format", "bic-country",
         "bic-empty", "holder-empty", "holder-blank"],
)  # fmt: skip
def test_invalid_bank_details(fields: dict[str, Any], field: str, rule: str) -> None:
    """Each broken rule of IBAN, BIC and holder raises InvalidPayoutError naming the field and rule."""
    values = {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "holder": "Erika Mustermann", **fields}
    with pytest.raises(InvalidPayoutError) as caught:
        BankTransfer(**values)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert caught.value.code == "invalid_payout"
    assert caught.value.localized("de_DE")
    assert "370400440532013000" not in str(caught.value)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Voucher(program=" "), "program"),
        (lambda: PurchaseCredit(purchase_reference=""), "purchase_reference"),
        (lambda: PayoutRef(method=PayoutMethod.VOUCHER, reference=""), "reference"),
    ],
    ids=["voucher", "purchase-credit", "reference"],
)
def test_other_payout_details_need_their_reference(make: Callable[[], object], field: str) -> None:
    """A voucher needs its programme, a purchase credit its purchase, a payout reference an id."""
    with pytest.raises(InvalidPayoutError) as caught:
        make()
    assert (caught.value.field, caught.value.rule) == (field, "empty")


def test_voucher_and_purchase_credit_references() -> None:
    """Vouchers and purchase credits give references with their own method."""
    assert payout_ref(Voucher(program="gift-card"), reference="r1").method is PayoutMethod.VOUCHER
    credit = PurchaseCredit(purchase_reference=" SO-1001 ")
    assert credit.purchase_reference == "SO-1001"
    assert payout_ref(credit, reference="r2").method is PayoutMethod.PURCHASE_CREDIT


# -- orders and their outcome -----------------------------------------------------------------------------


def test_mixed_order_nets_each_device() -> None:
    """Three devices on one instant-credit order: one paid, one returned, one recycled, netted exactly."""
    trade = order("estimate", "worn", "recycle", instant_credit=True, payout=BANK)
    trade = confirmed(trade, "d1")
    trade = run(trade, ev(EventKind.PAY, device="d1"))
    trade = revised(trade, "50", "d2")
    trade = run(trade, ev(EventKind.DECLINE_REVISION, Actor.SHOPPER, "d2"))
    trade = confirmed(trade, "d3")
    outcome = order_outcome(trade)
    assert outcome.pending == ("d3",)
    trade = run(trade, ev(EventKind.RECYCLE, Actor.SHOPPER, "d3"))
    outcome = order_outcome(trade)
    d1, d2, _ = trade.devices
    assert outcome.upfront_credit == d1.quoted + d2.quoted
    assert outcome.paid == eur("0")  # the upfront credit already covered d1
    assert outcome.returned == d2.quoted
    assert outcome.recycled == eur("0")
    assert outcome.clawback == d2.quoted
    assert outcome.shopper_total == d1.quoted
    assert outcome.pending == ()
    assert [device.decided for device in outcome.devices] == [True, True, True]


def test_revision_below_an_instant_credit_claws_back_the_difference() -> None:
    """A device credited upfront and bought for less gives back the difference; nothing more is paid."""
    trade = revised(order(instant_credit=True, payout=PURCHASE), "100")
    trade = run(trade, ev(EventKind.ACCEPT_REVISION, Actor.STAFF, reason="phone call"), ev(EventKind.CREDIT))
    device = trade.device("d1")
    assert device.settled == eur("0")
    outcome = order_outcome(trade)
    assert outcome.clawback == device.quoted - eur("100")
    assert outcome.shopper_total == eur("100")


def test_paid_devices_without_instant_credit() -> None:
    """Without an upfront credit, the bought value is paid out and nothing is clawed back."""
    trade = run(revised(order(payout=BANK), "80"), ev(EventKind.ACCEPT_REVISION, Actor.SHOPPER))
    trade = run(trade, ev(EventKind.PAY), ev(EventKind.DISPOSE, disposition=Disposition.PARTS))
    outcome = order_outcome(trade)
    assert (outcome.paid, outcome.clawback, outcome.shopper_total) == (eur("80"), eur("0"), eur("80"))


@pytest.mark.parametrize(
    ("names", "now", "error"),
    [
        ((), START, InvalidOrderError),
        (("estimate", "estimate"), START, InvalidOrderError),
        (("estimate", "usd"), START, CurrencyMismatchError),
        (("estimate",), START + timedelta(days=15), QuoteExpiredError),
    ],
    ids=["no-devices", "quote-twice", "currencies", "expired-quote"],
)
def test_orders_that_cannot_be_opened(
    names: tuple[str, ...], now: datetime, error: type[TradeInError]
) -> None:
    """An order needs devices, each quote once, one currency and valid quotes."""
    with pytest.raises(error):
        open_order(order_id="o1", quotes=[quotes()[name] for name in names], now=now)


def test_cancel_before_shipping() -> None:
    """A shopper can cancel before sending; the order is then closed and its upfront credit clawed back."""
    trade = run(order(instant_credit=True), ev(EventKind.ISSUE_LABEL), ev(EventKind.CANCEL, Actor.SHOPPER))
    assert trade.is_closed
    assert order_outcome(trade).clawback == trade.device("d1").quoted


# -- the state machine under random events ----------------------------------------------------------------

POLICY = DeliveryPolicy()
REFUSALS = {
    "illegal_transition",
    "stale_event",
    "actor_not_allowed",
    "guard_failed",
    "event_conflict",
    "order_device_not_found",
}
PAYOUTS = (None, BANK, VOUCHER, PURCHASE)


class OrderMachine(RuleBasedStateMachine):
    """Random events by random actors, clock jumps, duplicated and reordered deliveries on one order."""

    def __init__(self) -> None:
        """Start with no order; ``start`` opens it."""
        super().__init__()
        self.now = START
        self.trade: TradeInOrder = order()
        self.applied: list[DeviceEvent] = []
        self.histories: dict[str, tuple[Any, ...]] = {}
        self.serial = itertools.count()

    @initialize(instant=st.booleans(), default_payout=st.sampled_from(PAYOUTS))
    def start(self, instant: bool, default_payout: PayoutRef | None) -> None:
        """Open an order of an estimate, a guaranteed quote and a recycling quote."""
        self.trade = order("estimate", "guaranteed", "recycle", instant_credit=instant, payout=default_payout)

    def _payload(self, data: st.DataObject, device: OrderDevice, *, plausible: bool) -> dict[str, Any]:
        """A payload; a plausible one has every field its guard may ask for (values still vary)."""
        fraction = data.draw(st.sampled_from(["0.5", "1", "0", "0.99", "1.01"]))
        offer = device.quoted * Decimal(fraction)
        mismatch = data.draw(st.sampled_from([(MismatchReason.IMEI_DIFFERS,), ()]))
        inspection = InspectionResult(offer=offer.rounded(), inspected_value=offer, mismatch=mismatch)

        def pick(*values: Any) -> Any:  # noqa: ANN401 - a plausible payload never draws the leading None
            return data.draw(st.sampled_from(values[1:] if plausible else values))

        return {
            "reason": pick(None, "checked") if plausible else pick(None, "checked", " "),
            "hold_reason": pick(None, *HoldReason),
            "inspection": pick(None, inspection),
            "payout": data.draw(st.sampled_from(PAYOUTS)),
            "disposition": pick(None, *Disposition),
            "occurred_at": data.draw(st.sampled_from([None, self.now - timedelta(days=2)])),
        }

    def _fire(self, event: DeviceEvent) -> None:
        before = self.trade
        refused: OrderError | None = None
        try:
            after = apply(before, event, now=self.now, policy=POLICY)
        except (IllegalTransitionError, EventConflictError, OrderDeviceNotFoundError) as error:
            refused = error
        if refused is not None:
            assert refused.code in REFUSALS
            return
        if after is before:
            return
        changed = [(old, new) for old, new in zip(before.devices, after.devices, strict=True) if old != new]
        assert len(changed) == 1
        old, new = changed[0]
        assert new.history[:-1] == old.history
        entry = new.history[-1]
        assert (entry.event_id, entry.from_state, entry.to_state) == (event.id, old.state, new.state)
        (transition,) = [
            t
            for t in transition_table()
            if t.event is event.kind and old.state in t.sources and t.target is new.state
            and event.actor in t.actors
        ]  # fmt: skip
        fields = {field.name for field in attrs.fields(OrderDevice)} - {"state", "history"}
        assert {name for name in fields if getattr(old, name) != getattr(new, name)} <= set(
            transition.records
        )
        self.applied.append(event)
        self.trade = after

    @rule(
        data=st.data(),
        device_id=st.sampled_from(["d1", "d2", "d3", "d4"]),
        kind=st.sampled_from(EventKind),
        actor=st.sampled_from(Actor),
    )
    def random_event(self, data: st.DataObject, device_id: str, kind: EventKind, actor: Actor) -> None:
        """Any event, by any actor, with any payload."""
        device = self.trade.devices[0] if device_id == "d4" else self.trade.device(device_id)
        payload = self._payload(data, device, plausible=False)
        self._fire(
            DeviceEvent(id=f"r{next(self.serial)}", kind=kind, device_id=device_id, actor=actor, **payload)
        )

    @rule(data=st.data(), device_id=st.sampled_from(["d1", "d2", "d3"]), steps=st.integers(1, 10))
    def walk(self, data: st.DataObject, device_id: str, steps: int) -> None:
        """Several plausible events in a row on one device, checking the invariants after each."""
        for _ in range(steps):
            self.plausible_event(data, device_id)
            self.invariants_hold()

    @rule(data=st.data(), device_id=st.sampled_from(["d1", "d2", "d3"]))
    def plausible_event(self, data: st.DataObject, device_id: str) -> None:
        """An event the device's state accepts, by an actor it names, with a payload that often passes."""
        device = self.trade.device(device_id)
        options = [t for t in transition_table() if device.state in t.sources]
        if not options:
            return
        if len(options) > 1 and data.draw(st.integers(0, 9)):  # cancelling ends the walk: make it rare
            options = [t for t in options if t.event is not EventKind.CANCEL]
        verdict = inspection_verdict(device)
        if verdict is not None and data.draw(st.booleans()):
            options = [t for t in options if t.event is verdict]
        transition = data.draw(st.sampled_from(options))
        payload = self._payload(data, device, plausible=True)
        self._fire(
            DeviceEvent(
                id=f"p{next(self.serial)}",
                kind=transition.event,
                device_id=device_id,
                actor=data.draw(st.sampled_from(transition.actors)),
                **payload,
            )
        )

    @precondition(lambda self: bool(self.applied))
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        """A delivery repeated with its id changes nothing."""
        event = data.draw(st.sampled_from(self.applied))
        assert apply(self.trade, event, now=self.now, policy=POLICY) is self.trade

    @precondition(lambda self: bool(self.applied))
    @rule(data=st.data())
    def reordered(self, data: st.DataObject) -> None:
        """An event already applied, arriving again under a new id, comes too late and is refused."""
        event = attrs.evolve(data.draw(st.sampled_from(self.applied)), id=f"late{next(self.serial)}")
        try:
            apply(self.trade, event, now=self.now, policy=POLICY)
        except IllegalTransitionError:
            return
        raise AssertionError(f"{event.kind} applied twice to {event.device_id}")

    @rule(hours=st.integers(min_value=0, max_value=24 * 20))
    def clock_jump(self, hours: int) -> None:
        """Time passes."""
        self.now += timedelta(hours=hours)

    @rule()
    def run_tick(self) -> None:
        """The scheduler ticks; a second tick at the same time changes nothing."""
        ticked = tick(self.trade, self.now, POLICY)
        assert tick(ticked, self.now, POLICY) is ticked
        assert due_actions(ticked, self.now, POLICY) == ()
        self.trade = ticked

    @invariant()
    def invariants_hold(self) -> None:
        """No backward transition, one payout at most, none without inspection, offer never above quote."""
        event_ids: list[str] = []
        for device in self.trade.devices:
            history = device.history
            previous = self.histories.get(device.id, ())
            assert history[: len(previous)] == previous, "history is append-only"
            self.histories[device.id] = history
            states = [DeviceState.ACCEPTED, *(entry.to_state for entry in history)]
            assert [entry.from_state for entry in history] == states[:-1]
            assert states[-1] is device.state
            assert all(entry.to_state.rank > entry.from_state.rank for entry in history)
            kinds = [entry.kind for entry in history]
            payouts = kinds.count(EventKind.PAY) + kinds.count(EventKind.CREDIT)
            assert payouts <= 1
            assert (device.payout is not None) is (payouts == 1)
            if payouts:
                assert EventKind.INSPECT in kinds or (device.guaranteed and EventKind.CONFIRM in kinds)
                assert device.inspection is None or not device.inspection.major_mismatch
            assert device.offer <= device.quoted
            assert device.inspection is None or device.inspection.offer <= device.quoted
            event_ids.extend(entry.event_id for entry in history)
        assert len(event_ids) == len(set(event_ids))
        outcome = order_outcome(self.trade)
        settled = Money.total((d.settled for d in self.trade.devices if d.settled is not None), "EUR")
        assert outcome.paid + outcome.credited == settled
        assert outcome.clawback >= eur("0")
        assert outcome.clawback <= outcome.upfront_credit


OrderMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, suppress_health_check=[HealthCheck.too_slow]
)
TestOrderMachine = OrderMachine.TestCase
