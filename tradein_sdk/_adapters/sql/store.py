"""The store port and its SQL adapter (SQLAlchemy Core): SQLite by default, PostgreSQL for many instances.

Guarantees:

- **Exactly-once redemption** is enforced by the database, not by Python: a conditional ``UPDATE ... WHERE
  redeemed_at IS NULL AND expires_at > now`` claims the quote (one row or none), and the redemption row
  it writes has a unique ``quote_id``. Concurrent callers on threads, processes or machines get one
  success; the rest get :class:`QuoteAlreadyRedeemedError`.
- **Nothing half-written**: each operation is one transaction; a database failure raises
  :class:`StoreError` and leaves the data as it was.
- **Schema migrations**: versioned steps, applied in order on start (:meth:`SQLStore.migrate`), under a
  lock (PostgreSQL advisory lock; SQLite's immediate write transaction), so several instances starting
  together upgrade once.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts ``BEGIN IMMEDIATE`` so two
writers queue instead of failing half-way.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from tradein_sdk._adapters.sql.dialects import dialect_insert, ping_when_idle
from tradein_sdk._adapters.sql.erasure import ErasureMixin, migration_erasure
from tradein_sdk._adapters.sql.fleet import FleetMixin, define_fleet
from tradein_sdk._adapters.sql.guarantees import (
    GuaranteeMixin,
    change_guarantees,
    define_guarantees,
    insert_guarantees,
    migration_guarantee_orders,
)
from tradein_sdk._adapters.sql.indexes import migration_listing_indexes, not_indexed
from tradein_sdk._adapters.sql.ledger import (
    credit_due,
    define_ledger,
    entry_from_row,
    entry_values,
    insert_entries,
    migration_ledger,
)
from tradein_sdk._adapters.sql.tenancy import (
    TenancyMixin,
    add_owner_columns,
    append_facts,
    bound_scope,
    bound_scope_conditions,
    define_tenancy,
    migration_tenancy,
    scope_conditions,
)
from tradein_sdk._domain.clock import Clock, SystemClock, as_utc
from tradein_sdk._domain.identifiers import is_known_id
from tradein_sdk._domain.ledger import PROMOTION_KINDS, EntryKind, LedgerEntry
from tradein_sdk._domain.money import Money
from tradein_sdk._errors import (
    CheckoutChangedError,
    ConcurrentUpdateError,
    ConfigurationError,
    IdempotencyKeyInUseError,
    IdempotencyKeyReusedError,
    NotFoundError,
    OrderNotFoundError,
    PromotionExhaustedError,
    QuoteAlreadyRedeemedError,
    QuoteExpiredError,
    QuoteNotFoundError,
    QuoteNotRedeemableError,
    StoreError,
)
from tradein_sdk._ports import (
    AuditFact,
    CheckoutRecord,
    DeadWebhook,
    GuaranteeChange,
    GuaranteeRecord,
    LedgerSum,
    OrderRecord,
    OutboxCounts,
    PendingWebhook,
    PersonalData,
    PromotionChange,
    PromotionUse,
    QuoteRecord,
    Redemption,
    StoredDocument,
    StoredResponse,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from sqlalchemy import Connection, Engine

    from tradein_sdk._domain.audit import AuditAnchor, AuditEntry, AuditVerification
    from tradein_sdk._domain.checkpoints import AuditSeals
    from tradein_sdk._domain.outbox import OutboxMessage
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._domain.webhooks import WebhookEvent

SQLITE_BUSY_TIMEOUT_MS = 30_000
_MIGRATION_LOCK_ID = 0x7472_6164  # "trad": the PostgreSQL advisory lock key for migrations


# -- schema ----------------------------------------------------------------------------------------------


def _define_v1(metadata: Any) -> None:  # noqa: ANN401 - a sqlalchemy.MetaData
    """Declare the tables of schema version 1: documents, quotes and their redemptions."""
    import sqlalchemy as sa  # noqa: PLC0415 - SQLAlchemy loads with the first store

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    sa.Table(
        "tradein_documents",
        metadata,
        sa.Column("content_hash", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    sa.Table(
        "tradein_quotes",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("audience", sa.String(120), nullable=False),
        sa.Column("redeemable", sa.Boolean, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("redeemed_at", UTCDateTime, nullable=True),
        sa.Index("ix_tradein_quotes_issued_at", "issued_at"),
    )
    sa.Table(
        "tradein_redemptions",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("quote_id", sa.String(64), sa.ForeignKey("tradein_quotes.id"), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("redeemed_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("quote_id", name="uq_tradein_redemptions_quote_id"),
    )


def _migration_webhooks(conn: Connection) -> None:
    """Create the table that deduplicates received webhook events by id."""
    from tradein_sdk._adapters.sql.receipts import (  # noqa: PLC0415 - keeps receipts out of `from tradein_sdk import TradeIn`
        migration_webhooks,
    )

    migration_webhooks(conn)


def _migration_audit(conn: Connection) -> None:
    """Create the hash-chained audit log and the triggers that make it append-only."""
    from tradein_sdk._adapters.sql.audit import migration_audit  # noqa: PLC0415 - keeps the audit log out of `from tradein_sdk import TradeIn`

    migration_audit(conn)


def _define_v3(metadata: Any) -> None:  # noqa: ANN401 - a sqlalchemy.MetaData
    """Declare the tables of schema version 3: orders, and personal data kept apart from them."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    sa.Table(
        "tradein_orders",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("customer_ref", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("next_deadline_at", UTCDateTime, nullable=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Index("ix_tradein_orders_due", "closed", "next_deadline_at"),
        sa.Index("ix_tradein_orders_customer", "customer_ref"),
    )
    sa.Table(
        "tradein_personal_data",
        metadata,
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_ref", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("erased_at", UTCDateTime, nullable=True),
        sa.Index("ix_tradein_personal_data_subject", "subject_ref"),
    )


def _define_v4(metadata: Any) -> None:  # noqa: ANN401 - a sqlalchemy.MetaData
    """Declare the tables of schema version 4: confirmed checkouts and promotion budgets."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    sa.Table(
        "tradein_checkouts",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), sa.ForeignKey("tradein_orders.id"), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    sa.Table(
        "tradein_promotion_usage",
        metadata,
        sa.Column("promotion_id", sa.String(120), primary_key=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("redemptions", sa.Integer, nullable=False),
        sa.Column("spent_minor", sa.BigInteger, nullable=False),
    )


def _migration_4(conn: Connection) -> None:
    """Create the tables of schema version 4."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    metadata = sa.MetaData()
    _define_v3(metadata)  # the foreign key's target, already created by migration 3
    _define_v4(metadata)
    metadata.create_all(
        conn, tables=[metadata.tables["tradein_checkouts"], metadata.tables["tradein_promotion_usage"]]
    )


def _define_v6(metadata: Any) -> None:  # noqa: ANN401 - a sqlalchemy.MetaData
    """Declare the table of schema version 6: idempotency keys of the HTTP service and their answers."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    sa.Table(
        "tradein_idempotency_keys",
        metadata,
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("locked_at", UTCDateTime, nullable=True),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("content_type", sa.String(80), nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Index("ix_tradein_idempotency_keys_created_at", "created_at"),
    )


def _define_v7(metadata: Any) -> None:  # noqa: ANN401 - a sqlalchemy.MetaData
    """Declare the table of schema version 7: the outbox of webhooks the service sends."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    sa.Table(
        "tradein_webhook_outbox",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("endpoint", sa.String(2000), nullable=False),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.UniqueConstraint("event_id", "endpoint", name="uq_tradein_webhook_outbox_event_endpoint"),
        sa.Index("ix_tradein_webhook_outbox_due", "done", "next_attempt_at"),
    )


def _creating(define: Callable[[Any], object]) -> Callable[[Connection], None]:
    """A migration step that creates the tables ``define`` declares."""

    def step(conn: Connection) -> None:
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        metadata = sa.MetaData()
        define(metadata)
        metadata.create_all(conn)

    step.__doc__ = f"Create what {define.__name__} declares."
    return step


