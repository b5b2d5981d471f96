"""Audit log benchmark: verifying a 100,000-entry hash chain, against baselines measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_audit.py [--entries 100000] [--postgres URL]``. For a SQLite file and
for PostgreSQL, the log is filled with entries built by ``next_entry`` (bulk-inserted, as ``append_entry``
would have stored them), then each figure is the best of three rounds:

- **verify**: ``verify_chain`` over the whole log (batched reads, JSON decoding, re-hashing, chain checks);
- **baseline, read**: the same batched reads of the same rows, nothing else (the I/O floor);
- **baseline, read + sha256**: the same reads, decoding each row's details and hashing its canonical JSON
  with SHA-256, without the chain checks or the entry models.

Also printed: the peak Python memory traced during one verification (flat: one batch at a time) against the
memory of the rows loaded all at once, and the rate of ``append_entry`` in its own transaction each.
PostgreSQL is used when ``--postgres`` or ``TRADEIN_TEST_POSTGRES_URL`` names a reachable server (default
``postgresql://postgres@127.0.0.1:5432/test``); otherwise its rows say why they were skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from grading_questionnaire._schemas import content_hash
from tradein_sdk._adapters.sql.audit import (
    _rows,
    append_entry,
    audit_log_table,
    migration_audit,
    verify_chain,
)
from tradein_sdk._adapters.sql.store import SQLStore, engine_url
from tradein_sdk._domain.audit import DEFAULT_BATCH_SIZE, AuditEntry, _canonical, next_entry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STATES = ("placed", "shipped", "received", "inspected", "paid_out")
ROUNDS = 3
INSERT_CHUNK = 5_000
APPENDS = 500


def entries(count: int) -> Iterator[AuditEntry]:
    """A valid chain of ``count`` plausible entries."""
    previous = None
    for sequence in range(1, count + 1):
        state = sequence % (len(STATES) - 1)
        previous = next_entry(
            previous,
            now=NOW + timedelta(seconds=sequence),
            actor=("shopper", "staff", "provider", "system")[sequence % 4],
            action=f"order.{STATES[state + 1]}",
            subject=f"ord_{sequence:012x}",
            details={
                "from": STATES[state],
                "to": STATES[state + 1],
                "amount": {"amount": f"{sequence % 90_000 / 100:.2f}", "currency": "EUR"},
                "reason_code": "ok",
            },
        )
        yield previous


def fill(store: SQLStore, count: int) -> None:
    """Create the audit log and bulk-insert ``count`` entries as ``append_entry`` stores them."""
    with store._engine.begin() as conn:  # noqa: SLF001 - the benchmark drives the store's engine
        migration_audit(conn)
    table = audit_log_table()
    chunk: list[dict[str, Any]] = []
    for entry in entries(count):
        chunk.append(_row(entry))
        if len(chunk) == INSERT_CHUNK:
            with store._engine.begin() as conn:  # noqa: SLF001
                conn.execute(sa.insert(table), chunk)
            chunk = []
    if chunk:
        with store._engine.begin() as conn:  # noqa: SLF001
            conn.execute(sa.insert(table), chunk)


def _row(entry: AuditEntry) -> dict[str, Any]:
    """The entry as a row of the table (details as canonical JSON text)."""
    return {
        "sequence": entry.sequence,
        "recorded_at": entry.recorded_at,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "details": _canonical(entry.details),
        "previous_hash": entry.previous_hash,
        "entry_hash": entry.entry_hash,
    }


def best(function: Callable[[], object]) -> float:
    """The fastest of ``ROUNDS`` runs, in seconds."""
    runs = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        function()
        runs.append(time.perf_counter() - start)
    return min(runs)


def read_only(store: SQLStore) -> int:
    """Baseline: read every row in the verifier's batches; return how many."""
    with store._engine.execution_options(tradein_read_only=True).connect() as conn:  # noqa: SLF001
        return sum(1 for _ in _rows(conn, DEFAULT_BATCH_SIZE))


