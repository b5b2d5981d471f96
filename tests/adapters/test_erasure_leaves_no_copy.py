"""Erasing a customer leaves no copy of their personal data in the database's files.

SQLite: the erased bytes are overwritten (``secure_delete``) and the WAL, which still holds the pages as they
were, is checkpointed and truncated; the ``.sqlite3``, ``-wal`` and ``-shm`` files are searched byte by byte
while the store is still open, also with other connections open, and with a reader holding a snapshot.
PostgreSQL: the store vacuums the table, so no row version, live or dead, holds the values (read from the
table's file); ``VACUUM FULL`` (the operator's step, see the README) rewrites the file without them.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import threading
import time
import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, FixedClock, SQLStore, TradeIn
from tradein_sdk._adapters.sql.store import engine_url

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

IBAN = "DE34 3704 0044 0987 6543 21"
HOLDER = "Quirinus Zabelthorn"
EMAIL = "q.zabelthorn@erasure-test.example"
ERASED = {
    "IBAN": (IBAN.replace(" ", "").encode(), IBAN.encode()),
    "holder": (HOLDER.encode(),),
    "e-mail": (EMAIL.encode(),),
}
"""Each erased value and the byte strings it may be stored as (UTF-8; the IBAN compact and spaced)."""

FILES = ("tradein.sqlite3", "tradein.sqlite3-wal", "tradein.sqlite3-shm")


def place_order(facade: TradeIn, customer_ref: str, *, holder: str, email: str, iban: str) -> None:
    """Accept an order paid out by bank transfer, with the customer's contact data."""
    issued = facade.quote("apple-iphone-13-128gb", example_answers("smartphone", "flawless").answers)
    facade.accept(
        [issued.token],
        payout=BankTransfer(iban=iban, holder=holder),
        customer_ref=customer_ref,
        contact={"name": holder, "email": email},
    )


def place_customers(facade: TradeIn, count: int, *, first: int = 0) -> None:
    """Orders of other customers, so that the erased rows share pages with rows that stay."""
    for number in range(first, first + count):
        place_order(
            facade,
            f"cus_other_{number}",
            holder=f"Other Customer {number}",
            email=f"other{number}@example.org",
            iban="DE89 3704 0044 0532 0130 00",
        )


def found_in(data: bytes) -> set[str]:
    """The erased values whose bytes occur in ``data``, in any of their forms."""
    return {name for name, forms in ERASED.items() if any(form in data for form in forms)}


def found_in_files(directory: Path, names: tuple[str, ...] = FILES) -> dict[str, set[str]]:
    """Per database file (those that exist), the erased values found in it."""
    found = {}
    for name in names:
        path = directory / name
        if path.exists():
            found[name] = found_in(path.read_bytes())
    return found


@pytest.fixture
def facade(tmp_path: Path, clock: FixedClock) -> Iterator[TradeIn]:
    """The embedded facade on a SQLite file, with an order of the customer to erase among others'."""
    facade = TradeIn.embedded(tmp_path, clock=clock)
    place_customers(facade, 20)
    place_order(facade, "cus_erased", holder=HOLDER, email=EMAIL, iban=IBAN)
    place_customers(facade, 20, first=20)
    yield facade
    facade.close()


def assert_stored(directory: Path) -> None:
    """Before the erasure the search finds every value (in the WAL, or the file once checkpointed)."""
    found = found_in_files(directory, FILES[:2])
    assert set().union(*found.values()) == set(ERASED)


def test_erasure_leaves_no_copy_in_the_sqlite_files(facade: TradeIn, tmp_path: Path) -> None:
    """After ``erase_customer``, with the store still open, no file of the database holds an erased value."""
    assert_stored(tmp_path)

    assert facade.erase_customer("cus_erased") == 2

    assert found_in_files(tmp_path) == {name: set() for name in FILES}
    assert (tmp_path / "tradein.sqlite3-wal").stat().st_size == 0  # truncated, not just checkpointed
    assert len(facade.list_orders(limit=100)) == 41  # orders stay


