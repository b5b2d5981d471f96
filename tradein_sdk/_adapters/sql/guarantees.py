"""Buy-back guarantee contracts in SQL.

Migration 17 creates ``tradein_guarantee_contracts``: one row per contract sold, with the fields the
liability view reads (purchase day, exercise window, expiry, price, the schedule's bands in money as compact
JSON) beside the signed envelope, and its exercise once it happened. A contract is exercised by a
conditional update (``WHERE exercised_at IS NULL``), so two processes never exercise it twice. The liability
view reads the outstanding contracts in batches, without their envelopes, through the index on
``(expires_on, exercised_at)``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from tradein_sdk._adapters.sql.tenancy import scope_conditions
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._errors import GuaranteeNotFoundError
from tradein_sdk._ports import GuaranteeRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from datetime import date, datetime

    from sqlalchemy import Connection, MetaData, Table

    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import AuditFact

GUARANTEES_TABLE: Final = "tradein_guarantee_contracts"


def define_guarantees(metadata: MetaData) -> Table:
    """Declare the guarantee contracts table of schema version 17 in ``metadata``."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

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
    )


@cache
def guarantees_table() -> Table:
    """The guarantee contracts table, built on first use."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return define_guarantees(sa.MetaData())


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
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        with self._guard("keep the guarantee contract"), self._transaction() as conn:
            conn.execute(
                sa.insert(table).values(
                    id=record.contract_id,
                    plan_id=record.plan_id,
                    sold_at=as_utc(record.sold_at),
                    purchased_on=record.purchased_on,
                    exercisable_from=record.exercisable_from,
                    expires_on=record.expires_on,
                    currency=record.currency,
                    price=record.price,
                    kind=record.kind,
                    schedule=record.schedule,
                    document=record.document,
                    customer_ref=record.customer_ref,
                    cost_centre=record.cost_centre,
                    tenant=record.tenant,
                    organisation=record.organisation,
                )
            )
            self._append_facts(conn, audit, now=record.sold_at)

    def add_guarantees(self, records: Sequence[GuaranteeRecord]) -> None:
        """Keep many sold contracts at once (an imported book of contracts, a benchmark); no audit entries."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        rows = [
            {
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
            }
            for record in records
        ]
        with self._guard("keep the guarantee contracts"), self._transaction() as conn:
            for start in range(0, len(rows), 5_000):
                conn.execute(sa.insert(table), rows[start : start + 5_000])

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
        self, contract_id: str, *, at: datetime, exercise: str, audit: Sequence[AuditFact] = ()
    ) -> bool:
        """Mark a contract exercised, once (a conditional update); ``False`` when it was exercised already."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = guarantees_table()
        with self._guard("record the guarantee's exercise"), self._transaction() as conn:
            changed = conn.execute(
                sa.update(table)
                .where(table.c.id == contract_id, table.c.exercised_at.is_(None))
                .values(exercised_at=as_utc(at), exercise=exercise)
            )
            if changed.rowcount != 1:
                return False
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
