"""The audit log in SQL: its table, append-only triggers, appending under a lock, and verifying in batches.

What an entry is and how the chain is checked is :mod:`tradein_sdk._domain.audit`; this module keeps the
chain in the ``tradein_audit_log`` table of the store's database.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import attrs

from tradein_sdk._domain.audit import (
    _ACTION_LENGTH,
    _ACTOR_LENGTH,
    _EPOCH,
    _HASH_LENGTH,
    _SEAL_LENGTH,
    _SUBJECT_LENGTH,
    AUDIT_CHAINS,
    AUDIT_TABLE,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_PROBLEMS,
    AuditAnchor,
    AuditEntry,
    AuditProblem,
    AuditProblemKind,
    AuditVerification,
    _build,
    _canonical,
    _LogCheck,
    _recompute,
    chain_of,
    genesis_hash,
)
from tradein_sdk._domain.money import Money
from tradein_sdk._errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from sqlalchemy import Connection, Engine, MetaData, Table

    from tradein_sdk._domain.checkpoints import AuditSeals


AUDIT_HEADS_TABLE = "tradein_audit_heads"
"""The table of each chain's head: its last sequence number and entry hash."""


def define_audit_log(
    metadata: MetaData, *, chains: bool = True, sealed: bool = True, name: str = AUDIT_TABLE
) -> Table:
    """Declare the ``tradein_audit_log`` table in ``metadata``.

    Args:
        metadata: where to declare it.
        chains: with ``chain`` (``chain``, ``sequence`` the primary key); ``False``: as migration 2 made it.
        sealed: with the ``seal`` column (migration 14).
        name: the table's name (another only while migration 13 rebuilds it).

    Returns:
        The table: ``chain`` and ``sequence`` (the primary key), ``recorded_at``, ``actor``, ``action``,
        ``subject`` (indexed), ``details`` (canonical JSON text), ``previous_hash`` (unique) and
        ``entry_hash``.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - SQLAlchemy loads with the first store

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    chain = [sa.Column("chain", sa.Integer, primary_key=True, autoincrement=False)] if chains else []
    return sa.Table(
        name,
        metadata,
        *chain,
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(_ACTOR_LENGTH), nullable=False),
        sa.Column("action", sa.String(_ACTION_LENGTH), nullable=False),
        sa.Column("subject", sa.String(_SUBJECT_LENGTH), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("previous_hash", sa.String(_HASH_LENGTH), nullable=False),
        sa.Column("entry_hash", sa.String(_HASH_LENGTH), nullable=False),
        *([sa.Column("seal", sa.String(_SEAL_LENGTH), nullable=True)] if chains and sealed else []),
        sa.UniqueConstraint("previous_hash", name=f"uq_{name}_previous_hash"),
        *([sa.Index("ix_tradein_audit_log_subject", "subject")] if name == AUDIT_TABLE else []),
    )


def define_audit_heads(metadata: MetaData) -> Table:
    """Declare the ``tradein_audit_heads`` table: per chain, its last ``sequence`` and ``entry_hash``."""
    import sqlalchemy as sa  # noqa: PLC0415 - SQLAlchemy loads with the first store

    return sa.Table(
        AUDIT_HEADS_TABLE,
        metadata,
        sa.Column("chain", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_hash", sa.String(_HASH_LENGTH), nullable=False),
    )


@cache
def audit_log_table() -> Table:
    """Return the audit log table, declared once in its own metadata."""
    return _audit_tables()[0]


@cache
def audit_heads_table() -> Table:
    """Return the chain heads table, declared once in its own metadata."""
    return _audit_tables()[1]


@cache
def _audit_tables() -> tuple[Table, Table]:
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    metadata = sa.MetaData()
    return define_audit_log(metadata), define_audit_heads(metadata)


# The table name and message are spelled out: these statements are fixed text, never built from input.
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS tradein_audit_log_no_update BEFORE UPDATE ON tradein_audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS tradein_audit_log_no_delete BEFORE DELETE ON tradein_audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS tradein_audit_log_no_replace BEFORE INSERT ON tradein_audit_log
WHEN EXISTS (SELECT 1 FROM tradein_audit_log
             WHERE sequence = NEW.sequence OR previous_hash = NEW.previous_hash)
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
)

_SQLITE_CHAIN_TRIGGERS = (
    *_SQLITE_TRIGGERS[:2],
    """CREATE TRIGGER IF NOT EXISTS tradein_audit_log_no_replace BEFORE INSERT ON tradein_audit_log
