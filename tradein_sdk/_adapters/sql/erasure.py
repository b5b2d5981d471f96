"""Erasure certificates in SQL: the signed certificates of erased devices and their revocations.

Migration 15 creates ``tradein_erasure_certificates`` (one row per certificate: its order, device, owner, the
method and destination, the signed envelope as JSON text) and ``tradein_erasure_revocations`` (one row per
revoked certificate: the reason, when, and who). A device has at most one certificate that is not revoked:
the certificate row's ``active_device`` (``<order>/<device>``, unique) is cleared when it is revoked, so
the database refuses a second one even from two processes at once.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Final

from tradein_sdk._adapters.sql.tenancy import scope_conditions
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._errors import CertificateExistsError, CertificateNotFoundError, ConcurrentUpdateError
from tradein_sdk._ports import CertificateRecord, CertificateRevocationRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from sqlalchemy import Connection, MetaData, Table

    from tradein_sdk._domain.outbox import OutboxMessage
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import AuditFact

CERTIFICATES_TABLE: Final = "tradein_erasure_certificates"
REVOCATIONS_TABLE: Final = "tradein_erasure_revocations"


def define_erasure(metadata: MetaData) -> tuple[Table, Table]:
    """Declare the certificates and revocations tables of schema version 15 in ``metadata``."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415 - sql.types imports sqlalchemy

    certificates = sa.Table(
        CERTIFICATES_TABLE,
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.Column("tenant", sa.String(120), nullable=True),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("destination", sa.String(20), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("active_device", sa.String(140), nullable=True, unique=True),
        sa.Index("ix_tradein_erasure_certificates_order", "order_id", "device_id", "issued_at"),
    )
    revocations = sa.Table(
        REVOCATIONS_TABLE,
        metadata,
        sa.Column(
            "certificate_id", sa.String(40), sa.ForeignKey(f"{CERTIFICATES_TABLE}.id"), primary_key=True
        ),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=True),
        sa.Index("ix_tradein_erasure_revocations_organisation", "organisation", "revoked_at"),
    )
    return certificates, revocations


