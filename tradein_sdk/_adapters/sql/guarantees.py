"""Buy-back guarantee contracts in SQL.

Migration 17 creates ``tradein_guarantee_contracts``: one row per contract sold, with the fields the
liability view reads (purchase day, exercise window, expiry, price, the schedule's bands in money as compact
JSON) beside the signed envelope, and its exercise once it happened. A contract is exercised by a
conditional update (``WHERE exercised_at IS NULL``), so two processes never exercise it twice. The liability
view reads the outstanding contracts in batches, without their envelopes, through the index on
``(expires_on, exercised_at)``.

Migration 18 adds the order columns: ``sold_order_id`` (the checkout order whose ledger carries the
contingent liability), ``order_id`` (the trade-in order exercising the contract: claimed by a conditional
update in the transaction that opens the order, released or exercised in the one that settles the device)
and ``closed_at`` (when the contingent liability was released: exercised, or lapsed at expiry).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from tradein_sdk._adapters.sql.ledger import insert_entries
from tradein_sdk._adapters.sql.tenancy import scope_conditions
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._errors import GuaranteeError, GuaranteeNotFoundError
from tradein_sdk._ports import GuaranteeRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from datetime import date, datetime

    from sqlalchemy import Connection, MetaData, Table
    from sqlalchemy.schema import SchemaItem

    from tradein_sdk._domain.ledger import LedgerEntry
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import AuditFact, GuaranteeChange

GUARANTEES_TABLE: Final = "tradein_guarantee_contracts"


_ORDER_COLUMNS: Final = (("sold_order_id", 40), ("order_id", 40))
_ORDER_INDEXES: Final = frozenset(
    {"ix_tradein_guarantee_contracts_lapsing", "ix_tradein_guarantee_contracts_customer"}
)


def define_guarantees(metadata: MetaData, *, version: int = 17) -> Table:
    """Declare the guarantee contracts table of schema ``version`` (17, or 18 with the order columns)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    later: list[SchemaItem] = (
        [
            *(sa.Column(name, sa.String(length), nullable=True) for name, length in _ORDER_COLUMNS),
            sa.Column("closed_at", UTCDateTime, nullable=True),
            sa.Index("ix_tradein_guarantee_contracts_lapsing", "closed_at", "expires_on"),
            sa.Index("ix_tradein_guarantee_contracts_customer", "customer_ref"),
        ]
        if version >= 18
        else []
    )
    return sa.Table(
        GUARANTEES_TABLE,
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("plan_id", sa.String(120), nullable=False),
        sa.Column("sold_at", UTCDateTime, nullable=False),
        sa.Column("purchased_on", sa.Date, nullable=False),
        sa.Column("exercisable_from", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("schedule", sa.Text, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("customer_ref", sa.String(64), nullable=True),
        sa.Column("cost_centre", sa.String(120), nullable=True),
        sa.Column("exercised_at", UTCDateTime, nullable=True),
        sa.Column("exercise", sa.Text, nullable=True),
        sa.Column("tenant", sa.String(120), nullable=True),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Index("ix_tradein_guarantee_contracts_outstanding", "expires_on", "exercised_at"),
        sa.Index("ix_tradein_guarantee_contracts_owner", "organisation", "tenant", "expires_on"),
        *later,
    )


def migration_guarantee_orders(conn: Connection) -> None:
    """Migration 18: the order columns and their indexes (see the module docstring)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    moment = UTCDateTime().dialect_impl(conn.dialect).compile(dialect=conn.dialect)
    for name, length in _ORDER_COLUMNS:
        conn.execute(sa.text(f"ALTER TABLE {GUARANTEES_TABLE} ADD COLUMN {name} VARCHAR({length})"))
    conn.execute(sa.text(f"ALTER TABLE {GUARANTEES_TABLE} ADD COLUMN closed_at {moment}"))
    table = guarantees_table()
    for index in table.indexes:
        if index.name in _ORDER_INDEXES:
            index.create(conn)


@cache
def guarantees_table() -> Table:
    """The guarantee contracts table as it is after every migration, built on first use."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return define_guarantees(sa.MetaData(), version=18)


def _values(record: GuaranteeRecord) -> dict[str, Any]:
    """A contract's row."""
    return {
        "id": record.contract_id,
        "plan_id": record.plan_id,
        "sold_at": as_utc(record.sold_at),
        "purchased_on": record.purchased_on,
        "exercisable_from": record.exercisable_from,
        "expires_on": record.expires_on,
        "currency": record.currency,
        "price": record.price,
        "kind": record.kind,
        "schedule": record.schedule,
        "document": record.document,
        "customer_ref": record.customer_ref,
        "cost_centre": record.cost_centre,
        "tenant": record.tenant,
        "organisation": record.organisation,
        "sold_order_id": record.sold_order_id,
    }


def insert_guarantees(conn: Connection, records: Sequence[GuaranteeRecord]) -> None:
    """Insert contracts in the caller's transaction (a checkout keeps the ones it sold with its order)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    rows = [_values(record) for record in records]
    for start in range(0, len(rows), 5_000):
        conn.execute(sa.insert(guarantees_table()), rows[start : start + 5_000])


def change_guarantees(conn: Connection, changes: Sequence[GuaranteeChange]) -> None:
    """Apply an order's guarantee changes in the caller's transaction, each by a conditional update.

    Raises:
        GuaranteeError: a claim found the contract held by another order or exercised (rule
            ``already_exercised``); the caller's transaction then writes nothing.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    table = guarantees_table()
    for change in changes:
        mine = sa.update(table).where(table.c.id == change.contract_id, table.c.exercised_at.is_(None))
        if change.action == "claim":
            statement = mine.where(table.c.order_id.is_(None)).values(order_id=change.order_id)
        elif change.action == "release":
            statement = mine.where(table.c.order_id == change.order_id).values(order_id=None)
        elif change.action == "exercise":
            statement = mine.where(table.c.order_id == change.order_id).values(
                exercised_at=as_utc(change.at), exercise=change.exercise, closed_at=as_utc(change.at)
            )
        else:
            raise ValueError(change.action)
        if conn.execute(statement).rowcount != 1 and change.action != "release":
            raise GuaranteeError.already_exercised(change.contract_id)


def _record(row: Any, *, document: str = "") -> GuaranteeRecord:  # noqa: ANN401 - a SQLAlchemy Row
    return GuaranteeRecord(
        contract_id=row.id,
        plan_id=row.plan_id,
        sold_at=as_utc(row.sold_at),
        purchased_on=row.purchased_on,
        exercisable_from=row.exercisable_from,
        expires_on=row.expires_on,
        currency=row.currency,
        price=Decimal(row.price).quantize(Decimal("0.01")),
        kind=row.kind,
        schedule=row.schedule,
        document=document,
        customer_ref=row.customer_ref,
        cost_centre=row.cost_centre,
        exercised_at=as_utc(row.exercised_at) if row.exercised_at is not None else None,
        exercise=row.exercise,
        tenant=row.tenant,
        organisation=row.organisation,
        sold_order_id=row.sold_order_id,
        order_id=row.order_id,
        closed_at=as_utc(row.closed_at) if row.closed_at is not None else None,
    )


class GuaranteeMixin:
    """The :class:`~tradein_sdk._ports.GuaranteeStore` methods of :class:`~tradein_sdk.SQLStore`."""

    if TYPE_CHECKING:
        _t: dict[str, Any]

        def _guard(self, action: str) -> Any: ...  # noqa: ANN401 - SQLStore's
        def _transaction(self, *, write: bool = True) -> Any: ...  # noqa: ANN401 - SQLStore's
        def _append_facts(self, conn: Connection, facts: Iterable[AuditFact], *, now: datetime) -> None: ...

    def add_guarantee(self, record: GuaranteeRecord, *, audit: Sequence[AuditFact] = ()) -> None:
        """Keep a sold contract and its audit entries in one transaction.

        Raises:
            StoreError: the database failed; nothing was written.
        """
        with self._guard("keep the guarantee contract"), self._transaction() as conn:
            insert_guarantees(conn, [record])
            self._append_facts(conn, audit, now=record.sold_at)

    def add_guarantees(self, records: Sequence[GuaranteeRecord]) -> None:
        """Keep many sold contracts at once (an imported book of contracts, a benchmark); no audit entries."""
        with self._guard("keep the guarantee contracts"), self._transaction() as conn:
            insert_guarantees(conn, records)

    def get_guarantee(self, contract_id: str, *, scope: Scope | None = None) -> GuaranteeRecord:
        """Read a contract in ``scope``.

        Raises:
            GuaranteeNotFoundError: no contract in ``scope`` has that id.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        with self._guard("read the guarantee contract"), self._transaction(write=False) as conn:
            row = conn.execute(
                sa.select(table).where(table.c.id == contract_id, *scope_conditions(table, scope))
            ).first()
        if row is None:
            raise GuaranteeNotFoundError(contract_id)
        return _record(row, document=row.document)

    def record_exercise(
        self,
        contract_id: str,
        *,
        at: datetime,
        exercise: str,
        audit: Sequence[AuditFact] = (),
        ledger: Sequence[LedgerEntry] = (),
    ) -> bool:
        """Mark a contract exercised, once (a conditional update); ``False`` when it was exercised or claimed.

        ``ledger`` (the release of its contingent liability) is written in the same transaction.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        with self._guard("record the guarantee's exercise"), self._transaction() as conn:
            changed = conn.execute(
                sa.update(table)
                .where(table.c.id == contract_id, table.c.exercised_at.is_(None), table.c.order_id.is_(None))
                .values(exercised_at=as_utc(at), exercise=exercise, closed_at=as_utc(at))
            )
            if changed.rowcount != 1:
                return False
            insert_entries(conn, self._t["ledger"], ledger)
            self._append_facts(conn, audit, now=at)
            return True

    def guarantees_of(self, customer_ref: str, *, scope: Scope | None = None) -> list[GuaranteeRecord]:
        """Every contract of a customer, in order of purchase, with its envelope."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        query = (
            sa.select(table)
            .where(table.c.customer_ref == customer_ref, *scope_conditions(table, scope))
            .order_by(table.c.purchased_on, table.c.id)
        )
        with self._guard("read the customer's guarantees"), self._transaction(write=False) as conn:
            return [_record(row, document=row.document) for row in conn.execute(query)]

    def lapsed_guarantees(
        self, *, on: date, limit: int = 500, scope: Scope | None = None
    ) -> list[GuaranteeRecord]:
        """Contracts (in ``scope``) past their last day before ``on``, unexercised, their liability open."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        columns = [column for column in table.c if column.name != "document"]
        query = (
            sa.select(*columns)
            .where(
                table.c.closed_at.is_(None),
                table.c.expires_on < on,
                table.c.sold_order_id.is_not(None),
                table.c.exercised_at.is_(None),
                *scope_conditions(table, scope),
            )
            .order_by(table.c.expires_on, table.c.id)
            .limit(limit)
        )
        with self._guard("read the lapsed guarantees"), self._transaction(write=False) as conn:
            return [_record(row) for row in conn.execute(query)]

    def close_guarantee(
        self,
        contract_id: str,
        *,
        at: datetime,
        ledger: Sequence[LedgerEntry] = (),
        audit: Sequence[AuditFact] = (),
    ) -> bool:
        """Release a lapsed contract's contingent liability once (``False``: released already)."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        with self._guard("release the lapsed guarantee"), self._transaction() as conn:
            changed = conn.execute(
                sa.update(table)
                .where(table.c.id == contract_id, table.c.closed_at.is_(None), table.c.exercised_at.is_(None))
                .values(closed_at=as_utc(at))
            )
            if changed.rowcount != 1:
                return False
            insert_entries(conn, self._t["ledger"], ledger)
            self._append_facts(conn, audit, now=at)
            return True

    def outstanding_guarantees(
        self, *, on: date, scope: Scope | None = None, batch: int = 10_000
    ) -> Iterator[GuaranteeRecord]:
        """Every contract not exercised and not expired on ``on``, streamed in batches (without envelopes).

        One query in one read transaction, read through a server-side cursor on PostgreSQL (``yield_per``), so
        a million contracts cost one scan and the memory of one batch.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        columns = [column for column in table.c if column.name != "document"]
        query = sa.select(*columns).where(
            table.c.expires_on >= on, table.c.exercised_at.is_(None), *scope_conditions(table, scope)
        )
        with self._guard("read the outstanding guarantees"), self._transaction(write=False) as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            for rows in result.partitions():
                for row in rows:
                    yield _record(row)
