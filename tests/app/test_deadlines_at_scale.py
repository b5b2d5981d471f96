"""Deadlines that fire at any size: tick() and reminders() read the orders whose time has come, no others.

Shipped, received and settled orders keep the send-by deadline their label recorded; they must not stay "due"
(500 of them used to fill every tick's batch, and the really overdue devices were never expired).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import DeviceState, SQLStore, TradeIn

if TYPE_CHECKING:
    from pathlib import Path

    from tradein_sdk import FixedClock

IPHONE = "apple-iphone-13-128gb"
SENT = 600
OVERDUE = 5


def open_orders(trade_in: TradeIn, count: int, *, ship: bool) -> list[str]:
    """``count`` one-device orders with a label; shipped when ``ship``."""
    answers = dict(example_answers("smartphone", "worn").answers)
    ids = []
    for _ in range(count):
        order = trade_in.accept([trade_in.quote(IPHONE, answers).token])
        trade_in.issue_label(order.id)
        if ship:
            trade_in.ship(order.id, "d1")
        ids.append(order.id)
    return ids


def test_one_tick_expires_every_overdue_device_behind_600_sent_ones(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """600 sent orders older than 5 overdue ones: one tick (batch 500) expires the 5, reads nothing else."""
    trade_in = any_store_trade_in
    sent = open_orders(trade_in, SENT, ship=True)
    clock.advance(seconds=(timedelta(minutes=1)).total_seconds())
    overdue = open_orders(trade_in, OVERDUE, ship=False)
    clock.advance(
        seconds=(
            trade_in.policy.send_window + trade_in.policy.expiry_grace + timedelta(days=1)
        ).total_seconds()
    )
    store = trade_in.store
    assert isinstance(store, SQLStore)
    assert sorted(store.orders_due(clock.now(), limit=1000)) == sorted(overdue)
    assert trade_in.tick() == OVERDUE
    assert all(trade_in.order(order_id).device("d1").state is DeviceState.EXPIRED for order_id in overdue)
    assert trade_in.order(sent[0]).device("d1").state is DeviceState.IN_TRANSIT
    assert trade_in.tick() == 0
    assert store.orders_due(clock.now(), limit=1000) == []
    assert trade_in.reminders() == []  # the sent ones have nothing to be reminded of


def test_reminders_read_the_orders_whose_reminders_have_begun(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """A device waiting to be sent is reminded before its deadline, a sent one never, none before its time."""
    trade_in = any_store_trade_in
    policy = trade_in.policy
    waiting = open_orders(trade_in, 2, ship=False)
    open_orders(trade_in, 3, ship=True)
    assert trade_in.reminders() == []
    clock.advance(
        seconds=(policy.send_window - max(policy.send_reminders) + timedelta(minutes=1)).total_seconds()
    )
    reminded = trade_in.reminders()
    assert sorted(order_id for order_id, _ in reminded) == sorted(waiting)
    assert trade_in.reminders(since=clock.now()) == []


def test_the_migration_recomputes_stale_deadlines(tmp_path: Path, clock: FixedClock) -> None:
    """An order saved before migration 11 kept its send-by after shipping; the migration clears it."""
    trade_in = TradeIn.embedded(tmp_path, clock=clock)
    sent = open_orders(trade_in, 2, ship=True)
    waiting = open_orders(trade_in, 1, ship=False)
    trade_in.close()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tradein.sqlite3'}")
    with engine.begin() as conn:  # the database as version 10 left it: send-by kept after shipping
        conn.execute(sa.text("UPDATE tradein_orders SET next_deadline_at = created_at"))
        conn.execute(sa.text("DROP INDEX ix_tradein_orders_reminders"))
        conn.execute(sa.text("ALTER TABLE tradein_orders DROP COLUMN reminders_from"))
        conn.execute(sa.text("DELETE FROM tradein_schema_migrations WHERE version = 11"))
    reopened = TradeIn.embedded(tmp_path, clock=clock)
    try:
        with engine.connect() as conn:
            rows: dict[str, bool] = dict(
                conn.execute(sa.text("SELECT id, next_deadline_at IS NULL FROM tradein_orders")).all()
            )
        assert all(rows[order_id] for order_id in sent)
        assert not rows[waiting[0]]
        clock.advance(seconds=(timedelta(days=30)).total_seconds())
        assert reopened.tick() == 1
    finally:
        reopened.close()
        engine.dispose()
