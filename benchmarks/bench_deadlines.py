"""Deadline benchmark: what tick(), reminders() and list_orders(50) cost as the order history grows.

Run: ``.venv/bin/python benchmarks/bench_deadlines.py [--sizes 1000 100000] [--postgres URL]``.

For each size N the store holds N older orders that are shipped (their label's send-by deadline long past,
the case that used to keep them "due" for ever), then 20 overdue orders (labelled, never sent) and 50 recent
ones made through the facade. Measured, each on a fresh database per size:

- ``tick()``: one call expiring the 20 overdue devices (it must find all 20 whatever N);
- ``tick()`` again, with nothing due;
- ``reminders()`` and ``list_orders(50)`` (the newest 50, one query).

The baseline is the same call at the smallest size, in the same run: the ratio says how the cost grows with
N (1.0 = not at all). The N older orders are copied with one ``INSERT … SELECT`` from a shipped template
order (their document is a placeholder: no call here reads them), so building 1M orders takes seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import DeviceState, FixedClock, KeyRing, SQLStore, TradeIn
from tradein_sdk._adapters.sql.store import engine_url

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DEVICE = "apple-iphone-13-128gb"
OVERDUE = 20
RECENT = 50


def _facade(store: SQLStore, clock: FixedClock) -> TradeIn:
    return TradeIn(store=store, key_ring=KeyRing.generate(key_id="k1"), audience="shop", clock=clock)


def _order(facade: TradeIn, *, ship: bool) -> str:
    answers = dict(example_answers("smartphone", "worn").answers)
    order = facade.accept([facade.quote(DEVICE, answers).token])
    facade.issue_label(order.id)
    if ship:
        facade.ship(order.id, "d1")
    return order.id


def _copy_history(store: SQLStore, template: str, count: int) -> None:
    """``count`` shipped orders like ``template``, older than everything else, in one statement per batch."""
    engine = sa.create_engine(store.url)
    sequence = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) SELECT i FROM n"
        if store.dialect == "sqlite"
        else "SELECT generate_series(1, :count) AS i"
    )
    statement = sa.text(
        "INSERT INTO tradein_orders (id, created_at, updated_at, customer_ref, version, closed, "  # noqa: S608 - constants only; values are bound
        "next_deadline_at, reminders_from, document, tenant, organisation) "
        f"SELECT :prefix || i, o.created_at, o.updated_at, o.customer_ref, 1, o.closed, o.next_deadline_at, "
        f"o.reminders_from, '{{}}', o.tenant, o.organisation FROM ({sequence}) s, tradein_orders o "
        "WHERE o.id = :template"
    )
    with engine.begin() as conn:
        conn.execute(
            statement, {"count": count, "prefix": f"ord_h{uuid.uuid4().hex[:6]}_", "template": template}
        )
    engine.dispose()


def _timed(call: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000, result


def measure(store: SQLStore, size: int) -> dict[str, float]:
    """Build the history of ``size`` shipped orders, the overdue and recent ones; time the four calls."""
    clock = FixedClock(START)
    facade = _facade(store, clock)
    template = _order(facade, ship=True)
    _copy_history(store, template, size - 1)
    clock.advance(minutes=1)
    overdue = [_order(facade, ship=False) for _ in range(OVERDUE)]
    clock.advance(days=20)
    for _ in range(RECENT):
        _order(facade, ship=True)
    tick_ms, changed = _timed(facade.tick)
    if changed != OVERDUE or any(
        facade.order(order_id).device("d1").state is not DeviceState.EXPIRED for order_id in overdue
    ):
        raise RuntimeError(f"tick expired {changed} of {OVERDUE} overdue devices")
    idle_ms, _ = _timed(facade.tick)
    reminders_ms, _ = _timed(facade.reminders)
    list_ms, listed = _timed(lambda: facade.list_orders(limit=50))
    if len(listed) != RECENT:  # type: ignore[arg-type]
        raise RuntimeError("list_orders(50) did not list the 50 newest orders")
    return {"tick": tick_ms, "idle tick": idle_ms, "reminders": reminders_ms, "list_orders(50)": list_ms}


def _store(kind: str, postgres: str | None, folder: Path, size: int) -> SQLStore:
    if kind == "sqlite":
        return SQLStore.sqlite_file(folder / f"orders-{size}.sqlite3")
    if postgres is None:
        raise ValueError("PostgreSQL needs --postgres")
    name = f"bench_deadlines_{size}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(engine_url(postgres), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return SQLStore(postgres.rsplit("/", 1)[0] + f"/{name}")


def _drop(kind: str, store: SQLStore, postgres: str | None) -> None:
    store.close()
    if kind == "postgresql" and postgres is not None:
        name = store.url.rsplit("/", 1)[1]
        admin = sa.create_engine(engine_url(postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main() -> None:
    """Measure each size on SQLite (and PostgreSQL when given) and print the costs and their growth."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--postgres", help="a PostgreSQL URL whose server may create scratch databases")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    with tempfile.TemporaryDirectory() as scratch:
        for kind in kinds:
            results: dict[int, dict[str, float]] = {}
            for size in args.sizes:
                store = _store(kind, args.postgres, Path(scratch), size)
                try:
                    results[size] = measure(store, size)
                finally:
                    _drop(kind, store, args.postgres)
            base = results[args.sizes[0]]
            print(f"\n{kind}: cost in ms by orders stored (ratio to {args.sizes[0]:,} in brackets)")
            print(f"  {'call':<18}" + "".join(f"{size:>22,}" for size in args.sizes))
            for call in base:
                cells = "".join(
                    f"{results[size][call]:>12.1f} ({results[size][call] / base[call]:>5.2f}x)"
                    for size in args.sizes
                )
                print(f"  {call:<18}{cells}")


if __name__ == "__main__":
    main()
