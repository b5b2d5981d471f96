"""The settlement ledger in SQL: its table, append-only triggers, posting, the billing run and period sums.

What an entry means and how balances are netted is :mod:`tradein_sdk._domain.ledger`; this module keeps
the entries in ``tradein_ledger_entries``. Amounts are stored in minor units (integers), so the period
report sums them in the database exactly. An installment is settled (credited or stopped) at most once:
the settling entry's id is derived from the installment's, and ``settles`` is unique.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tradein_sdk._domain.ledger import ENTRY_PREFIX, SETTLES_PREFIX, EntryKind, LedgerEntry
from tradein_sdk._domain.money import Money

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import Connection, MetaData, Table

LEDGER_TABLE = "tradein_ledger_entries"


def define_ledger(metadata: MetaData) -> Table:
    """Declare the ledger table in ``metadata``."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    return sa.Table(
        LEDGER_TABLE,
        metadata,
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(16), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("cause", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(120), nullable=True),
        sa.Column("due_period", sa.String(7), nullable=True),
        sa.Column("settles", sa.String(64), nullable=True, unique=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Index("ix_tradein_ledger_order", "order_id", "sequence"),
        sa.Index("ix_tradein_ledger_at", "at"),
        sa.Index("ix_tradein_ledger_due", "kind", "due_period"),
        sa.Index("ix_tradein_ledger_cause", "cause"),
    )


_SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS tradein_ledger_no_update BEFORE UPDATE ON tradein_ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS tradein_ledger_no_delete BEFORE DELETE ON tradein_ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
)
_POSTGRESQL_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION tradein_ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only' USING HINT = TG_OP || ' on ' || TG_TABLE_NAME || ' refused';
END
$$""",
    "DROP TRIGGER IF EXISTS tradein_ledger_append_only ON tradein_ledger_entries",
    """CREATE TRIGGER tradein_ledger_append_only
BEFORE UPDATE OR DELETE OR TRUNCATE ON tradein_ledger_entries
FOR EACH STATEMENT EXECUTE FUNCTION tradein_ledger_refuse_change()""",
)


def migration_ledger(conn: Connection) -> None:
    """The migration step creating the ledger table and the triggers keeping it append-only."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    define_ledger(sa.MetaData()).create(conn, checkfirst=True)
    statements = _POSTGRESQL_TRIGGERS if conn.dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in statements:
        conn.execute(sa.text(statement))


def entry_values(entry: LedgerEntry) -> dict[str, Any]:
    """The row of an entry."""
    return {
        "id": entry.entry_id,
        "order_id": entry.order_id,
        "device_id": entry.device_id,
        "kind": entry.kind.value,
        "amount_minor": entry.amount.to_minor(),
        "currency": entry.amount.currency,
        "at": entry.at,
        "cause": entry.cause[:255],
        "reason": entry.reason,
        "due_period": entry.due_period,
        "settles": entry.settles,
        "details": json.dumps(dict(entry.details), sort_keys=True),
    }


def entry_from_row(row: Any) -> LedgerEntry:  # noqa: ANN401 - a SQLAlchemy Row
    """The entry of a row."""
    return LedgerEntry(
        entry_id=row.id,
        order_id=row.order_id,
        device_id=row.device_id,
        kind=EntryKind(row.kind),
        amount=Money.from_minor(row.amount_minor, row.currency),
        at=row.at,
        cause=row.cause,
        reason=row.reason,
        due_period=row.due_period,
        settles=row.settles,
        details=json.loads(row.details),
    )


def insert_entries(conn: Connection, table: Table, entries: Sequence[LedgerEntry]) -> None:
    """Append entries in the caller's transaction (an id already posted fails the transaction)."""
    if entries:
        conn.execute(table.insert(), [entry_values(entry) for entry in entries])


def credit_due(
    conn: Connection,
    table: Table,
    *,
    period: str,
    now: datetime,
    cause: str,
    ids: Sequence[str] | None = None,
    orders: Any = None,  # noqa: ANN401 - a SELECT of order ids
) -> None:
    """Credit every installment due up to ``period`` that is neither credited nor stopped, in one statement.

    ``orders`` (a ``SELECT`` of order ids) keeps the run to those orders (a tenant's or organisation's).

    The entries written carry ``cause``: count and sum them by it (a driver may not report the row count
    of an ``INSERT ... SELECT``).
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    due = table.alias("due")
    settled = table.alias("settled")
    source = sa.select(
        (sa.literal(SETTLES_PREFIX) + sa.func.substr(due.c.id, len(ENTRY_PREFIX) + 1)).label("id"),
        due.c.order_id,
        due.c.device_id,
        sa.literal(EntryKind.INSTALLMENT_CREDITED.value).label("kind"),
        due.c.amount_minor,
        due.c.currency,
        sa.literal(now, type_=table.c.at.type).label("at"),
        sa.literal(cause).label("cause"),
        due.c.due_period.label("reason"),
        due.c.due_period,
        due.c.id.label("settles"),
        sa.literal("{}").label("details"),
    ).where(
        due.c.kind == EntryKind.INSTALLMENT_DUE.value,
        due.c.due_period <= period,
        ~sa.exists().where(settled.c.settles == due.c.id),
        *([due.c.id.in_(ids)] if ids is not None else []),
        *([due.c.order_id.in_(orders)] if orders is not None else []),
    )
    columns = [
        "id",
        "order_id",
        "device_id",
        "kind",
        "amount_minor",
        "currency",
        "at",
        "cause",
        "reason",
        "due_period",
        "settles",
        "details",
    ]
    conn.execute(table.insert().from_select(columns, source))
