"""``verify_audit`` and ``checkpoint_audit`` report their progress on a long log, on a real SQLite store.

``tradein audit verify`` draws it as a progress bar on a terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from tradein_sdk import TradeIn
from tradein_sdk._adapters.sql.audit import verify_chain
from tradein_sdk._adapters.sql.store import SQLStore
from tradein_sdk._ports import AuditFact

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

EVERY = 2_000
"""How many entries :class:`SQLStore` checks between two calls (its batch size)."""
ENTRIES = 4_500


@pytest.fixture
def long_log(tmp_path: Path) -> Iterator[TradeIn]:
    """An installation on SQLite whose audit log holds more entries than two progress steps."""
    facade = TradeIn.embedded(tmp_path / "data")
    store = facade.store
    assert isinstance(store, SQLStore)
    now = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    facts = [
        AuditFact(actor="staff", action="test.progress", subject=f"s{number}", details={"n": number})
        for number in range(ENTRIES)
    ]
    for start in range(0, ENTRIES, 500):
        store.add_audit(facts[start : start + 500], now=now)
    yield facade
    facade.close()


def _assert_progress(calls: list[tuple[int, int]], checked: int) -> None:
    """Increasing counts, never past their total, ending with every entry checked of as many."""
    counts = [count for count, _ in calls]
    assert counts == sorted(set(counts)), calls
    assert all(0 <= count <= total for count, total in calls), calls
    assert calls[-1] == (checked, checked)


def test_verify_audit_reports_increasing_counts_ending_at_the_total(long_log: TradeIn) -> None:
    """Every 2,000 entries and once at the end; the total is the log's length from the start."""
    calls: list[tuple[int, int]] = []
    verification = long_log.verify_audit(progress=lambda checked, total: calls.append((checked, total)))
    assert verification.ok
    assert verification.entries_checked == ENTRIES
    _assert_progress(calls, ENTRIES)
    assert calls == [(EVERY, ENTRIES), (2 * EVERY, ENTRIES), (ENTRIES, ENTRIES)]


def test_checkpoint_audit_reports_progress_too(long_log: TradeIn) -> None:
    """The check ``tradein audit verify`` runs by default (against the latest checkpoint) reports alike."""
    first: list[tuple[int, int]] = []
    assert long_log.checkpoint_audit(progress=lambda checked, total: first.append((checked, total))).ok
    _assert_progress(first, ENTRIES)
    again: list[tuple[int, int]] = []
    verification = long_log.checkpoint_audit(progress=lambda checked, total: again.append((checked, total)))
    assert verification.ok
    _assert_progress(again, verification.entries_checked)


def test_an_empty_log_and_a_log_of_one_batch_report_once(tmp_path: Path) -> None:
    """No entry: one call (0, 0); fewer entries than a step: one call with both counts equal."""
    facade = TradeIn.embedded(tmp_path / "data")
    try:
        calls: list[tuple[int, int]] = []
        assert facade.verify_audit(progress=lambda checked, total: calls.append((checked, total))).ok
        assert calls == [(0, 0)]
        store = facade.store
        assert isinstance(store, SQLStore)
        store.add_audit(
            [AuditFact(actor="staff", action="test.progress", subject="s", details={})],
            now=datetime(2026, 5, 4, 9, 0, tzinfo=UTC),
        )
        calls.clear()
        assert facade.verify_audit(progress=lambda checked, total: calls.append((checked, total))).ok
        assert calls == [(1, 1)]
        assert facade.verify_audit().entries_checked == 1  # without a callback, as before
    finally:
        facade.close()


@pytest.mark.parametrize("batch_size", [1, 7, 4_500, 10_000])
def test_the_chain_check_reports_each_batch(long_log: TradeIn, batch_size: int) -> None:
    """The store's chain check calls back after each batch it read, whatever the batch size."""
    store = long_log.store
    assert isinstance(store, SQLStore)
    calls: list[tuple[int, int]] = []
    verification = verify_chain(
        store._engine, batch_size=batch_size, progress=lambda checked, total: calls.append((checked, total))
    )
    assert verification.entries_checked == ENTRIES
    _assert_progress(calls, ENTRIES)
    assert [count for count, _ in calls] == [
        *range(batch_size, ENTRIES, batch_size),
        ENTRIES,
    ]
