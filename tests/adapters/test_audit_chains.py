"""The audit log as chains side by side: spread by subject, migrated from one chain, verified together.

The checks of one chain (every tampering found and located) are in ``test_audit.py``, on chain 0.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from tradein_sdk._adapters.sql.audit import append_entry, audit_heads_table, verify_chain
from tradein_sdk._adapters.sql.store import MIGRATIONS, SQLStore
from tradein_sdk._adapters.sql.tenancy import append_facts
from tradein_sdk._domain.audit import (
    AUDIT_CHAINS,
    GENESIS_HASH,
    AuditAnchor,
    AuditEntry,
    AuditProblemKind,
    chain_of,
    genesis_hash,
    next_entry,
    verify_entries,
)
from tradein_sdk._errors import StoreError
from tradein_sdk._ports import AuditFact

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def subject_in(chain: int, start: int = 0) -> str:
    """An order id whose entries go to ``chain``."""
    number = start
    while chain_of(f"ord_{number:06d}") != chain:
        number += 1
    return f"ord_{number:06d}"


def append(store: SQLStore, subject: str, action: str = "order.shipped") -> None:
    """One entry, in its own transaction."""
    with store._engine.begin() as conn:
        append_entry(conn, now=NOW, actor="staff", action=action, subject=subject, details={"to": "sent"})


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[SQLStore]:
    """A migrated store, on a SQLite file and on PostgreSQL when reachable."""
    opened = (
        SQLStore.sqlite_file(tmp_path / "chains.sqlite3") if database_url is None else SQLStore(database_url)
    )
    yield opened
    opened.close()


def test_subjects_spread_over_every_chain_and_each_chain_starts_at_its_own_genesis() -> None:
    """Chain numbers are stable per subject, cover every chain, and no two chains share a genesis."""
    chains = {chain_of(f"ord_{number:06d}") for number in range(2_000)}
    assert chains == set(range(AUDIT_CHAINS))
    assert chain_of("ord_000001") == chain_of("ord_000001")
    geneses = {genesis_hash(chain) for chain in range(AUDIT_CHAINS)}
    assert len(geneses) == AUDIT_CHAINS
    assert genesis_hash(0) == GENESIS_HASH


def test_an_orders_entries_form_one_chain_in_order(store: SQLStore) -> None:
    """Entries of many orders: each in its subject's chain, numbered from 1 there, and the log verifies."""
    subjects = [f"ord_{number:06d}" for number in range(40)]
    for round_ in range(3):
        for subject in subjects:
            append(store, subject, action=f"order.step{round_}")
    with store._engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT chain, sequence, subject, action FROM tradein_audit_log ORDER BY chain, sequence")
        ).all()
    assert {row.chain for row in rows} == {chain_of(subject) for subject in subjects}
    for row in rows:
        assert row.chain == chain_of(row.subject)
    for chain in {row.chain for row in rows}:
        numbers = [row.sequence for row in rows if row.chain == chain]
        assert numbers == list(range(1, len(numbers) + 1))
        for subject in {row.subject for row in rows if row.chain == chain}:
            assert [row.action for row in rows if row.subject == subject] == [
                "order.step0",
                "order.step1",
                "order.step2",
            ]
    verification = verify_chain(store._engine)
    assert verification.ok, verification.problems
    assert verification.entries_checked == 120
    assert sorted(head.chain for head in verification.heads) == sorted({row.chain for row in rows})
    assert verify_chain(store._engine, anchor=verification.heads).ok


