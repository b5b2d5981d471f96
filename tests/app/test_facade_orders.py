from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.synchronize
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from grading_questionnaire import example_answers
from tradein_sdk import (
    BankTransfer,
    DeviceState,
    DocumentInvalidError,
    FixedClock,
    GuardFailedError,
    IllegalTransitionError,
    InvalidPayoutError,
    KeyRing,
    OrderNotFoundError,
    Quote,
    QuoteAlreadyRedeemedError,
    SQLStore,
    TradeIn,
    TradeInError,
    Voucher,
)
from tradein_sdk._domain.shipping import TrackingEvent, TrackingStatus

if TYPE_CHECKING:
    from pathlib import Path

IBAN = "DE89 3704 0044 0532 0130 00"
HOLDER = "Erika Mustermann"


def answers(name: str) -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


STAFF_CHECKS = ("liquid_indicator", "blocklist_status", "authenticity")


def inspected_as(declared: dict[str, Any]) -> dict[str, Any]:
    """Inspector answers that find the device as declared (plus the staff-only checks, all clean)."""
    store_check = answers("store-inspected")
    return {**declared, **{question: store_check[question] for question in STAFF_CHECKS}}


def audit_rows(facade: TradeIn) -> list[dict[str, Any]]:
    """Every audit entry as stored (action, subject, details)."""
    assert isinstance(facade.store, SQLStore)
    with facade.store._engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT action, subject, details FROM tradein_audit_log ORDER BY chain, sequence")
        )
        return [
            {"action": row.action, "subject": row.subject, "details": json.loads(row.details)} for row in rows
        ]


def test_two_devices_one_revised_and_returned_one_confirmed_and_paid(
    trade_in: TradeIn, start: datetime
) -> None:
    """A whole order: one device revised, declined and returned; the other confirmed and paid; all audited."""
    first = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    second = trade_in.quote("apple-iphone-14-128gb", answers("worn"))
    order = trade_in.accept(
        [first.token, second.token],
        payout=BankTransfer(iban=IBAN, holder=HOLDER),
        contact={"name": HOLDER, "email": "erika@example.com"},
    )
    assert [device.state for device in order.devices] == [DeviceState.ACCEPTED, DeviceState.ACCEPTED]

    label = trade_in.issue_label(order.id)
    assert label.send_by == start + timedelta(days=14)
    for device in ("d1", "d2"):
        trade_in.ship(order.id, device, tracking="1Z999AA10123456784")
        trade_in.receive(order.id, device)

    diff = trade_in.inspect(
        order.id, "d1", answers("store-inspected"), imei="490154203237518", locale="de_DE"
    )
    assert diff.revised_offer < first.quote.amount
    assert any(not question.matches for question in diff.questions)
    assert trade_in.order(order.id).device("d1").state is DeviceState.REVISED
    returned = trade_in.respond_to_revision(order.id, "d1", accept=False)
    assert returned.device("d1").state is DeviceState.RETURNING

    trade_in.inspect(order.id, "d2", inspected_as(dict(second.quote.answers)), imei="357805023984942")
    assert trade_in.order(order.id).device("d2").state is DeviceState.CONFIRMED
    paid = trade_in.pay(order.id, "d2")
    assert paid.device("d2").state is DeviceState.PAID
    assert paid.device("d2").settled == second.quote.amount

    verification = trade_in.store.verify_audit()
    assert verification.ok
    rows = audit_rows(trade_in)  # chain by chain: an order's entries in order, other subjects apart
    actions = [row["action"] for row in rows]
    assert next(row["action"] for row in rows if row["subject"] == order.id) == "order.accepted"
    issued = sorted(row["subject"] for row in rows if row["action"] == "quote.issued")
    assert issued == sorted([first.quote.id, second.quote.id])
    assert {
        "order.revise",
        "order.decline_revision",
        "order.start_return",
        "order.confirm",
        "order.pay",
    } <= set(actions)


