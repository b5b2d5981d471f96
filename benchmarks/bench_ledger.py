"""Ledger benchmark: the carrier's billing run and the period report, on SQLite and PostgreSQL.

Run: ``.venv/bin/python benchmarks/bench_ledger.py [--orders 100000] [--entries 1000000] [--postgres URL]
[--sqlite-only]``.

**The billing run.** ``--orders`` bill-credit orders, each with its trade-in credit and 12 monthly
installments due (100,000 orders: 1.2M ``installment_due`` rows), one twelfth of them settled in each month
of 2025, so that every order has exactly one installment due in the benchmarked period 2026-01; the
installments of the earlier periods were credited by the earlier monthly runs (``installment_credited``
rows, 5.5 per order on average: 1.85M rows in all). Timed: ``TradeIn.credit_installments("2026-01")``,
which credits the ``--orders`` installments exactly once in one transaction with its audit entry; then the
same period again, which credits nothing. What each run credited is counted in the database (the rows
of its ``run_id``); a count returned by ``credit_installments`` that differs is printed as WRONG. Also
shown: the first and the last page of ``TradeIn.installments_due`` (1,000 a page) and, on its own, the
query by which the run counts and totals what it credited. Baseline, in the same run and database:
``INSERT INTO`` an empty copy of the table (same columns, unique constraints and indexes) ``SELECT`` the
same rows built the same way, without the ``NOT EXISTS`` check, the totals query or the audit entry.

**The period report.** ``--entries`` entries of mixed kinds posted over 2025 (trade-in credits, promotions
of three promotions, revisions, promotions withdrawn, devices not bought, payouts, vouchers, instant
discounts, clawbacks, installments due and credited, protection premiums). Timed, best of three:
``TradeIn.ledger_report`` for June 2025 and for the whole year (it sums every entry before the period and
every entry in it: the entries scanned are those posted before the period's end). Baseline: ``SELECT
count(*), sum(amount_minor)`` over the whole table.

The ledger is seeded directly: entries built as ``LedgerEntry`` objects (the installments credited with
``settle_installment``), stored as ``entry_values`` rows, with SQLAlchemy Core executemany in chunks of
10,000 in one transaction on SQLite (with a 256 MiB page cache for the load, then the library's setting
again) and with ``COPY`` on PostgreSQL, followed there by ``VACUUM ANALYZE`` (what autovacuum does after a
bulk load; SQLite gets no ``ANALYZE``, as the library runs none). Seeding only inserts, so the append-only
triggers stay in place. PostgreSQL runs on a scratch database
``bench_ledger_<hex>`` created on the server of ``--postgres`` (default ``TRADEIN_TEST_POSTGRES_URL`` or
``postgresql://postgres@127.0.0.1:5432/test``) and dropped afterwards; ``--sqlite-only`` skips it, and an
unreachable server is reported and skipped. Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tradein_sdk import FixedClock, KeyRing, SQLStore, TradeIn
from tradein_sdk._adapters.sql.audit import audit_log_table
from tradein_sdk._adapters.sql.ledger import (
    LEDGER_TABLE,
    define_ledger,
    entry_values,
)
from tradein_sdk._adapters.sql.store import engine_url
from tradein_sdk._domain.ledger import (
    SETTLEMENT,
    SETTLES_PREFIX,
    UPFRONT,
    EntryKind,
    LedgerEntry,
    billing_period,
    settle_installment,
)
from tradein_sdk._domain.money import Money

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator


YEAR = 2025
MONTHS = 12
PERIOD = "2026-01"
BILLING_NOW = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
REPORT_NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
CURRENCY = "EUR"
PROMOTIONS = ("promo_spring_upgrade", "promo_eco_bonus", "promo_loyalty")
CHUNK = 10_000
SEED_CACHE_KIB = -262_144  # SQLite page cache while seeding: 256 MiB
ROUNDS = 3
PAGE = 1_000
COLUMNS = tuple(column.name for column in define_ledger(sa.MetaData()).columns if column.name != "sequence")
_K = EntryKind


# -- building entries ------------------------------------------------------------------------------------


@functools.cache
def money(cents: int) -> Money:
    """``cents`` euro cents as money (shared: the same amounts recur)."""
    return Money.from_minor(cents, CURRENCY)


def month_start(index: int) -> datetime:
    """Midnight UTC on the first day of month ``index`` counted from January of ``YEAR``."""
    return datetime(YEAR + index // 12, index % 12 + 1, 1, tzinfo=UTC)


def order_id(order: int) -> str:
    """The id of order number ``order``."""
    return f"ord_{order:012x}"


def entry_id(order: int, tag: int) -> str:
    """A ledger entry id (``led_`` and 32 hex digits, as the domain makes them)."""
    return f"led_{order:020x}{tag:012x}"


def entry(
    order: int,
    tag: int,
    kind: EntryKind,
    cents: int,
    *,
    at: datetime,
    cause: str,
    device_id: str | None = "d1",
    reason: str | None = None,
    due_period: str | None = None,
    details: dict[str, str] | None = None,
) -> LedgerEntry:
    """One entry of order number ``order``."""
    return LedgerEntry(
        entry_id=entry_id(order, tag),
        order_id=order_id(order),
        device_id=device_id,
        kind=kind,
        amount=money(cents),
        at=at,
        cause=cause,
        reason=reason,
        due_period=due_period,
        details=details or {},
    )


def installment_cents(total: int, months: int, index: int) -> int:
    """Installment ``index`` (from 1) of ``total`` cents in ``months`` parts, as ``Money.allocate`` splits."""
    part, left = divmod(total, months)
    return part + (1 if index <= left else 0)


# the billing run


def bill_credit_cents(order: int) -> int:
    """The trade-in credit of a bill-credit order: 120.00 to 719.99 EUR."""
    return 12_000 + (order * 7_919) % 60_000


@functools.cache
def bill_settled_at(order: int, orders: int) -> datetime:
    """When a bill-credit order was settled: in month ``order % 12`` of ``YEAR``, spread over days 1 to 28."""
    per_month = -(-orders // MONTHS)
    step = timedelta(days=27) / per_month
    return month_start(order % MONTHS) + timedelta(hours=3) + step * (order // MONTHS)


def bill_installment(order: int, orders: int, index: int) -> LedgerEntry:
    """Installment ``index`` (1 to 12) due of a bill-credit order."""
    settled_at = bill_settled_at(order, orders)
    return entry(
        order,
        1 + index,
        _K.INSTALLMENT_DUE,
        installment_cents(bill_credit_cents(order), MONTHS, index),
        at=settled_at,
        cause=f"evt_{order:012x}_settle",
        reason=SETTLEMENT,
        due_period=billing_period(settled_at, index),
    )


def billing_entries(orders: int) -> Iterator[LedgerEntry]:
    """The ledger of ``orders`` bill-credit orders settled over ``YEAR``, month by month in posting order.

    Each month opens with its billing run (crediting the installment due that month of every order settled
    before it), then the month's orders are opened and settled: trade-in credit, 12 installments due from
    the next month on. Every order has exactly one installment due, not yet credited, in ``PERIOD``.
    """
    for month in range(MONTHS):
        run_at = month_start(month) + timedelta(hours=2)
        period = billing_period(run_at)
        cause = f"bill_{period}_seed"
        for settled_in in range(month):
            for order in range(settled_in, orders, MONTHS):
                yield settle_installment(
                    bill_installment(order, orders, month - settled_in),
                    kind=_K.INSTALLMENT_CREDITED,
                    now=run_at,
                    cause=cause,
                )
        for order in range(month, orders, MONTHS):
            settled_at = bill_settled_at(order, orders)
            yield entry(
                order,
                1,
                _K.TRADE_IN_CREDIT,
                bill_credit_cents(order),
                at=settled_at - timedelta(hours=1),
                cause=f"chk_{order:012x}",
                details={"quote": f"qte_{order:012x}"},
            )
            for index in range(1, MONTHS + 1):
                yield bill_installment(order, orders, index)


# the period report


def report_order(order: int, checkout_at: datetime) -> list[LedgerEntry]:  # noqa: C901, PLR0912 - one branch a flow
    """The ledger of one order of the report's mix; the flow depends on ``order % 20``.

    0-7 bank payout, 8-11 voucher, 12-14 instant discount (clawed back after a revision), 15 not bought
    after an instant discount (all clawed back), 16-18 bill credits over 6 months, 19 bank payout with a
    protection premium. Two orders in three carry a promotion share, one in four a revision (one in eight
    of those with a promotion loses it).
    """
    flow = order % 20
    tags = iter(range(1, 64))
    checkout = f"chk_{order:012x}"
    inspected_at = checkout_at + timedelta(days=3, hours=order % 7)
    settled_at = inspected_at + timedelta(days=2)
    quoted = 5_000 + (order * 7_919) % 80_000
    promotion = PROMOTIONS[(order // 3) % 3] if order % 3 else None
    share = 1_000 * (1 + order % 5) if promotion else 0
    revision = -(quoted // 10) if order % 4 == 1 else 0
    withdrawn = -share if revision and share and order % 8 == 1 and flow != 15 else 0
    entries = [
        entry(
            order,
            next(tags),
            _K.TRADE_IN_CREDIT,
            quoted,
            at=checkout_at,
            cause=checkout,
            details={"quote": f"qte_{order:012x}"},
        )
    ]

    def post(kind: EntryKind, cents: int, at: datetime, cause: str, **fields: Any) -> None:  # noqa: ANN401
        entries.append(entry(order, next(tags), kind, cents, at=at, cause=cause, **fields))

    if promotion:
        post(_K.PROMOTION, share, checkout_at, checkout, reason=promotion)
    upfront = quoted + share if flow in {12, 13, 14, 15} else 0
    if upfront:
        post(_K.DISCOUNT_APPLIED, upfront, checkout_at, checkout, reason=UPFRONT)
    if flow == 19 or order % 13 == 0:
        post(_K.INSURANCE_PREMIUM, 4_900, checkout_at, checkout, device_id=None, reason="once")
    inspection = f"evt_{order:012x}_inspect"
    if revision:
        impacts = {"display": "-10%"}
        post(_K.REVISION, revision, inspected_at, inspection, reason="inspection", details=impacts)
    if withdrawn:
        post(_K.PROMOTION_WITHDRAWN, withdrawn, inspected_at, inspection, reason=promotion)
    owed = quoted + share + revision + withdrawn
    if flow == 15:
        post(_K.NOT_BOUGHT, -(quoted + revision), inspected_at, inspection, reason="returned")
        if share:
            post(_K.PROMOTION_WITHDRAWN, -share, inspected_at, inspection, reason=promotion)
        post(_K.CLAWBACK, upfront, inspected_at, inspection, reason="returned")
        return entries
    if upfront:
        if upfront > owed:
            post(_K.CLAWBACK, upfront - owed, inspected_at, inspection, reason="inspected")
        return entries
    settlement = f"evt_{order:012x}_settle"
    if flow in {8, 9, 10, 11}:
        post(_K.VOUCHER_ISSUED, owed, settled_at, settlement, reason=SETTLEMENT)
    elif flow in {16, 17, 18}:
        for index in range(1, 7):
            due = entry(
                order,
                next(tags),
                _K.INSTALLMENT_DUE,
                installment_cents(owed, 6, index),
                at=settled_at,
                cause=settlement,
                reason=SETTLEMENT,
                due_period=billing_period(settled_at, index),
            )
            entries.append(due)
            run_at = month_start((settled_at.year - YEAR) * 12 + settled_at.month - 1 + index)
            run_at += timedelta(hours=2)
            if run_at < REPORT_NOW:
                period = billing_period(run_at)
                entries.append(
                    settle_installment(
                        due, kind=_K.INSTALLMENT_CREDITED, now=run_at, cause=f"bill_{period}_seed"
                    )
                )
    else:
        post(_K.PAYOUT_MADE, owed, settled_at, settlement, reason=SETTLEMENT)
    return entries


def report_entries(count: int) -> Iterator[LedgerEntry]:
    """``count`` entries of the report's mix, orders checked out evenly over ``YEAR``."""
    sample = 1_200
    per_order = sum(len(report_order(order, month_start(0))) for order in range(sample)) / sample
    step = (month_start(MONTHS) - month_start(0)) / (count / per_order)
    produced = 0
    order = 0
    while True:
        for item in report_order(order, month_start(0) + step * order):
            yield item
            produced += 1
            if produced == count:
                return
        order += 1