@cache
def tables() -> dict[str, Any]:
    """The current table definitions (what the last migration produces), built on first use.

    A migration's own definitions stay frozen once released; when a later migration changes a table,
    this function declares the table as it is after all migrations.
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    metadata = sa.MetaData()
    _define_v1(metadata)
    _define_v3(metadata)
    _define_v4(metadata)
    _define_v6(metadata)
    _define_v7(metadata)
    migrations = sa.Table(
        "tradein_schema_migrations",
        metadata,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("applied_at", UTCDateTime, nullable=False),
    )
    add_owner_columns(metadata.tables)
    orders = metadata.tables["tradein_orders"]
    orders.append_column(sa.Column("reminders_from", UTCDateTime, nullable=True))
    sa.Index("ix_tradein_orders_reminders", orders.c.closed, orders.c.reminders_from)
    api_keys, endpoints = define_tenancy(metadata)
    return {
        "schema_migrations": migrations,
        "api_keys": api_keys,
        "webhook_endpoints": endpoints,
        "documents": metadata.tables["tradein_documents"],
        "orders": metadata.tables["tradein_orders"],
        "checkouts": metadata.tables["tradein_checkouts"],
        "promotion_usage": metadata.tables["tradein_promotion_usage"],
        "personal_data": metadata.tables["tradein_personal_data"],
        "quotes": metadata.tables["tradein_quotes"],
        "redemptions": metadata.tables["tradein_redemptions"],
        "idempotency_keys": metadata.tables["tradein_idempotency_keys"],
        "webhook_outbox": metadata.tables["tradein_webhook_outbox"],
        "ledger": define_ledger(metadata),
    }


def _define_v9(metadata: Any) -> None:  # noqa: ANN401 - a sqlalchemy.MetaData
    """Declare the table of schema version 9: the last claimed slot of each periodic job of the worker."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    sa.Table(
        "tradein_schedule",
        metadata,
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("slot", UTCDateTime, nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
    )


@cache
def _schedule_table() -> Any:  # noqa: ANN401 - a sqlalchemy.Table
    """The schedule table as version 9 declares it (kept apart from :func:`tables` until it is merged)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    metadata = sa.MetaData()
    _define_v9(metadata)
    return metadata.tables["tradein_schedule"]


def _migration_deadlines(conn: Connection) -> None:
    """Migration 11: ``reminders_from`` with its index; both deadlines of open orders computed again.

    ``next_deadline_at`` used to keep a send-by deadline after the device was sent, so settled orders stayed
    "due" for ever; it now names time-driven actions only. Orders are computed with the default delivery
    policy here (a shop's own policy applies from the order's next change).
    """
    import json  # noqa: PLC0415 - with the migration

    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._domain.converters import json_converter  # noqa: PLC0415 - with the migration
    from tradein_sdk._domain.orders.deadlines import next_action_at, reminders_from  # noqa: PLC0415
    from tradein_sdk._domain.orders.model import TradeInOrder  # noqa: PLC0415

    conn.execute(sa.text("ALTER TABLE tradein_orders ADD COLUMN reminders_from " + _datetime_type(conn)))
    conn.execute(
        sa.text("CREATE INDEX ix_tradein_orders_reminders ON tradein_orders (closed, reminders_from)")
    )
    orders = tables()["orders"]
    converter = json_converter()
    rows = conn.execute(sa.select(orders.c.id, orders.c.document).where(orders.c.closed.is_(False))).all()
    for order_id, document in rows:
        order = converter.structure(json.loads(document), TradeInOrder)
        conn.execute(
            sa.update(orders)
            .where(orders.c.id == order_id)
            .values(next_deadline_at=next_action_at(order), reminders_from=reminders_from(order))
        )


def _migration_chains(conn: Connection) -> None:
    """Migration 13: the audit log in chains (see :func:`.audit.migration_audit_chains`)."""
    from tradein_sdk._adapters.sql.audit import migration_audit_chains  # noqa: PLC0415 - keeps the audit log out of `from tradein_sdk import TradeIn`

    migration_audit_chains(conn)


def _migration_seals(conn: Connection) -> None:
    """Migration 14: the audit log's ``seal`` column (see :func:`.audit.migration_audit_seals`)."""
    from tradein_sdk._adapters.sql.audit import migration_audit_seals  # noqa: PLC0415 - keeps the audit log out of `from tradein_sdk import TradeIn`

    migration_audit_seals(conn)


def _datetime_type(conn: Connection) -> str:
    """The column type ``UTCDateTime`` has on this connection's dialect."""
    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    return str(UTCDateTime().dialect_impl(conn.dialect).compile(dialect=conn.dialect))


MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "documents, quotes and redemptions", _creating(_define_v1)),
    (2, "audit log, append-only (triggers)", _migration_audit),
    (3, "orders and personal data", _creating(_define_v3)),
    (4, "checkouts and promotion budgets", _migration_4),
    (5, "webhook receipts (deduplication by event id)", _migration_webhooks),
    (6, "idempotency keys of the HTTP service", _creating(_define_v6)),
    (7, "outbox of the webhooks the service sends", _creating(_define_v7)),
    (8, "settlement ledger, append-only (triggers)", migration_ledger),
    (9, "schedule slots of the worker's periodic jobs", _creating(_define_v9)),
    (10, "tenants: owners of quotes and orders, API keys, webhook endpoints", migration_tenancy),
    (11, "deadlines of time-driven actions only; when reminders start", _migration_deadlines),
    (12, "indexes for each listing's filters in order (orders, dead webhooks)", migration_listing_indexes),
    (
        13,
        "audit log in chains, each with a head row (writers of different orders do not wait)",
        _migration_chains,
    ),
    (14, "a seal on each audit entry (the installation's keyed MAC of its hash)", _migration_seals),
    (15, "erasure certificates and their revocations", migration_erasure),
    (
        16,
        "fleet: company accounts, batches and lines, document numbers, document archive",
        _creating(define_fleet),
    ),
    (17, "buy-back guarantee contracts", _creating(define_guarantees)),
    (
        18,
        "guarantee contracts: the order that sold each, the order exercising it, its liability's release",
        migration_guarantee_orders,
    ),
)
"""The schema's history: (version, description, step). Append new steps; never edit an applied one."""


# -- the SQL adapter -------------------------------------------------------------------------------------