def test_facts_of_one_transaction_are_appended_in_chain_order(store: SQLStore) -> None:
    """append_facts takes chains in ascending order (so two writers never wait for each other in a cycle)."""
    subjects = [subject_in(chain) for chain in (9, 2, 14, 2, 0)]
    facts = [
        AuditFact(actor="system", action=f"order.step{index}", subject=subject, details={})
        for index, subject in enumerate(subjects)
    ]
    order: list[int] = []

    def note(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if "FROM tradein_audit_heads" in statement:
            chain = parameters["at_chain"] if isinstance(parameters, dict) else parameters[-1]  # type: ignore[index]
            order.append(chain)

    sa.event.listen(store._engine, "before_cursor_execute", note)
    with store._engine.begin() as conn:
        append_facts(conn, facts, now=NOW)
    sa.event.remove(store._engine, "before_cursor_execute", note)
    assert order == sorted(order) == [0, 2, 2, 9, 14]
    with store._engine.connect() as conn:
        actions = conn.execute(
            sa.text("SELECT action FROM tradein_audit_log WHERE subject = :s ORDER BY sequence"),
            {"s": subjects[1]},
        ).scalars()
        assert list(actions) == ["order.step1", "order.step3"]


def test_cutting_a_chains_last_entries_is_found_by_its_head_row(tmp_path: Path) -> None:
    """Without any anchor, deleting the newest entries of one chain (triggers dropped) shows as truncated."""
    store = SQLStore.sqlite_file(tmp_path / "cut.sqlite3")
    subject = subject_in(5)
    for _ in range(4):
        append(store, subject)
    append(store, subject_in(3))
    assert verify_chain(store._engine).ok
    with store._engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER tradein_audit_log_no_delete")
        conn.exec_driver_sql("DELETE FROM tradein_audit_log WHERE chain = 5 AND sequence >= 3")
    verification = verify_chain(store._engine)
    assert [(problem.kind, problem.chain, problem.sequence) for problem in verification.problems] == [
        (AuditProblemKind.TRUNCATED, 5, 3)
    ]
    assert str(verification.problems[0]).startswith("entry 5/3 ")
    assert "head row" in verification.problems[0].message
    store.close()


def test_a_changed_entry_of_another_chain_is_located_by_chain_and_sequence(tmp_path: Path) -> None:
    """A rewritten entry of chain 7 is reported at chain 7, its sequence, and its place in reading order."""
    store = SQLStore.sqlite_file(tmp_path / "changed.sqlite3")
    for chain in (1, 7, 7, 7, 12):
        append(store, subject_in(chain))
    with store._engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER tradein_audit_log_no_update")
        conn.exec_driver_sql("UPDATE tradein_audit_log SET actor = 'system' WHERE chain = 7 AND sequence = 2")
    problem = verify_chain(store._engine).problems[0]
    assert (problem.kind, problem.chain, problem.sequence, problem.position) == (
        AuditProblemKind.MODIFIED,
        7,
        2,
        3,  # chain 1's entry, then chain 7's first and second
    )
    store.close()


def test_in_memory_chains_verify_apart_and_an_anchor_per_chain_catches_a_cut() -> None:
    """verify_entries takes several chains' entries; each chain's anchor catches that chain's truncation."""
    first = [
        next_entry(None, now=NOW, actor="staff", action="order.placed", subject="ord_a", details={}, chain=3)
    ]
    first.append(
        next_entry(first[-1], now=NOW, actor="staff", action="order.shipped", subject="ord_a", details={})
    )
    second = [
        next_entry(None, now=NOW, actor="staff", action="order.placed", subject="ord_b", details={}, chain=8)
    ]
    whole = verify_entries([*first, *second])
    assert whole.ok
    assert whole.heads == (
        AuditAnchor(chain=3, sequence=2, entry_hash=first[-1].entry_hash),
        AuditAnchor(chain=8, sequence=1, entry_hash=second[-1].entry_hash),
    )
    cut = verify_entries([first[0], *second], anchor=whole.heads)
    assert [(problem.kind, problem.chain, problem.sequence) for problem in cut.problems] == [
        (AuditProblemKind.TRUNCATED, 3, 2)
    ]
    assert not verify_entries([], anchor=whole.heads).ok
    assert first[0].hashed_content()["chain"] == 3  # a chain above 0 is hashed


def test_migration_makes_the_old_log_chain_0_unchanged_and_appends_continue_it(tmp_path: Path) -> None:
    """A database at version 12 with entries: after migration 13 they are chain 0 as they were, and verify."""
    path = tmp_path / "old.sqlite3"
    old = SQLStore(f"sqlite:///{path}", migrate=False)
    with old._engine.begin() as conn:
        old._t["schema_migrations"].create(conn)
        for version, description, step in MIGRATIONS:
            if version > 12:
                break
            step(conn)
            conn.execute(
                sa.insert(old._t["schema_migrations"]).values(
                    version=version, description=description, applied_at=NOW
                )
            )
        entries: list[AuditEntry] = []
        for number in range(5):  # written as the single-chain log wrote them
            entry = next_entry(
                entries[-1] if entries else None,
                now=NOW + timedelta(seconds=number),
                actor="staff",
                action="order.shipped",
                subject=f"ord_old{number}",
                details={"n": number},
            )
            entries.append(entry)
            conn.execute(
                sa.text(
                    "INSERT INTO tradein_audit_log VALUES (:sequence, :recorded_at, :actor, :action, "
                    ":subject, :details, :previous_hash, :entry_hash)"
                ),
                {
                    "sequence": entry.sequence,
                    "recorded_at": entry.recorded_at.replace(tzinfo=None).isoformat(sep=" "),
                    "actor": entry.actor,
                    "action": entry.action,
                    "subject": entry.subject,
                    "details": f'{{"n":{number}}}',
                    "previous_hash": entry.previous_hash,
                    "entry_hash": entry.entry_hash,
                },
            )
    old.close()
    store = SQLStore(f"sqlite:///{path}")
    assert store.schema_version() == max(version for version, _, _ in MIGRATIONS)
    verification = verify_chain(store._engine)
    assert verification.ok, verification.problems
    assert verification.heads == (AuditAnchor(chain=0, sequence=5, entry_hash=entries[-1].entry_hash),)
    with store._engine.connect() as conn:
        heads = conn.execute(sa.select(audit_heads_table()).order_by(audit_heads_table().c.chain)).all()
    assert len(heads) == AUDIT_CHAINS
    assert (heads[0].sequence, heads[0].entry_hash) == (5, entries[-1].entry_hash)
    append(store, subject_in(0))
    append(store, subject_in(4))
    after = verify_chain(store._engine)
    assert after.ok
    assert [(head.chain, head.sequence) for head in after.heads] == [(0, 6), (4, 1)]
    store.close()


def append_waiting_at_most(store: SQLStore, subject: str, lock_timeout: str) -> None:
    """Append in a transaction that waits for locks at most ``lock_timeout`` (PostgreSQL)."""
    with store._engine.begin() as conn:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout}'")
        append_entry(conn, now=NOW, actor="staff", action="order.shipped", subject=subject, details={})