def test_erasure_leaves_no_copy_with_a_second_facade_open(
    facade: TradeIn, tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Another facade and a plain connection on the same file, both having read, do not keep a copy alive."""
    other = TradeIn.embedded(tmp_path, clock=clock)
    plain = sqlite3.connect(tmp_path / "tradein.sqlite3", isolation_level=None)
    try:
        assert len(other.list_orders(limit=100)) == 41
        assert plain.execute("SELECT count(*) FROM tradein_personal_data").fetchone() == (82,)
        assert_stored(tmp_path)

        with caplog.at_level(logging.WARNING, logger="tradein_sdk.store"):
            assert facade.erase_customer("cus_erased") == 2

        assert caplog.records == []
        assert found_in_files(tmp_path) == {name: set() for name in FILES}
        assert len(other.list_orders(limit=100, customer_ref="cus_erased")) == 1
    finally:
        plain.close()
        other.close()


def hold_a_read_transaction(path: Path, started: threading.Event, release: threading.Event) -> float:
    """Read in a transaction until ``release`` is set; return the moment just before it ends."""
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        (rows,) = reader.execute("SELECT count(*) FROM tradein_personal_data").fetchone()
        assert rows >= 82  # a snapshot with the erased customer's rows
        started.set()
        release.wait(timeout=30)
        ending = time.monotonic()
        reader.execute("COMMIT")
        return ending
    finally:
        reader.close()


def test_the_erasure_waits_for_a_reader_that_finishes_soon(facade: TradeIn, tmp_path: Path) -> None:
    """A reader holding a snapshot from before the erasure: the checkpoint waits for it, then truncates."""
    started, release = threading.Event(), threading.Event()
    ended: list[float] = []
    reader = threading.Thread(
        target=lambda: ended.append(hold_a_read_transaction(tmp_path / "tradein.sqlite3", started, release))
    )
    reader.start()
    assert started.wait(timeout=30)
    threading.Timer(0.5, release.set).start()

    assert facade.erase_customer("cus_erased") == 2
    returned = time.monotonic()

    reader.join()
    assert ended
    assert ended[0] <= returned  # the erasure did not return while the reader still held its snapshot
    assert found_in_files(tmp_path) == {name: set() for name in FILES}


def test_a_reader_holding_on_is_reported_and_calling_again_finishes(
    facade: TradeIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader outlasting the wait: a WARNING, the WAL keeps the values; calling again then removes them.

    The erasure itself counts at once; the second call erases nothing more and finishes the cleanup. The
    customer orders once more first, so the values are surely in the WAL's newest frames (an automatic
    checkpoint during the fixture's 41 orders may have moved the first ones into the database file).
    """
    place_order(facade, "cus_erased", holder=HOLDER, email=EMAIL, iban=IBAN)
    started, release = threading.Event(), threading.Event()
    reader = threading.Thread(
        target=hold_a_read_transaction, args=(tmp_path / "tradein.sqlite3", started, release)
    )
    reader.start()
    try:
        assert started.wait(timeout=30)
        with caplog.at_level(logging.WARNING, logger="tradein_sdk.store"):
            assert facade.erase_customer("cus_erased") == 4
        assert facade.store.get_personal_data("cus_erased") is None
        assert [record.levelname for record in caplog.records] == ["WARNING"]
        assert "a reader kept the WAL from being truncated" in caplog.records[0].getMessage()
        assert found_in_files(tmp_path, FILES[1:2]) == {"tradein.sqlite3-wal": set(ERASED)}
    finally:
        release.set()
        reader.join()

    assert facade.erase_customer("cus_erased") == 0
    assert found_in_files(tmp_path) == {name: set() for name in FILES}


# -- PostgreSQL --------------------------------------------------------------------------------------------


@pytest.fixture
def own_database(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of the test's own (dropped afterwards).

    VACUUM keeps the row versions any transaction of the same database may still see: in a database of its
    own, no other test's open transaction holds them back.
    """
    base = postgres_url.split("?", 1)[0]
    name = f"tradein_erase_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(engine_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_facade(own_database: str, tmp_path: Path, clock: FixedClock) -> Iterator[TradeIn]:
    """The facade on a PostgreSQL database of its own, with the customer to erase among others.

    Skips unless the server's user is a superuser (reading the table's file needs one).
    """
    facade = TradeIn.embedded(tmp_path, database_url=own_database, clock=clock)
    try:
        with autocommit(facade) as conn:
            superuser = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            if not conn.execute(sa.text(superuser)).scalar():
                pytest.skip("reading the table's file needs a superuser")
        place_customers(facade, 20)
        place_order(facade, "cus_erased", holder=HOLDER, email=EMAIL, iban=IBAN)
        yield facade
    finally:
        facade.close()


def autocommit(facade: TradeIn) -> sa.Connection:
    """A connection of the facade's store outside transactions (CHECKPOINT and VACUUM need one)."""
    assert isinstance(facade.store, SQLStore)
    return facade.store._engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def heap_file(conn: sa.Connection) -> bytes:
    """The personal-data table's main file as on disk (after a CHECKPOINT writes the shared buffers)."""
    conn.execute(sa.text("CHECKPOINT"))
    path = conn.execute(sa.text("SELECT pg_relation_filepath('tradein_personal_data')")).scalar_one()
    data: bytes = conn.execute(sa.text("SELECT pg_read_binary_file(:path)"), {"path": path}).scalar_one()
    return data


def heap_tuples(data: bytes, block_size: int) -> Iterator[bytes]:
    """Every row version (live or dead, not yet vacuumed) in a heap file: the pages' normal line pointers."""
    header, line_pointer, normal = 24, 4, 1
    for start in range(0, len(data), block_size):
        page = data[start : start + block_size]
        lower = struct.unpack_from("<H", page, 12)[0]
        for offset in range(header, lower, line_pointer):
            (item,) = struct.unpack_from("<I", page, offset)
            at, flags, length = item & 0x7FFF, (item >> 15) & 0x3, item >> 17
            if flags == normal:
                yield page[at : at + length]


def found_in_row_versions(facade: TradeIn) -> set[str]:
    """The erased values some row version of the personal-data table (live or dead) still holds."""
    with autocommit(facade) as conn:
        block_size = int(conn.execute(sa.text("SHOW block_size")).scalar_one())
        return set().union(*map(found_in, heap_tuples(heap_file(conn), block_size)))


@pytest.mark.postgres
def test_postgresql_erasure_vacuums_the_old_row_versions(
    pg_facade: TradeIn, caplog: pytest.LogCaptureFixture
) -> None:
    """After the erasure no row version holds the values; after ``VACUUM FULL`` no byte of them is left.

    A plain VACUUM may leave fragments in the pages' free space (measured), so the README tells operators
    to run ``VACUUM FULL`` for a guarantee.
    """
    assert found_in_row_versions(pg_facade) == set(ERASED)

    with caplog.at_level(logging.WARNING, logger="tradein_sdk.store"):
        assert pg_facade.erase_customer("cus_erased") == 2

    assert caplog.records == []
    assert found_in_row_versions(pg_facade) == set()
    with autocommit(pg_facade) as conn:
        rows = conn.execute(sa.text("SELECT data FROM tradein_personal_data")).scalars().all()
        assert len(rows) == 42
        assert set().union(*(found_in(row.encode()) for row in rows)) == set()
        conn.execute(sa.text("VACUUM FULL tradein_personal_data"))  # what an operator runs
        assert found_in(heap_file(conn)) == set()


@pytest.mark.postgres
def test_postgresql_an_open_transaction_keeps_the_row_versions_until_called_again(
    pg_facade: TradeIn, own_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An older snapshot keeps the old row versions (a WARNING says so); calling again then removes them.

    VACUUM cannot remove row versions a transaction begun before the erasure may still read.
    """
    reader = sa.create_engine(engine_url(own_database))
    try:
        with reader.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM tradein_personal_data")).scalar_one() == 42
            with caplog.at_level(logging.WARNING, logger="tradein_sdk.store"):
                assert pg_facade.erase_customer("cus_erased") == 2
            assert "2 old row versions stay" in caplog.records[-1].getMessage()
            assert found_in_row_versions(pg_facade) == set(ERASED)
            conn.rollback()
    finally:
        reader.dispose()
    caplog.clear()

    with caplog.at_level(logging.WARNING, logger="tradein_sdk.store"):
        assert pg_facade.erase_customer("cus_erased") == 0

    assert caplog.records == []
    assert found_in_row_versions(pg_facade) == set()
