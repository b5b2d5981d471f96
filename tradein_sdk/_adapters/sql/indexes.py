"""The indexes behind every listing the API and the back office page through (migration 12).

A listing reads the newest rows first, ``LIMIT n``, and the next page starts after the last row of the
previous one (a keyset, never an offset). That costs the same at any size only if one index hands the rows
over in the listing's order after its equality filters: the database then reads ``n`` entries and stops.
Without one it reads every matching row and sorts them, which grows with the history.

So each combination :meth:`~tradein_sdk.SQLStore.list_orders` can produce has an index whose leading columns
are that combination's equality filters and whose last ones the sort key ``(created_at, id)`` (``id`` breaks
ties, so a page boundary between two orders of the same instant is exact; the cursor is a row comparison,
``(created_at, id) < (:at, :id)``, which both databases use as the start of the index range):

- ``ix_tradein_orders_created`` (created_at, id): every order, no scope (migration 10's, kept);
- ``ix_tradein_orders_by_tenant`` (tenant, organisation, created_at, id): a store's or shop's scope;
- ``ix_tradein_orders_by_organisation`` (organisation, created_at, id): a back office's or admin's scope;
- ``ix_tradein_orders_by_provider`` (provider, organisation, created_at, id): a provider's scope;
- ``ix_tradein_orders_by_customer`` (customer_ref, created_at, id): one customer, in any scope, open or not;
- ``ix_tradein_orders_open`` (closed, created_at, id): open orders, no scope;
- ``ix_tradein_orders_open_by_tenant``, ``_open_by_organisation``, ``_open_by_provider``: as the three
  scoped ones, but partial, ``WHERE closed IS false``: open orders of a scope;
- ``ix_tradein_webhook_outbox_dead`` (done, delivered_at, id): the dead letters (``done AND delivered_at IS
  NULL``), by delivery id. The outbox keeps every delivered row, so the listing used to sort all of them.

Why this shape:

- A customer has a handful of orders, so the customer's index serves every scope: the scope's terms (and
  ``closed``) are checked on those few rows. SQLite keeps no statistics here and would rather take an index
  with two equality columns (a store's scope) and walk the store's whole history; in that case the other
  terms are kept off its indexes (:func:`not_indexed`, SQLite's documented unary ``+``). PostgreSQL, which
  has statistics, chooses the customer's index by itself.
- The partial indexes hold the open orders only, so the closed history costs them nothing. Without a scope
  an index leading with ``closed`` is used instead: SQLite without statistics prefers an equality on
  ``closed`` (the deadline indexes) and a sort to a partial index it would have to read whole.
- ``orders_due`` and ``orders_to_remind`` keep the indexes of versions 3 and 11, ``(closed,
  next_deadline_at)`` and ``(closed, reminders_from)``: they read the rows due so far in time order, and a
  scope is a filter on those few rows.
- Migration 10's ``(tenant, created_at)``, ``(organisation, created_at)``, ``(provider, created_at)`` and
  version 3's ``(customer_ref)`` are dropped: each is weaker than its replacement (a store's orders were
  found by organisation, then sorted; the ``id`` tie-break sorted every matching row).

Left as they are: API keys and webhook endpoints (a few per organisation, not a history), an order's ledger
(``ix_tradein_ledger_order``: order, sequence) and the installments due (the ledger's own module).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import ColumnElement, Connection, MetaData, Table

ORDERS: Final = "tradein_orders"
OUTBOX: Final = "tradein_webhook_outbox"


class ListingIndex(NamedTuple):
    """One index of a listing: its table, columns and whether it holds open orders only."""

    table: str
    columns: tuple[str, ...]
    open_only: bool = False
    since: int = 12
    """The migration that creates it."""


LISTING_INDEXES: Final = {
    "ix_tradein_orders_created": ListingIndex(ORDERS, ("created_at", "id"), since=10),
    "ix_tradein_orders_by_tenant": ListingIndex(ORDERS, ("tenant", "organisation", "created_at", "id")),
    "ix_tradein_orders_by_organisation": ListingIndex(ORDERS, ("organisation", "created_at", "id")),
    "ix_tradein_orders_by_provider": ListingIndex(ORDERS, ("provider", "organisation", "created_at", "id")),
    "ix_tradein_orders_by_customer": ListingIndex(ORDERS, ("customer_ref", "created_at", "id")),
    "ix_tradein_orders_open": ListingIndex(ORDERS, ("closed", "created_at", "id")),
    "ix_tradein_orders_open_by_tenant": ListingIndex(
        ORDERS, ("tenant", "organisation", "created_at", "id"), open_only=True
    ),
    "ix_tradein_orders_open_by_organisation": ListingIndex(
        ORDERS, ("organisation", "created_at", "id"), open_only=True
    ),
    "ix_tradein_orders_open_by_provider": ListingIndex(
        ORDERS, ("provider", "organisation", "created_at", "id"), open_only=True
    ),
    "ix_tradein_webhook_outbox_dead": ListingIndex(OUTBOX, ("done", "delivered_at", "id")),
}
"""The listing indexes as they are after migration 12 (see the module docstring for why each).