def engine_url(url: str) -> str:
    """Return a SQLAlchemy URL with the driver the library uses (psycopg 3 for PostgreSQL).

    Raises:
        ConfigurationError: the URL is neither SQLite nor PostgreSQL.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+psycopg://", "sqlite://", "sqlite+pysqlite://")):
        return url
    raise ConfigurationError(
        "unsupported database URL {url!r}: use sqlite:///FILE or postgresql://...",
        url=url.rsplit("@", maxsplit=1)[-1],
    )


class SQLStore(TenancyMixin, ErasureMixin, FleetMixin, GuaranteeMixin):
    """The store on a SQL database: a SQLite file by default, PostgreSQL for several shop instances.

    >>> store = SQLStore("sqlite:///:memory:")   # or SQLStore.sqlite_file(path), or a postgresql:// URL
    """

    def __init__(
        self,
        url: str,
        *,
        migrate: bool = True,
        clock: Clock | None = None,
        pool_size: int | None = None,
        audit_seals: AuditSeals | None = None,
    ) -> None:
        """Connect to the database at ``url`` and, unless told not to, apply pending migrations.

        Args:
            url: ``sqlite:///path/to/file.db`` or ``postgresql://user@host/db``.
            migrate: apply pending schema migrations now.
            clock: where the time of a migration comes from (the system clock by default).
            pool_size: how many connections to keep open (SQLAlchemy's default when omitted); as many
                again may be opened under load.
            audit_seals: the installation's sealing keys: every audit entry is sealed, and
                :meth:`verify_audit` checks the seals of the entries after the last checkpoint (see
                :mod:`tradein_sdk._domain.checkpoints`). Without them entries are not sealed.

        Raises:
            ConfigurationError: the URL is not supported.
            StoreError: the database cannot be reached or migrated.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        self.url = engine_url(url)
        self.dialect = self.url.split(":", 1)[0].split("+", 1)[0]
        options: dict[str, Any] = {}
        if self.dialect == "sqlite":
            options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        if pool_size is not None:
            options["pool_size"] = pool_size
            options["max_overflow"] = pool_size
        self._engine: Engine = sa.create_engine(self.url, **options)
        if self.dialect == "sqlite":
            _configure_sqlite(self._engine)
        else:
            ping_when_idle(self._engine)  # not a ping per checkout: see ping_when_idle
        self._t = tables()
        self._clock = clock or SystemClock()
        self._known: set[str] = set()  # document hashes this instance has stored
        self._insert_quote = sa.insert(self._t["quotes"])
        self._statements: dict[tuple[Any, ...], Any] = {}  # the hot paths' statements (_statement)
        self._audit_seals = audit_seals
        if migrate:
            self.migrate()

    @classmethod
    def sqlite_file(cls, path: Path) -> SQLStore:
        """Open (creating it if needed) the SQLite database file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{path}")

    # -- plumbing --------------------------------------------------------------------------------------

    def _transaction(self, *, write: bool = True) -> Any:  # noqa: ANN401 - a context manager of Connection
        engine = self._engine if write else self._engine.execution_options(tradein_read_only=True)
        return engine.begin()

    def _guard(self, action: str) -> _Guard:
        return _Guard(action)

    def _append_facts(
        self,
        conn: Connection,
        facts: Iterable[AuditFact],
        *,
        now: datetime,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Append each fact to the audit log in the caller's transaction, sealed with the store's seals."""
        append_facts(conn, facts, now=now, extra=extra, seals=self._audit_seals)

    def _statement(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:  # noqa: ANN401 - a statement
        """The statement ``key`` names, built the first time (parameters are bound per call)."""
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = build()
        return statement

    # -- Store -----------------------------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply pending migrations in order, once, even with several instances starting together.

        Returns:
            The schema version now in force.

        Raises:
            StoreError: a migration failed; it was rolled back.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["schema_migrations"]
        with self._guard("migrate"), self._transaction() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_ID})
            table.create(conn, checkfirst=True)
            applied = set(conn.execute(sa.select(table.c.version)).scalars())
            for version, description, step in MIGRATIONS:
                if version not in applied:
                    step(conn)
                    conn.execute(
                        sa.insert(table).values(
                            version=version, description=description, applied_at=self._clock.now()
                        )
                    )
            return max(applied | {version for version, _, _ in MIGRATIONS})

    def schema_version(self) -> int:
        """Return the highest applied migration (0 for an empty database)."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["schema_migrations"]
        with self._guard("read the schema version"), self._transaction(write=False) as conn:
            if not sa.inspect(conn).has_table(table.name):
                return 0
            return int(conn.execute(sa.select(sa.func.max(table.c.version))).scalar() or 0)

    def add_document(self, *, kind: str, content_hash: str, document: str) -> None:
        """Keep a document (a questionnaire, a price book) under its content hash, once.

        Quotes name the documents they were computed from by hash, so a quote can be reproduced
        exactly later, whatever has changed since.

        Raises:
            StoreError: the database failed.
        """
        stored = StoredDocument(kind=kind, content_hash=content_hash, text=document)
        with self._guard("store the document"), self._transaction() as conn:
            conn.execute(self._insert_document(stored))
        self._known.add(content_hash)

    def get_document(self, content_hash: str) -> str:
        """Return the document stored under ``content_hash``.

        Raises:
            NotFoundError: no document has that hash.
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        documents = self._t["documents"]
        with self._guard("read the document"), self._transaction(write=False) as conn:
            text = conn.execute(
                sa.select(documents.c.document).where(documents.c.content_hash == content_hash)
            ).scalar()
        if text is None:
            raise NotFoundError("no document {content_hash} is stored", content_hash=content_hash)
        return str(text)

    def add_quote(
        self,
        record: QuoteRecord,
        *,
        documents: Iterable[StoredDocument] = (),
        audit: Sequence[AuditFact] = (),
    ) -> None:
        """Persist a new quote, and the documents it was computed from, in one transaction.

        Args:
            record: the quote.
            documents: the questionnaire and price book documents it names by hash; each is kept once.
            audit: the audit entries of its issue (``quote.issued``), appended in the same transaction.

        Raises:
            StoreError: the database failed (or a quote with that id exists); nothing was written.
        """
        values = {
            "id": record.quote_id,
            "issued_at": record.issued_at,
            "expires_at": record.expires_at,
            "amount": format(record.amount.amount, "f"),
            "currency": record.amount.currency,
            "audience": record.audience,
            "redeemable": record.redeemable,
            "document": record.document,
            "tenant": record.audience,
            "organisation": record.organisation or record.audience,
        }
        new_documents = [document for document in documents if document.content_hash not in self._known]
        with self._guard("store the quote"), self._transaction() as conn:
            for document in new_documents:
                conn.execute(self._insert_document(document))
            conn.execute(self._insert_quote, values)  # one compiled statement, parameters bound per call
            self._append_facts(conn, audit, now=record.issued_at)
        self._known.update(document.content_hash for document in new_documents)

    def _insert_document(self, document: StoredDocument) -> Any:  # noqa: ANN401 - an Insert statement
        """INSERT the document unless its hash is stored already (a race between instances is harmless)."""
        return (
            dialect_insert(self.dialect)(self._t["documents"])
            .values(content_hash=document.content_hash, kind=document.kind, document=document.text)
            .on_conflict_do_nothing(index_elements=["content_hash"])
        )

    def get_quote(
        self, quote_id: str, *, scope: Scope | None = None
    ) -> tuple[QuoteRecord, Redemption | None]:
        """Return the stored quote and its redemption (``None`` while unredeemed).

        Args:
            quote_id: the quote.
            scope: when given, only a quote of this tenant or organisation is found.

        Raises:
            QuoteNotFoundError: no quote has that id (in ``scope``).
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        if not is_known_id(quote_id):
            raise QuoteNotFoundError(_shown(quote_id))
        quotes, redemptions = self._t["quotes"], self._t["redemptions"]
        columns, parameters = bound_scope(scope)

        def build() -> Any:  # noqa: ANN401 - a SELECT
            return (
                sa.select(
                    quotes,
                    redemptions.c.id.label("redemption_id"),
                    redemptions.c.amount.label("redemption_amount"),
                    redemptions.c.currency.label("redemption_currency"),
                    redemptions.c.reference.label("redemption_reference"),
                    redemptions.c.redeemed_at.label("redemption_at"),
                )
                .outerjoin(redemptions, redemptions.c.quote_id == quotes.c.id)
                .where(quotes.c.id == sa.bindparam("quote_id"), *bound_scope_conditions(quotes, columns))
            )

        query = self._statement(("get_quote", columns), build)
        with self._guard("read the quote"), self._transaction(write=False) as conn:
            row = conn.execute(query, {"quote_id": quote_id, **parameters}).first()
        if row is None:
            raise QuoteNotFoundError(quote_id)
        redemption = (
            None
            if row.redemption_id is None
            else Redemption(
                redemption_id=row.redemption_id,
                quote_id=row.id,
                amount=Money(row.redemption_amount, row.redemption_currency),
                reference=row.redemption_reference,
                redeemed_at=row.redemption_at,
            )
        )
        record = QuoteRecord(
            quote_id=row.id,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            amount=Money(row.amount, row.currency),
            audience=row.audience,
            redeemable=row.redeemable,
            document=row.document,
            organisation=row.organisation,
        )
        return record, redemption

    def redeem_quote(
        self,
        quote_id: str,
        *,
        now: datetime,
        reference: str | None = None,
        audit: Sequence[AuditFact] = (),
        scope: Scope | None = None,
    ) -> Redemption:
        """Redeem a quote exactly once, crediting the stored amount.

        Args:
            quote_id: the quote to redeem.
            now: the current time (from the injected clock).
            reference: the shop's reference for the redemption (an order number).
            audit: audit entries of the redemption, appended in the same transaction (the amount credited
                is added to their details).
            scope: when given, only a quote of this tenant or organisation can be redeemed.

        Returns:
            The redemption, with the amount stored on the quote.

        Raises:
            QuoteNotFoundError: no quote has that id.
            QuoteAlreadyRedeemedError: it was redeemed before (by this or any other caller).
            QuoteExpiredError: its validity ended before ``now``.
            QuoteNotRedeemableError: it is a recycling-only quote.
            StoreError: the database failed; nothing was written.
        """
        now = as_utc(now)
        if not is_known_id(quote_id):
            raise QuoteNotFoundError(_shown(quote_id))
        with self._guard("redeem the quote"), self._transaction() as conn:
            redemption = self._claim(
                conn, quote_id, now=now, reference=reference, with_value=True, scope=scope
            )
            self._append_facts(
                conn,
                audit,
                now=now,
                extra={"redemption": redemption.redemption_id, "amount": redemption.amount.to_json()},
            )
            return redemption

    def _claim(
        self,
        conn: Connection,
        quote_id: str,
        *,
        now: datetime,
        reference: str | None,
        with_value: bool,
        scope: Scope | None,
    ) -> Redemption:
        """Claim a quote inside the caller's transaction: a conditional UPDATE, a unique redemption row."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        quotes, redemptions = self._t["quotes"], self._t["redemptions"]
        columns, parameters = bound_scope(scope)

        def build() -> Any:  # noqa: ANN401 - an UPDATE
            conditions = [
                quotes.c.id == sa.bindparam("claim_id"),
                quotes.c.redeemed_at.is_(None),
                quotes.c.expires_at > sa.bindparam("claim_at"),
                *bound_scope_conditions(quotes, columns),
            ]
            if with_value:
                conditions.append(quotes.c.redeemable.is_(True))
            return (
                sa.update(quotes)
                .where(*conditions)
                .values(redeemed_at=sa.bindparam("claim_at"))
                .returning(quotes.c.amount, quotes.c.currency)
            )

        claim = self._statement(("claim", with_value, columns), build)
        claimed = conn.execute(claim, {"claim_id": quote_id, "claim_at": now, **parameters}).first()
        if claimed is None:
            _raise_unredeemable(conn, quotes, quote_id, scope_conditions(quotes, scope))
        redemption = Redemption(
            redemption_id=f"rdm_{uuid.uuid4().hex}",
            quote_id=quote_id,
            amount=Money(claimed.amount, claimed.currency),
            reference=reference,
            redeemed_at=now,
        )
        conn.execute(
            self._statement(("insert", "redemptions"), lambda: sa.insert(redemptions)),
            {
                "id": redemption.redemption_id,
                "quote_id": quote_id,
                "amount": claimed.amount,
                "currency": claimed.currency,
                "reference": reference,
                "redeemed_at": now,
            },
        )
        return redemption

    # -- orders ----------------------------------------------------------------------------------------

    def add_order(
        self,
        record: OrderRecord,
        *,
        quote_ids: Sequence[str],
        now: datetime,
        personal_data: Sequence[PersonalData] = (),
        audit: Sequence[AuditFact] = (),
        checkout: CheckoutRecord | None = None,
        ledger: Sequence[LedgerEntry] = (),
        guarantees_sold: Sequence[GuaranteeRecord] = (),
        guarantee_changes: Sequence[GuaranteeChange] = (),
        scope: Scope | None = None,
    ) -> None:
        """Store a new order in one transaction: claim its quotes, keep its personal data, audit it.

        The guarantees its checkout sold are kept and the guarantees it exercises are claimed in the same
        transaction.

        The order, and its personal data, belong to ``record.tenant`` and ``record.organisation``; with a
        ``scope`` only quotes of that tenant or organisation can be claimed (another's is not found).

        With a ``checkout``, its summary is stored with the order and each promotion's use is reserved
        against its budget and redemption limit in the same transaction.

        Each quote is claimed exactly once (the same database guarantee as :meth:`redeem_quote`), so a
        quote can back one order only, ever.

        Raises:
            QuoteAlreadyRedeemedError: a quote was used before; nothing was written.
            QuoteExpiredError: a quote's validity ended; nothing was written.
            QuoteNotFoundError: a quote does not exist.
            GuaranteeError: a guarantee to claim is held by another order or exercised; nothing was written.
            CheckoutChangedError: the checkout was stored with an order already; nothing was written.
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        now = as_utc(now)
        with self._guard("store the order"), self._transaction() as conn:
            change_guarantees(conn, guarantee_changes)
            for quote_id in quote_ids:
                self._claim(conn, quote_id, now=now, reference=record.order_id, with_value=False, scope=scope)
            for item in personal_data:
                owned = attrs.evolve(
                    item,
                    tenant=item.tenant or record.tenant,
                    organisation=item.organisation or record.organisation,
                )
                conn.execute(sa.insert(self._t["personal_data"]).values(**_personal_values(owned, now)))
            conn.execute(
                sa.insert(self._t["orders"]).values(
                    **record.values(),
                    tenant=record.tenant,
                    organisation=record.organisation,
                    version=1,
                    updated_at=now,
                )
            )
            if checkout is not None:
                for use in checkout.promotion_uses:
                    self._reserve_promotion(conn, use)
                conn.execute(
                    sa.insert(self._t["checkouts"]).values(
                        id=checkout.checkout_id,
                        order_id=record.order_id,
                        created_at=now,
                        document=checkout.document,
                    )
                )
            insert_entries(conn, self._t["ledger"], ledger)
            insert_guarantees(conn, guarantees_sold)
            self._append_facts(conn, audit, now=now)

    def _reserve_promotion(self, conn: Connection, use: PromotionUse) -> None:
        """Count one more use of a promotion unless its budget or redemption limit would be exceeded."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["promotion_usage"]
        insert = dialect_insert(self.dialect)(table).values(
            promotion_id=use.promotion_id, currency=use.boost.currency, redemptions=0, spent_minor=0
        )
        conn.execute(insert.on_conflict_do_nothing(index_elements=["promotion_id"]))
        units = use.boost.to_minor()
        conditions = [table.c.promotion_id == use.promotion_id]
        if use.max_redemptions is not None:
            conditions.append(table.c.redemptions < use.max_redemptions)
        if use.budget is not None:
            conditions.append(table.c.spent_minor + units <= use.budget.to_minor())
        claimed = conn.execute(
            sa.update(table)
            .where(*conditions)
            .values(redemptions=table.c.redemptions + 1, spent_minor=table.c.spent_minor + units)
        ).rowcount
        if claimed != 1:
            raise PromotionExhaustedError(use.promotion_id)

    def promotion_usage(self) -> dict[str, tuple[int, Money]]:
        """Return each promotion's redemptions and total spent so far."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["promotion_usage"]
        with self._guard("read promotion usage"), self._transaction(write=False) as conn:
            rows = conn.execute(sa.select(table)).all()
        return {
            row.promotion_id: (row.redemptions, Money.from_minor(row.spent_minor, row.currency))
            for row in rows
        }

    def get_checkout(self, order_id: str) -> str | None:
        """Return the stored checkout summary (JSON) of an order, or ``None`` for an order without one."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        if not is_known_id(order_id):
            return None
        table = self._t["checkouts"]
        with self._guard("read the checkout"), self._transaction(write=False) as conn:
            text = conn.execute(sa.select(table.c.document).where(table.c.order_id == order_id)).scalar()
        return None if text is None else str(text)

    def get_order(self, order_id: str, *, scope: Scope | None = None) -> tuple[OrderRecord, int]:
        """Return a stored order and its version (for :meth:`save_order`'s optimistic check).

        Args:
            order_id: the order.
            scope: when given, only an order of this tenant, organisation or provider is found.

        Raises:
            OrderNotFoundError: no order has that id (in ``scope``).
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        if not is_known_id(order_id):
            raise OrderNotFoundError(_shown(order_id))
        orders = self._t["orders"]
        with self._guard("read the order"), self._transaction(write=False) as conn:
            row = conn.execute(
                sa.select(orders).where(orders.c.id == order_id, *scope_conditions(orders, scope))
            ).first()
        if row is None:
            raise OrderNotFoundError(order_id)
        return _order_record(row), int(row.version)

    def save_order(
        self,
        record: OrderRecord,
        *,
        expected_version: int,
        now: datetime,
        audit: Sequence[AuditFact] = (),
        outbox: Sequence[OutboxMessage] = (),
        ledger: Sequence[LedgerEntry] = (),
        promotion_changes: Sequence[PromotionChange] = (),
        guarantee_changes: Sequence[GuaranteeChange] = (),
        scope: Scope | None = None,
    ) -> int:
        """Write a changed order if nobody changed it since ``expected_version``, with its audit entries.

        With a ``scope`` the update matches only an order inside it; its owner never changes.

        The webhooks the change causes go into the outbox in the same transaction (one row per message; a
        message already kept is not added again), and so do the ledger entries it posts and the promotion
        budgets it releases or restores.

        Returns:
            The order's new version.

        Raises:
            ConcurrentUpdateError: another process changed the order first; reload and apply again.
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        orders = self._t["orders"]
        now = as_utc(now)
        with self._guard("save the order"), self._transaction() as conn:
            values = {key: value for key, value in record.values().items() if key not in {"id", "created_at"}}
            result = conn.execute(
                sa.update(orders)
                .where(
                    orders.c.id == record.order_id,
                    orders.c.version == expected_version,
                    *scope_conditions(orders, scope),
                )
                .values(**values, version=expected_version + 1, updated_at=now)
            )
            if result.rowcount != 1:
                raise ConcurrentUpdateError(record.order_id)
            insert_entries(conn, self._t["ledger"], ledger)
            for change in promotion_changes:
                self._change_promotion(conn, change)
            change_guarantees(conn, guarantee_changes)
            self._append_facts(conn, audit, now=now)
            for message in outbox:
                conn.execute(self._insert_outbox(message))
        return expected_version + 1

    def _change_promotion(self, conn: Connection, change: PromotionChange) -> None:
        """Release (or restore) part of a promotion's budget and redemptions, never below zero."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["promotion_usage"]
        larger = sa.func.max if self.dialect == "sqlite" else sa.func.greatest  # SQLite's two-argument max
        conn.execute(
            sa.update(table)
            .where(table.c.promotion_id == change.promotion_id)
            .values(
                redemptions=larger(table.c.redemptions + change.redemptions, 0),
                spent_minor=larger(table.c.spent_minor + change.amount.to_minor(), 0),
            )
        )

    # -- the ledger ------------------------------------------------------------------------------------

    def ledger_entries(self, order_id: str) -> list[LedgerEntry]:
        """Return an order's ledger entries, oldest first.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        if not is_known_id(order_id):
            return []
        table = self._t["ledger"]
        with self._guard("read the ledger"), self._transaction(write=False) as conn:
            rows = conn.execute(
                sa.select(table).where(table.c.order_id == order_id).order_by(table.c.sequence)
            ).all()
        return [entry_from_row(row) for row in rows]

    def append_ledger(
        self,
        entries: Sequence[LedgerEntry],
        *,
        now: datetime,
        audit: Callable[[Sequence[LedgerEntry]], Sequence[AuditFact]] | None = None,
    ) -> list[LedgerEntry]:
        """Append the entries whose id is not posted yet (an installment settled meanwhile is skipped).

        Args:
            entries: the entries to post.
            now: the time of the posting.
            audit: builds the audit entries of what was actually posted (written in the same transaction).

        Returns:
            The entries posted.

        Raises:
            StoreError: the database failed; nothing was written.
        """
        table = self._t["ledger"]
        posted: list[LedgerEntry] = []
        with self._guard("post to the ledger"), self._transaction() as conn:
            for entry in entries:
                insert = dialect_insert(self.dialect)(table).values(**entry_values(entry))
                if conn.execute(insert.on_conflict_do_nothing().returning(table.c.id)).first() is not None:
                    posted.append(entry)
            if posted and audit is not None:
                self._append_facts(conn, audit(posted), now=as_utc(now))
        return posted

    def _orders_in(self, scope: Scope | None) -> Any:  # noqa: ANN401 - a SELECT, or None
        """The ids of the orders inside ``scope`` as a subquery (``None``: every order)."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        if scope is None:
            return None
        orders = self._t["orders"]
        return sa.select(orders.c.id).where(*scope_conditions(orders, scope))

    def installments_due(
        self, period: str, *, limit: int = 1000, after: int = 0, scope: Scope | None = None
    ) -> list[tuple[int, LedgerEntry]]:
        """Installments due up to ``period``, neither credited nor stopped, in posting order after ``after``.

        Returns:
            ``(position, entry)`` pairs; pass the last position as ``after`` for the next page.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["ledger"]
        settled = table.alias("settled")
        with self._guard("read the installments due"), self._transaction(write=False) as conn:
            rows = conn.execute(
                sa.select(table)
                .where(
                    table.c.kind == EntryKind.INSTALLMENT_DUE.value,
                    table.c.due_period <= period,
                    table.c.sequence > after,
                    ~sa.exists().where(settled.c.settles == table.c.id),
                    *_in_orders(table, self._orders_in(scope)),
                )
                .order_by(table.c.sequence)
                .limit(limit)
            ).all()
        return [(int(row.sequence), entry_from_row(row)) for row in rows]

    def credit_installments(
        self,
        period: str,
        *,
        now: datetime,
        cause: str,
        audit: AuditFact,
        ids: Sequence[str] | None = None,
        scope: Scope | None = None,
    ) -> tuple[int, dict[str, Money]]:
        """Credit each installment due up to ``period`` not yet credited or stopped, once, in one transaction.

        With a ``scope``, only the installments of its tenant's or organisation's orders.

        Args:
            period: credit installments due up to this billing period.
            now: the time of the run.
            cause: the run's id; a run id used before credits nothing.
            audit: the run's audit entry (count and totals are added).
            ids: only these installments (``installment_due`` entry ids), when given.
            scope: only the installments of this tenant's or organisation's orders.

        Returns:
            How many were credited and their total per currency (the audit entry records both).

        Raises:
            ConcurrentUpdateError: another run or a stop settled one of them meanwhile; run again.
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["ledger"]
        now = as_utc(now)
        try:
            with self._guard("credit the installments"), self._transaction() as conn:
                if conn.execute(sa.select(table.c.id).where(table.c.cause == cause).limit(1)).first():
                    return 0, {}  # a run id used before: that run is done
                orders = self._orders_in(scope)
                if ids is None:
                    credit_due(conn, table, period=period, now=now, cause=cause, orders=orders)
                else:
                    billed = list(ids)
                    for start in range(0, len(billed), 1000):
                        chunk = billed[start : start + 1000]
                        credit_due(conn, table, period=period, now=now, cause=cause, ids=chunk, orders=orders)
                rows = conn.execute(
                    sa.select(table.c.currency, sa.func.sum(table.c.amount_minor), sa.func.count())
                    .where(table.c.cause == cause, table.c.kind == EntryKind.INSTALLMENT_CREDITED.value)
                    .group_by(table.c.currency)
                ).all()
                totals = {currency: Money.from_minor(int(units), currency) for currency, units, _ in rows}
                count = sum(int(number) for _, _, number in rows)
                if count:
                    details = {
                        **audit.details,
                        "count": count,
                        "totals": {key: value.to_json() for key, value in totals.items()},
                    }
                    self._append_facts(conn, [attrs.evolve(audit, details=details)], now=now)
        except StoreError as exc:
            if isinstance(exc.__cause__, sa.exc.IntegrityError):
                raise ConcurrentUpdateError(cause) from exc
            raise
        return count, totals

    def ledger_sums(
        self, *, start: datetime | None, end: datetime, scope: Scope | None = None
    ) -> list[LedgerSum]:
        """Sum the entries posted in ``[start, end)`` (from the beginning when ``start`` is ``None``).

        Entries are summed by kind and currency; promotion entries also by promotion. With a ``scope``, only
        the entries of its tenant's or organisation's orders.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["ledger"]
        promotion = sa.case(
            (table.c.kind.in_([kind.value for kind in PROMOTION_KINDS]), table.c.reason), else_=None
        ).label("promotion")
        conditions = [table.c.at < as_utc(end), *_in_orders(table, self._orders_in(scope))]
        if start is not None:
            conditions.append(table.c.at >= as_utc(start))
        query = (
            sa.select(
                table.c.kind,
                promotion,
                table.c.currency,
                sa.func.sum(table.c.amount_minor).label("units"),
                sa.func.count().label("count"),
            )
            .where(*conditions)
            .group_by(table.c.kind, promotion, table.c.currency)
        )
        with self._guard("sum the ledger"), self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
        return [
            LedgerSum(
                kind=EntryKind(row.kind),
                reason=row.promotion,
                total=Money.from_minor(int(row.units), row.currency),
                count=int(row.count),
            )
            for row in rows
        ]

    def _insert_outbox(self, message: OutboxMessage) -> Any:  # noqa: ANN401 - an Insert statement
        return (
            dialect_insert(self.dialect)(self._t["webhook_outbox"])
            .values(
                id=f"dlv_{uuid.uuid4().hex}",
                event_id=message.event_id,
                endpoint=message.endpoint,
                type=message.type,
                body=message.body,
                created_at=as_utc(message.created_at),
                next_attempt_at=as_utc(message.created_at),
                attempts=0,
                tenant=message.tenant,
                organisation=message.organisation,
            )
            .on_conflict_do_nothing(index_elements=["event_id", "endpoint"])
        )

    def due_webhooks(self, *, now: datetime, limit: int = 100) -> list[PendingWebhook]:
        """Return the outbox rows due for an attempt (neither delivered nor given up), oldest first.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_outbox"]
        query = (
            sa.select(table)
            .where(table.c.done.is_(False), table.c.next_attempt_at <= as_utc(now))
            .order_by(table.c.next_attempt_at, table.c.created_at)
            .limit(limit)
        )
        with self._guard("read the webhook outbox"), self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
        return [_pending_webhook(row) for row in rows]

    def claim_webhook(self, delivery_id: str, *, due_at: datetime, until: datetime) -> bool:
        """Take a due row for one attempt by moving its due time to ``until`` (a lease).

        The update only matches while the row is still due at ``due_at``, so of several processes that read
        the same row exactly one takes it; if the taker dies, the row is due again when the lease ends.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_outbox"]
        with self._guard("claim the webhook"), self._transaction() as conn:
            taken = conn.execute(
                sa.update(table)
                .where(
                    table.c.id == delivery_id,
                    table.c.done.is_(False),
                    table.c.next_attempt_at == as_utc(due_at),
                )
                .values(next_attempt_at=as_utc(until))
            ).rowcount
        return bool(taken == 1)

    def finish_webhook(
        self,
        delivery_id: str,
        *,
        attempts: int,
        delivered_at: datetime | None = None,
        next_attempt_at: datetime | None = None,
        failed: bool = False,
        error: str | None = None,
    ) -> None:
        """Record the end of an attempt: delivered, planned again at ``next_attempt_at``, or given up.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_outbox"]
        values = _finish_values(attempts, delivered_at, next_attempt_at, failed=failed, error=error)
        with self._guard("record the webhook attempt"), self._transaction() as conn:
            conn.execute(sa.update(table).where(table.c.id == delivery_id).values(**values))

    def claim_due_webhooks(self, *, now: datetime, until: datetime, limit: int = 100) -> list[PendingWebhook]:
        """Take up to ``limit`` due rows in one transaction, each leased until ``until``, oldest due first.

        On PostgreSQL the rows are selected ``FOR UPDATE SKIP LOCKED`` and their due time moved to the lease
        in the same transaction, so workers on several machines take disjoint batches without waiting on each
        other. On SQLite the write transaction (``BEGIN IMMEDIATE``) makes the select-and-update atomic. A
        worker that dies leaves its rows leased; they are due again when the lease ends. Each returned row's
        ``next_attempt_at`` is its lease, which :meth:`finish_leased_webhook` checks.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_outbox"]
        due = (
            sa.select(table.c.id)
            .where(table.c.done.is_(False), table.c.next_attempt_at <= as_utc(now))
            .order_by(table.c.next_attempt_at, table.c.created_at)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        with self._guard("claim due webhooks"), self._transaction() as conn:
            ids = list(conn.execute(due).scalars())
            if not ids:
                return []
            conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(next_attempt_at=as_utc(until)))
            rows = {row.id: row for row in conn.execute(sa.select(table).where(table.c.id.in_(ids)))}
        return [_pending_webhook(rows[delivery_id]) for delivery_id in ids]

    def finish_leased_webhook(
        self,
        delivery_id: str,
        *,
        leased_until: datetime,
        attempts: int,
        delivered_at: datetime | None = None,
        next_attempt_at: datetime | None = None,
        failed: bool = False,
        error: str | None = None,
    ) -> bool:
        """Record the end of an attempt on a row claimed by :meth:`claim_due_webhooks`, if still leased.

        Returns:
            ``True`` when recorded; ``False`` when the lease had ended and another worker took the row
            (the other worker's attempt decides).

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_outbox"]
        values = _finish_values(attempts, delivered_at, next_attempt_at, failed=failed, error=error)
        with self._guard("record the webhook attempt"), self._transaction() as conn:
            changed = conn.execute(
                sa.update(table)
                .where(
                    table.c.id == delivery_id,
                    table.c.done.is_(False),
                    table.c.next_attempt_at == as_utc(leased_until),
                )
                .values(**values)
            ).rowcount
        return bool(changed == 1)

    def dead_webhooks(
        self, *, limit: int = 100, after: str | None = None, scope: Scope | None = None
    ) -> list[DeadWebhook]:
        """Return the rows given up (dead letters), ordered by delivery id; ``after`` pages on.

        With a ``scope``, only the rows of its organisation's (or tenant's) orders.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_outbox"]
        query = sa.select(table).where(
            table.c.done.is_(True), table.c.delivered_at.is_(None), *scope_conditions(table, scope)
        )
        if after is not None:
            query = query.where(table.c.id > after)
        with self._guard("read the dead webhooks"), self._transaction(write=False) as conn:
            rows = conn.execute(query.order_by(table.c.id).limit(limit)).all()
        return [
            DeadWebhook(
                delivery_id=row.id,
                event_id=row.event_id,
                endpoint=row.endpoint,
                type=row.type,
                created_at=row.created_at,
                attempts=row.attempts,
                last_error=row.last_error,
            )
            for row in rows
        ]

    def replay_webhooks(
        self,
        *,
        now: datetime,
        delivery_ids: Sequence[str] = (),
        event_ids: Sequence[str] = (),
        all_dead: bool = False,
        scope: Scope | None = None,
    ) -> int:
        """Make finished rows due at ``now`` again, attempts reset (a row still pending is left alone).

        With a ``scope``, only rows of its organisation's (or tenant's) orders are touched.

        Args:
            now: when the rows become due.
            delivery_ids: rows by id (delivered or dead).
            event_ids: every row of these events (one per endpoint), delivered or dead.
            all_dead: every dead letter.
            scope: only rows of this tenant's or organisation's orders.

        Returns:
            How many rows were made due again.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_outbox"]
        chosen = []
        if delivery_ids:
            chosen.append(table.c.id.in_(list(delivery_ids)))
        if event_ids:
            chosen.append(table.c.event_id.in_(list(event_ids)))
        if all_dead:
            chosen.append(table.c.delivered_at.is_(None))
        if not chosen:
            return 0
        with self._guard("replay webhooks"), self._transaction() as conn:
            return int(
                conn.execute(
                    sa.update(table)
                    .where(table.c.done.is_(True), sa.or_(*chosen), *scope_conditions(table, scope))
                    .values(
                        done=False,
                        delivered_at=None,
                        attempts=0,
                        last_error=None,
                        next_attempt_at=as_utc(now),
                    )
                ).rowcount
            )

    def outbox_counts(self) -> OutboxCounts:
        """Count the outbox rows by state: pending, delivered, dead; and the oldest pending change.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_outbox"]
        state = sa.case(
            (table.c.done.is_(False), "pending"),
            (table.c.delivered_at.is_(None), "dead"),
            else_="delivered",
        )
        query = sa.select(state.label("state"), sa.func.count(), sa.func.min(table.c.created_at)).group_by(
            state
        )
        with self._guard("count the webhook outbox"), self._transaction(write=False) as conn:
            rows = {row[0]: (int(row[1]), row[2]) for row in conn.execute(query)}
        oldest = rows.get("pending", (0, None))[1]
        return OutboxCounts(
            pending=rows.get("pending", (0, None))[0],
            delivered=rows.get("delivered", (0, None))[0],
            dead=rows.get("dead", (0, None))[0],
            oldest_pending_at=None if oldest is None else _utc_from_db(oldest),
        )

    def claim_schedule_slot(self, name: str, *, slot: datetime, holder: str, now: datetime) -> bool:
        """Claim the run of job ``name`` for ``slot``: one caller per slot, across processes and machines.

        A conditional update moves the job's slot forward only if it is behind ``slot`` (the row is created
        on first use), so of several workers asking for the same slot exactly one gets ``True``.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = _schedule_table()
        with self._guard("claim a schedule slot"), self._transaction() as conn:
            conn.execute(
                dialect_insert(self.dialect)(table)
                .values(
                    name=name, slot=as_utc(slot) - _SLOT_BEFORE_ANY, holder=holder, claimed_at=as_utc(now)
                )
                .on_conflict_do_nothing(index_elements=["name"])
            )
            taken = conn.execute(
                sa.update(table)
                .where(table.c.name == name, table.c.slot < as_utc(slot))
                .values(slot=as_utc(slot), holder=holder[:200], claimed_at=as_utc(now))
            ).rowcount
        return bool(taken == 1)

    def orders_due(self, now: datetime, *, limit: int = 500, scope: Scope | None = None) -> list[str]:
        """Return the ids of open orders with a deadline at or before ``now``, earliest first."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        orders = self._t["orders"]
        with self._guard("find orders due"), self._transaction(write=False) as conn:
            rows = conn.execute(
                sa.select(orders.c.id)
                .where(
                    orders.c.closed.is_(False),
                    orders.c.next_deadline_at <= as_utc(now),
                    *scope_conditions(orders, scope),
                )
                .order_by(orders.c.next_deadline_at)
                .limit(limit)
            ).scalars()
            return list(rows)

    def orders_to_remind(
        self, now: datetime, *, limit: int = 500, scope: Scope | None = None
    ) -> list[OrderRecord]:
        """Return open orders whose first reminder time has passed, earliest first (only those can be due)."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        orders = self._t["orders"]
        with self._guard("find orders to remind"), self._transaction(write=False) as conn:
            rows = conn.execute(
                sa.select(orders)
                .where(
                    orders.c.closed.is_(False),
                    orders.c.reminders_from <= as_utc(now),
                    *scope_conditions(orders, scope),
                )
                .order_by(orders.c.reminders_from)
                .limit(limit)
            )
            return [_order_record(row) for row in rows]

    def list_orders(
        self,
        *,
        limit: int = 50,
        customer_ref: str | None = None,
        open_only: bool = False,
        scope: Scope | None = None,
        before: tuple[datetime, str] | None = None,
    ) -> list[OrderRecord]:
        """Return the newest orders first (optionally of one customer, or only those still open).

        Args:
            limit: at most this many.
            customer_ref: only this customer's orders.
            open_only: only orders with a device that can still change.
            scope: only orders of this tenant, organisation or provider.
            before: only orders older than this ``(created_at, id)`` (the last of the previous page).

        Every combination of filters reads one index in this order and stops after ``limit`` rows (see
        :mod:`~tradein_sdk._adapters.sql.indexes`); a customer's orders come from the customer's index, the
        scope checked on them.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        orders = self._t["orders"]
        query = (
            sa.select(orders)
            .where(*scope_conditions(orders, scope, indexed=customer_ref is None))
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .limit(limit)
        )
        if before is not None:  # a row comparison: the index's range starts at the cursor
            query = query.where(sa.tuple_(orders.c.created_at, orders.c.id) < (as_utc(before[0]), before[1]))
        if customer_ref is not None:
            query = query.where(orders.c.customer_ref == customer_ref)
        if open_only:  # as the partial indexes' condition (ix_tradein_orders_open_by_*), or off the index
            closed = orders.c.closed if customer_ref is None else not_indexed(orders.c.closed)
            query = query.where(closed.is_(False))
        with self._guard("list orders"), self._transaction(write=False) as conn:
            return [_order_record(row) for row in conn.execute(query)]

    def get_personal_data(self, ref: str) -> PersonalData | None:
        """Return the personal data kept under ``ref`` (``None`` once erased or never stored)."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["personal_data"]
        with self._guard("read personal data"), self._transaction(write=False) as conn:
            row = conn.execute(
                sa.select(table).where(table.c.ref == ref, table.c.erased_at.is_(None))
            ).first()
        if row is None:
            return None
        return PersonalData(
            ref=row.ref,
            kind=row.kind,
            subject_ref=row.subject_ref,
            data=row.data,
            tenant=row.tenant,
            organisation=row.organisation,
        )

    def add_personal_data(self, item: PersonalData, *, now: datetime) -> None:
        """Keep personal data (payout details, contact data) apart from orders, so it can be erased."""
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        with self._guard("store personal data"), self._transaction() as conn:
            conn.execute(sa.insert(self._t["personal_data"]).values(**_personal_values(item, as_utc(now))))

    def erase_personal_data(
        self,
        subject_ref: str,
        *,
        now: datetime,
        audit: Sequence[AuditFact] = (),
        scope: Scope | None = None,
        redactions: Mapping[str, str] | None = None,
    ) -> int:
        """Erase every piece of personal data of a customer; orders, amounts and the audit chain stay.

        With a ``scope``, only the data of that tenant's (or organisation's) customer of that reference.
        ``redactions`` are the customer's quotes to store anew (their documents without the IMEI), in the same
        transaction; ``audit`` says so (``quote.redacted`` with the new document's hash).

        After the erasure commits, the copies the database keeps are removed too. SQLite overwrites the
        erased bytes with zeros (``secure_delete``, see :func:`_configure_sqlite`), then the WAL, which
        still holds the pages as they were, is checkpointed and truncated to zero bytes. PostgreSQL keeps
        the old row versions in the table until a VACUUM: the table of personal data is vacuumed. A reader
        with an open transaction can hold either up (waited for up to 5 s): the erasure still counts, a
        WARNING on the ``tradein_sdk.store`` logger says what is left, and calling again once the reader
        has finished removes it. The README says what no store can reach (free space in PostgreSQL pages,
        WAL archives, backups) and what an operator does about it.

        Returns:
            How many records were erased.
        """
        import logging  # noqa: PLC0415 - only erasures log here
        import sqlite3  # noqa: PLC0415

        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["personal_data"]
        now = as_utc(now)
        with self._guard("erase personal data"), self._transaction() as conn:
            erased = int(
                conn.execute(
                    sa.update(table)
                    .where(
                        table.c.subject_ref == subject_ref,
                        table.c.erased_at.is_(None),
                        *scope_conditions(table, scope),
                    )
                    .values(data="{}", erased_at=now)
                ).rowcount
            )
            quotes = self._t["quotes"]
            for quote_id, document in (redactions or {}).items():
                conn.execute(
                    sa.update(quotes)
                    .where(quotes.c.id == quote_id, *scope_conditions(quotes, scope))
                    .values(document=document)
                )
            self._append_facts(conn, audit, now=now, extra={"records": erased})
        if self._engine.url.database in (None, "", ":memory:"):
            return erased  # no file, no WAL
        # The copies go even when nothing was erased now: calling again finishes what a reader held up.
        wait_ms = 5_000  # how long readers may hold the checkpoint or the VACUUM up
        log = logging.getLogger("tradein_sdk.store")
        try:
            if self.dialect == "sqlite":
                raw = self._engine.raw_connection()  # no BEGIN: a checkpoint runs outside transactions
                try:
                    cursor = raw.cursor()
                    cursor.execute(f"PRAGMA busy_timeout={wait_ms}")  # the busy handler retries until then
                    try:
                        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                        busy, frames, copied = cursor.fetchone() or (1, -1, -1)
                    finally:
                        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                        cursor.close()
                finally:
                    raw.close()
                if busy:
                    log.warning(
                        "erased personal data of %s, but a reader kept the WAL from being truncated within"
                        " %d ms (%d of %d frames copied back): the WAL keeps the erased values until the"
                        " readers finish and erase_customer is called again (or the WAL starts over)",
                        subject_ref,
                        wait_ms,
                        copied,
                        frames,
                    )
            else:
                with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
                    vacuum.exec_driver_sql(f"SET lock_timeout = {wait_ms}")
                    try:
                        vacuum.exec_driver_sql(f"VACUUM {table.name}")  # old row versions out of the heap
                        if redactions:  # the quotes' old versions hold the IMEIs
                            vacuum.exec_driver_sql(f"VACUUM {self._t['quotes'].name}")
                    finally:
                        vacuum.exec_driver_sql("RESET lock_timeout")
                    left = vacuum.exec_driver_sql(  # what VACUUM could not remove (counted at once from 15)
                        "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = %(table)s::regclass",
                        {"table": table.name},
                    ).scalar()
                if left:
                    log.warning(
                        "erased personal data of %s, but %d old row versions stay in %s: an open transaction"
                        " may still see them (or the store's role does not own the table); call"
                        " erase_customer again once it has finished, or see the README",
                        subject_ref,
                        left,
                        table.name,
                    )
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as error:
            log.warning(  # the erasure itself is done: this is about the leftovers
                "erased personal data of %s, but could not remove the database's old copies: %s",
                subject_ref,
                str(getattr(error, "orig", None) or error).splitlines()[0],
            )
        return erased

    def add_audit(
        self,
        facts: Sequence[AuditFact],
        *,
        now: datetime,
        receipt: WebhookEvent | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> bool:
        """Append audit entries that record no order change (a provider's erasure report, say).

        Args:
            facts: the entries.
            now: when they happened.
            receipt: the webhook they come from; its id is recorded in the same transaction, and a repeated
                delivery writes nothing.
            outbox: webhooks to send about it, kept in the same transaction.

        Returns:
            ``False`` when the webhook was received before (nothing written), else ``True``.

        Raises:
            AuditPersonalDataError: an entry carries personal data; nothing was written.
            StoreError: the database failed; nothing was written.
        """
        from tradein_sdk._adapters.sql.receipts import (  # noqa: PLC0415 - keeps receipts out of `from tradein_sdk import TradeIn`
            record_receipt,
        )

        now = as_utc(now)
        with self._guard("append to the audit log"), self._transaction() as conn:
            if receipt is not None and not record_receipt(conn, receipt, now=now):
                return False
            self._append_facts(conn, facts, now=now)
            for message in outbox:
                conn.execute(self._insert_outbox(message))
        return True

    def verify_audit(
        self,
        *,
        anchor: AuditAnchor | Iterable[AuditAnchor] | None = None,
        seals: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> AuditVerification:
        """Verify the audit log's hash chain from its first entry, and the quotes against their issue.

        Besides the chain (see :func:`verify_chain`), every stored quote whose issue was audited is compared
        with its ``quote.issued`` entry: an amount, currency, expiry or document changed since is reported
        as ``record_changed`` at that entry.

        Args:
            anchor: the heads of an earlier verification, kept outside the database: they also catch the
                deletion or rewriting of the newest entries together with the head rows.
            seals: with the store's sealing keys, check that every entry after its chain's anchor is
                sealed (``False``: the chain only, as for a log written before seals, to adopt it).
            progress: called with (entries checked, entries in all) every 2,000 entries of the chain and
                once at the end, when the two are equal (see :func:`verify_chain`).

        Returns:
            The verification, each problem located by sequence number and position.

        Raises:
            StoreError: the database failed.
        """
        from tradein_sdk._adapters.sql.audit import verify_chain, verify_records  # noqa: PLC0415 - keeps the audit log out of `from tradein_sdk import TradeIn`

        chain = verify_chain(
            self._engine, anchor=anchor, seals=self._audit_seals if seals else None, progress=progress
        )
        return verify_records(self._engine, chain, quotes=self._t["quotes"], ledger=self._t["ledger"])

    def audit_entries(self) -> Iterator[AuditEntry]:
        """Every audit entry as stored, chain by chain in sequence order (streamed: memory stays flat).

        Raises:
            StoreError: the database failed.
        """
        from tradein_sdk._adapters.sql.audit import iter_entries  # noqa: PLC0415 - keeps the audit log out of `from tradein_sdk import TradeIn`

        return iter_entries(self._engine)

    def claim_idempotency_key(
        self, *, client: str, key: str, request_hash: str, now: datetime, lock_for: timedelta
    ) -> StoredResponse | None:
        """Start a request under an idempotency key, or return the answer kept for it.

        The first request with a key claims it (``None``: go ahead, then :meth:`save_idempotent_response`
        or :meth:`release_idempotency_key`). A later request with the key and the same ``request_hash``
        gets the kept answer; while the first is still running, it is refused. A claim older than
        ``lock_for`` without an answer (its process died) may be taken over.

        Args:
            client: who sent the request (keys are per API client).
            key: the ``Idempotency-Key``.
            request_hash: a digest of the method, path and body.
            now: the current time.
            lock_for: how long a claim without an answer holds.

        Raises:
            IdempotencyKeyReusedError: the key was used for a request with other parameters.
            IdempotencyKeyInUseError: the first request with the key is still running.
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["idempotency_keys"]
        where = sa.and_(table.c.client == client, table.c.key == key)
        with self._guard("claim the idempotency key"), self._transaction() as conn:
            inserted = conn.execute(
                dialect_insert(self.dialect)(table)
                .values(client=client, key=key, request_hash=request_hash, created_at=now, locked_at=now)
                .on_conflict_do_nothing(index_elements=["client", "key"])
                .returning(table.c.key)
            ).first()
            if inserted is not None:
                return None
            row = conn.execute(sa.select(table).where(where)).one()
            if row.request_hash != request_hash:
                raise IdempotencyKeyReusedError(key)
            if row.status is not None:
                return StoredResponse(status=row.status, body=bytes(row.body), content_type=row.content_type)
            if as_utc(row.locked_at) > now - lock_for:
                raise IdempotencyKeyInUseError(key)
            conn.execute(sa.update(table).where(where).values(locked_at=now))
            return None

    def save_idempotent_response(self, *, client: str, key: str, response: StoredResponse) -> None:
        """Keep the answer of a request started with :meth:`claim_idempotency_key`.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["idempotency_keys"]
        with self._guard("keep the idempotent answer"), self._transaction() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.client == client, table.c.key == key)
                .values(
                    status=response.status,
                    body=response.body,
                    content_type=response.content_type,
                    locked_at=None,
                )
            )

    def release_idempotency_key(self, *, client: str, key: str) -> None:
        """Forget a key whose request ended without an answer worth repeating (a retryable failure).

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["idempotency_keys"]
        with self._guard("release the idempotency key"), self._transaction() as conn:
            conn.execute(
                sa.delete(table).where(table.c.client == client, table.c.key == key, table.c.status.is_(None))
            )

    def purge_idempotency_keys(self, *, created_before: datetime) -> int:
        """Forget the keys created before ``created_before``; return how many were forgotten.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["idempotency_keys"]
        with self._guard("purge idempotency keys"), self._transaction() as conn:
            return int(conn.execute(sa.delete(table).where(table.c.created_at < created_before)).rowcount)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()


_SLOT_BEFORE_ANY = timedelta(days=1)
"""How far before its first slot a schedule row starts, so that the first claim moves it forward."""


def _pending_webhook(row: Any) -> PendingWebhook:  # noqa: ANN401 - a SQLAlchemy Row
    """An outbox row as the delivery sees it."""
    from tradein_sdk._domain.outbox import OutboxMessage  # noqa: PLC0415 - loads with the first webhook

    return PendingWebhook(
        delivery_id=row.id,
        message=OutboxMessage(
            event_id=row.event_id,
            endpoint=row.endpoint,
            type=row.type,
            body=bytes(row.body),
            created_at=_utc_from_db(row.created_at),
        ),
        attempts=row.attempts,
        next_attempt_at=_utc_from_db(row.next_attempt_at),
    )


def _utc_from_db(value: datetime) -> datetime:
    """An aware UTC time (``RETURNING`` and aggregates can bypass the column type on some drivers)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _finish_values(
    attempts: int,
    delivered_at: datetime | None,
    next_attempt_at: datetime | None,
    *,
    failed: bool,
    error: str | None,
) -> dict[str, Any]:
    """The columns an attempt's end sets: delivered, planned again, or given up (a dead letter)."""
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:300] if error else None}
    if delivered_at is not None or failed:
        values["done"] = True
        values["delivered_at"] = as_utc(delivered_at) if delivered_at is not None else None
    elif next_attempt_at is not None:
        values["next_attempt_at"] = as_utc(next_attempt_at)
    return values


