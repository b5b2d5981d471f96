"""Quote benchmarks, each against a baseline measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_quotes.py [--postgres URL] [--processes 4] [--count 400]``. Figures:

- **in-process quote**: ``TradeIn.quote`` end to end (grading, pricing, the snapshot with its translated
  transcript, the JSON document, its SHA-256 for the audit entry, the signed token) on a store that keeps
  nothing, against the grading of the same answers (``Questionnaire.evaluate``), measured alternately;
  the breakdown names what grading + pricing + signing alone cost;
- **persisted quote**: ``TradeIn.quote`` on a SQLite file and on PostgreSQL, against the raw driver
  (``sqlite3`` / ``psycopg``) inserting the same row (the quote's 7 KB document) into the same table and
  committing, on the same database with the same settings;
- **redemptions under N processes**: N processes redeeming distinct quotes through ``SQLStore.redeem_quote``
  (the conditional UPDATE, the redemption row and its audit entry, one transaction), against the raw driver
  running the same UPDATE and INSERT and committing, N processes alike;
- **racing redemptions**: 50 threads racing for each of 20 quotes (every race must end with one redemption).

PostgreSQL is used when ``--postgres`` or ``TRADEIN_TEST_POSTGRES_URL`` names a reachable server
(default ``postgresql://postgres@127.0.0.1:5432/test``; a schema of its own is made and dropped); otherwise
its rows say why they were skipped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from grading_questionnaire import example_answers, load_questionnaire
from tradein_sdk import (
    Catalog,
    FixedClock,
    KeyRing,
    PriceBookSource,
    QuoteAlreadyRedeemedError,
    QuoteClaims,
    SQLStore,
    StoreError,
    TradeIn,
    issue_quote_token,
    value_device,
)
from tradein_sdk._adapters.sql.store import engine_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from tradein_sdk._ports import AuditFact, QuoteRecord, StoredDocument

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DEVICE = "apple-iphone-13-128gb"
ROUNDS = 7


def alternate(
    subject: Callable[[], object], baseline: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Median seconds per call of each, measured in alternating rounds (the machine's drift hits both)."""
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(ROUNDS):
        for function, runs in ((subject, ours), (baseline, theirs)):
            start = time.perf_counter()
            for _ in range(repeat):
                function()
            runs.append((time.perf_counter() - start) / repeat)
    return statistics.median(ours), statistics.median(theirs)


class KeepNothing(SQLStore):
    """A store that keeps no quote: ``TradeIn.quote`` without the database."""

    def add_quote(
        self,
        record: QuoteRecord,
        *,
        documents: Iterable[StoredDocument] = (),
        audit: Sequence[AuditFact] = (),
    ) -> None:
        """Keep nothing."""


def in_process(directory: Path) -> None:
    """``TradeIn.quote`` without the database against the grading of the same answers."""
    questionnaire = load_questionnaire("smartphone")
    answers = example_answers("smartphone", "worn").answers
    trade_in = TradeIn(
        store=KeepNothing.sqlite_file(directory / "nothing.sqlite3"),
        key_ring=KeyRing.generate(key_id="k1"),
        audience="shop",
        clock=FixedClock(NOW),
    )
    trade_in.quote(DEVICE, answers)  # warm every cache a first quote fills
    ours, grading = alternate(
        lambda: trade_in.quote(DEVICE, answers), lambda: questionnaire.evaluate(answers), 1000
    )
    book = PriceBookSource.bundled().price_book("DE")
    entry = Catalog.bundled().lookup(DEVICE)
    variant = entry.variant or entry.model.variants[0]
    ring = KeyRing.generate(key_id="k1")

    def floor() -> str:
        report = questionnaire.evaluate(answers)
        valuation = value_device(
            book, model=entry.model, variant=variant, report=report, as_of=date(2026, 11, 24)
        )
        claims = QuoteClaims(
            quote_id="q_bench",
            amount=valuation.total,
            audience="shop",
            issued_at=NOW,
            expires_at=NOW + timedelta(days=14),
        )
        return issue_quote_token(claims, ring)

    essential, _ = alternate(floor, lambda: None, 1000)
    print(
        f"in-process quote      {ours * 1e6:8.1f} µs  {1 / ours:9,.0f} /s   grading of the same answers "
        f"{grading * 1e6:.1f} µs: ratio {ours / grading:.1f}x (target ≤ 5x); "
        f"grading + pricing + signing alone {essential * 1e6:.1f} µs ({essential / grading:.1f}x)"
    )
    trade_in.close()