def test_no_personal_data_in_orders_or_audit_and_erasure_keeps_the_chain(trade_in: TradeIn) -> None:
    """IBAN, name and e-mail live apart; erasing the customer removes them while orders and audit stay."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept(
        [issued.token],
        payout=BankTransfer(iban=IBAN, holder=HOLDER),
        customer_ref="cus_42",
        contact={"name": HOLDER, "email": "erika@example.com"},
    )
    record, _ = trade_in.store.get_order(order.id)
    stored_text = record.document + json.dumps(audit_rows(trade_in))
    for secret in ("DE89", HOLDER, "erika@example.com"):
        assert secret not in stored_text
    assert order.payout is not None
    payout = trade_in.store.get_personal_data(order.payout.reference)
    assert payout is not None
    assert "DE89370400440532013000" in payout.data

    assert trade_in.erase_customer("cus_42") == 2
    assert trade_in.store.get_personal_data(order.payout.reference) is None
    assert trade_in.order(order.id) == order
    assert trade_in.store.verify_audit().ok
    assert [row["action"] for row in audit_rows(trade_in) if row["subject"] == "cus_42"][
        -1
    ] == "customer.erased"
    assert trade_in.erase_customer("cus_42") == 0


def test_a_quote_backs_one_order_only(trade_in: TradeIn) -> None:
    """Accepting the same quote twice is refused and writes nothing the second time."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    trade_in.accept([issued.token])
    with pytest.raises(QuoteAlreadyRedeemedError):
        trade_in.accept([issued.token])
    assert len(trade_in.store.list_orders()) == 1


def test_concurrent_acceptance_of_one_quote(trade_in: TradeIn) -> None:
    """Ten threads accepting the same quote at once: one order, nine refusals."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    barrier = threading.Barrier(10)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            trade_in.accept([issued.token])
            outcome = "accepted"
        except QuoteAlreadyRedeemedError:
            outcome = "refused"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == Counter(accepted=1, refused=9)
    assert len(trade_in.store.list_orders()) == 1


@pytest.mark.parametrize(
    ("payout", "field", "rule"),
    [
        (lambda: BankTransfer(iban="DE89 3704 0044 0532 0130 01", holder=HOLDER), "iban", "checksum"),
        (lambda: BankTransfer(iban="DE89 3704 0044 0532 0130", holder=HOLDER), "iban", "length"),
        (lambda: BankTransfer(iban=IBAN, holder=" "), "holder", "empty"),
        (lambda: BankTransfer(iban=IBAN, holder=HOLDER, bic="COBADEF"), "bic", "length"),
        (lambda: Voucher(program=""), "program", "empty"),
    ],
    ids=["iban-checksum", "iban-length", "no-holder", "bic-length", "no-voucher-program"],
)
def test_bad_payout_data_is_refused(payout: Any, field: str, rule: str) -> None:  # noqa: ANN401
    """Invalid payout details raise InvalidPayoutError naming the field and the rule."""
    with pytest.raises(InvalidPayoutError) as caught:
        payout()
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_illegal_transitions_are_typed(trade_in: TradeIn) -> None:
    """Paying before inspection, or a shopper receiving a device, is refused with its code."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token], payout=BankTransfer(iban=IBAN, holder=HOLDER))
    with pytest.raises(IllegalTransitionError) as caught:
        trade_in.settle(order.id, "d1")
    assert caught.value.code == "illegal_transition"
    trade_in.issue_label(order.id)
    with pytest.raises(TradeInError) as actor_error:
        trade_in.record_event(order.id, "d1", "receive", actor="shopper")
    assert actor_error.value.code == "actor_not_allowed"
    with pytest.raises(OrderNotFoundError):
        trade_in.order("ord_missing")


def test_not_sent_in_time_expires_on_tick(trade_in: TradeIn, clock: FixedClock) -> None:
    """After the send-by deadline, tick expires the device once; a late shipment is refused."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    assert trade_in.tick() == 0
    clock.advance(days=15)
    assert trade_in.tick() == 1
    assert trade_in.tick() == 0
    assert trade_in.order(order.id).device("d1").state is DeviceState.EXPIRED
    with pytest.raises(IllegalTransitionError):
        trade_in.record_event(order.id, "d1", "ship", actor="shopper")


def test_duplicated_event_deliveries_change_state_once(trade_in: TradeIn) -> None:
    """The same carrier event delivered three times is applied once."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    for _ in range(3):
        trade_in.record_event(order.id, "d1", "ship", actor="provider", event_id="carrier-scan-1")
    history = trade_in.order(order.id).device("d1").history
    assert [entry.kind.value for entry in history].count("ship") == 1


