from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import attrs
import pytest
import sqlalchemy as sa

from tradein_sdk import (
    ConfigurationError,
    Money,
    NotFoundError,
    QuoteAlreadyRedeemedError,
    QuoteExpiredError,
    QuoteNotFoundError,
    QuoteNotRedeemableError,
    StoreError,
)
from tradein_sdk._adapters.sql.store import MIGRATIONS, SQLStore, engine_url, iter_migrations
from tradein_sdk._ports import QuoteRecord

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CONTENDERS = 50
ROUNDS = 100


def record(
    *, redeemable: bool = True, expires_in: timedelta = timedelta(days=14), amount: str = "180.00"
) -> QuoteRecord:
    """A quote record with a fresh id."""
    return QuoteRecord(
        quote_id=f"q_{uuid.uuid4().hex}",
        issued_at=NOW,
        expires_at=NOW + expires_in,
        amount=Money(amount, "EUR"),
        audience="shop-1",
        redeemable=redeemable,
        document='{"kept": "verbatim"}',
    )


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[SQLStore]:
    """A migrated store on a SQLite file, and on PostgreSQL when a server is reachable."""
    if database_url is None:
        opened = SQLStore.sqlite_file(tmp_path / "store.sqlite3")
    else:
        opened = SQLStore(database_url, pool_size=CONTENDERS)
    yield opened
    opened.close()


def test_quote_round_trip(store: SQLStore) -> None:
    """A stored quote comes back with the same fields, times in UTC, and no redemption yet.

    A quote stored without an organisation belongs to its audience's (the shop's own) organisation.
    """
    original = record()
    store.add_quote(original)
    stored, redemption = store.get_quote(original.quote_id)
    assert stored == attrs.evolve(original, organisation=original.audience)
    assert stored.expires_at.tzinfo is UTC
    assert redemption is None


def test_redemption_credits_the_stored_amount_once(store: SQLStore) -> None:
    """The first redemption returns the stored amount and reference; the second is refused."""
    original = record(amount="212.34")
    store.add_quote(original)
    redemption = store.redeem_quote(original.quote_id, now=NOW + timedelta(hours=1), reference="order-77")
    assert redemption.amount == Money("212.34", "EUR")
    assert redemption.reference == "order-77"
    assert redemption.redeemed_at == NOW + timedelta(hours=1)
    with pytest.raises(QuoteAlreadyRedeemedError) as caught:
        store.redeem_quote(original.quote_id, now=NOW + timedelta(hours=2))
    assert caught.value.code == "quote_already_redeemed"
    assert store.get_quote(original.quote_id)[1] == redemption


@pytest.mark.parametrize(
    ("make", "moment", "error"),
    [
        (lambda: record(expires_in=timedelta(days=1)), NOW + timedelta(days=1), QuoteExpiredError),
        (lambda: record(redeemable=False, amount="0.00"), NOW, QuoteNotRedeemableError),
    ],
    ids=["expired-at-the-instant", "recycle-only"],
)
def test_unredeemable_quotes(store: SQLStore, make: object, moment: datetime, error: type[Exception]) -> None:
    """An expired or recycling-only quote is refused with its own error and stays unredeemed."""
    quote = make()  # type: ignore[operator]
    store.add_quote(quote)
    with pytest.raises(error):
        store.redeem_quote(quote.quote_id, now=moment)
    assert store.get_quote(quote.quote_id)[1] is None


def test_unknown_quote(store: SQLStore) -> None:
    """Reading or redeeming an unknown quote raises QuoteNotFoundError."""
    with pytest.raises(QuoteNotFoundError):
        store.get_quote("q_missing")
    with pytest.raises(QuoteNotFoundError):
        store.redeem_quote("q_missing", now=NOW)


def test_duplicate_quote_id_is_a_store_error_and_writes_nothing(store: SQLStore) -> None:
    """Adding a second quote under an existing id fails cleanly; the first is unchanged."""
    original = record()
    store.add_quote(original)
    with pytest.raises(StoreError) as caught:
        store.add_quote(attrs.evolve(original, amount=Money("999", "EUR")))
    assert caught.value.code == "store_error"
    assert store.get_quote(original.quote_id)[0].amount == Money("180.00", "EUR")


def test_documents_are_kept_once_by_hash(store: SQLStore) -> None:
    """A document is stored under its hash once; storing it again is harmless; a missing hash is not found."""
    store.add_document(kind="pricebook", content_hash="sha256:abc", document='{"a": 1}')
    store.add_document(kind="pricebook", content_hash="sha256:abc", document='{"a": 1}')
    assert store.get_document("sha256:abc") == '{"a": 1}'
    with pytest.raises(NotFoundError):
        store.get_document("sha256:def")