def _shown(value: str) -> str:
    """An id as it can be shown in a message (a lone surrogate escaped)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")[:80]


def _raise_unredeemable(conn: Connection, quotes: Any, quote_id: str, owned: Sequence[Any]) -> NoReturn:  # noqa: ANN401
    """Say why the conditional update claimed nothing (a quote outside the scope is not found)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    row = conn.execute(
        sa.select(quotes.c.redeemed_at, quotes.c.redeemable).where(quotes.c.id == quote_id, *owned)
    ).first()
    if row is None:
        raise QuoteNotFoundError(quote_id)
    if row.redeemed_at is not None:
        raise QuoteAlreadyRedeemedError(quote_id)
    if not row.redeemable:
        raise QuoteNotRedeemableError(quote_id)
    raise QuoteExpiredError(quote_id)


class _Guard:
    """Turn database failures into :class:`StoreError`; let the library's own errors through."""

    def __init__(self, action: str) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        from sqlalchemy.exc import IntegrityError, SQLAlchemyError  # noqa: PLC0415 - sqlalchemy loads with the first statement

        if isinstance(error, IntegrityError) and "redemptions" in str(error):
            raise QuoteAlreadyRedeemedError(str(error.params)) from error
        if isinstance(error, IntegrityError) and "tradein_checkouts" in str(error):
            # a checkout without a trade-in claims no quote: its summary's id is what is confirmed once
            raise CheckoutChangedError(
                "the checkout summary was confirmed already; show a new one"
            ) from error
        if isinstance(error, SQLAlchemyError):
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise StoreError("cannot {action}: {reason}", action=self.action, reason=reason) from error