Migration 12 creates the entries ``since=12``: change one only with a new migration, keeping what version 12
created for migration 12 (an applied migration never changes).
"""

REPLACED_INDEXES: Final = (
    "ix_tradein_orders_tenant",
    "ix_tradein_orders_organisation",
    "ix_tradein_orders_provider",
    "ix_tradein_orders_customer",
)
"""The order indexes of migrations 3 and 10 that migration 12 drops (their replacements serve more)."""


def _index(name: str, spec: ListingIndex, table: Table) -> Any:  # noqa: ANN401 - a sqlalchemy.Index
    """The index ``spec`` declared on ``table`` (the partial ones hold open orders only)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    where: dict[str, Any] = {}
    if spec.open_only:
        open_orders = table.c.closed.is_(False)  # as list_orders writes it: the planners match it literally
        where = {"sqlite_where": open_orders, "postgresql_where": open_orders}
    return sa.Index(name, *(table.c[column] for column in spec.columns), **where)


def declare_listing_indexes(metadata_tables: Mapping[str, Table]) -> None:
    """Declare the listing indexes on the current table definitions (``tables()``), without the replaced."""
    for table in (metadata_tables[ORDERS], metadata_tables[OUTBOX]):
        for replaced in [index for index in table.indexes if index.name in REPLACED_INDEXES]:
            table.indexes.discard(replaced)
    for name, spec in LISTING_INDEXES.items():
        _index(name, spec, metadata_tables[spec.table])


def _v12_tables(metadata: MetaData) -> dict[str, Table]:
    """The columns migration 12 indexes, as they are at version 12 (enough to create its indexes)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    orders = sa.Table(
        ORDERS,
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("customer_ref", sa.String(64)),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("tenant", sa.String(120)),
        sa.Column("organisation", sa.String(120)),
        sa.Column("provider", sa.String(120)),
    )
    outbox = sa.Table(
        OUTBOX,
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
    )
    return {ORDERS: orders, OUTBOX: outbox}


def migration_listing_indexes(conn: Connection) -> None:
    """Migration 12: an index for each listing's filters in its order; the indexes they replace dropped.

    On PostgreSQL the indexes are built inside the migration's transaction (writes to the orders wait for
    it); a very large database may build them ``CONCURRENTLY`` by hand first, under the same names.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    for name in REPLACED_INDEXES:
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    frozen = _v12_tables(sa.MetaData())
    for name, spec in LISTING_INDEXES.items():
        if spec.since == 12:  # created by this migration (the others exist already)
            _index(name, spec, frozen[spec.table]).create(conn, checkfirst=True)


def not_indexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` in a term SQLite must not use an index for (its unary ``+``); as it is elsewhere.

    For a term that would mislead SQLite's planner, which keeps no statistics: see the module docstring.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return sa.type_coerce(_not_indexed_class()(column), column.type)


@cache
def _not_indexed_class() -> Any:  # noqa: ANN401 - a FunctionElement subclass, made on first use
    """The construct behind :func:`not_indexed` (built lazily: importing the library loads no SQLAlchemy)."""
    from sqlalchemy.ext.compiler import compiles  # noqa: PLC0415 - sqlalchemy loads with the first statement
    from sqlalchemy.sql.functions import FunctionElement  # noqa: PLC0415

    class NotIndexed(FunctionElement[Any]):
        inherit_cache = True
        name = "not_indexed"

    def plain(element: NotIndexed, compiler: Any, **kw: Any) -> str:  # noqa: ANN401
        return str(compiler.process(element.clauses, **kw))

    def unary_plus(element: NotIndexed, compiler: Any, **kw: Any) -> str:  # noqa: ANN401
        return "+" + plain(element, compiler, **kw)

    compiles(NotIndexed)(plain)
    compiles(NotIndexed, "sqlite")(unary_plus)
    return NotIndexed