def test_guard_failure_explains_itself(trade_in: TradeIn) -> None:
    """A staff override without a reason fails its guard with a translated explanation."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    trade_in.record_event(order.id, "d1", "ship", actor="shopper")
    trade_in.record_event(order.id, "d1", "receive", actor="staff")
    trade_in.inspect(order.id, "d1", answers("store-inspected"), imei="490154203237518")
    with pytest.raises(GuardFailedError) as caught:
        trade_in.record_event(order.id, "d1", "accept_revision", actor="staff")
    assert caught.value.guard == "staff_gives_reason"
    assert caught.value.localized("de_DE") != caught.value.message


def _tick_worker(
    data_dir: str, at: datetime, start: multiprocessing.synchronize.Event, results: multiprocessing.Queue[int]
) -> None:
    """Worker: wait, then run one tick at ``at`` against the shared database; report orders changed."""
    facade = TradeIn.embedded(data_dir, clock=FixedClock(at))
    start.wait()
    results.put(facade.tick())
    facade.close()


def test_tick_from_several_processes_applies_each_transition_once(tmp_path: Path, clock: FixedClock) -> None:
    """Four processes ticking at once over 12 overdue orders: each device expires once, once audited."""
    facade = TradeIn.embedded(tmp_path, clock=clock)
    for _ in range(12):
        order = facade.accept([facade.quote("apple-iphone-13-128gb", answers("flawless")).token])
        facade.issue_label(order.id)
    facade.close()
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    later = clock.now() + timedelta(days=20)
    workers = [
        context.Process(target=_tick_worker, args=(str(tmp_path), later, start, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    start.set()
    changed = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sum(changed) == 12
    after = TradeIn.embedded(tmp_path, clock=FixedClock(later))
    actions = Counter(row["action"] for row in audit_rows(after))
    assert actions["order.expire"] == 12
    assert after.store.verify_audit().ok
    after.close()


class OrderLifecycle(RuleBasedStateMachine):
    """Random actions by random actors, clock jumps and repeated deliveries against a real store."""

    ACTIONS = (
        "issue_label",
        "ship",
        "receive",
        "hand_over",
        "confirm",
        "pay",
        "credit",
        "cancel",
        "recycle",
        "accept_revision",
        "decline_revision",
        "start_return",
        "returned",
        "dispose",
    )
    ACTORS = ("shopper", "staff", "provider", "system")

    @initialize()
    def open_store(self) -> None:
        """One shop on an in-memory database, with three devices on one order."""
        self.clock = FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
        self.facade = TradeIn(
            store=SQLStore("sqlite:///:memory:"),
            key_ring=KeyRing.generate(key_id="k1"),
            audience="shop",
            clock=self.clock,
        )
        tokens = [
            self.facade.quote("apple-iphone-13-128gb", answers("flawless")).token,
            self.facade.quote("apple-iphone-14-128gb", answers("worn")).token,
            self.facade.quote("apple-iphone-15-128gb", answers("activation-locked")).token,
        ]
        self.order_id = self.facade.accept(tokens, payout=Voucher(program="shop-credit")).id
        self.quoted = {device.id: device.quoted for device in self.facade.order(self.order_id).devices}
        self.ranks = dict.fromkeys(self.quoted, 0)
        self.event_ids: list[tuple[str, str, str, str]] = []

    def _try(self, device: str, kind: str, actor: str, event_id: str | None = None) -> None:
        with contextlib.suppress(TradeInError):
            self.facade.record_event(
                self.order_id, device, kind, actor=actor, event_id=event_id, reason="test"
            )

    @rule(
        device=st.sampled_from(["d1", "d2", "d3"]),
        kind=st.sampled_from(ACTIONS),
        actor=st.sampled_from(ACTORS),
    )
    def act(self, device: str, kind: str, actor: str) -> None:
        """Anyone tries anything on any device."""
        event_id = f"e{len(self.event_ids)}"
        self.event_ids.append((event_id, device, kind, actor))
        self._try(device, kind, actor, event_id)

    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """An earlier event arrives again (duplicated or out of order)."""
        if self.event_ids:
            event_id, device, kind, actor = data.draw(st.sampled_from(self.event_ids))
            self._try(device, kind, actor, event_id)

    @rule(device=st.sampled_from(["d1", "d2", "d3"]), flawless=st.booleans())
    def inspect(self, device: str, flawless: bool) -> None:
        """Staff inspect a received device, finding it flawless or worse than declared."""
        found = inspected_as(answers("flawless")) if flawless else answers("store-inspected")
        with contextlib.suppress(TradeInError):
            self.facade.inspect(self.order_id, device, found, imei="490154203237518")

    @rule(days=st.integers(min_value=0, max_value=20))
    def time_passes(self, days: int) -> None:
        """The clock jumps and the scheduler runs."""
        self.clock.advance(days=days)
        self.facade.tick()

    @invariant()
    def never_backwards_never_above_the_quote_audit_intact(self) -> None:
        """States move forward only, offers never exceed quotes, payouts happen once, the audit holds."""
        if not hasattr(self, "facade"):
            return
        order = self.facade.order(self.order_id)
        for device in order.devices:
            assert device.state.rank >= self.ranks[device.id]
            self.ranks[device.id] = device.state.rank
            assert device.offer <= self.quoted[device.id]
            payouts = [entry for entry in device.history if entry.kind.value in {"pay", "credit"}]
            assert len(payouts) <= 1
            if payouts and not device.guaranteed:
                assert any(entry.kind.value == "inspect" for entry in device.history)
        assert self.facade.store.verify_audit().ok

    def teardown(self) -> None:
        """Close the store."""
        if hasattr(self, "facade"):
            self.facade.close()


OrderLifecycle.TestCase.settings = settings(max_examples=25, stateful_step_count=30)
test_order_lifecycle = OrderLifecycle.TestCase


def test_cancel_before_shipping_and_list_by_customer(trade_in: TradeIn) -> None:
    """Cancelling stops unsent devices; orders list per customer; a cancelled order is closed."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token], customer_ref="cus_7")
    cancelled = trade_in.cancel(order.id)
    assert cancelled.device("d1").state is DeviceState.CANCELLED
    assert trade_in.cancel(order.id) == cancelled  # nothing left to cancel: unchanged
    (record,) = trade_in.store.list_orders(customer_ref="cus_7")
    assert record.closed
    assert record.next_deadline_at is None
    assert trade_in.store.list_orders(customer_ref="cus_8") == []


