"""Tenancy in SQL: who owns each quote, order and piece of personal data; API keys; tenants' endpoints.

Migration 10 adds ``tenant`` and ``organisation`` to quotes, orders, personal data and the webhook outbox
(and ``provider`` to orders), fills them for rows written before (a quote's audience is its tenant; an order
belongs to the tenant of the quotes it claimed; personal data to the orders of its customer) and creates
``tradein_api_keys`` (digests only) and ``tradein_webhook_endpoints``.

:func:`scope_conditions` turns a :class:`~tradein_sdk._domain.tenancy.Scope` into the ``WHERE`` terms every
scoped query adds, so a row of another tenant is never read, changed or counted.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from tradein_sdk._adapters.sql.indexes import declare_listing_indexes, not_indexed
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.tenancy import Role, Scope
from tradein_sdk._errors import NotFoundError, OrderNotFoundError
from tradein_sdk._ports import ApiKeyRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import Connection, MetaData, Table

    from tradein_sdk._domain.checkpoints import AuditSeals
    from tradein_sdk._domain.outbox import WebhookEndpoint
    from tradein_sdk._domain.webhooks import WebhookSecrets
    from tradein_sdk._ports import AuditFact

API_KEYS_TABLE = "tradein_api_keys"
ENDPOINTS_TABLE = "tradein_webhook_endpoints"
OWNED_TABLES = ("tradein_quotes", "tradein_orders", "tradein_personal_data", "tradein_webhook_outbox")
"""The tables migration 10 gives ``tenant`` and ``organisation`` columns."""
ORDER_INDEXES: Final = {
    "ix_tradein_orders_tenant": ("tenant", "created_at"),
    "ix_tradein_orders_organisation": ("organisation", "created_at"),
    "ix_tradein_orders_provider": ("provider", "created_at"),
    "ix_tradein_orders_created": ("created_at", "id"),
}
"""The order indexes migration 10 creates (scoped listings, newest first).

Migration 12 replaces all but ``ix_tradein_orders_created`` with the indexes of
:data:`~tradein_sdk._adapters.sql.indexes.LISTING_INDEXES`, which the current table definitions declare.
"""


def owner_columns() -> list[Any]:
    """The ``tenant`` and ``organisation`` columns migration 10 adds (nullable: rows may predate them)."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return [
        sa.Column("tenant", sa.String(120), nullable=True),
        sa.Column("organisation", sa.String(120), nullable=True),
    ]