@cache
def erasure_tables() -> tuple[Table, Table]:
    """The certificates and revocations tables, built on first use."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return define_erasure(sa.MetaData())


def migration_erasure(conn: Connection) -> None:
    """Migration 15: the erasure certificates and revocations tables."""
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    metadata = sa.MetaData()
    define_erasure(metadata)
    metadata.create_all(conn)


def _active(order_id: str, device_id: str) -> str:
    return f"{order_id}/{device_id}"


def _revocation(row: Any) -> CertificateRevocationRecord | None:  # noqa: ANN401 - a SQLAlchemy Row
    if row.reason is None:
        return None
    return CertificateRevocationRecord(
        certificate_id=row.id, reason=row.reason, revoked_at=as_utc(row.revoked_at), actor=row.actor
    )


def _record(row: Any) -> CertificateRecord:  # noqa: ANN401 - a SQLAlchemy Row
    return CertificateRecord(
        certificate_id=row.id,
        order_id=row.order_id,
        device_id=row.device_id,
        issued_at=as_utc(row.issued_at),
        method=row.method,
        destination=row.destination,
        document=row.document,
        tenant=row.tenant,
        organisation=row.organisation,
        revocation=_revocation(row),
    )


def _select(certificates: Table, revocations: Table) -> Any:  # noqa: ANN401 - a SELECT
    import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return sa.select(
        certificates, revocations.c.reason, revocations.c.revoked_at, revocations.c.actor
    ).select_from(certificates.outerjoin(revocations, revocations.c.certificate_id == certificates.c.id))


class ErasureMixin:
    """The :class:`~tradein_sdk._ports.ErasureStore` methods of :class:`~tradein_sdk.SQLStore` (mixed in)."""

    if TYPE_CHECKING:
        _t: dict[str, Any]

        def _guard(self, action: str) -> Any: ...  # noqa: ANN401 - SQLStore's
        def _transaction(self, *, write: bool = True) -> Any: ...  # noqa: ANN401 - SQLStore's
        def _insert_outbox(self, message: OutboxMessage) -> Any: ...  # noqa: ANN401 - SQLStore's
        def _append_facts(self, conn: Connection, facts: Iterable[AuditFact], *, now: datetime) -> None: ...

    def add_certificate(
        self,
        record: CertificateRecord,
        *,
        order_version: int,
        now: datetime,
        audit: Sequence[AuditFact] = (),
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        """Keep a certificate with its audit entries and webhooks, if the order is still at ``order_version``.

        The order's row is locked for the transaction (a change of its state waits, and the device's state
        the certificate was checked against holds until it commits).

        Raises:
            CertificateExistsError: the device has an unrevoked certificate (also one kept meanwhile).
            ConcurrentUpdateError: the order changed since it was read; read it and check again.
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement
        from sqlalchemy.exc import IntegrityError  # noqa: PLC0415 - with sqlalchemy

        certificates, _ = erasure_tables()
        orders = self._t["orders"]
        active = _active(record.order_id, record.device_id)
        now = as_utc(now)
        with self._guard("keep the erasure certificate"):
            try:
                with self._transaction() as conn:
                    locked = conn.execute(
                        sa.update(orders)
                        .where(orders.c.id == record.order_id, orders.c.version == order_version)
                        .values(version=orders.c.version)
                    )
                    if locked.rowcount != 1:
                        raise ConcurrentUpdateError(record.order_id)
                    existing = conn.execute(
                        sa.select(certificates.c.id).where(certificates.c.active_device == active)
                    ).scalar()
                    if existing is not None:
                        raise CertificateExistsError(
                            certificate_id=existing, order_id=record.order_id, device_id=record.device_id
                        )
                    conn.execute(
                        sa.insert(certificates).values(
                            id=record.certificate_id,
                            order_id=record.order_id,
                            device_id=record.device_id,
                            issued_at=as_utc(record.issued_at),
                            tenant=record.tenant,
                            organisation=record.organisation,
                            method=record.method,
                            destination=record.destination,
                            document=record.document,
                            active_device=active,
                        )
                    )
                    self._append_facts(conn, audit, now=now)
                    for message in outbox:
                        conn.execute(self._insert_outbox(message))
            except IntegrityError as exc:
                if "active_device" not in str(exc) and CERTIFICATES_TABLE not in str(exc):
                    raise
                raise CertificateExistsError(  # kept meanwhile by another process
                    certificate_id="-", order_id=record.order_id, device_id=record.device_id
                ) from exc

    def certificates_of(
        self, order_id: str, *, device_id: str | None = None, scope: Scope | None = None
    ) -> list[CertificateRecord]:
        """The certificates of an order (or of one of its devices) in ``scope``, oldest first.

        Raises:
            StoreError: the database failed.
        """
        certificates, revocations = erasure_tables()
        conditions = [certificates.c.order_id == order_id, *scope_conditions(certificates, scope)]
        if device_id is not None:
            conditions.append(certificates.c.device_id == device_id)
        statement = (
            _select(certificates, revocations)
            .where(*conditions)
            .order_by(certificates.c.issued_at, certificates.c.id)
        )
        with self._guard("read the erasure certificates"), self._transaction(write=False) as conn:
            return [_record(row) for row in conn.execute(statement)]

    def get_certificate(self, certificate_id: str, *, scope: Scope | None = None) -> CertificateRecord:
        """A certificate by id, in ``scope``.

        Raises:
            CertificateNotFoundError: none has that id (in ``scope``).
            StoreError: the database failed.
        """
        certificates, revocations = erasure_tables()
        statement = _select(certificates, revocations).where(
            certificates.c.id == certificate_id, *scope_conditions(certificates, scope)
        )
        with self._guard("read the erasure certificate"), self._transaction(write=False) as conn:
            row = conn.execute(statement).first()
        if row is None:
            raise CertificateNotFoundError(certificate_id[:64])
        return _record(row)

    def revoke_certificate(
        self,
        revocation: CertificateRevocationRecord,
        *,
        audit: Sequence[AuditFact] = (),
        scope: Scope | None = None,
    ) -> CertificateRecord:
        """Revoke a certificate in ``scope``, with its audit entries; a second revocation keeps the first.

        Returns:
            The certificate, revoked.

        Raises:
            CertificateNotFoundError: none has that id (in ``scope``).
            StoreError: the database failed; nothing was written.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        certificates, revocations = erasure_tables()
        certificate_id = revocation.certificate_id
        with self._guard("revoke the erasure certificate"), self._transaction() as conn:
            cleared = conn.execute(
                sa.update(certificates)
                .where(
                    certificates.c.id == certificate_id,
                    certificates.c.active_device.is_not(None),
                    *scope_conditions(certificates, scope),
                )
                .values(active_device=None)
                .returning(certificates.c.organisation)
            ).first()
            if cleared is not None:
                conn.execute(
                    sa.insert(revocations).values(
                        certificate_id=certificate_id,
                        reason=revocation.reason,
                        revoked_at=as_utc(revocation.revoked_at),
                        actor=revocation.actor,
                        organisation=cleared.organisation,
                    )
                )
                self._append_facts(conn, audit, now=revocation.revoked_at)
        return self.get_certificate(certificate_id, scope=scope)

    def certificate_revocations(
        self, *, organisation: str | None = None
    ) -> list[CertificateRevocationRecord]:
        """Every revocation (of one organisation's certificates), oldest first.

        Raises:
            StoreError: the database failed.
        """
        import sqlalchemy as sa  # noqa: PLC0415 - sqlalchemy loads with the first statement

        _, revocations = erasure_tables()
        statement = sa.select(revocations).order_by(revocations.c.revoked_at, revocations.c.certificate_id)
        if organisation is not None:
            statement = statement.where(revocations.c.organisation == organisation)
        with self._guard("read the erasure revocations"), self._transaction(write=False) as conn:
            return [
                CertificateRevocationRecord(
                    certificate_id=row.certificate_id,
                    reason=row.reason,
                    revoked_at=as_utc(row.revoked_at),
                    actor=row.actor,
                )
                for row in conn.execute(statement)
            ]