# -- seeding ---------------------------------------------------------------------------------------------


def chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in lists of ``size``."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def seed(store: SQLStore, entries: Iterable[LedgerEntry]) -> int:
    """Insert ``entries`` as ``entry_values`` rows in one transaction; return how many.

    SQLite: executemany in chunks of ``CHUNK`` with a larger page cache for the load only; PostgreSQL:
    ``COPY``, then ``VACUUM ANALYZE``.
    """
    count = 0
    with store._engine.begin() as conn:  # noqa: SLF001 - the benchmark drives the store's engine
        if store.dialect == "postgresql":
            driver = conn.connection.driver_connection
            assert driver is not None  # noqa: S101 - a connection checked out of the pool
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {LEDGER_TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy,
            ):
                for item in entries:
                    values = entry_values(item)
                    copy.write_row([values[name] for name in COLUMNS])
                    count += 1
        else:
            cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
            conn.exec_driver_sql(f"PRAGMA cache_size={SEED_CACHE_KIB}")  # the indexes outgrow the default
            insert = sa.insert(define_ledger(sa.MetaData()))
            for chunk in chunks(map(entry_values, entries), CHUNK):
                conn.execute(insert, chunk)
                count += len(chunk)
            conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")  # measure with the library's setting
    if store.dialect == "postgresql":
        with store._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # noqa: SLF001
            conn.exec_driver_sql(f"VACUUM ANALYZE {LEDGER_TABLE}")
    return count


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """``function``'s run time in seconds and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def best(function: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``ROUNDS`` runs, in seconds, and the last result."""
    runs = [timed(function) for _ in range(ROUNDS)]
    return min(seconds for seconds, _ in runs), runs[-1][1]