def add_owner_columns(metadata_tables: dict[str, Table]) -> None:
    """Declare migration 10's columns, and the listing indexes over them, on the current table definitions.

    The indexes are those in force after migration 12 (``tables()`` declares the tables as they are after
    every migration).
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    for name in OWNED_TABLES:
        for column in owner_columns():
            metadata_tables[name].append_column(column)
    orders = metadata_tables["tradein_orders"]
    orders.append_column(sa.Column("provider", sa.String(120), nullable=True))
    declare_listing_indexes(metadata_tables)


def define_tenancy(metadata: MetaData) -> tuple[Table, Table]:
    """Declare the API keys and webhook endpoints tables in ``metadata``."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    keys = sa.Table(
        API_KEYS_TABLE,
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant", sa.String(120), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("label", sa.String(120), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.Column("last_used_at", UTCDateTime, nullable=True),
        sa.Index("ix_tradein_api_keys_organisation", "organisation", "tenant"),
    )
    endpoints = sa.Table(
        ENDPOINTS_TABLE,
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("organisation", sa.String(120), nullable=False),
        sa.Column("tenant", sa.String(120), nullable=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secrets", sa.Text, nullable=False),
        sa.Column("event_types", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("disabled_at", UTCDateTime, nullable=True),
        sa.Index("ix_tradein_webhook_endpoints_owner", "organisation", "tenant"),
    )
    return keys, endpoints


_BACKFILL = (
    "UPDATE tradein_quotes SET tenant = audience, organisation = audience WHERE tenant IS NULL",
    (
        "UPDATE tradein_orders SET tenant = (SELECT q.tenant FROM tradein_quotes q JOIN tradein_redemptions r"
        " ON r.quote_id = q.id WHERE r.reference = tradein_orders.id ORDER BY q.id LIMIT 1)"
        " WHERE tenant IS NULL"
    ),
    "UPDATE tradein_orders SET organisation = tenant WHERE organisation IS NULL",
    (
        "UPDATE tradein_personal_data SET tenant = (SELECT o.tenant FROM tradein_orders o"
        " WHERE o.customer_ref = tradein_personal_data.subject_ref ORDER BY o.created_at LIMIT 1)"
        " WHERE tenant IS NULL"
    ),
    "UPDATE tradein_personal_data SET organisation = tenant WHERE organisation IS NULL",
)


def migration_tenancy(conn: Connection) -> None:
    """Migration 10: owner columns and their backfill, the API keys and webhook endpoints tables."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    for name in OWNED_TABLES:
        conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN tenant VARCHAR(120)"))
        conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN organisation VARCHAR(120)"))
    conn.execute(sa.text("ALTER TABLE tradein_orders ADD COLUMN provider VARCHAR(120)"))
    for statement in _BACKFILL:
        conn.execute(sa.text(statement))
    for name, columns in ORDER_INDEXES.items():
        conn.execute(sa.text(f"CREATE INDEX {name} ON tradein_orders ({', '.join(columns)})"))
    for created in define_tenancy(sa.MetaData()):
        created.create(conn)


def scope_conditions(table: Table, scope: Scope | None, *, indexed: bool = True) -> list[Any]:
    """The ``WHERE`` terms that keep a query inside ``scope`` (none without a scope: the whole shop).

    A store key sees its tenant's rows, a back-office or admin key its organisation's, a provider the orders
    assigned to it (and nothing of a table without a ``provider`` column). With ``indexed=False`` the terms
    are kept off SQLite's indexes: for a query another filter's index serves better (one customer's orders;
    see :func:`~tradein_sdk._adapters.sql.indexes.not_indexed`).
    """
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    if scope is None:
        return []
    terms = scope_terms(scope)
    if any(name not in table.c for name, _ in terms):
        return [sa.false()]  # a provider sees nothing of a table without a provider column
    return [(table.c[name] if indexed else not_indexed(table.c[name])) == value for name, value in terms]


def scope_terms(scope: Scope) -> tuple[tuple[str, str], ...]:
    """The ``(column, value)`` pairs a row must have to be inside ``scope`` (see :func:`scope_conditions`)."""
    if scope.role is Role.PROVIDER:
        return (("provider", scope.tenant), ("organisation", scope.organisation))
    if scope.by_organisation:
        return (("organisation", scope.organisation),)
    return (("tenant", scope.tenant), ("organisation", scope.organisation))


def bound_scope(scope: Scope | None) -> tuple[tuple[str, ...], dict[str, str]]:
    """A scope as the columns a prebuilt statement binds (its cache key) and their values as parameters.

    The statement's terms come from :func:`bound_scope_conditions` with the same columns; the parameters are
    named ``scope_<column>``.
    """
    terms = () if scope is None else scope_terms(scope)
    return tuple(name for name, _ in terms), {f"scope_{name}": value for name, value in terms}


def bound_scope_conditions(table: Table, columns: tuple[str, ...]) -> list[Any]:
    """The ``WHERE`` terms of :func:`scope_conditions` with bound parameters, for a statement built once."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    if any(name not in table.c for name in columns):
        return [sa.false()]
    return [table.c[name] == sa.bindparam(f"scope_{name}") for name in columns]


def event_types_json(types: frozenset[str] | None) -> str | None:
    """An endpoint's event types as stored (``None``: every type)."""
    return None if types is None else json.dumps(sorted(types))


def event_types_of(text: str | None) -> frozenset[str] | None:
    """An endpoint's event types from the stored text."""
    return None if text is None else frozenset(json.loads(text))


def append_facts(
    conn: Connection,
    facts: Iterable[AuditFact],
    *,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
    seals: AuditSeals | None = None,
) -> None:
    """Append each fact to the audit log in the caller's transaction, ``extra`` added to its details.

    The facts are appended chain by chain in chain order (each subject's in the order given), so that two
    transactions appending to the same chains take their head rows in the same order and never wait for
    each other.
    """
    from tradein_sdk._adapters.sql.audit import append_entry  # noqa: PLC0415 - keeps the audit log out of `from tradein_sdk import TradeIn`
    from tradein_sdk._domain.audit import chain_of  # noqa: PLC0415 - with the audit log

    for chain, fact in sorted(((chain_of(fact.subject), fact) for fact in facts), key=lambda pair: pair[0]):
        append_entry(
            conn,
            now=now,
            actor=fact.actor,
            action=fact.action,
            subject=fact.subject,
            details={**fact.details, **(extra or {})},
            chain=chain,
            seals=seals,
        )


_LAST_USE_STEP: Final = timedelta(minutes=1)
"""A key's last use is written at most once a minute (not one write per request)."""


class TenancyMixin:
    """The :class:`~tradein_sdk._ports.Tenancy` concern of :class:`~tradein_sdk.SQLStore`."""

    _t: dict[str, Any]
    _audit_seals: AuditSeals | None

    def _guard(self, action: str) -> Any: ...  # noqa: ANN401 - SQLStore's
    def _transaction(self, *, write: bool = True) -> Any: ...  # noqa: ANN401 - SQLStore's

    # -- API keys --------------------------------------------------------------------------------------

    def add_api_key(self, record: ApiKeyRecord, *, digest: str, audit: Sequence[AuditFact] = ()) -> None:
        """Keep a new key: its digest and the scope it grants (the key itself is never stored).

        Raises:
            StoreError: the database failed (or the key id or digest exists); nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        with self._guard("store the API key"), self._transaction() as conn:
            conn.execute(
                sa.insert(self._t["api_keys"]).values(
                    id=record.key_id,
                    digest=digest,
                    tenant=record.scope.tenant,
                    organisation=record.scope.organisation,
                    role=record.scope.role.value,
                    label=record.label,
                    created_at=as_utc(record.created_at),
                    expires_at=None if record.expires_at is None else as_utc(record.expires_at),
                )
            )
            append_facts(conn, audit, now=as_utc(record.created_at), seals=self._audit_seals)

    def authenticate_key(self, digest: str, *, now: datetime) -> ApiKeyRecord | None:
        """The key with this digest if it is active at ``now`` (neither revoked nor expired), else ``None``.

        Its last use is recorded, at most once a minute.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["api_keys"]
        now = as_utc(now)
        with self._guard("authenticate the API key"), self._transaction(write=False) as conn:
            row = conn.execute(sa.select(table).where(table.c.digest == digest)).first()
        if row is None:
            return None
        record = _key_record(row)
        if not record.active(now):
            return None
        if record.last_used_at is None or now - record.last_used_at >= _LAST_USE_STEP:
            with self._guard("note the API key's use"), self._transaction() as conn:
                conn.execute(sa.update(table).where(table.c.id == record.key_id).values(last_used_at=now))
        return record

    def api_keys(self, *, organisation: str | None = None) -> list[ApiKeyRecord]:
        """Every key (of one organisation), newest first; revoked and expired ones included.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["api_keys"]
        query = sa.select(table).order_by(table.c.created_at.desc(), table.c.id)
        if organisation is not None:
            query = query.where(table.c.organisation == organisation)
        with self._guard("list the API keys"), self._transaction(write=False) as conn:
            return [_key_record(row) for row in conn.execute(query)]

    def end_api_key(
        self, key_id: str, *, now: datetime, revoke: bool, expires_at: datetime | None = None
    ) -> ApiKeyRecord:
        """Revoke a key now (``revoke``), or let it expire at ``expires_at`` (a rotation's grace period).

        Raises:
            NotFoundError: no key has that id.
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["api_keys"]
        values: dict[str, Any] = {"revoked_at": as_utc(now)} if revoke else {"expires_at": expires_at}
        with self._guard("end the API key"), self._transaction() as conn:
            conn.execute(sa.update(table).where(table.c.id == key_id).values(**values))
            row = conn.execute(sa.select(table).where(table.c.id == key_id)).first()
        if row is None:
            raise NotFoundError("no API key {key_id} exists", key_id=key_id[:64])
        return _key_record(row)

    # -- webhook endpoints -----------------------------------------------------------------------------

    def add_webhook_endpoint(self, endpoint: WebhookEndpoint, *, now: datetime) -> None:
        """Register an endpoint (it must have an id and an organisation).

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        with self._guard("register the webhook endpoint"), self._transaction() as conn:
            conn.execute(
                sa.insert(self._t["webhook_endpoints"]).values(
                    id=endpoint.id,
                    organisation=endpoint.organisation,
                    tenant=endpoint.tenant,
                    url=endpoint.url,
                    secrets=" ".join(endpoint.secrets.texts),
                    event_types=event_types_json(endpoint.events),
                    created_at=as_utc(now),
                )
            )

    def webhook_endpoints_of(
        self, *, organisation: str | None = None, tenant: str | None = None, ids: Sequence[str] = ()
    ) -> list[WebhookEndpoint]:
        """Active registered endpoints: by ``ids``, else of ``organisation``, else every one.

        With ``tenant`` (and ``organisation``): the endpoints that receive that tenant's events, its own and
        the organisation-wide ones.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_endpoints"]
        query = sa.select(table).where(table.c.disabled_at.is_(None)).order_by(table.c.id)
        if ids:
            query = query.where(table.c.id.in_(list(ids)))
        elif organisation is not None:
            query = query.where(table.c.organisation == organisation)
            if tenant is not None:
                query = query.where(sa.or_(table.c.tenant.is_(None), table.c.tenant == tenant))
        with self._guard("read the webhook endpoints"), self._transaction(write=False) as conn:
            return [_endpoint(row) for row in conn.execute(query)]

    def change_webhook_endpoint(
        self,
        endpoint_id: str,
        *,
        organisation: str | None,
        now: datetime,
        secrets: WebhookSecrets | None = None,
        disable: bool = False,
    ) -> WebhookEndpoint:
        """Replace an endpoint's secrets (a rotation: pass the new and the old) or disable it.

        Raises:
            NotFoundError: no active endpoint has that id (in ``organisation``).
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        table = self._t["webhook_endpoints"]
        conditions = [table.c.id == endpoint_id, table.c.disabled_at.is_(None)]
        if organisation is not None:
            conditions.append(table.c.organisation == organisation)
        values: dict[str, Any] = {}
        if secrets is not None:
            values["secrets"] = " ".join(secrets.texts)
        if disable:
            values["disabled_at"] = as_utc(now)
        with self._guard("change the webhook endpoint"), self._transaction() as conn:
            row = conn.execute(sa.select(table).where(*conditions)).first()
            if row is None:
                raise NotFoundError("no webhook endpoint {endpoint_id} exists", endpoint_id=endpoint_id[:64])
            if values:
                conn.execute(sa.update(table).where(table.c.id == endpoint_id).values(**values))
                row = conn.execute(sa.select(table).where(table.c.id == endpoint_id)).first()
        return _endpoint(row)

    # -- provider assignment ---------------------------------------------------------------------------

    def assign_order(
        self,
        order_id: str,
        *,
        provider: str | None,
        scope: Scope | None,
        audit: Sequence[AuditFact],
        now: datetime,
    ) -> None:
        """Assign an order to a provider of its organisation (``None`` takes it back), with its audit entry.

        Raises:
            OrderNotFoundError: no order has that id (in ``scope``).
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        orders = self._t["orders"]
        with self._guard("assign the order"), self._transaction() as conn:
            changed = conn.execute(
                sa.update(orders)
                .where(orders.c.id == order_id, *scope_conditions(orders, scope))
                .values(provider=provider)
            ).rowcount
            if changed != 1:
                raise OrderNotFoundError(order_id[:64])
            append_facts(conn, audit, now=as_utc(now), seals=self._audit_seals)


def _key_record(row: Any) -> ApiKeyRecord:  # noqa: ANN401 - a SQLAlchemy Row
    return ApiKeyRecord(
        key_id=row.id,
        scope=Scope(tenant=row.tenant, organisation=row.organisation, role=Role(row.role)),
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _endpoint(row: Any) -> WebhookEndpoint:  # noqa: ANN401 - a SQLAlchemy Row
    from tradein_sdk._domain.outbox import WebhookEndpoint  # noqa: PLC0415 - webhooks load with the first endpoint
    from tradein_sdk._domain.webhooks import WebhookSecrets  # noqa: PLC0415

    return WebhookEndpoint(
        id=row.id,
        organisation=row.organisation,
        tenant=row.tenant,
        url=row.url,
        secrets=WebhookSecrets.parse(*row.secrets.split()),
        events=event_types_of(row.event_types),
    )