def _configure_sqlite(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys, and BEGIN IMMEDIATE for writes (the SQLAlchemy pysqlite recipe).

    Deleted or overwritten content is zeroed (``secure_delete``, free pages included), and the WAL is cut
    back whenever it starts over (``journal_size_limit=0``), so that erased personal data leaves no copy
    behind once :meth:`SQLStore.erase_personal_data` has checkpointed the WAL.
    """
    from sqlalchemy import event  # noqa: PLC0415 - sqlalchemy loads with the first statement

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # noqa: ANN401
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable on commit except on power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # freed cells and pages are overwritten with zeros
        cursor.execute("PRAGMA journal_size_limit=0")  # a WAL starting over drops the old frames past its end
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get("tradein_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def iter_migrations() -> Iterator[tuple[int, str]]:
    """Yield (version, description) of every migration the library knows."""
    for version, description, _ in MIGRATIONS:
        yield version, description


def _order_record(row: Any) -> OrderRecord:  # noqa: ANN401 - a SQLAlchemy Row
    """Build an order's record from its database row."""
    return OrderRecord(
        order_id=row.id,
        created_at=row.created_at,
        customer_ref=row.customer_ref,
        closed=row.closed,
        next_deadline_at=row.next_deadline_at,
        document=row.document,
        tenant=row.tenant,
        organisation=row.organisation,
        provider=row.provider,
        reminders_from=row.reminders_from,
    )


def _in_orders(table: Any, orders: Any) -> list[Any]:  # noqa: ANN401 - a Table and a SELECT (or None)
    """The condition keeping ledger rows to ``orders`` (none when every order counts)."""
    return [] if orders is None else [table.c.order_id.in_(orders)]


def _personal_values(item: PersonalData, now: datetime) -> dict[str, Any]:
    """The row of a piece of personal data."""
    return {
        "ref": item.ref,
        "kind": item.kind,
        "subject_ref": item.subject_ref,
        "data": item.data,
        "created_at": now,
        "tenant": item.tenant,
        "organisation": item.organisation,
    }
