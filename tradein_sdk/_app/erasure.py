"""The erasure use cases of :class:`~tradein_sdk.TradeIn`: certificates customers and auditors verify offline.

An erasure report (:class:`~tradein_sdk._domain.erasure.ErasureReport`) for a device the shop holds becomes a
signed certificate (:func:`~tradein_sdk._domain.erasure.issue_certificate`, with the installation's
:class:`~tradein_sdk._domain.signing.SigningKeys`), kept with its audit entry (``certificate.issued``) and a
``device.erased`` webhook carrying the signed certificate, in one transaction. A device has at most one
certificate that is not revoked. Whoever holds the certificate verifies it with the published keys
(:meth:`ErasureUseCases.certificate_keys`) and the signed revocation list
(:meth:`ErasureUseCases.certificate_revocations`), offline
(:func:`~tradein_sdk._domain.erasure.verify_certificate`). A device goes to resale or parts only with a valid
certificate (:meth:`ErasureUseCases.require_certificate`, called by ``record_event`` for a disposal).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, TypeVar

from tradein_sdk._app.orders import order_from_document
from tradein_sdk._domain.orders.vocabulary import Actor, DeviceState
from tradein_sdk._errors import (
    ConcurrentUpdateError,
    ConfigurationError,
    DocumentInvalidError,
    DocumentProblem,
)
from tradein_sdk._ports import (
    AuditFact,
    CertificateRecord,
    CertificateRevocationRecord,
    ErasureStore,
    OrderStore,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.erasure import ErasureReport, IssuedCertificate, Revocation, RevocationReason
    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder
    from tradein_sdk._domain.outbox import WebhookEndpoint
    from tradein_sdk._domain.signing import SigningKeys
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._domain.webhooks import WebhookEvent
    from tradein_sdk._ports import OrderRecord

    _Port = TypeVar("_Port")

_ATTEMPTS = 8


def _received_at(device: OrderDevice) -> datetime | None:
    """When the device was first received (its history's first step into ``received``)."""
    return next((entry.at for entry in device.history if entry.to_state is DeviceState.RECEIVED), None)


def _keys_needed(keys: SigningKeys | None) -> SigningKeys:
    if keys is None:
        raise ConfigurationError("erasure certificates need signing keys: give the facade signing_keys")
    return keys


class ErasureUseCases:
    """The erasure certificate methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    clock: Clock
    organisation: str
    scope: Scope | None
    signing_keys: SigningKeys | None

    if TYPE_CHECKING:

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _port(self, port: type[_Port]) -> _Port: ...
        def order(self, order_id: str) -> TradeInOrder: ...
        def _endpoints_for(self, record: OrderRecord) -> list[WebhookEndpoint]: ...

    # -- issuing -----------------------------------------------------------------------------------

    def record_erasure_report(
        self,
        order_id: str,
        device_id: str,
        report: Mapping[str, Any] | ErasureReport,
        *,
        actor: Actor = Actor.STAFF,
    ) -> IssuedCertificate:
        """Record the erasure of a device the shop holds and issue its signed certificate.

        The certificate, its audit entry (``certificate.issued``: ids, method and destination, no device
        identifier) and a ``device.erased`` webhook carrying the signed certificate are written in one
        transaction, while the device's state still allows the erasure.

        Args:
            order_id: the order.
            device_id: the device of the order.
            report: the erasure report (``schemas/erasure-report.schema.json``), for this order and device.
            actor: who reports it (staff, or the provider).

        Returns:
            The certificate and its signed document (hand it to the customer).

        Raises:
            ConfigurationError: the facade has no signing keys, or the store keeps no certificates.
            OrderNotFoundError: no order (in scope) has that id.
            OrderDeviceNotFoundError: the order has no such device.
            DocumentInvalidError: the report is not valid, or is for another order or device.
            ErasureNotAllowedError: the device is not in the shop's custody (``rule`` says why), or the
                report's custody starts before the device was received.
            ErasureUnverifiedError: the report's verification did not pass.
            CertificateExistsError: the device has a certificate that is not revoked.
        """
        return self._issue_certificate(order_id, device_id, report, actor=actor)

    def _erasure_reported_once(
        self, order_id: str, device_id: str, report: Mapping[str, Any], *, actor: Actor, receipt: WebhookEvent
    ) -> bool:
        """Record a report delivered by webhook once: ``False`` when this delivery was recorded before.

        The certificate's id follows from the delivery's id, so a repeated or concurrent delivery finds the
        certificate the first one issued (even after the device moved on) instead of issuing another.
        """
        from tradein_sdk._errors import CertificateExistsError  # noqa: PLC0415 - loads with the erasure domain

        certificate_id = "cert_" + hashlib.sha256(f"webhook/{receipt.id}".encode()).hexdigest()[:32]

        def recorded() -> bool:
            return any(
                record.certificate_id == certificate_id for record in self._certificates(order_id, device_id)
            )

        if recorded():
            return False
        try:
            self._issue_certificate(order_id, device_id, report, actor=actor, certificate_id=certificate_id)
        except CertificateExistsError:
            if recorded():  # a concurrent delivery of the same report won
                return False
            raise
        return True

    def _issue_certificate(
        self,
        order_id: str,
        device_id: str,
        report: Mapping[str, Any] | ErasureReport,
        *,
        actor: Actor,
        certificate_id: str | None = None,
    ) -> IssuedCertificate:
        from tradein_sdk._domain.erasure import (  # noqa: PLC0415 - the erasure domain loads with the first report
            ErasureReport,
            check_erasure_allowed,
            issue_certificate,
            parse_erasure_report,
            require_verified,
        )
        from tradein_sdk._domain.outbox import outbox_messages  # noqa: PLC0415 - webhooks load with the first report
        from tradein_sdk._domain.webhooks import WebhookEvent, WebhookEventType  # noqa: PLC0415 - idem

        keys = _keys_needed(self.signing_keys)
        store = self._port(ErasureStore)
        parsed = report if isinstance(report, ErasureReport) else parse_erasure_report(report)
        problems = [
            DocumentProblem(path=f"$.{name}", message=f"is not the {name} of the request ({expected})")
            for name, value, expected in (
                ("order_id", parsed.order_id, order_id),
                ("device_id", parsed.device_id, device_id),
            )
            if value != expected
        ]
        if problems:
            raise DocumentInvalidError(kind="erasure-report", source="<request>", problems=problems)
        for _ in range(_ATTEMPTS):
            record, version = self._port(OrderStore).get_order(order_id, **self._in_scope)
            device = order_from_document(record.document).device(device_id)
            check_erasure_allowed(device.state, received_at=_received_at(device), report=parsed)
            require_verified(parsed)
            now = self.clock.now()
            issued = issue_certificate(
                parsed,
                issuer=record.organisation or self.organisation,
                keys=keys,
                now=now,
                certificate_id=certificate_id,
            )
            certificate = issued.certificate
            fact = AuditFact(
                actor=Actor(actor).value,
                action="certificate.issued",
                subject=order_id,
                details={
                    "device": device_id,
                    "certificate": certificate.id,
                    "method": certificate.sanitization.method.value,
                    "destination": certificate.destination.value,
                    "kid": issued.document["signature"]["kid"],
                },
            )
            told = WebhookEvent(
                id="msg_" + hashlib.sha256(f"certificate/{certificate.id}".encode()).hexdigest()[:32],
                type=WebhookEventType.DEVICE_ERASED.value,
                timestamp=now,
                data={
                    "order_id": order_id,
                    "device_id": device_id,
                    "certificate_id": certificate.id,
                    "method": certificate.sanitization.method.value,
                    "certificate": issued.to_json(),
                },
            )
            outbox = outbox_messages(
                [told], self._endpoints_for(record), tenant=record.tenant, organisation=record.organisation
            )
            try:
                store.add_certificate(
                    CertificateRecord(
                        certificate_id=certificate.id,
                        order_id=order_id,
                        device_id=device_id,
                        issued_at=certificate.issued_at,
                        method=certificate.sanitization.method.value,
                        destination=certificate.destination.value,
                        document=json.dumps(issued.document, ensure_ascii=False, sort_keys=True),
                        tenant=record.tenant,
                        organisation=record.organisation,
                    ),
                    order_version=version,
                    now=now,
                    audit=[fact],
                    outbox=outbox,
                )
            except ConcurrentUpdateError:
                continue
            return issued
        raise ConcurrentUpdateError(order_id)

    # -- reading -----------------------------------------------------------------------------------

    def _certificates(self, order_id: str, device_id: str | None = None) -> list[CertificateRecord]:
        """The certificates of an order the caller sees (of one device when given), oldest first."""
        order = self.order(order_id)  # the order must be in scope
        if device_id is not None:
            order.device(device_id)
        return self._port(ErasureStore).certificates_of(order_id, device_id=device_id)

    def erasure_certificate(self, order_id: str, device_id: str) -> dict[str, Any] | None:
        """The signed certificate of a device: its latest, revoked or not (``None`` when it has none).

        Raises:
            OrderNotFoundError: no order (in scope) has that id.
            OrderDeviceNotFoundError: the order has no such device.
            ConfigurationError: the store keeps no certificates.
        """
        records = self._certificates(order_id, device_id)
        if not records:
            return None
        document: dict[str, Any] = json.loads(records[-1].document)
        return document

    def certificate_bundle(self, order_id: str) -> dict[str, Any]:
        """The order's certificates as one bundle: the latest signed certificate of each erased device.

        Raises:
            OrderNotFoundError: no order (in scope) has that id.
            ConfigurationError: the store keeps no certificates.
        """
        from tradein_sdk._domain.erasure import certificate_bundle  # noqa: PLC0415 - loads with the first bundle

        latest: dict[str, CertificateRecord] = {}
        for record in self._certificates(order_id):
            latest[record.device_id] = record
        return certificate_bundle(order_id, [json.loads(record.document) for record in latest.values()])

    # -- revocation --------------------------------------------------------------------------------

    def revoke_certificate(
        self, certificate_id: str, reason: RevocationReason | str, *, actor: Actor = Actor.STAFF
    ) -> Revocation:
        """Revoke an erasure certificate; the device may then be certified anew (a second revocation: no-op).

        Args:
            certificate_id: the certificate.
            reason: why (:class:`RevocationReason`).
            actor: who revokes it.

        Returns:
            The revocation, as the revocation list will carry it.

        Raises:
            CertificateNotFoundError: no certificate (in scope) has that id.
            ValueError: ``reason`` is not a revocation reason.
            ConfigurationError: the store keeps no certificates.
        """
        from tradein_sdk._domain.erasure import Revocation, RevocationReason  # noqa: PLC0415 - loads with the first revocation

        reason = RevocationReason(reason)
        now = self.clock.now()
        store = self._port(ErasureStore)
        found = store.get_certificate(certificate_id, **self._in_scope)
        fact = AuditFact(
            actor=Actor(actor).value,
            action="certificate.revoked",
            subject=found.order_id,
            details={"device": found.device_id, "certificate": certificate_id, "reason": reason.value},
        )
        revoked = store.revoke_certificate(
            CertificateRevocationRecord(
                certificate_id=certificate_id, reason=reason.value, revoked_at=now, actor=Actor(actor).value
            ),
            audit=[fact],
            **self._in_scope,
        )
        assert revoked.revocation is not None  # noqa: S101 - the store just revoked it
        return Revocation(
            certificate_id=certificate_id,
            reason=revoked.revocation.reason,
            revoked_at=revoked.revocation.revoked_at,
        )

    def certificate_revocations(self) -> dict[str, Any]:
        """The signed revocation list (purpose ``erasure-revocations``) as of now: publish it beside the keys.

        Raises:
            ConfigurationError: the facade has no signing keys, or the store keeps no certificates.
        """
        from tradein_sdk._domain.erasure import Revocation, RevocationList, sign_revocations  # noqa: PLC0415 - loads with the first list

        keys = _keys_needed(self.signing_keys)
        organisation = None if self.scope is None else self.scope.organisation
        records = self._port(ErasureStore).certificate_revocations(organisation=organisation)
        revocations = RevocationList(
            issuer=self.organisation,
            issued_at=self.clock.now(),
            revocations=[
                Revocation(certificate_id=item.certificate_id, reason=item.reason, revoked_at=item.revoked_at)
                for item in records
            ],
        )
        return sign_revocations(revocations, keys)

    def certificate_keys(self) -> dict[str, list[dict[str, str]]]:
        """The published keys (JWKS) that verify certificates and revocation lists offline.

        Raises:
            ConfigurationError: the facade has no signing keys.
        """
        return _keys_needed(self.signing_keys).jwks()

    # -- dispositions ------------------------------------------------------------------------------

    def require_certificate(self, order_id: str, device_id: str, disposition: str) -> None:
        """Check that a device may go to ``disposition``: resale and parts need a valid certificate.

        Raises:
            CertificateRequiredError: ``reason`` says why the device's certificate does not do.
            ConfigurationError: resale or parts without a store that keeps certificates.
        """
        from tradein_sdk._domain.erasure import (  # noqa: PLC0415 - loads with the first disposal
            ErasureCertificate,
            destination_of,
            require_certificate_for,
        )

        if destination_of(disposition).value == "recycling":
            return
        records = self._port(ErasureStore).certificates_of(order_id, device_id=device_id)
        current = next((record for record in reversed(records) if record.revocation is None), None)
        chosen = current or (records[-1] if records else None)
        certificate = (
            None if chosen is None else ErasureCertificate.from_json(json.loads(chosen.document)["payload"])
        )
        require_certificate_for(
            disposition,
            certificate,
            revoked=chosen is not None and chosen.revocation is not None,
            order_id=order_id,
            device_id=device_id,
        )