def facade(url: str | None, directory: Path) -> TradeIn:
    """A facade on the given database (a SQLite file in ``directory`` when ``url`` is None)."""
    store = SQLStore(url, pool_size=50) if url else SQLStore.sqlite_file(directory / "bench.sqlite3")
    return TradeIn(
        store=store, key_ring=KeyRing.generate(key_id="k1"), audience="shop", clock=FixedClock(NOW)
    )


INSERT_QUOTE = (
    "INSERT INTO tradein_quotes (id, issued_at, expires_at, amount, currency, audience, redeemable, "
    "document, tenant, organisation) VALUES ({0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0})"
)


class RawDriver:
    """The raw driver on the same database: ``sqlite3`` with the store's settings, or ``psycopg``."""

    def __init__(self, url: str) -> None:
        """Connect to the database at ``url`` (a SQLAlchemy URL)."""
        self.url = url
        self.postgres = url.startswith("postgresql")
        if self.postgres:
            import psycopg  # noqa: PLC0415 - only with PostgreSQL

            self.conn: Any = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        else:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
            for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL", "foreign_keys=ON"):
                self.conn.execute(f"PRAGMA {pragma}")
        self.mark = "%s" if self.postgres else "?"

    def insert_quote(self, row: tuple[Any, ...]) -> None:
        """INSERT one quote row and COMMIT."""
        quote_id = f"q_{uuid.uuid4().hex}"
        if self.postgres:
            self.conn.execute(INSERT_QUOTE.format(self.mark), (quote_id, *row))
            self.conn.commit()
        else:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(INSERT_QUOTE.format(self.mark), (quote_id, *row))
            self.conn.execute("COMMIT")

    def redeem(self, quote_id: str) -> None:
        """The store's redemption by hand: a conditional UPDATE, the redemption row, COMMIT."""
        mark = self.mark
        update = (
            f"UPDATE tradein_quotes SET redeemed_at = {mark} WHERE id = {mark} AND redeemed_at IS NULL "  # noqa: S608 - fixed text
            f"AND expires_at > {mark} AND redeemable RETURNING amount, currency"
        )
        insert = (
            "INSERT INTO tradein_redemptions (id, quote_id, amount, currency, reference, redeemed_at) "  # noqa: S608 - fixed text
            f"VALUES ({mark}, {mark}, {mark}, {mark}, NULL, {mark})"
        )
        now: Any = NOW if self.postgres else NOW.isoformat(sep=" ").replace("+00:00", "")
        if not self.postgres:
            self.conn.execute("BEGIN IMMEDIATE")
        amount, currency = self.conn.execute(update, (now, quote_id, now)).fetchone()
        self.conn.execute(insert, (f"rdm_{uuid.uuid4().hex}", quote_id, amount, currency, now))
        if self.postgres:
            self.conn.commit()
        else:
            self.conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def persisted(label: str, url: str, trade_in: TradeIn, count: int) -> None:
    """``TradeIn.quote`` against the raw driver inserting the same row, alternately."""
    answers = example_answers("smartphone", "worn").answers
    issued = trade_in.quote(DEVICE, answers)  # warm up caches and the connection pool
    record, _ = trade_in.store.get_quote(issued.quote.id)
    stored = trade_in.store
    assert isinstance(stored, SQLStore)  # noqa: S101 - made above
    row: tuple[Any, ...] = (
        record.issued_at
        if stored.dialect == "postgresql"
        else record.issued_at.isoformat(sep=" ").replace("+00:00", ""),
        record.expires_at
        if stored.dialect == "postgresql"
        else record.expires_at.isoformat(sep=" ").replace("+00:00", ""),
        format(record.amount.amount, "f"),
        record.amount.currency,
        record.audience,
        True,
        record.document,
        record.audience,
        record.audience,
    )
    raw = RawDriver(url)
    ours, baseline = alternate(
        lambda: trade_in.quote(DEVICE, answers), lambda: raw.insert_quote(row), count // ROUNDS
    )
    raw.close()
    print(
        f"persisted quote ({label:10}) {ours * 1e3:7.3f} ms  {1 / ours:9,.0f} /s   raw driver insert + "
        f"commit of the same {len(record.document):,}-character row {baseline * 1e3:.3f} ms: "
        f"ratio {ours / baseline:.2f}x"
    )


