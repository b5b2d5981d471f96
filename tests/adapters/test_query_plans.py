"""Every listing reads an index in its own order: no full scan of the orders, no sort of what a scope holds.

The store is filled with 12,000 orders (4 organisations with 2 stores and 2 providers each, 3,000 customers,
a third still open, a few due) and 3,000 outbox rows (a few dead), written straight into its tables. Each
listing is called through the real store method; the SQL it sends is captured (``before_cursor_execute``)
and explained with the same parameters: ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (FORMAT JSON)`` on
PostgreSQL after ``ANALYZE`` (nothing disabled: the planner chooses as it would in production).

A plan passes when:

- SQLite: every read of the table is a ``SEARCH`` through an index (only the unfiltered listing may ``SCAN``
  ``ix_tradein_orders_created``, which it stops reading after a page), and nothing is sorted in a temporary
  b-tree;
- PostgreSQL: no ``Seq Scan`` of the table, and no sort of more rows than a page (a customer's four orders
  may be fetched by bitmap and sorted; a scope's thousands may not);
- on both, a next page (``before``) starts at the cursor: the cursor is a condition of the index read.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
import sqlalchemy as sa

from tradein_sdk import SQLStore
from tradein_sdk._adapters.sql.indexes import LISTING_INDEXES, REPLACED_INDEXES
from tradein_sdk._adapters.sql.store import tables
from tradein_sdk._adapters.sql.tenancy import ORDER_INDEXES
from tradein_sdk._domain.tenancy import Role, Scope

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

ORDERS = 12_000
ORGANISATIONS = 4
CUSTOMERS = 3_000
DELIVERIES = 3_000
DEAD_EVERY = 300
DUE_EVERY = 997
PAGE = 50
T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(minutes=ORDERS)
CURSOR = (T0 + timedelta(minutes=ORDERS // 4), f"ord_{ORDERS // 2:06d}")
CUSTOMER = "cus_00042"

SCOPES: dict[str, Scope | None] = {
    "whole shop": None,
    "store": Scope(tenant="store-1", organisation="org-1", role=Role.STORE),
    "shop": Scope(tenant="store-0", organisation="org-2", role=Role.SHOP),
    "back office": Scope(tenant="org-1", organisation="org-1", role=Role.BACK_OFFICE),
    "admin": Scope(tenant="org-3", organisation="org-3", role=Role.ADMIN),
    "provider": Scope(tenant="recycler-1", organisation="org-1", role=Role.PROVIDER),
}
ORDER_LISTINGS: dict[str, dict[str, Any]] = {
    "newest": {},
    "next page": {"before": CURSOR},
    "customer": {"customer_ref": CUSTOMER},
    "open": {"open_only": True},
    "open, next page": {"open_only": True, "before": CURSOR},
    "customer, open, next page": {"customer_ref": CUSTOMER, "open_only": True, "before": CURSOR},
}
"""The filters of ``list_orders``, each tried in every scope."""


def _order_row(i: int) -> dict[str, Any]:
    organisation = f"org-{i % ORGANISATIONS}"
    open_ = i % 3 == 0
    due = open_ and i % DUE_EVERY == 0
    return {
        "id": f"ord_{i:06d}",
        "created_at": T0 + timedelta(minutes=i // 2),  # two orders per instant: the cursor's id breaks ties
        "updated_at": T0,
        "customer_ref": f"cus_{i % CUSTOMERS:05d}",
        "version": 1,
        "closed": not open_,
        "next_deadline_at": (NOW - timedelta(hours=1) if due else NOW + timedelta(days=30))
        if open_
        else None,
        "reminders_from": (NOW - timedelta(hours=1) if due else NOW + timedelta(days=3)) if open_ else None,
        "document": "{}",
        "tenant": f"store-{i // ORGANISATIONS % 2}",  # each organisation has a store-0 and a store-1
        "organisation": organisation,
        "provider": f"recycler-{i // ORGANISATIONS % 2}" if i % 5 else None,
    }


def _delivery_row(i: int) -> dict[str, Any]:
    dead = i % DEAD_EVERY == 0
    organisation = f"org-{i % ORGANISATIONS}"
    return {
        "id": f"dlv_{i:06d}",
        "event_id": f"evt_{i:06d}",
        "endpoint": "https://hooks.example/tradein",
        "type": "order.updated",
        "body": b"{}",
        "created_at": T0 + timedelta(minutes=i),
        "next_attempt_at": T0 + timedelta(minutes=i),
        "attempts": 8 if dead else 1,
        "done": True,
        "delivered_at": None if dead else T0 + timedelta(minutes=i, seconds=5),
        "last_error": "HTTP 500" if dead else None,
        "tenant": f"store-{i // ORGANISATIONS % 2}",  # each organisation has a store-0 and a store-1
        "organisation": organisation,
    }


def _url(tmp_path: Path, database_url: str | None) -> str:
    return database_url or f"sqlite:///{tmp_path / 'plans.sqlite3'}"


@pytest.fixture
def filled_store(tmp_path: Path, database_url: str | None) -> Iterator[SQLStore]:
    """A migrated store (SQLite, then PostgreSQL) holding the orders and deliveries above, analysed."""
    store = SQLStore(_url(tmp_path, database_url))
    table = tables()
    with store._engine.begin() as conn:
        conn.execute(sa.insert(table["orders"]), [_order_row(i) for i in range(ORDERS)])
        conn.execute(sa.insert(table["webhook_outbox"]), [_delivery_row(i) for i in range(DELIVERIES)])
    if store.dialect == "postgresql":
        with store._engine.begin() as conn:
            conn.execute(sa.text("ANALYZE tradein_orders"))
            conn.execute(sa.text("ANALYZE tradein_webhook_outbox"))
    yield store
    store.close()


class Statement(NamedTuple):
    """A statement as the driver received it."""

    sql: str
    parameters: Any


def _sent(store: SQLStore, call: Callable[[], object], table: str) -> Statement:
    """The one statement reading ``table`` that ``call`` sends to the database."""
    sent: list[Statement] = []

    def capture(_conn: object, _cursor: object, sql: str, parameters: Any, *_: object) -> None:  # noqa: ANN401
        if f"FROM {table}" in sql:
            sent.append(Statement(sql, parameters))

    sa.event.listen(store._engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        sa.event.remove(store._engine, "before_cursor_execute", capture)
    assert len(sent) == 1, sent
    return sent[0]


def _sqlite_problems(
    store: SQLStore, statement: Statement, table: str, *, scan_ok: bool, keyset: bool
) -> list[str]:
    with store._engine.connect() as conn:
        explained = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement.sql}", statement.parameters)
        lines = [str(row[3]) for row in explained]
    reads = [line for line in lines if f" {table} " in f"{line} "]
    problems = []
    for line in reads:
        if line.startswith("SCAN") and not (scan_ok and "USING INDEX ix_tradein_orders_created" in line):
            problems.append(f"reads the whole table or index: {line}")
        if "INDEX" not in line:
            problems.append(f"uses no index: {line}")
    if keyset and not any("(created_at,id)<" in line for line in reads):
        problems.append("the next page does not start at the cursor in the index")
    problems += [f"sorts: {line}" for line in lines if "TEMP B-TREE" in line]
    return [f"{problem}\n    plan: {' | '.join(lines)}" for problem in problems]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _postgresql_problems(store: SQLStore, statement: Statement, table: str, *, keyset: bool) -> list[str]:
    with store._engine.connect() as conn:
        explained = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement.sql}", statement.parameters)
        document = explained.scalar_one()
    plan: dict[str, Any] = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    problems = []
    for node in _nodes(plan):
        kind = node["Node Type"]
        if kind == "Seq Scan" and node.get("Relation Name") == table:
            problems.append(f"Seq Scan on {table}")
        if kind in {"Sort", "Incremental Sort"} and node["Plans"][0]["Plan Rows"] > PAGE:
            problems.append(f"{kind} of {node['Plans'][0]['Plan Rows']} rows")
    conditions = " ".join(str(node.get("Index Cond", "")) for node in _nodes(plan))
    if keyset and "ROW(created_at, " not in conditions:
        problems.append("the next page does not start at the cursor in the index")
    return [f"{problem}\n    plan: {json.dumps(plan)}" for problem in problems]


def _problems(
    store: SQLStore, call: Callable[[], object], table: str, *, scan_ok: bool = False, keyset: bool = False
) -> list[str]:
    """What is wrong with the plan of the statement ``call`` sends (nothing: an empty list)."""
    statement = _sent(store, call, table)
    if store.dialect == "sqlite":
        return _sqlite_problems(store, statement, table, scan_ok=scan_ok, keyset=keyset)
    return _postgresql_problems(store, statement, table, keyset=keyset)


def test_every_order_listing_reads_an_index_in_its_order(filled_store: SQLStore) -> None:
    """Each scope, alone, with a customer, open orders only or on a next page: one index, read in order."""
    store = filled_store
    problems: list[str] = []
    for name, scope in SCOPES.items():
        for case, filters in ORDER_LISTINGS.items():
            found = _problems(
                store,
                functools.partial(store.list_orders, limit=PAGE + 1, scope=scope, **filters),
                "tradein_orders",
                scan_ok=scope is None and not filters,
                keyset="before" in filters and "customer_ref" not in filters,  # a customer's few: any way
            )
            problems += [f"{name}, {case}: {problem}" for problem in found]
    assert not problems, "\n".join(problems)


def test_due_and_reminded_orders_read_their_index_in_time_order(filled_store: SQLStore) -> None:
    """tick() and reminders() read the orders whose time has come through their index, in any scope."""
    store = filled_store
    problems: list[str] = []
    for name, scope in SCOPES.items():
        cases: dict[str, Callable[[], object]] = {
            "due": functools.partial(store.orders_due, NOW, scope=scope),
            "to remind": functools.partial(store.orders_to_remind, NOW, scope=scope),
        }
        for case, call in cases.items():
            problems += [f"{name}, {case}: {problem}" for problem in _problems(store, call, "tradein_orders")]
    assert not problems, "\n".join(problems)
    due = [f"ord_{i:06d}" for i in range(0, ORDERS, 3) if i % DUE_EVERY == 0]
    assert sorted(store.orders_due(NOW)) == due
    assert sorted(record.order_id for record in store.orders_to_remind(NOW)) == due


def test_dead_webhooks_read_their_index_by_delivery_id(filled_store: SQLStore) -> None:
    """The dead letters are listed from their index, not by sorting every delivery the outbox keeps."""
    store = filled_store
    problems: list[str] = []
    for name, scope in SCOPES.items():
        if scope is not None and scope.role is Role.PROVIDER:
            continue  # a provider is never shown webhooks: its query is `WHERE false`
        for case, after in {"first page": None, "next page": "dlv_001500"}.items():
            call = functools.partial(store.dead_webhooks, limit=PAGE, after=after, scope=scope)
            problems += [
                f"{name}, {case}: {problem}" for problem in _problems(store, call, "tradein_webhook_outbox")
            ]
    assert not problems, "\n".join(problems)
    dead = [dead.delivery_id for dead in store.dead_webhooks(limit=PAGE)]
    assert dead == [f"dlv_{i:06d}" for i in range(0, DELIVERIES, DEAD_EVERY)]


def _paged(store: SQLStore, **filters: Any) -> list[tuple[datetime, str]]:  # noqa: ANN401
    """Every order ``list_orders`` lists with ``filters``, page after page (97 a page: ties get split)."""
    listed: list[tuple[datetime, str]] = []
    before: tuple[datetime, str] | None = None
    while True:
        page = store.list_orders(limit=97, before=before, **filters)
        listed += [(record.created_at, record.order_id) for record in page]
        if len(page) < 97:  # the last page
            return listed
        before = (page[-1].created_at, page[-1].order_id)


def test_pages_list_each_order_once_newest_first(filled_store: SQLStore) -> None:
    """Paging with the last order of each page as the cursor lists every order once, ties included."""
    store = filled_store
    rows = [_order_row(i) for i in range(ORDERS)]
    assert _paged(store) == sorted(((row["created_at"], row["id"]) for row in rows), reverse=True)
    in_store = [row for row in rows if row["organisation"] == "org-1" and row["tenant"] == "store-1"]
    assert _paged(store, scope=SCOPES["store"], open_only=True) == sorted(
        ((row["created_at"], row["id"]) for row in in_store if not row["closed"]), reverse=True
    )
    assert _paged(store, scope=SCOPES["store"], customer_ref=CUSTOMER) == sorted(
        ((row["created_at"], row["id"]) for row in in_store if row["customer_ref"] == CUSTOMER), reverse=True
    )


def _indexes(store: SQLStore) -> dict[str, dict[str, list[str]]]:
    """The indexes of the orders and the outbox in the database, by name (unique constraints' left out)."""
    inspector = sa.inspect(store._engine)
    return {
        name: {
            index["name"]: [str(column) for column in index["column_names"]]
            for index in inspector.get_indexes(name)
            if "duplicates_constraint" not in index and index["name"] is not None
        }
        for name in ("tradein_orders", "tradein_webhook_outbox")
    }


def _declared() -> dict[str, dict[str, list[str]]]:
    """The same, as the current table definitions (``tables()``) declare them."""
    return {
        table.name: {str(index.name): [column.name for column in index.columns] for index in table.indexes}
        for table in (tables()["orders"], tables()["webhook_outbox"])
    }


def test_fresh_and_upgraded_databases_have_the_declared_indexes(
    tmp_path: Path, database_url: str | None
) -> None:
    """A new database, and one at version 11 upgraded by migration 12, have exactly the declared indexes."""
    store = SQLStore(_url(tmp_path, database_url))
    try:
        assert _indexes(store) == _declared()
        assert set(LISTING_INDEXES) <= set(_declared()["tradein_orders"]) | set(
            _declared()["tradein_webhook_outbox"]
        )
        with store._engine.begin() as conn:  # back to the indexes version 11 had
            for name, spec in LISTING_INDEXES.items():
                if spec.since == 12:
                    conn.execute(sa.text(f"DROP INDEX {name}"))
            for name, columns in {**ORDER_INDEXES, "ix_tradein_orders_customer": ("customer_ref",)}.items():
                if name in REPLACED_INDEXES:
                    conn.execute(sa.text(f"CREATE INDEX {name} ON tradein_orders ({', '.join(columns)})"))
            conn.execute(sa.text("DELETE FROM tradein_schema_migrations WHERE version = 12"))
        assert "ix_tradein_orders_customer" in _indexes(store)["tradein_orders"]
    finally:
        store.close()
    upgraded = SQLStore(_url(tmp_path, database_url))
    try:
        assert _indexes(upgraded) == _declared()
        assert upgraded.schema_version() >= 12
    finally:
        upgraded.close()