def facade(store: SQLStore, now: datetime) -> TradeIn:
    """A ``TradeIn`` on ``store`` at a fixed time."""
    return TradeIn(
        store=store, key_ring=KeyRing.generate(key_id="k1"), audience="shop", clock=FixedClock(now)
    )


# -- the billing run -------------------------------------------------------------------------------------


def copy_insert(store: SQLStore, period: str) -> int:
    """Baseline: the run's rows for ``period`` into an empty copy of the table, no ``NOT EXISTS``."""
    ledger = define_ledger(sa.MetaData())
    copy = ledger.to_metadata(sa.MetaData(), name="bench_ledger_copy")
    for index in copy.indexes:
        index.name = sa.sql.elements.quoted_name(f"bench_{index.name}", quote=None)
    due = ledger.alias("due")
    source = sa.select(
        (sa.literal(SETTLES_PREFIX) + sa.func.substr(due.c.id, 5)).label("id"),
        due.c.order_id,
        due.c.device_id,
        sa.literal(_K.INSTALLMENT_CREDITED.value).label("kind"),
        due.c.amount_minor,
        due.c.currency,
        sa.literal(BILLING_NOW, type_=ledger.c.at.type).label("at"),
        sa.literal("bill_baseline").label("cause"),
        due.c.due_period.label("reason"),
        due.c.due_period,
        due.c.id.label("settles"),
        sa.literal("{}").label("details"),
    ).where(due.c.kind == _K.INSTALLMENT_DUE.value, due.c.due_period == period)
    with store._engine.begin() as conn:  # noqa: SLF001
        copy.create(conn)
    with store._engine.begin() as conn:  # noqa: SLF001
        insert = copy.insert().from_select(list(COLUMNS), source)
        return int(conn.execute(insert.execution_options(preserve_rowcount=True)).rowcount)