WHEN EXISTS (SELECT 1 FROM tradein_audit_log
             WHERE (chain = NEW.chain AND sequence = NEW.sequence) OR previous_hash = NEW.previous_hash)
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS tradein_audit_log_moves_head AFTER INSERT ON tradein_audit_log
BEGIN UPDATE tradein_audit_heads SET sequence = NEW.sequence, entry_hash = NEW.entry_hash
      WHERE chain = NEW.chain; END""",
)

_POSTGRESQL_HEAD_TRIGGER = (
    """CREATE OR REPLACE FUNCTION tradein_audit_log_move_head() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tradein_audit_heads SET sequence = NEW.sequence, entry_hash = NEW.entry_hash
    WHERE chain = NEW.chain;
    RETURN NULL;
END
$$""",
    "DROP TRIGGER IF EXISTS tradein_audit_log_moves_head ON tradein_audit_log",
    """CREATE TRIGGER tradein_audit_log_moves_head AFTER INSERT ON tradein_audit_log
FOR EACH ROW EXECUTE FUNCTION tradein_audit_log_move_head()""",
)
"""Each appended entry moves its chain's head row, in the database (one statement less per append)."""

_POSTGRESQL_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION tradein_audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only' USING HINT = TG_OP || ' on ' || TG_TABLE_NAME || ' refused';
END
$$""",
    "DROP TRIGGER IF EXISTS tradein_audit_log_append_only ON tradein_audit_log",
    """CREATE TRIGGER tradein_audit_log_append_only
BEFORE UPDATE OR DELETE OR TRUNCATE ON tradein_audit_log
FOR EACH STATEMENT EXECUTE FUNCTION tradein_audit_log_refuse_change()""",
)


def migration_audit(conn: Connection) -> None:
    """The migration step creating the audit log table and the triggers keeping it append-only.

    Runs inside the migration's transaction; it is safe to run on a database that already has them.

    Args:
        conn: a connection in a transaction, on SQLite or PostgreSQL.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    if sa.inspect(conn).has_table(AUDIT_TABLE):
        chains = any(column["name"] == "chain" for column in sa.inspect(conn).get_columns(AUDIT_TABLE))
    else:
        chains = False
        define_audit_log(sa.MetaData(), chains=False).create(conn)
    if conn.dialect.name == "postgresql":
        statements: tuple[str, ...] = _POSTGRESQL_TRIGGERS
    else:
        statements = _SQLITE_CHAIN_TRIGGERS if chains else _SQLITE_TRIGGERS
    for statement in statements:
        conn.execute(sa.text(statement))


