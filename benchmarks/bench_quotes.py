"""Quote benchmarks: in-process quotes against a floor, persisted quotes, redemptions under contention.

Run: ``.venv/bin/python benchmarks/bench_quotes.py [--postgres URL]``. Figures:

- **in-process quote**: grading + pricing + signing, no storage, for a full smartphone questionnaire;
  against a floor measured in the same run: one dict look-up, one Decimal multiply and one HMAC-SHA256
  over the same token payload;
- **persisted quotes**: ``TradeIn.quote`` end to end (grading, pricing, the snapshot with its translated
  transcript, JSON, the store's transactions, the token) on a SQLite file and on PostgreSQL;
- **redemptions under contention**: 8 threads redeeming distinct quotes at once, and 50 threads racing for
  each of 20 quotes (every race must end with one redemption).

PostgreSQL is used when ``--postgres`` or ``TRADEIN_TEST_POSTGRES_URL`` names a reachable server
(default ``postgresql://postgres@127.0.0.1:5432/test``); otherwise its rows say why they were skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

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
    from collections.abc import Callable

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DEVICE = "apple-iphone-13-128gb"


def per_call(function: Callable[[], object], repeat: int) -> float:
    """Median over five runs of the mean seconds per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        runs.append((time.perf_counter() - start) / repeat)
    return statistics.median(runs)


def in_process() -> None:
    """Grading + pricing + signing against the floor."""
    questionnaire = load_questionnaire("smartphone")
    answers = example_answers("smartphone", "worn").answers
    book = PriceBookSource.bundled().price_book("DE")
    entry = Catalog.bundled().lookup(DEVICE)
    variant = entry.variant or entry.model.variants[0]
    ring = KeyRing.generate(key_id="k1")

    def quote() -> str:
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

    payload = quote().rsplit(".", 1)[0].encode()
    prices = {DEVICE: Decimal("899.00")}
    secret = ring.active_key.secret

    def floor() -> bytes:
        value = prices[DEVICE] * Decimal("0.1666")
        return hmac.new(secret, payload + str(value).encode(), hashlib.sha256).digest()

    ours, baseline = per_call(quote, 2000), per_call(floor, 20000)
    print(
        f"in-process quote             {ours * 1e6:9.1f} µs  {1 / ours:10,.0f} /s   "
        f"(floor {baseline * 1e6:.2f} µs: dict look-up + Decimal multiply + HMAC-SHA256; "
        f"ratio {ours / baseline:.0f}x)"
    )


def facade(url: str | None, directory: Path) -> TradeIn:
    """A facade on the given database (a SQLite file in ``directory`` when ``url`` is None)."""
    store = SQLStore(url, pool_size=50) if url else SQLStore.sqlite_file(directory / "bench.sqlite3")
    return TradeIn(
        store=store, key_ring=KeyRing.generate(key_id="k1"), audience="shop", clock=FixedClock(NOW)
    )


def persisted(label: str, trade_in: TradeIn, count: int = 300) -> list[str]:
    """Issue ``count`` stored quotes; return their tokens."""
    answers = example_answers("smartphone", "worn").answers
    trade_in.quote(DEVICE, answers)  # warm up caches and the connection pool
    start = time.perf_counter()
    tokens = [trade_in.quote(DEVICE, answers).token for _ in range(count)]
    elapsed = time.perf_counter() - start
    print(f"persisted quote ({label:10}) {elapsed / count * 1e3:9.2f} ms  {count / elapsed:10,.0f} /s")
    return tokens


def redemptions(label: str, trade_in: TradeIn, tokens: list[str]) -> None:
    """8 threads redeeming distinct quotes; then 50 threads racing for each of 20 quotes."""
    ids = [trade_in.verify_token(token).quote_id for token in tokens]
    chunks = [ids[index::8] for index in range(8)]

    def redeem_all(chunk: list[str]) -> None:
        for quote_id in chunk:
            trade_in.store.redeem_quote(quote_id, now=NOW)

    threads = [threading.Thread(target=redeem_all, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    print(f"redemption, 8 threads ({label:10}) {len(ids) / elapsed:8,.0f} /s")
    racing(label, trade_in)


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


def main() -> None:
    """Print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRADEIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    in_process()
    with tempfile.TemporaryDirectory() as directory:
        sqlite = facade(None, Path(directory))
        redemptions("SQLite", sqlite, persisted("SQLite", sqlite))
        sqlite.close()
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
    postgres = facade(f"{args.postgres}{separator}options=-csearch_path%3D{schema}", Path())
    try:
        redemptions("PostgreSQL", postgres, persisted("PostgreSQL", postgres))
    finally:
        postgres.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
