"""Forward trade-in benchmark: the liability view over 1,000,000 outstanding guarantee contracts.

Run: ``.venv/bin/python benchmarks/bench_guarantees.py [--contracts 1000000] [--database-url URL]``. The
contracts (prices 300-2,500 €, sold over two years, the bundled buy-back plan's schedule) are written in bulk
first; then the figures (time, and the process's peak resident memory after each step):

- **liability view**: ``TradeIn.guarantee_liability`` reading the outstanding contracts from the store in
  batches of 10,000 (no envelopes) and summing them by month of expected exercise;
- **baseline**: reading the same rows' columns alone (the store's scan, no arithmetic), in the same run; the
  ratio is the view's cost over the scan.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk import FixedClock, TradeIn
from tradein_sdk._adapters.sql.store import SQLStore
from tradein_sdk._domain.guarantees import example_guarantee_plans, guarantee_offers
from tradein_sdk._domain.money import Money
from tradein_sdk._ports import GuaranteeRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def measured(label: str, action: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``action`` once; print and return its result, seconds and the process's peak RSS (MiB) after it."""
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<44} {seconds:8.2f} s  {mib:8.1f} MiB peak RSS")
    return result, seconds, mib


def contracts(first: int, count: int) -> list[GuaranteeRecord]:
    """Contract rows ``first`` to ``first + count`` of the bundled buy-back plan (envelopes left short)."""
    plans = example_guarantee_plans()
    start = date(2025, 1, 1)
    sold = datetime(2025, 1, 1, tzinfo=UTC)
    records = []
    for number in range(first, first + count):
        price = Money(Decimal(300 + (number * 37) % 2200), "EUR")
        bought = start + timedelta(days=number % 730)
        offer = guarantee_offers(plans, category="smartphone", price=price, purchased_on=bought)[0]
        schedule = [
            [line.starts_on.isoformat(), line.ends_on.isoformat(), str(line.amount.amount)]
            for line in offer.schedule
        ]
        records.append(
            GuaranteeRecord(
                contract_id=f"gtc_{number:012d}",
                plan_id=offer.plan_id,
                sold_at=sold,
                purchased_on=bought,
                exercisable_from=offer.exercisable_from,
                expires_on=offer.expires_on,
                currency="EUR",
                price=price.amount,
                schedule=json.dumps(schedule),
                kind=offer.kind.value,
                document="{}",
            )
        )
    return records


@contextlib.contextmanager
def private_schema(url: str | None) -> Iterator[str | None]:
    """A PostgreSQL URL whose connections use a schema of their own, dropped afterwards (SQLite: ``None``)."""
    if url is None:
        yield None
        return
    import sqlalchemy as sa  # noqa: PLC0415

    from tradein_sdk._adapters.sql.store import engine_url  # noqa: PLC0415

    schema = f"bench_guarantees_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(engine_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()
    clock = FixedClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder, private_schema(args.database_url) as url:
        trade_in = TradeIn.embedded(Path(folder), clock=clock, database_url=url)
        store = trade_in.store
        assert isinstance(store, SQLStore)  # noqa: S101 - a benchmark's own check

        def write() -> None:
            for first in range(0, args.contracts, 100_000):
                store.add_guarantees(contracts(first, min(100_000, args.contracts - first)))

        measured(f"make and write {args.contracts:,} contracts", write)
        as_of = date(2026, 12, 4)
        scanned, scan_s, _ = measured(
            "baseline: scan the outstanding rows",
            lambda: sum(1 for _ in store.outstanding_guarantees(on=as_of)),
        )
        view, view_s, mib = measured(
            "liability view (guarantee_liability)", lambda: trade_in.guarantee_liability(as_of=as_of)
        )
        trade_in.close()
    totals = view.totals
    print()
    print(f"outstanding contracts: {scanned:,} of {args.contracts:,}; {len(view.months)} months")
    print(f"guaranteed {totals.guaranteed}; reserve (central) {totals.reserve}; peak RSS {mib:.0f} MiB")
    print(f"liability view {view_s:.2f} s against the scan {scan_s:.2f} s: ratio {view_s / scan_s:.2f}")


if __name__ == "__main__":
    main()
