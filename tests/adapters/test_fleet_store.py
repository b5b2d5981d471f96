"""The fleet tables in SQL: numbers given out once under contention, batches changed at their version only."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from tradein_sdk._adapters.sql.store import SQLStore
from tradein_sdk._errors import BatchNotFoundError, CompanyNotFoundError, ConcurrentUpdateError
from tradein_sdk._ports import BatchRecord, CompanyRecord, FleetStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CONTENDERS = 8
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[SQLStore]:
    """A migrated store on a SQLite file, and on PostgreSQL."""
    opened = (
        SQLStore.sqlite_file(tmp_path / "store.sqlite3")
        if database_url is None
        else SQLStore(database_url, pool_size=CONTENDERS)
    )
    yield opened
    opened.close()


def test_each_document_number_is_given_out_once_under_contention(store: SQLStore) -> None:
    """Eight threads taking 25 numbers each of one new series get 1..200, each once."""
    assert isinstance(store, FleetStore)

    def take(_: int) -> list[int]:
        return [store.next_document_number("carrier-x:credit_note:2026") for _ in range(25)]

    with ThreadPoolExecutor(CONTENDERS) as pool:
        numbers = [number for batch in pool.map(take, range(CONTENDERS)) for number in batch]
    assert sorted(numbers) == list(range(1, 201))
    assert store.next_document_number("carrier-y:credit_note:2026") == 1  # each series its own


def test_a_batch_changes_only_at_the_version_it_was_read(store: SQLStore) -> None:
    """A second writer with the same version is refused; lines are kept in order; unknown ids are typed."""
    store.add_company(
        CompanyRecord(company_id="co_1", document="{}", created_at=NOW, tenant="t", organisation="o")
    )
    record = BatchRecord(
        batch_id="fb_1",
        company_id="co_1",
        state="quoted",
        created_at=NOW,
        document=json.dumps({"state": "quoted"}),
        tenant="t",
        organisation="o",
    )
    store.add_batch(record, [json.dumps({"line": n}) for n in range(1, 12_002)])
    assert [json.loads(text)["line"] for text in store.batch_lines("fb_1")][:3] == [1, 2, 3]
    assert len(store.batch_lines("fb_1")) == 12_001
    read, version = store.get_batch("fb_1")
    store.save_batch(read, version=version, now=NOW)
    with pytest.raises(ConcurrentUpdateError):
        store.save_batch(read, version=version, now=NOW)
    with pytest.raises(BatchNotFoundError):
        store.get_batch("fb_none")
    with pytest.raises(CompanyNotFoundError):
        store.get_company("co_none")