def run_totals(store: SQLStore, cause: str) -> int:
    """The query by which ``SQLStore.credit_installments`` counts and totals its run; the rows counted."""
    table = define_ledger(sa.MetaData())
    with store._engine.connect() as conn:  # noqa: SLF001
        rows = conn.execute(
            sa.select(table.c.currency, sa.func.sum(table.c.amount_minor), sa.func.count())
            .where(table.c.cause == cause, table.c.kind == _K.INSTALLMENT_CREDITED.value)
            .group_by(table.c.currency)
        ).all()
    return sum(int(row[2]) for row in rows)


def last_page_after(store: SQLStore, orders: int) -> int:
    """The position to page on from to read the last ``PAGE`` installments due (before the run)."""
    table = define_ledger(sa.MetaData())
    query = (
        sa.select(table.c.sequence)
        .where(table.c.kind == _K.INSTALLMENT_DUE.value, table.c.due_period == PERIOD)
        .order_by(table.c.sequence)
        .offset(max(orders - PAGE - 1, 0))
        .limit(1)
    )
    with store._engine.connect() as conn:  # noqa: SLF001
        return int(conn.execute(query).scalar_one())


def audit_entries(store: SQLStore, subject: str) -> int:
    """How many audit entries a billing run (its id) appended."""
    table = audit_log_table()
    with store._engine.connect() as conn:  # noqa: SLF001
        query = sa.select(sa.func.count()).where(table.c.subject == subject)
        return int(conn.execute(query).scalar_one())