def _redeem_with_store(url: str, ids: list[str], start: Any) -> None:  # noqa: ANN401 - a multiprocessing Event
    store = SQLStore(url, migrate=False)
    start.wait()
    for quote_id in ids:
        store.redeem_quote(quote_id, now=NOW)
    store.close()


def _redeem_raw(url: str, ids: list[str], start: Any) -> None:  # noqa: ANN401 - a multiprocessing Event
    raw = RawDriver(url)
    start.wait()
    for quote_id in ids:
        raw.redeem(quote_id)
    raw.close()


def in_processes(
    url: str, target: Callable[[str, list[str], Any], None], ids: list[str], processes: int
) -> float:
    """Redemptions per second with ``processes`` processes sharing ``ids``."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=target, args=(url, ids[index::processes], start)) for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    time.sleep(2.0)  # every process imported and connected
    began = time.perf_counter()
    start.set()
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise SystemExit(f"a redeeming process failed with exit code {worker.exitcode}")
    return len(ids) / (time.perf_counter() - began)


def redemptions(label: str, url: str, trade_in: TradeIn, count: int, processes: int) -> None:
    """Redemptions under ``processes`` processes: the store against the raw driver, two rounds each."""
    answers = example_answers("smartphone", "worn").answers
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(2):
        for target, rates in ((_redeem_with_store, ours), (_redeem_raw, theirs)):
            ids = [trade_in.quote(DEVICE, answers).quote.id for _ in range(count)]
            rates.append(in_processes(url, target, ids, processes))
    rate, baseline = statistics.median(ours), statistics.median(theirs)
    print(
        f"redemptions, {processes} processes ({label:10}) {rate:8,.0f} /s   raw driver, same statements "
        f"{baseline:,.0f} /s: {rate / baseline:.0%} of it (target ≥ 50%)"
    )


def racing(label: str, trade_in: TradeIn) -> None:
    """50 threads racing for each of 20 quotes: every race must end with one redemption."""
    answers = example_answers("smartphone", "flawless").answers
    races = [trade_in.quote(DEVICE, answers).quote.id for _ in range(20)]
    won: list[str] = []
    attempts = 0
    lock = threading.Lock()
    start = time.perf_counter()
    for quote_id in races:
        barrier = threading.Barrier(50)

        def race(quote_id: str = quote_id, barrier: threading.Barrier = barrier) -> None:
            nonlocal attempts
            barrier.wait()
            try:
                trade_in.store.redeem_quote(quote_id, now=NOW)
                with lock:
                    won.append(quote_id)
            except QuoteAlreadyRedeemedError:
                pass
            with lock:
                attempts += 1

        contenders = [threading.Thread(target=race) for _ in range(50)]
        for thread in contenders:
            thread.start()
        for thread in contenders:
            thread.join()
    elapsed = time.perf_counter() - start
    if sorted(won) != sorted(races):
        raise SystemExit("a quote was redeemed more or less than once")
    print(
        f"racing redemption, 50 threads ({label:10}) {attempts / elapsed:8,.0f} attempts/s, "
        f"{len(won)} of {len(races)} quotes redeemed once each"
    )


def run(label: str, url: str, directory: Path, args: argparse.Namespace) -> None:
    """Every database figure on one database."""
    trade_in = facade(url, directory)
    try:
        persisted(label, engine_url(url), trade_in, args.count)
        redemptions(label, engine_url(url), trade_in, args.count, args.processes)
        racing(label, trade_in)
    finally:
        trade_in.close()


def main() -> None:
    """Print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRADEIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--count", type=int, default=700, help="quotes per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        in_process(directory)
        run("SQLite", f"sqlite:///{directory / 'bench.sqlite3'}", directory, args)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(engine_url(args.postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except (sa.exc.SQLAlchemyError, StoreError) as exc:
        where = args.postgres.rsplit("@", 1)[-1]
        print(f"PostgreSQL rows skipped: {where} not reachable ({type(exc).__name__})")
        return
    separator = "&" if "?" in args.postgres else "?"
    try:
        run("PostgreSQL", f"{args.postgres}{separator}options=-csearch_path%3D{schema}", Path(), args)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
