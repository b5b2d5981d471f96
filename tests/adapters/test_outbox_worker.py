"""The outbox as workers use it: batch claims with a lease, skipped locks, dead letters, replay, slots."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from tradein_sdk import SQLStore
from tradein_sdk._adapters.sql.store import engine_url
from tradein_sdk._domain.outbox import OutboxMessage
from tradein_sdk.webhooks import new_webhook_id

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[SQLStore]:
    """A migrated store on each database kind."""
    opened = SQLStore(database_url or f"sqlite:///{tmp_path / 'outbox.db'}")
    yield opened
    opened.close()


def add_messages(store: SQLStore, count: int, *, endpoint: str = "https://shop.example/hooks") -> list[str]:
    """Write ``count`` outbox rows due at NOW (one event each); return their event ids."""
    messages = [
        OutboxMessage(
            event_id=new_webhook_id(),
            endpoint=endpoint,
            type="device.received",
            body=b'{"type":"device.received"}',
            created_at=NOW - timedelta(minutes=1) + timedelta(microseconds=number),
        )
        for number in range(count)
    ]
    store.add_audit([], now=NOW, outbox=messages)
    return [message.event_id for message in messages]


def test_a_batch_is_claimed_once_and_a_dead_workers_lease_runs_out(store: SQLStore) -> None:
    """Claimed rows are not claimed again until the lease ends; the late holder's result is then refused."""
    events = add_messages(store, 5)
    first = store.claim_due_webhooks(now=NOW, until=NOW + timedelta(minutes=2), limit=3)
    assert [row.message.event_id for row in first] == events[:3]  # oldest first
    assert all(row.next_attempt_at == NOW + timedelta(minutes=2) for row in first)
    second = store.claim_due_webhooks(now=NOW, until=NOW + timedelta(minutes=10), limit=10)
    assert [row.message.event_id for row in second] == events[3:]
    assert store.claim_due_webhooks(now=NOW + timedelta(minutes=1), until=NOW, limit=10) == []

    # the first worker died: after its lease, another takes its rows
    later = NOW + timedelta(minutes=3)
    retaken = store.claim_due_webhooks(now=later, until=later + timedelta(minutes=2), limit=10)
    assert {row.delivery_id for row in retaken} == {row.delivery_id for row in first}
    stale = first[0]
    assert not store.finish_leased_webhook(
        stale.delivery_id, leased_until=stale.next_attempt_at, attempts=1, delivered_at=later
    )
    fresh = next(row for row in retaken if row.delivery_id == stale.delivery_id)
    assert store.finish_leased_webhook(
        fresh.delivery_id, leased_until=fresh.next_attempt_at, attempts=1, delivered_at=later
    )
    counts = store.outbox_counts()
    assert (counts.pending, counts.delivered, counts.dead) == (4, 1, 0)
    assert counts.oldest_pending_at is not None


def test_concurrent_claims_take_disjoint_rows(store: SQLStore) -> None:
    """Eight threads claiming batches of 7 from 100 rows: every row taken exactly once."""
    add_messages(store, 100)
    barrier = threading.Barrier(8)
    taken: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait()
        while rows := store.claim_due_webhooks(now=NOW, until=NOW + timedelta(minutes=2), limit=7):
            with lock:
                taken.extend(row.delivery_id for row in rows)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 100
    assert len(set(taken)) == 100


def test_postgres_claims_skip_rows_another_transaction_holds(postgres_url: str) -> None:
    """A row locked by another transaction is skipped at once, not waited for (FOR UPDATE SKIP LOCKED)."""
    store = SQLStore(postgres_url)
    events = add_messages(store, 3)
    engine = sa.create_engine(engine_url(postgres_url))
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("SELECT id FROM tradein_webhook_outbox WHERE event_id = :id FOR UPDATE"),
                {"id": events[0]},
            )
            rows = store.claim_due_webhooks(now=NOW, until=NOW + timedelta(minutes=2), limit=10)
            assert [row.message.event_id for row in rows] == events[1:]
        rows = store.claim_due_webhooks(now=NOW, until=NOW + timedelta(minutes=2), limit=10)
        assert [row.message.event_id for row in rows] == events[:1]
    finally:
        engine.dispose()
        store.close()


def test_dead_letters_are_listed_and_replayed(store: SQLStore) -> None:
    """Given-up rows are dead letters; replay by delivery id, event id, or all dead makes them due again."""
    events = add_messages(store, 4)
    rows = store.claim_due_webhooks(now=NOW, until=NOW + timedelta(minutes=2), limit=10)
    for row in rows[:3]:
        store.finish_leased_webhook(
            row.delivery_id, leased_until=row.next_attempt_at, attempts=12, failed=True, error="HTTP 503"
        )
    store.finish_leased_webhook(
        rows[3].delivery_id, leased_until=rows[3].next_attempt_at, attempts=1, delivered_at=NOW
    )
    dead = store.dead_webhooks()
    assert sorted(letter.event_id for letter in dead) == sorted(events[:3])
    assert {(letter.attempts, letter.last_error) for letter in dead} == {(12, "HTTP 503")}
    page = store.dead_webhooks(limit=2)
    assert page + store.dead_webhooks(after=page[-1].delivery_id) == dead

    later = NOW + timedelta(hours=1)
    assert store.replay_webhooks(now=later, delivery_ids=[dead[0].delivery_id]) == 1
    assert store.replay_webhooks(now=later, event_ids=[events[3]]) == 1  # a delivered one, sent again
    assert store.replay_webhooks(now=later, event_ids=[events[3]]) == 0  # already pending: left alone
    assert store.replay_webhooks(now=later, all_dead=True) == 2
    assert store.replay_webhooks(now=later) == 0
    due = store.claim_due_webhooks(now=later, until=later + timedelta(minutes=2), limit=10)
    assert sorted(row.message.event_id for row in due) == sorted(events)
    assert {row.attempts for row in due} == {0}
    assert store.dead_webhooks() == []


def test_a_schedule_slot_is_claimed_once(store: SQLStore) -> None:
    """Of six threads asking for each of three slots, one gets each; an older slot is never run again."""
    slots = [NOW, NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)]
    won: list[tuple[datetime, str]] = []
    lock = threading.Lock()

    def ask(name: str) -> None:
        for slot in slots:
            barrier.wait()
            if store.claim_schedule_slot("tick", slot=slot, holder=name, now=slot):
                with lock:
                    won.append((slot, name))

    barrier = threading.Barrier(6)
    threads = [threading.Thread(target=ask, args=(f"w{number}",)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(slot for slot, _ in won) == slots
    assert not store.claim_schedule_slot("tick", slot=NOW, holder="late", now=NOW + timedelta(minutes=3))
    assert store.claim_schedule_slot("other-job", slot=NOW, holder="late", now=NOW)