def measure_billing(label: str, store: SQLStore, orders: int) -> None:
    """Seed the bill-credit ledger, then print the billing run against the baseline."""
    seconds, rows = timed(lambda: seed(store, billing_entries(orders)))
    print(
        f"{label}, billing run: {rows:,} entries seeded in {seconds:.1f} s ({orders:,} orders: trade-in "
        f"credit + {MONTHS} installments due each, earlier periods credited)"
    )
    shop = facade(store, BILLING_NOW)
    page_seconds, page = timed(lambda: shop.installments_due(PERIOD, limit=PAGE))
    after = last_page_after(store, orders)
    last_seconds, last = timed(lambda: shop.installments_due(PERIOD, limit=PAGE, after=after))
    base_seconds, copied = timed(lambda: copy_insert(store, PERIOD))
    first, second = (f"bill_{PERIOD}_{uuid.uuid4().hex[:12]}" for _ in range(2))
    run_seconds, (returned, totals) = timed(lambda: shop.credit_installments(PERIOD, run_id=first))
    totals_seconds, count = timed(lambda: run_totals(store, first))
    again_seconds, (returned_again, _) = timed(lambda: shop.credit_installments(PERIOD, run_id=second))
    again = run_totals(store, second)
    if count != orders or copied != orders or again:
        raise SystemExit(
            f"{label}: credited {count:,} then {again:,}, baseline copied {copied:,}, expected {orders:,}"
        )
    total = ", ".join(f"{value.amount:,} {currency}" for currency, value in totals.items())
    print(
        f"  credit_installments({PERIOD!r})      {run_seconds:7.2f} s  {count / run_seconds:10,.0f} /s  "
        f"{run_seconds / count * 1e6:6.1f} µs each  ({count:,} credited, {total})"
    )
    print(
        f"  baseline, INSERT … SELECT into copy {base_seconds:7.2f} s  {copied / base_seconds:10,.0f} /s  "
        f"{base_seconds / copied * 1e6:6.1f} µs each  (the run takes {run_seconds / base_seconds:.1f}x)"
    )
    print(
        f"  same period again (no-op)          {again_seconds:7.2f} s  credited {again} (exactly once); "
        f"{again_seconds / run_seconds:.0%} of the run"
    )
    print(f"  the run's totals query, on its own {totals_seconds:7.2f} s  (SUM … WHERE cause = :run_id)")
    print(
        f"  installments_due, first page       {page_seconds:7.2f} s  ({len(page):,} rows); last page "
        f"{last_seconds:.2f} s ({len(last):,} rows)"
    )
    if (returned, returned_again) != (count, again):
        print(
            f"  WRONG: credit_installments returned {returned:,} then {returned_again:,} for {count:,} "
            f"then {again:,} rows written; audit entries of the no-op run: {audit_entries(store, second)}"
        )
    shop.close()