def migration_audit_seals(conn: Connection) -> None:
    """The migration step adding the ``seal`` column (entries before it have none: see ``checkpoints``)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    conn.execute(sa.text(f"ALTER TABLE tradein_audit_log ADD COLUMN seal VARCHAR({_SEAL_LENGTH})"))


def migration_audit_chains(conn: Connection) -> None:
    """The migration step making the log :data:`AUDIT_CHAINS` chains, with a head row for each.

    The log's entries so far become chain 0 as they are (their numbers and hashes are unchanged); the
    primary key becomes ``(chain, sequence)``. On SQLite the table is rebuilt (the triggers dropped with it
    and made again); on PostgreSQL it is altered in place. A trigger moves a chain's head row with each entry
    inserted.

    Args:
        conn: a connection in a transaction, on SQLite or PostgreSQL.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    heads = define_audit_heads(sa.MetaData())
    heads.create(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE tradein_audit_log ADD COLUMN chain INTEGER NOT NULL DEFAULT 0"))
        conn.execute(sa.text("ALTER TABLE tradein_audit_log DROP CONSTRAINT tradein_audit_log_pkey"))
        conn.execute(sa.text("ALTER TABLE tradein_audit_log ADD PRIMARY KEY (chain, sequence)"))
        conn.execute(sa.text("ALTER TABLE tradein_audit_log ALTER COLUMN chain DROP DEFAULT"))
        for statement in _POSTGRESQL_HEAD_TRIGGER:
            conn.execute(sa.text(statement))
    else:
        rebuilt = define_audit_log(sa.MetaData(), sealed=False, name="tradein_audit_log_chains")
        rebuilt.create(conn)
        columns = "sequence, recorded_at, actor, action, subject, details, previous_hash, entry_hash"
        conn.execute(
            sa.text(
                f"INSERT INTO tradein_audit_log_chains (chain, {columns}) "  # noqa: S608 - fixed text
                f"SELECT 0, {columns} FROM tradein_audit_log ORDER BY sequence"
            )
        )
        conn.execute(sa.text("DROP TABLE tradein_audit_log"))  # its triggers and indexes with it
        conn.execute(sa.text("ALTER TABLE tradein_audit_log_chains RENAME TO tradein_audit_log"))
        conn.execute(sa.text("CREATE INDEX ix_tradein_audit_log_subject ON tradein_audit_log (subject)"))
        for statement in _SQLITE_CHAIN_TRIGGERS:
            conn.execute(sa.text(statement))
    log = audit_log_table()
    tail = conn.execute(
        sa.select(log.c.sequence, log.c.entry_hash)
        .where(log.c.chain == 0)
        .order_by(log.c.sequence.desc())
        .limit(1)
    ).first()
    rows = [
        {"chain": chain, "sequence": 0, "entry_hash": genesis_hash(chain)} for chain in range(AUDIT_CHAINS)
    ]
    if tail is not None:
        rows[0] = {"chain": 0, "sequence": tail.sequence, "entry_hash": tail.entry_hash}
    conn.execute(sa.insert(heads), rows)


# -- appending -------------------------------------------------------------------------------------------


def append_entry(
    conn: Connection,
    *,
    now: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
    chain: int | None = None,
    seals: AuditSeals | None = None,
) -> AuditEntry:
    """Append the next entry of its subject's chain to the audit log inside the caller's transaction.

    The caller's change and this entry commit together. The chain's head row is locked first (the inserted
    entry moves it, by trigger) and stays locked until the transaction ends, so writers of one chain follow
    one another and writers of other chains go on (on SQLite, begin the transaction with ``BEGIN
    IMMEDIATE``, as :class:`~tradein_sdk.SQLStore` does; on PostgreSQL use READ COMMITTED, its default).
    Appending entries of several chains in one transaction, append them in chain order (:func:`append_facts`
    does), so two such transactions cannot wait for each other.

    Args:
        conn: a connection inside the caller's transaction.
        now: when it happened (timezone-aware; from the injected clock).
        actor: who acted (``shopper``, ``staff``, ``provider``, ``system``).
        action: what happened (``order.shipped``).
        subject: the pseudonymous reference it happened to (``ord_...``); never a name or an e-mail.
        details: non-personal facts (see :func:`check_details`).
        chain: the chain to append to (default: :func:`chain_of` the subject).
        seals: the installation's sealing keys; the entry is sealed with the active one.

    Returns:
        The entry as stored.

    Raises:
        ValueError: ``now`` has no timezone.
        AuditPersonalDataError: a value looks like personal data; nothing was written.
        AuditEntryInvalidError: a field is empty, too long or not JSON; nothing was written.
        StoreError: the database failed; the caller's transaction must be rolled back.
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415 - sqlalchemy loads with the first statement

    number = chain_of(subject) if chain is None else chain
    claim, insert = _append_statements()
    try:
        head = conn.execute(claim, {"at_chain": number}).first()
        if head is None:
            raise StoreError(
                "the audit log has no head row for chain {chain}: migrate the store", chain=str(number)
            )
        entry = _build(
            head.sequence + 1,
            head.entry_hash,
            now=now,
            actor=actor,
            action=action,
            subject=subject,
            details=details,
            chain=number,
        )
        if seals is not None:
            entry = attrs.evolve(entry, seal=seals.seal(entry.entry_hash))
        conn.execute(
            insert,
            {
                "chain": number,
                "sequence": entry.sequence,
                "recorded_at": entry.recorded_at,
                "actor": entry.actor,
                "action": entry.action,
                "subject": entry.subject,
                "details": _canonical(entry.details),
                "previous_hash": entry.previous_hash,
                "entry_hash": entry.entry_hash,
                "seal": entry.seal,
            },
        )  # the table's trigger moves the head row to it
    except SQLAlchemyError as exc:
        raise StoreError("cannot append to the audit log: {reason}", reason=_reason(exc)) from exc
    return entry


@cache
def _append_statements() -> tuple[Any, Any]:
    """The two statements of an append, built once: read and lock the chain's head row, insert the entry.

    ``FOR UPDATE`` makes a second writer of the chain wait on PostgreSQL and then read the head the first one
    committed (READ COMMITTED re-reads a row it waited for); SQLite leaves it out: ``BEGIN IMMEDIATE`` holds
    the database's write lock already.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    log, heads = audit_log_table(), audit_heads_table()
    claim = (
        sa.select(heads.c.sequence, heads.c.entry_hash)
        .where(heads.c.chain == sa.bindparam("at_chain"))
        .with_for_update()
    )
    return claim, sa.insert(log)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def verify_chain(
    source: Connection | Engine,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    anchor: AuditAnchor | Iterable[AuditAnchor] | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
    seals: AuditSeals | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AuditVerification:
    """Verify the audit log in the database, chain by chain in sequence order, ``batch_size`` rows at a time.

    The checks are :func:`verify_entries`'s; a row whose content cannot even be read (details that are
    not a JSON object, a time that is not a time) is reported as ``modified``. Memory stays flat however
    long the log: only one batch is held at a time. Entries appended while it runs are checked too.

    Args:
        source: an engine (a read transaction is opened) or a connection (used as it is).
        batch_size: how many rows to read per query.
        anchor: points of the chains known from before (an earlier verification's ``heads``); the
            database's head rows are checked as anchors too.
        max_problems: how many problems to list; the rest are only counted.
        seals: the installation's sealing keys: every entry after its chain's anchor must carry a valid
            seal (``unsealed``).
        progress: called with (entries checked, entries in all) after every ``batch_size`` entries and
            once at the end; the entries checked never decrease. The total is what the chains' head rows
            count when the check starts (entries appended meanwhile raise it); the last call gives the
            entries checked for both.

    Returns:
        The verification, with every problem located by sequence number and position.

    Raises:
        StoreError: the database failed or has no audit log table.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415 - sqlalchemy loads with the first statement

    sealed = None if seals is None else seals.verifies
    try:
        if isinstance(source, sa.Engine):
            with source.execution_options(tradein_read_only=True).connect() as conn:
                recorded = _recorded_heads(conn)
                check = _LogCheck(anchor, max_problems, recorded=recorded, sealed=sealed)
                _stream(conn, check, batch_size, progress, _head_count(recorded))
        else:
            recorded = _recorded_heads(source)
            check = _LogCheck(anchor, max_problems, recorded=recorded, sealed=sealed)
            _stream(source, check, batch_size, progress, _head_count(recorded))
    except SQLAlchemyError as exc:
        raise StoreError("cannot verify the audit log: {reason}", reason=_reason(exc)) from exc
    return check.result()


def iter_entries(engine: Engine, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[AuditEntry]:
    """Every entry as stored, chain by chain in sequence order, read ``batch_size`` rows at a time.

    Raises:
        StoreError: the database failed, or a row cannot be read as an entry.
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415 - sqlalchemy loads with the first statement

    try:
        with engine.execution_options(tradein_read_only=True).connect() as conn:
            for row in _rows(conn, batch_size):
                try:
                    yield _entry_from_row(row)
                except (ValueError, TypeError) as exc:
                    raise StoreError(
                        "audit entry {chain}/{sequence} cannot be read: {reason}",
                        chain=str(row.chain),
                        sequence=str(row.sequence),
                        reason=str(exc),
                    ) from exc
    except SQLAlchemyError as exc:
        raise StoreError("cannot read the audit log: {reason}", reason=_reason(exc)) from exc


def _recorded_heads(conn: Connection) -> list[AuditAnchor]:
    """Each chain's head row, read before the entries (entries appended meanwhile only go past it)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    heads = audit_heads_table()
    rows = conn.execute(sa.select(heads.c.chain, heads.c.sequence, heads.c.entry_hash))
    return [AuditAnchor(sequence=row.sequence, entry_hash=row.entry_hash, chain=row.chain) for row in rows]


def _head_count(heads: Iterable[AuditAnchor]) -> int:
    """How many entries the chains' head rows count (each chain numbers its entries from 1)."""
    return sum(max(head.sequence, 0) for head in heads)


def _stream(
    conn: Connection,
    check: _LogCheck,
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> None:
    """Check the rows; ``progress`` hears (entries checked, entries in all) every batch and at the end."""
    done = 0
    for row in _rows(conn, batch_size):
        try:
            entry = _entry_from_row(row)
        except (ValueError, TypeError) as exc:
            placeholder = AuditEntry(
                sequence=row.sequence,
                recorded_at=_EPOCH,
                actor="",
                action="",
                subject="",
                details={},
                previous_hash=row.previous_hash,
                entry_hash=row.entry_hash,
                chain=row.chain,
            )
            check.add(placeholder, None, str(exc))
        else:
            check.add(entry, *_recompute(entry))
        done += 1
        if progress is not None and done % batch_size == 0:
            total = max(total, done)
            progress(done, total)
    if progress is not None and not (done and done % batch_size == 0 and total == done):
        progress(done, done)  # the last call: every entry checked, of as many


def _rows(conn: Connection, batch_size: int) -> Iterator[Any]:
    """Yield the rows chain by chain in sequence order, a batch per query (keyset on the primary key)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    table = audit_log_table()
    # Times are read as stored (text on SQLite) and parsed here, so a garbled one is a finding, not a crash.
    recorded_at = sa.type_coerce(
        table.c.recorded_at, sa.String if conn.dialect.name == "sqlite" else sa.DateTime
    )
    first = (
        sa.select(
            table.c.chain,
            table.c.sequence,
            recorded_at.label("recorded_at"),
            table.c.actor,
            table.c.action,
            table.c.subject,
            table.c.details,
            table.c.previous_hash,
            table.c.entry_hash,
            table.c.seal,
        )
        .order_by(table.c.chain, table.c.sequence)
        .limit(batch_size)
    )
    # The first batch has no lower bound: rows numbered 0 or below (never appended, so forged) are read too.
    following = first.where(
        sa.tuple_(table.c.chain, table.c.sequence) > sa.tuple_(sa.bindparam("chain"), sa.bindparam("after"))
    )
    batch = conn.execute(first).all()
    while True:
        yield from batch
        if len(batch) < batch_size:
            return
        batch = conn.execute(following, {"chain": batch[-1].chain, "after": batch[-1].sequence}).all()


def _entry_from_row(row: Any) -> AuditEntry:  # noqa: ANN401 - a SQLAlchemy Row
    details = json.loads(row.details)
    if not isinstance(details, dict):
        raise TypeError("details are not a JSON object")
    return AuditEntry(
        sequence=row.sequence,
        recorded_at=_stored_time(row.recorded_at),
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=details,
        previous_hash=row.previous_hash,
        entry_hash=row.entry_hash,
        chain=row.chain,
        seal=row.seal,
    )


def _stored_time(value: object) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"recorded_at is not a time: {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def verify_records(
    engine: Engine,
    chain: AuditVerification,
    *,
    quotes: Table,
    ledger: Table | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
) -> AuditVerification:
    """Compare stored quotes and ledger entries with the audit entries written with them.

    A quote whose amount, currency, expiry or document (by SHA-256) no longer matches what was audited at
    its issue, and a ledger entry that no ``ledger.posted`` entry lists with its amount (nor an audited
    billing run counts), was changed or written around the library: each is added to ``chain`` as
    ``record_changed``.

    Raises:
        StoreError: the database failed.
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415 - sqlalchemy loads with the first statement

    log = audit_log_table()
    problems = list(chain.problems)
    count = chain.problem_count
    try:
        with _snapshot(engine) as conn:  # quotes, ledger rows and their facts as of one moment
            found = _quote_problems(conn, quotes, log, batch_size)
            for problem in itertools.chain(
                found, () if ledger is None else _ledger_problems(conn, ledger, log)
            ):
                count += 1
                if len(problems) < max_problems:
                    problems.append(problem)
    except SQLAlchemyError as exc:
        raise StoreError("cannot verify the records: {reason}", reason=_reason(exc)) from exc
    if count == chain.problem_count:
        return chain
    return attrs.evolve(chain, ok=False, problems=tuple(problems), problem_count=count)


def _snapshot(engine: Engine) -> Any:  # noqa: ANN401 - a context manager of Connection
    """A read connection whose queries all see one moment.

    REPEATABLE READ on PostgreSQL; a SQLite read transaction is one snapshot already. A row and the audit
    entry written with it commit together, so a check reading them in two queries must not see one without
    the other (under load it reported a ledger entry "never audited" that was committed in between).
    """
    options: dict[str, Any] = {"tradein_read_only": True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    return engine.execution_options(**options).connect()


def _quote_problems(conn: Connection, quotes: Table, log: Table, batch_size: int) -> Iterator[AuditProblem]:
    """Each stored quote against the ``quote.issued`` entry of its issue, in batches."""
    import hashlib  # noqa: PLC0415 - only a verification needs it

    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    redacted = {  # a quote stored anew at its customer's erasure: its latest audited document
        row.subject: json.loads(row.details).get("document")
        for row in conn.execute(
            sa.select(log.c.subject, log.c.details)
            .where(log.c.action == "quote.redacted")
            .order_by(log.c.chain, log.c.sequence)
        )
    }
    last = (-1, 0)
    while True:
        rows = conn.execute(
            sa.select(
                log.c.chain,
                log.c.sequence,
                log.c.details,
                quotes.c.id,
                quotes.c.amount,
                quotes.c.currency,
                quotes.c.expires_at,
                quotes.c.document,
            )
            .join(quotes, quotes.c.id == log.c.subject)
            .where(log.c.action == "quote.issued", sa.tuple_(log.c.chain, log.c.sequence) > sa.tuple_(*last))
            .order_by(log.c.chain, log.c.sequence)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        for row in rows:
            last = (int(row.chain), int(row.sequence))
            audited = json.loads(row.details)
            if row.id in redacted:
                audited = {**audited, "document": redacted[row.id]}
            stored = {
                "amount": {"amount": str(row.amount), "currency": row.currency},
                "expires_at": _as_utc(row.expires_at).isoformat(),
                "document": "sha256:" + hashlib.sha256(row.document.encode()).hexdigest(),
            }
            changed = [
                field
                for field, value in stored.items()
                if field in audited and _normal(audited[field]) != _normal(value)
            ]
            if changed:
                yield AuditProblem(
                    kind=AuditProblemKind.RECORD_CHANGED,
                    sequence=last[1],
                    position=0,
                    message=f"quote {row.id} was changed after its issue was audited: " + ", ".join(changed),
                    chain=last[0],
                )


def _ledger_problems(conn: Connection, ledger: Table, log: Table) -> Iterator[AuditProblem]:
    """Each ledger entry against the audit entry that posted it (or its billing run's count and totals).

    An entry nobody audited, or one whose amount differs, was written around the library.
    """
    from decimal import Decimal  # noqa: PLC0415 - only a verification needs it

    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    audited: dict[str, tuple[Decimal, int]] = {}
    runs: dict[str, tuple[int, dict[str, Decimal], int]] = {}
    facts = conn.execute(
        sa.select(log.c.sequence, log.c.action, log.c.subject, log.c.details).where(
            log.c.action.in_(["ledger.posted", "ledger.installments_credited"])
        )
    )
    for fact in facts:
        details = json.loads(fact.details)
        if fact.action == "ledger.posted":
            for entry_id, _device, _kind, amount in details.get("entries", []):
                audited[entry_id] = (Decimal(amount), int(fact.sequence))
        else:
            totals = {key: Decimal(value["amount"]) for key, value in details.get("totals", {}).items()}
            runs[fact.subject] = (int(details.get("count", 0)), totals, int(fact.sequence))
    counted: dict[str, tuple[int, dict[str, Decimal]]] = {}
    rows = conn.execute(
        sa.select(ledger.c.id, ledger.c.kind, ledger.c.amount_minor, ledger.c.currency, ledger.c.cause)
    )
    for row in rows:
        amount = Money.from_minor(int(row.amount_minor), row.currency).amount
        if row.kind == "installment_credited" and row.cause in runs:
            number, totals = counted.get(row.cause, (0, {}))
            totals[row.currency] = totals.get(row.currency, Decimal(0)) + amount
            counted[row.cause] = (number + 1, totals)
            continue
        expected = audited.pop(row.id, None)
        if expected is None or expected[0] != amount:
            yield AuditProblem(
                kind=AuditProblemKind.RECORD_CHANGED,
                sequence=0 if expected is None else expected[1],
                position=0,
                message=f"ledger entry {row.id} ({row.kind}, {amount} {row.currency}) "
                + ("was never audited" if expected is None else "differs from its audited amount"),
            )
    for entry_id, (_, sequence) in audited.items():
        yield AuditProblem(
            kind=AuditProblemKind.RECORD_CHANGED,
            sequence=sequence,
            position=0,
            message=f"ledger entry {entry_id} was audited but is missing",
        )
    for cause, (number, totals, sequence) in runs.items():
        if counted.get(cause, (0, {})) != (number, totals):
            yield AuditProblem(
                kind=AuditProblemKind.RECORD_CHANGED,
                sequence=sequence,
                position=0,
                message=f"billing run {cause} credited other installments than it audited",
            )


def _normal(value: object) -> object:
    """Amounts compared as decimals (``195.0`` and ``195.00`` are the same amount)."""
    if isinstance(value, dict) and "amount" in value:
        from decimal import Decimal, InvalidOperation  # noqa: PLC0415 - only a verification needs it

        try:
            return (Decimal(str(value["amount"])), value.get("currency"))
        except InvalidOperation:
            return value
    return value


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
