"""Fleet trade-in in SQL: company accounts, batches and their lines, document numbers, the document archive.

Migration 16 creates:

- ``tradein_companies``: one row per company account (its JSON text; contacts are personal data, kept in
  ``tradein_personal_data``);
- ``tradein_fleet_batches``: one row per batch (its state, its order once booked, its JSON text and a version
  for optimistic concurrency) and ``tradein_fleet_lines``: one row per device line, written once with the
  portfolio quote (100,000 lines do not make one row of 30 MB that every change rewrites);
- ``tradein_document_numbers``: the last number of each document series, advanced by a conditional update so
  two processes never give out the same number;
- ``tradein_archived_documents``: credit notes, e-invoices and purchase statements exactly as issued, with
  their SHA-256 beside them and the first day they may be deleted.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Final

from tradein_sdk._adapters.sql.tenancy import scope_conditions
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._errors import BatchNotFoundError, CompanyNotFoundError, ConcurrentUpdateError
from tradein_sdk._ports import ArchivedDocument, BatchRecord, CompanyRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from sqlalchemy import Connection, MetaData, Table

    from tradein_sdk._domain.outbox import OutboxMessage
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import AuditFact

COMPANIES_TABLE: Final = "tradein_companies"
BATCHES_TABLE: Final = "tradein_fleet_batches"
LINES_TABLE: Final = "tradein_fleet_lines"
NUMBERS_TABLE: Final = "tradein_document_numbers"
ARCHIVE_TABLE: Final = "tradein_archived_documents"
_CHUNK: Final = 5_000


def define_fleet(metadata: MetaData) -> dict[str, Table]:
    """Declare the fleet tables of schema version 16 in ``metadata``."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    companies = sa.Table(
        COMPANIES_TABLE,
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("tenant", sa.String(120), nullable=True),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Index("ix_tradein_companies_owner", "organisation", "tenant", "created_at"),
    )
    batches = sa.Table(
        BATCHES_TABLE,
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("company_id", sa.String(40), sa.ForeignKey(f"{COMPANIES_TABLE}.id"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("tenant", sa.String(120), nullable=True),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Index("ix_tradein_fleet_batches_company", "company_id", "created_at"),
        sa.Index("ix_tradein_fleet_batches_owner", "organisation", "tenant", "created_at"),
    )
    lines = sa.Table(
        LINES_TABLE,
        metadata,
        sa.Column("batch_id", sa.String(40), sa.ForeignKey(f"{BATCHES_TABLE}.id"), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    numbers = sa.Table(
        NUMBERS_TABLE,
        metadata,
        sa.Column("series", sa.String(120), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    archive = sa.Table(
        ARCHIVE_TABLE,
        metadata,
        sa.Column("id", sa.String(60), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("number", sa.String(60), nullable=True),
        sa.Column("batch_id", sa.String(40), nullable=False),
        sa.Column("media_type", sa.String(60), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("retain_until", sa.Date, nullable=False),
        sa.Column("tenant", sa.String(120), nullable=True),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Index("ix_tradein_archived_documents_batch", "batch_id", "created_at"),
    )
    return {
        "companies": companies,
        "batches": batches,
        "lines": lines,
        "numbers": numbers,
        "archive": archive,
    }


@cache
def fleet_tables() -> dict[str, Table]:
    """The fleet tables, built on first use."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return define_fleet(sa.MetaData())


def _company(row: Any) -> CompanyRecord:  # noqa: ANN401 - a SQLAlchemy Row
    return CompanyRecord(
        company_id=row.id,
        document=row.document,
        created_at=as_utc(row.created_at),
        tenant=row.tenant,
        organisation=row.organisation,
    )


def _batch(row: Any) -> BatchRecord:  # noqa: ANN401 - a SQLAlchemy Row
    return BatchRecord(
        batch_id=row.id,
        company_id=row.company_id,
        state=row.state,
        created_at=as_utc(row.created_at),
        document=row.document,
        order_id=row.order_id,
        tenant=row.tenant,
        organisation=row.organisation,
    )


class FleetMixin:
    """The :class:`~tradein_sdk._ports.FleetStore` methods of :class:`~tradein_sdk.SQLStore` (mixed in)."""

    if TYPE_CHECKING:
        _t: dict[str, Any]

        def _guard(self, action: str) -> Any: ...  # noqa: ANN401 - SQLStore's
        def _transaction(self, *, write: bool = True) -> Any: ...  # noqa: ANN401 - SQLStore's
        def _insert_outbox(self, message: OutboxMessage) -> Any: ...  # noqa: ANN401 - SQLStore's
        def _append_facts(self, conn: Connection, facts: Iterable[AuditFact], *, now: datetime) -> None: ...

    # -- companies ---------------------------------------------------------------------------------------

    def add_company(self, record: CompanyRecord, *, audit: Sequence[AuditFact] = ()) -> None:
        """Keep a new company account and its audit entries in one transaction.

        Raises:
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        companies = fleet_tables()["companies"]
        with self._guard("keep the company account"), self._transaction() as conn:
            conn.execute(
                sa.insert(companies).values(
                    id=record.company_id,
                    created_at=as_utc(record.created_at),
                    tenant=record.tenant,
                    organisation=record.organisation,
                    document=record.document,
                )
            )
            self._append_facts(conn, audit, now=record.created_at)

    def save_company(self, record: CompanyRecord, *, audit: Sequence[AuditFact] = ()) -> None:
        """Replace a company account's document (its owner never changes).

        Raises:
            CompanyNotFoundError: no such account.
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        companies = fleet_tables()["companies"]
        with self._guard("change the company account"), self._transaction() as conn:
            changed = conn.execute(
                sa.update(companies)
                .where(companies.c.id == record.company_id)
                .values(document=record.document)
            )
            if changed.rowcount != 1:
                raise CompanyNotFoundError(record.company_id)
            self._append_facts(conn, audit, now=record.created_at)

    def get_company(self, company_id: str, *, scope: Scope | None = None) -> CompanyRecord:
        """Read a company account in ``scope``.

        Raises:
            CompanyNotFoundError: no account in ``scope`` has that id.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        companies = fleet_tables()["companies"]
        with self._guard("read the company account"), self._transaction(write=False) as conn:
            row = conn.execute(
                sa.select(companies).where(companies.c.id == company_id, *scope_conditions(companies, scope))
            ).first()
        if row is None:
            raise CompanyNotFoundError(company_id)
        return _company(row)

    def companies(self, *, scope: Scope | None = None) -> list[CompanyRecord]:
        """Every company account in ``scope``, oldest first."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        companies = fleet_tables()["companies"]
        with self._guard("list the company accounts"), self._transaction(write=False) as conn:
            rows = conn.execute(
                sa.select(companies)
                .where(*scope_conditions(companies, scope))
                .order_by(companies.c.created_at, companies.c.id)
            ).all()
        return [_company(row) for row in rows]

    # -- batches ------------------------------------------------------------------------------------------

    def add_batch(
        self, record: BatchRecord, lines: Sequence[str], *, audit: Sequence[AuditFact] = ()
    ) -> None:
        """Keep a new batch and its lines in one transaction (nothing of it when anything fails).

        Raises:
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        tables = fleet_tables()
        with self._guard("keep the fleet batch"), self._transaction() as conn:
            conn.execute(
                sa.insert(tables["batches"]).values(
                    id=record.batch_id,
                    company_id=record.company_id,
                    state=record.state,
                    created_at=as_utc(record.created_at),
                    order_id=record.order_id,
                    tenant=record.tenant,
                    organisation=record.organisation,
                    version=1,
                    document=record.document,
                )
            )
            insert = sa.insert(tables["lines"])
            for start in range(0, len(lines), _CHUNK):
                conn.execute(
                    insert,
                    [
                        {"batch_id": record.batch_id, "line": start + offset + 1, "document": text}
                        for offset, text in enumerate(lines[start : start + _CHUNK])
                    ],
                )
            self._append_facts(conn, audit, now=record.created_at)

    def get_batch(self, batch_id: str, *, scope: Scope | None = None) -> tuple[BatchRecord, int]:
        """Read a batch in ``scope`` and its version.

        Raises:
            BatchNotFoundError: no batch in ``scope`` has that id.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        batches = fleet_tables()["batches"]
        with self._guard("read the fleet batch"), self._transaction(write=False) as conn:
            row = conn.execute(
                sa.select(batches).where(batches.c.id == batch_id, *scope_conditions(batches, scope))
            ).first()
        if row is None:
            raise BatchNotFoundError(batch_id)
        return _batch(row), int(row.version)

    def batch_lines(self, batch_id: str) -> list[str]:
        """The JSON texts of a batch's lines, line 1 first."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        lines = fleet_tables()["lines"]
        with self._guard("read the fleet batch's lines"), self._transaction(write=False) as conn:
            return list(
                conn.execute(
                    sa.select(lines.c.document).where(lines.c.batch_id == batch_id).order_by(lines.c.line)
                ).scalars()
            )

    def save_batch(
        self,
        record: BatchRecord,
        *,
        version: int,
        now: datetime,
        audit: Sequence[AuditFact] = (),
        outbox: Sequence[OutboxMessage] = (),
        archive: Sequence[ArchivedDocument] = (),
    ) -> None:
        """Replace a batch read at ``version``, with its audit entries, webhooks and archived documents.

        Raises:
            ConcurrentUpdateError: the batch changed since it was read; read it and try again.
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        tables = fleet_tables()
        batches = tables["batches"]
        with self._guard("change the fleet batch"), self._transaction() as conn:
            changed = conn.execute(
                sa.update(batches)
                .where(batches.c.id == record.batch_id, batches.c.version == version)
                .values(
                    state=record.state,
                    order_id=record.order_id,
                    document=record.document,
                    version=batches.c.version + 1,
                )
            )
            if changed.rowcount != 1:
                raise ConcurrentUpdateError(record.batch_id)
            for document in archive:
                conn.execute(
                    sa.insert(tables["archive"]).values(
                        id=document.document_id,
                        kind=document.kind,
                        number=document.number,
                        batch_id=document.batch_id,
                        media_type=document.media_type,
                        content=document.content,
                        sha256=document.sha256,
                        created_at=as_utc(document.created_at),
                        retain_until=document.retain_until,
                        tenant=document.tenant,
                        organisation=document.organisation,
                    )
                )
            for message in outbox:
                conn.execute(self._insert_outbox(message))
            self._append_facts(conn, audit, now=as_utc(now))

    def batches(self, *, company_id: str | None = None, scope: Scope | None = None) -> list[BatchRecord]:
        """The batches in ``scope`` (of one company when given), newest first."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        batches = fleet_tables()["batches"]
        terms = scope_conditions(batches, scope)
        if company_id is not None:
            terms.append(batches.c.company_id == company_id)
        with self._guard("list the fleet batches"), self._transaction(write=False) as conn:
            rows = conn.execute(
                sa.select(batches).where(*terms).order_by(batches.c.created_at.desc(), batches.c.id)
            ).all()
        return [_batch(row) for row in rows]

    # -- numbers and the archive ------------------------------------------------------------------------

    def next_document_number(self, series: str) -> int:
        """The next number of ``series`` (1 for a new series); each number is given out once.

        The series row is advanced by a conditional update (compare and set), retried when another process
        took the number meanwhile; a new series is created by an insert that only one process can win.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement
        from sqlalchemy.exc import IntegrityError  # noqa: PLC0415 - with sqlalchemy

        numbers = fleet_tables()["numbers"]
        with self._guard("number the document"):
            for _ in range(100):
                try:
                    with self._transaction() as conn:
                        last = conn.execute(
                            sa.select(numbers.c.last).where(numbers.c.series == series)
                        ).scalar()
                        if last is None:
                            conn.execute(sa.insert(numbers).values(series=series, last=1))
                            return 1
                        taken = conn.execute(
                            sa.update(numbers)
                            .where(numbers.c.series == series, numbers.c.last == last)
                            .values(last=last + 1)
                        )
                        if taken.rowcount == 1:
                            return int(last) + 1
                except IntegrityError:
                    continue  # another process created the series first
            raise ConcurrentUpdateError(series)

    def archived_documents(
        self, batch_id: str, *, scope: Scope | None = None, with_content: bool = True
    ) -> list[ArchivedDocument]:
        """The documents archived for a batch in ``scope``, oldest first."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        archive = fleet_tables()["archive"]
        columns = [column for column in archive.c if with_content or column.name != "content"]
        with self._guard("read the archived documents"), self._transaction(write=False) as conn:
            rows = conn.execute(
                sa.select(*columns)
                .where(archive.c.batch_id == batch_id, *scope_conditions(archive, scope))
                .order_by(archive.c.created_at, archive.c.id)
            ).all()
        return [
            ArchivedDocument(
                document_id=row.id,
                kind=row.kind,
                number=row.number,
                batch_id=row.batch_id,
                media_type=row.media_type,
                content=bytes(row.content) if with_content else b"",
                sha256=row.sha256,
                created_at=as_utc(row.created_at),
                retain_until=row.retain_until,
                tenant=row.tenant,
                organisation=row.organisation,
            )
            for row in rows
        ]
