"""Webhook receipts: the received event ids, so a repeated delivery is recognized (deduplication in SQL)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Final

from tradein_sdk._adapters.sql.dialects import dialect_insert
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.webhooks import _MAX_TYPE_LENGTH, WebhookEvent
from tradein_sdk._errors import ConfigurationError, StoreError

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Connection, Table

WEBHOOK_RECEIPTS_TABLE: Final = "tradein_webhook_receipts"
"""The table of received event ids."""


# -- deduplication ---------------------------------------------------------------------------------------


@cache
def _receipts_table() -> Table:
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    return sa.Table(
        WEBHOOK_RECEIPTS_TABLE,
        sa.MetaData(),
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(_MAX_TYPE_LENGTH), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("applied", sa.Boolean, nullable=False),
        sa.Index("ix_tradein_webhook_receipts_received_at", "received_at"),
    )


def migration_webhooks(conn: Connection) -> None:
    """The migration step creating ``tradein_webhook_receipts``; safe on a database that has it already.

    Columns: ``id`` (the event id, primary key), ``type``, ``received_at`` (UTC) and ``applied`` (whether
    the handler acted on it), with an index on ``received_at`` for :func:`purge_receipts`.

    Args:
        conn: a connection in the migration's transaction, on SQLite or PostgreSQL.
    """
    _receipts_table().create(conn, checkfirst=True)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def record_receipt(conn: Connection, event: WebhookEvent, *, now: datetime, applied: bool = True) -> bool:
    """Record that ``event`` was received, inside the caller's transaction; say if it is the first time.

    Apply the event's state change in the same transaction only when this returns ``True``, then commit;
    on ``False`` acknowledge the delivery (2xx) and change nothing. A concurrent delivery of the same id
    waits for this transaction: if it commits, the other gets ``False``; if it rolls back, the receipt
    goes with it and the other delivery applies the event. On SQLite, begin the transaction with
    ``BEGIN IMMEDIATE`` when the handler reads before it writes.

    Args:
        conn: a connection inside the caller's write transaction.
        event: the verified event.
        now: when it was received (timezone-aware; from the injected clock).
        applied: ``False`` to record an event deliberately not acted on (a type the handler does not
            know), so that its redeliveries are still acknowledged once.

    Returns:
        ``True`` the first time the event's id is recorded, ``False`` for every repeat.

    Raises:
        ConfigurationError: the database is neither SQLite nor PostgreSQL.
        StoreError: the database failed (no receipt table, for one); roll the transaction back.
        ValueError: ``now`` has no timezone.
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415 - sqlalchemy loads with the first statement

    dialect = conn.dialect.name
    if dialect not in {"sqlite", "postgresql"}:
        raise ConfigurationError("webhook receipts need SQLite or PostgreSQL, not {dialect}", dialect=dialect)
    table = _receipts_table()
    statement = (
        dialect_insert(dialect)(table)
        .values(id=event.id, type=event.type, received_at=as_utc(now), applied=applied)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table.c.id)
    )
    try:
        return conn.execute(statement).first() is not None
    except SQLAlchemyError as exc:
        raise StoreError("cannot record the webhook receipt: {reason}", reason=_reason(exc)) from exc


def purge_receipts(conn: Connection, *, received_before: datetime) -> int:
    """Delete the receipts received before a time, inside the caller's transaction.

    Choose a time further back than the sender's retry horizon (:attr:`RetrySchedule.horizon`, about
    83 h for the standard schedule with its jitter): a delivery retried after its receipt is gone would
    be applied again.

    Args:
        conn: a connection inside the caller's write transaction.
        received_before: receipts received strictly before this time are deleted (timezone-aware).

    Returns:
        How many receipts were deleted.

    Raises:
        StoreError: the database failed; roll the transaction back.
        ValueError: ``received_before`` has no timezone.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415 - sqlalchemy loads with the first statement

    table = _receipts_table()
    statement = sa.delete(table).where(table.c.received_at < as_utc(received_before))
    try:
        return int(conn.execute(statement).rowcount)
    except SQLAlchemyError as exc:
        raise StoreError("cannot purge webhook receipts: {reason}", reason=_reason(exc)) from exc