# -- the period report -----------------------------------------------------------------------------------


def scanned(store: SQLStore, end: date) -> int:
    """How many entries were posted before ``end`` (what the report sums: before and during)."""
    table = define_ledger(sa.MetaData())
    end_at = datetime.combine(end, datetime.min.time(), tzinfo=UTC)
    with store._engine.connect() as conn:  # noqa: SLF001
        return int(conn.execute(sa.select(sa.func.count()).where(table.c.at < end_at)).scalar_one())


def sum_all(store: SQLStore) -> tuple[int, int]:
    """Baseline: count and sum every entry in one statement."""
    with store._engine.connect() as conn:  # noqa: SLF001
        count, units = conn.execute(
            sa.text(f"SELECT count(*), sum(amount_minor) FROM {LEDGER_TABLE}")  # noqa: S608 - a constant
        ).one()
    return int(count), int(units)


def measure_report(label: str, store: SQLStore, count: int) -> None:
    """Seed the mixed ledger, then print the month's and the year's report against the baseline."""
    seconds, rows = timed(lambda: seed(store, report_entries(count)))
    print(f"{label}, period report: {rows:,} entries seeded in {seconds:.1f} s (mixed kinds over {YEAR})")
    shop = facade(store, REPORT_NOW)
    base_seconds, (total, _) = best(lambda: sum_all(store))
    print(
        f"  baseline, count(*) + sum, all rows  {base_seconds * 1e3:8.1f} ms  "
        f"{base_seconds / total * 1e9:6.0f} ns/entry  ({total:,} entries)"
    )
    for name, start, end in (
        ("June", date(YEAR, 6, 1), date(YEAR, 7, 1)),
        ("year", date(YEAR, 1, 1), date(YEAR + 1, 1, 1)),
    ):
        report_seconds, report = best(functools.partial(shop.ledger_report, start, end))
        read = scanned(store, end)
        entries = sum(item.entries for item in report.totals)
        print(
            f"  ledger_report {name:5}               {report_seconds * 1e3:8.1f} ms  "
            f"{report_seconds / read * 1e9:6.0f} ns/entry  ({read:,} scanned, {entries:,} in the period; "
            f"ties_out={report.ties_out}; {report_seconds / base_seconds:.1f}x the baseline)"
        )
        if not report.ties_out:
            raise SystemExit(f"{label}: the {name} report does not tie out")
    shop.close()


# -- the databases ---------------------------------------------------------------------------------------


@contextmanager
def sqlite_store(directory: str, name: str) -> Iterator[SQLStore]:
    """A migrated store on a new SQLite file."""
    store = SQLStore.sqlite_file(Path(directory) / f"{name}.sqlite3")
    try:
        yield store
    finally:
        store.close()


@contextmanager
def postgres_store(admin: sa.Engine) -> Iterator[SQLStore]:
    """A migrated store on a new scratch database, dropped afterwards."""
    name = f"bench_ledger_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = None
    try:
        store = SQLStore(admin.url.set(database=name).render_as_string(hide_password=False))
        yield store
    finally:
        if store is not None:
            store.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    """Print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="bill-credit orders (12 installments)")
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries for the period report")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRADEIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a server where a scratch database may be created",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        with sqlite_store(directory, "billing") as store:
            measure_billing("SQLite file", store, args.orders)
        with sqlite_store(directory, "report") as store:
            measure_report("SQLite file", store, args.entries)
    if not args.sqlite_only:
        admin = sa.create_engine(engine_url(args.postgres), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            where = args.postgres.rsplit("@", 1)[-1]
            print(f"PostgreSQL skipped: {where} not reachable ({type(exc).__name__})")
        else:
            with postgres_store(admin) as store:
                measure_billing("PostgreSQL", store, args.orders)
            with postgres_store(admin) as store:
                measure_report("PostgreSQL", store, args.entries)
        finally:
            admin.dispose()
    print(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