def test_quote_documents_from_outside_are_validated() -> None:
    """A quote document that does not match its schema is refused with the paths of its problems."""
    with pytest.raises(DocumentInvalidError) as caught:
        Quote.from_json({"id": "q_1"})
    assert caught.value.kind == "quote"
    assert caught.value.problems[0].path == "$"


def test_carrier_tracking_moves_every_device_once(trade_in: TradeIn, start: datetime) -> None:
    """Carrier news on the label's reference ships, then receives, both devices; repeats change nothing."""
    tokens = [
        trade_in.quote(device, answers("flawless")).token
        for device in ("apple-iphone-13-128gb", "apple-iphone-14-128gb")
    ]
    order = trade_in.accept(tokens)
    label = trade_in.issue_label(order.id)
    scan = TrackingEvent(
        event_id="dhl-1", order_ref=label.order_ref, status=TrackingStatus.HANDED_OVER, at=start
    )
    shipped = trade_in.record_tracking(scan)
    assert {device.state for device in shipped.devices} == {DeviceState.IN_TRANSIT}
    assert trade_in.record_tracking(scan) == shipped
    delivered = TrackingEvent(
        event_id="dhl-2", order_ref=label.order_ref, status=TrackingStatus.DELIVERED, at=start
    )
    received = trade_in.record_tracking(delivered)
    assert {device.state for device in received.devices} == {DeviceState.RECEIVED}
    lost = TrackingEvent(
        event_id="dhl-3", order_ref=label.order_ref, status=TrackingStatus.EXCEPTION, at=start
    )
    assert trade_in.record_tracking(lost) == received
    with pytest.raises(OrderNotFoundError):
        trade_in.record_tracking(
            TrackingEvent(event_id="x", order_ref="ORD-NOPE", status=TrackingStatus.DELIVERED, at=start)
        )


def test_reminders_before_the_send_by_deadline(trade_in: TradeIn, clock: FixedClock) -> None:
    """Three days before send-by the shopper is reminded, once per run window; none after the deadline."""
    order = trade_in.accept([trade_in.quote("apple-iphone-13-128gb", answers("flawless")).token])
    trade_in.issue_label(order.id)
    assert trade_in.reminders() == []
    clock.advance(days=11)
    ((order_id, reminder),) = trade_in.reminders()
    assert order_id == order.id
    assert reminder.kind.value == "send_device"
    assert trade_in.reminders(since=clock.now()) == []
    clock.advance(days=4)
    assert trade_in.reminders() == []
