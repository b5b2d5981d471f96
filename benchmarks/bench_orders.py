"""Order benchmark: orders taken from accepted to paid per second, on SQLite and PostgreSQL.

Run: ``.venv/bin/python benchmarks/bench_orders.py [--orders 100] [--postgres URL]``. Each order goes
accept (quote claimed exactly once) → label → ship → receive → inspect (confirmed) → pay, every step a
state-machine transition written with its audit entry in one transaction. The baseline, measured in the
same run on the same database, is issuing the quote alone (``TradeIn.quote``), the step before an order.
The audit verification time for 100,000 entries is printed by ``benchmarks/bench_audit.py``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, FixedClock, KeyRing, SQLStore, TradeIn
from tradein_sdk._adapters.sql.store import engine_url

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DEVICE = "apple-iphone-13-128gb"


def run(label: str, store: SQLStore, count: int) -> None:
    """Take ``count`` orders from accepted to paid and print the rates."""
    facade = TradeIn(
        store=store, key_ring=KeyRing.generate(key_id="k1"), audience="shop", clock=FixedClock(NOW)
    )
    declared = example_answers("smartphone", "flawless").answers
    checks = example_answers("smartphone", "store-inspected").answers
    found = {
        **declared,
        **{key: checks[key] for key in ("liquid_indicator", "blocklist_status", "authenticity")},
    }
    payout = BankTransfer(iban="DE89 3704 0044 0532 0130 00", holder="Erika Mustermann")
    facade.quote(DEVICE, declared)  # warm up
    start = time.perf_counter()
    tokens = [facade.quote(DEVICE, declared).token for _ in range(count)]
    quoting = time.perf_counter() - start
    start = time.perf_counter()
    for token in tokens:
        order = facade.accept([token], payout=payout)
        facade.issue_label(order.id)
        facade.record_event(order.id, "d1", "ship", actor="shopper")
        facade.record_event(order.id, "d1", "receive", actor="staff")
        facade.inspect(order.id, "d1", found, imei="490154203237518")
        facade.settle(order.id, "d1")
    elapsed = time.perf_counter() - start
    verification = facade.store.verify_audit()
    print(
        f"orders accepted → paid ({label:10}) {count / elapsed:7.1f} /s  "
        f"({elapsed / count * 1e3:6.1f} ms each, "
        f"6 steps; quote alone {quoting / count * 1e3:.1f} ms; audit {verification.entries_checked} entries, "
        f"{'intact' if verification.ok else 'BROKEN'})"
    )
    facade.close()


def main() -> None:
    """Print the figures for SQLite and, when reachable, PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRADEIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        run("SQLite", SQLStore.sqlite_file(Path(directory) / "orders.sqlite3"), args.orders)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(engine_url(args.postgres), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.SQLAlchemyError as exc:
        print(
            f"PostgreSQL row skipped: {args.postgres.rsplit('@', 1)[-1]} not reachable ({type(exc).__name__})"
        )
        return
    separator = "&" if "?" in args.postgres else "?"
    try:
        run(
            "PostgreSQL", SQLStore(f"{args.postgres}{separator}options=-csearch_path%3D{schema}"), args.orders
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