def read_and_hash(store: SQLStore) -> int:
    """Baseline: read every row, decode its details and SHA-256 its canonical JSON; no chain checks."""
    count = 0
    with store._engine.execution_options(tradein_read_only=True).connect() as conn:  # noqa: SLF001
        for row in _rows(conn, DEFAULT_BATCH_SIZE):
            content_hash(
                {
                    "sequence": row.sequence,
                    "recorded_at": str(row.recorded_at),
                    "actor": row.actor,
                    "action": row.action,
                    "subject": row.subject,
                    "details": json.loads(row.details),
                    "previous_hash": row.previous_hash,
                }
            )
            count += 1
    return count


def peak_memory(function: Callable[[], object]) -> float:
    """Peak Python memory traced while ``function`` runs, in MiB."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def all_rows(store: SQLStore) -> list[Any]:
    """The whole table as one list (what verification avoids holding)."""
    with store._engine.connect() as conn:  # noqa: SLF001
        return list(conn.execute(sa.select(audit_log_table())).all())


def appends_per_second(store: SQLStore) -> float:
    """``append_entry`` rate, each in its own write transaction, onto the full log."""
    start = time.perf_counter()
    for number in range(APPENDS):
        with store._engine.begin() as conn:  # noqa: SLF001
            append_entry(
                conn,
                now=NOW,
                actor="system",
                action="order.checked",
                subject=f"ord_bench_{number}",
                details={"to": "checked"},
            )
    return APPENDS / (time.perf_counter() - start)


def measure(label: str, store: SQLStore, count: int) -> None:
    """Fill the log, then print verification against the baselines, memory and the append rate."""
    start = time.perf_counter()
    fill(store, count)
    print(f"{label}: {count:,} entries built and inserted in {time.perf_counter() - start:.1f} s")
    outcome = verify_chain(store._engine)  # noqa: SLF001
    if not outcome.ok or outcome.entries_checked != count:
        raise SystemExit(f"{label}: the benchmark log does not verify: {outcome.problems[:3]}")
    if read_only(store) != count or read_and_hash(store) != count:
        raise SystemExit(f"{label}: a baseline read another number of rows")
    verify = best(lambda: verify_chain(store._engine))  # noqa: SLF001
    read = best(lambda: read_only(store))
    hashed = best(lambda: read_and_hash(store))
    print(f"  verify_chain                 {verify:7.2f} s  {count / verify:10,.0f} entries/s")
    print(
        f"  baseline, read rows          {read:7.2f} s  {count / read:10,.0f} entries/s"
        f"   (verify takes {verify / read:.1f}x)"
    )
    print(
        f"  baseline, read + sha256      {hashed:7.2f} s  {count / hashed:10,.0f} entries/s"
        f"   (verify takes {verify / hashed:.2f}x)"
    )
    verifying = peak_memory(lambda: verify_chain(store._engine))  # noqa: SLF001
    holding = peak_memory(lambda: all_rows(store))
    print(
        f"  peak traced memory: verify {verifying:.1f} MiB (batches of {DEFAULT_BATCH_SIZE:,}); "
        f"all rows in one list {holding:.1f} MiB"
    )
    print(f"  append_entry, one transaction each: {appends_per_second(store):,.0f} /s")


def main() -> None:
    """Print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRADEIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        sqlite = SQLStore.sqlite_file(Path(directory) / "audit.sqlite3")
        measure("SQLite file", sqlite, args.entries)
        sqlite.close()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(engine_url(args.postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.SQLAlchemyError as exc:
        where = args.postgres.rsplit("@", 1)[-1]
        print(f"PostgreSQL skipped: {where} not reachable ({type(exc).__name__})")
        return
    separator = "&" if "?" in args.postgres else "?"
    postgres = SQLStore(f"{args.postgres}{separator}options=-csearch_path%3D{schema}")
    try:
        measure("PostgreSQL", postgres, args.entries)
    finally:
        postgres.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