def test_migrations_run_once_and_record_their_version(store: SQLStore) -> None:
    """Migrating again changes nothing; the version is the last migration's."""
    latest = MIGRATIONS[-1][0]
    assert store.schema_version() == latest
    assert store.migrate() == latest
    assert [version for version, _ in iter_migrations()] == list(range(1, latest + 1))


def test_an_existing_database_upgrades_on_start(tmp_path: Path) -> None:
    """A database created without migrating reports version 0 and is upgraded by the next start."""
    path = tmp_path / "old.sqlite3"
    bare = SQLStore(f"sqlite:///{path}", migrate=False)
    assert bare.schema_version() == 0
    bare.close()
    upgraded = SQLStore(f"sqlite:///{path}")
    assert upgraded.schema_version() == MIGRATIONS[-1][0]
    upgraded.close()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    """The SQLite file uses WAL and waits for a busy lock instead of failing at once."""
    store = SQLStore.sqlite_file(tmp_path / "wal.sqlite3")
    with store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    store.close()


def test_naive_datetimes_are_refused(store: SQLStore) -> None:
    """Redeeming with a naive 'now' is a programming error, not a silent local-time guess."""
    quote = record()
    store.add_quote(quote)
    with pytest.raises(ValueError, match="no timezone"):
        store.redeem_quote(quote.quote_id, now=datetime(2026, 11, 24, 12, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
    ids=["postgresql", "postgres-alias", "sqlite"],
)
def test_engine_urls(url: str, expected: str) -> None:
    """PostgreSQL URLs get the psycopg driver; SQLite URLs stay as they are."""
    assert engine_url(url) == expected


def test_unsupported_database_is_a_configuration_error() -> None:
    """A MySQL URL is refused with a ConfigurationError that does not echo the password."""
    with pytest.raises(ConfigurationError) as caught:
        SQLStore("mysql://user:secret@host/db")
    assert "secret" not in str(caught.value)


def test_unreachable_database_is_a_store_error() -> None:
    """A database that cannot be reached raises StoreError from the constructor."""
    with pytest.raises(StoreError, match="cannot migrate"):
        SQLStore("postgresql://nobody@127.0.0.1:1/none")


def _contend(store: SQLStore, quote_id: str) -> Counter[str]:
    """Start CONTENDERS threads at once, each redeeming the same quote; count the outcomes."""
    barrier = threading.Barrier(CONTENDERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            store.redeem_quote(quote_id, now=NOW, reference=threading.current_thread().name)
            outcome = "redeemed"
        except QuoteAlreadyRedeemedError:
            outcome = "refused"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=attempt) for _ in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _redemption_counts(store: SQLStore) -> Counter[str]:
    with store._engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT quote_id FROM tradein_redemptions")).scalars()
        return Counter(rows)


def test_concurrent_redemptions_on_threads_credit_exactly_once(store: SQLStore) -> None:
    """50 threads redeeming one quote at once: one success, 49 refusals; 100 rounds, no double credit."""
    quote_ids = []
    for _ in range(ROUNDS):
        quote = record()
        store.add_quote(quote)
        quote_ids.append(quote.quote_id)
        assert _contend(store, quote.quote_id) == Counter(redeemed=1, refused=CONTENDERS - 1)
    counts = _redemption_counts(store)
    assert set(counts) == set(quote_ids)
    assert set(counts.values()) == {1}


PROCESSES = 10
ATTEMPTS_PER_PROCESS = CONTENDERS // PROCESSES


def _redeem_all(
    url: str,
    quote_ids: list[str],
    start: multiprocessing.synchronize.Event,
    results: multiprocessing.Queue[int],
) -> None:
    """Worker: wait for the start signal, then try each quote several times; report the successes."""
    store = SQLStore(url, migrate=False)
    start.wait()
    successes = 0
    for quote_id in quote_ids:
        for _ in range(ATTEMPTS_PER_PROCESS):
            try:
                store.redeem_quote(quote_id, now=NOW)
                successes += 1
            except QuoteAlreadyRedeemedError:
                pass
    store.close()
    results.put(successes)


def test_concurrent_redemptions_from_processes_credit_exactly_once(tmp_path: Path) -> None:
    """10 processes × 5 attempts on each of 100 quotes in one SQLite file: exactly 100 redemptions."""
    path = tmp_path / "shared.sqlite3"
    store = SQLStore.sqlite_file(path)
    quote_ids = []
    for _ in range(ROUNDS):
        quote = record()
        store.add_quote(quote)
        quote_ids.append(quote.quote_id)
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [
        context.Process(target=_redeem_all, args=(f"sqlite:///{path}", quote_ids, start, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    start.set()
    successes = sum(results.get(timeout=300) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert successes == ROUNDS
    counts = _redemption_counts(store)
    store.close()
    assert set(counts) == set(quote_ids)
    assert set(counts.values()) == {1}