@pytest.mark.postgres
def test_writers_of_other_chains_do_not_wait_for_an_open_transaction(postgres_url: str) -> None:
    """PostgreSQL: while a transaction holds chain A's head, chain B's writers commit; chain A's wait."""
    store = SQLStore(postgres_url, pool_size=4)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store._engine.begin() as conn:
            append_entry(
                conn, now=NOW, actor="staff", action="order.shipped", subject=subject_in(2), details={}
            )
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    try:
        started = time.perf_counter()
        append(store, subject_in(9))  # another chain: goes through at once
        other_chain = time.perf_counter() - started
        with pytest.raises(StoreError, match="lock timeout"):
            append_waiting_at_most(store, subject_in(2, 100), "300ms")  # the same chain: waits
    finally:
        release.set()
        holder.join()
    assert other_chain < 5  # it did not wait for the holder's 10 s
    append(store, subject_in(2, 100))  # once the holder committed, the same chain goes on
    assert verify_chain(store._engine).ok
    store.close()


@pytest.mark.postgres
def test_concurrent_writers_of_many_orders_make_chains_that_verify(postgres_url: str) -> None:
    """Eight threads appending for many orders at once: every chain gap-free, every link right."""
    store = SQLStore(postgres_url, pool_size=8)
    barrier = threading.Barrier(8)

    def work(worker: int) -> None:
        barrier.wait()
        for number in range(25):
            append(store, f"ord_{worker}_{number % 5}")

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    verification = verify_chain(store._engine)
    assert verification.ok, verification.problems[:3]
    assert verification.entries_checked == 200
    store.close()


def test_anchors_are_read_from_their_json_and_from_the_single_chain_form() -> None:
    """Anchors kept as ``{"heads": [...]}`` read back; an anchor file written before chains is chain 0."""
    heads = (
        AuditAnchor(chain=0, sequence=4, entry_hash="sha256:a"),
        AuditAnchor(chain=5, sequence=2, entry_hash="b"),
    )
    assert AuditAnchor.list_from_json({"heads": [head.to_json() for head in heads]}) == heads
    assert AuditAnchor.list_from_json({"sequence": 4, "entry_hash": "sha256:a"}) == heads[:1]
    garbage: object
    for garbage in ({"heads": "x"}, {"heads": [1]}, {"sequence": "4", "entry_hash": "h"}, []):
        with pytest.raises(TypeError):
            AuditAnchor.list_from_json(garbage)
