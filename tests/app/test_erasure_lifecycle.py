"""Erasure certificates through the facade, on SQLite and PostgreSQL.

Issued only for a device in custody and a passed verification, verifiable offline with the published
keys, carried by the ``device.erased`` webhook, one per device until revoked, and required for resale or
parts.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import (
    BankTransfer,
    CertificateExistsError,
    CertificateNotFoundError,
    CertificateRequiredError,
    ConfigurationError,
    Disposition,
    DocumentInvalidError,
    ErasureNotAllowedError,
    ErasureUnverifiedError,
    EventKind,
    SQLStore,
    TradeIn,
    verify_certificate,
)
from tradein_sdk._domain.erasure import CertificateStatus, verify_bundle
from tradein_sdk._domain.orders.vocabulary import Actor, DeviceState
from tradein_sdk._domain.outbox import WebhookEndpoint
from tradein_sdk.testing import example_erasure_report
from tradein_sdk.webhooks import WebhookSecrets

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk._domain.clock import FixedClock
    from tradein_sdk._domain.orders.model import TradeInOrder

IMEI = "490154203237518"
HOOK = "https://shop.example/hooks/tradein"
STAFF_CHECKS = ("liquid_indicator", "blocklist_status", "authenticity")


def answers(name: str) -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


def report(order_id: str, received: datetime, **changes: Any) -> dict[str, Any]:  # noqa: ANN401 - any field
    """A valid Purge report for device d1 of ``order_id``, its custody starting at ``received``."""
    return example_erasure_report(order_id, received_at=received, imei=IMEI, **changes)


@pytest.fixture
def shop(tmp_path: Path, clock: FixedClock, database_url: str | None) -> Iterator[TradeIn]:
    """The embedded facade with one webhook endpoint, on SQLite and on PostgreSQL."""
    facade = TradeIn.embedded(
        tmp_path,
        database_url=database_url,
        clock=clock,
        webhook_endpoints=(WebhookEndpoint(url=HOOK, secrets=WebhookSecrets.generate()),),
    )
    yield facade
    facade.close()


def accepted(shop: TradeIn) -> TradeInOrder:
    """An order of one iPhone, accepted with a bank payout."""
    issued = shop.quote("apple-iphone-13-128gb", answers("flawless"), imei=IMEI)
    return shop.accept([issued.token], payout=BankTransfer(iban="DE89370400440532013000", holder="E M"))


def received(shop: TradeIn, clock: FixedClock) -> tuple[TradeInOrder, datetime]:
    """An accepted order whose device was shipped and received; and when it was received."""
    order = accepted(shop)
    shop.issue_label(order.id)
    shop.ship(order.id, "d1", tracking="1Z999AA10123456784")
    at = clock.now()
    shop.receive(order.id, "d1")
    clock.advance(days=1)
    return order, at


def paid(shop: TradeIn, order: TradeInOrder) -> None:
    """Inspect the device as declared and pay it out."""
    declared = dict(shop.get_quote(order.device("d1").quote_id).quote.answers)
    store_check = answers("store-inspected")
    shop.inspect(order.id, "d1", {**declared, **{q: store_check[q] for q in STAFF_CHECKS}}, imei=IMEI)
    assert shop.settle(order.id, "d1").device("d1").state is DeviceState.PAID


def test_no_certificate_before_the_device_is_received(shop: TradeIn, clock: FixedClock) -> None:
    """An accepted device is not in custody: the report is refused and nothing is kept."""
    order = accepted(shop)
    clock.advance(days=1)
    with pytest.raises(ErasureNotAllowedError) as caught:
        shop.record_erasure_report(order.id, "d1", report(order.id, clock.now() - timedelta(hours=12)))
    assert (caught.value.rule, caught.value.state) == ("not_received", "accepted")
    assert shop.erasure_certificate(order.id, "d1") is None


def test_no_certificate_without_a_passed_verification_or_for_custody_before_receipt(
    shop: TradeIn, clock: FixedClock
) -> None:
    """A failed verification, custody before receipt, or another order's report: refused, nothing kept."""
    order, at = received(shop, clock)
    failed = report(order.id, at)
    failed["verification"]["result"] = "failed"
    with pytest.raises(ErasureUnverifiedError):
        shop.record_erasure_report(order.id, "d1", failed)
    with pytest.raises(ErasureNotAllowedError) as early:
        shop.record_erasure_report(order.id, "d1", report(order.id, at - timedelta(hours=2)))
    assert early.value.rule == "before_receipt"
    with pytest.raises(DocumentInvalidError):
        shop.record_erasure_report(order.id, "d1", report("ord_00000000000000000000", at))
    assert shop.erasure_certificate(order.id, "d1") is None


def test_a_certificate_after_receipt_verifies_offline_and_travels_in_the_webhook(
    shop: TradeIn, clock: FixedClock
) -> None:
    """The issued certificate verifies with the JWKS alone, is stored, bundled, audited and sent."""
    order, at = received(shop, clock)
    issued = shop.record_erasure_report(order.id, "d1", report(order.id, at))
    keys = json.loads(json.dumps(shop.certificate_keys()))  # what a verifier downloads, nothing more
    check = verify_certificate(issued.to_text(), keys)
    assert check.ok, check.problems
    assert check.certificate is not None
    assert check.certificate.identifier_matches(IMEI)
    assert IMEI not in issued.to_text()
    assert shop.erasure_certificate(order.id, "d1") == issued.to_json()
    assert verify_bundle(shop.certificate_bundle(order.id), keys).ok

    assert isinstance(shop.store, SQLStore)
    pending = shop.store.due_webhooks(now=clock.now() + timedelta(days=1), limit=100)
    bodies = [json.loads(item.message.body) for item in pending]
    erased = [body for body in bodies if body["type"] == "device.erased"]
    assert len(erased) == 1
    carried = erased[0]["data"]["certificate"]
    assert verify_certificate(carried, keys).ok
    assert erased[0]["data"]["certificate_id"] == issued.certificate.id

    assert shop.verify_audit().ok
    with shop.store._engine.connect() as conn:
        details = conn.execute(
            sa.text("SELECT details FROM tradein_audit_log WHERE action = 'certificate.issued'")
        ).scalar_one()
    assert IMEI not in details
    assert json.loads(details)["certificate"] == issued.certificate.id


def test_a_second_certificate_is_refused_until_the_first_is_revoked(shop: TradeIn, clock: FixedClock) -> None:
    """One unrevoked certificate per device; a revocation shows in the signed list and frees the device."""
    order, at = received(shop, clock)
    first = shop.record_erasure_report(order.id, "d1", report(order.id, at))
    with pytest.raises(CertificateExistsError) as caught:
        shop.record_erasure_report(order.id, "d1", report(order.id, at))
    assert caught.value.certificate_id == first.certificate.id

    clock.advance(minutes=5)
    revocation = shop.revoke_certificate(first.certificate.id, "erasure_failed_audit")
    assert revocation.certificate_id == first.certificate.id
    keys = shop.certificate_keys()
    check = verify_certificate(first.to_json(), keys, revocations=shop.certificate_revocations())
    assert check.status is CertificateStatus.REVOKED
    assert check.revocation is not None
    assert check.revocation.reason.value == "erasure_failed_audit"
    with pytest.raises(CertificateNotFoundError):
        shop.revoke_certificate("cert_" + "0" * 32, "issued_in_error")

    clock.advance(minutes=5)
    second = shop.record_erasure_report(order.id, "d1", report(order.id, at))
    assert second.certificate.id != first.certificate.id
    assert verify_certificate(second.to_json(), keys, revocations=shop.certificate_revocations()).ok
    assert shop.verify_audit().ok


def test_resale_needs_a_valid_certificate(shop: TradeIn, clock: FixedClock) -> None:
    """Refurbishing is refused without a certificate and with a revoked one; allowed with a valid one."""
    order, at = received(shop, clock)
    paid(shop, order)

    def refurbish() -> TradeInOrder:
        return shop.record_event(
            order.id, "d1", EventKind.DISPOSE, actor=Actor.STAFF, disposition=Disposition.REFURBISH
        )

    with pytest.raises(CertificateRequiredError) as missing:
        refurbish()
    assert missing.value.reason == "missing"

    first = shop.record_erasure_report(order.id, "d1", report(order.id, at))
    shop.revoke_certificate(first.certificate.id, "issued_in_error")
    with pytest.raises(CertificateRequiredError) as revoked:
        refurbish()
    assert revoked.value.reason == "revoked"
    assert shop.order(order.id).device("d1").state is DeviceState.PAID

    shop.record_erasure_report(order.id, "d1", report(order.id, at))
    assert refurbish().device("d1").state is DeviceState.DISPOSED
    assert shop.verify_audit().ok


def test_parts_need_a_sufficient_method_and_recycling_none(shop: TradeIn, clock: FixedClock) -> None:
    """A Clear certificate does not do for parts; recycling needs no certificate."""
    order, at = received(shop, clock)
    paid(shop, order)
    clear = report(order.id, at, destination="recycling")
    clear["sanitization"] = {**clear["sanitization"], "method": "clear", "technique": "factory_reset"}
    clear["verification"] = {**clear["verification"], "method": "tool_report"}
    shop.record_erasure_report(order.id, "d1", clear)
    with pytest.raises(CertificateRequiredError) as caught:
        shop.record_event(order.id, "d1", EventKind.DISPOSE, actor=Actor.STAFF, disposition=Disposition.PARTS)
    assert caught.value.reason == "insufficient_method"
    disposed = shop.record_event(
        order.id, "d1", EventKind.DISPOSE, actor=Actor.STAFF, disposition=Disposition.RECYCLE
    )
    assert disposed.device("d1").state is DeviceState.DISPOSED


def test_without_signing_keys_certificates_are_a_configuration_error(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A facade without signing keys cannot issue, list revocations or publish keys."""
    with_keys = TradeIn.embedded(tmp_path, clock=clock)
    facade = copy.copy(with_keys)
    facade.signing_keys = None
    try:
        order, at = received(facade, clock)
        with pytest.raises(ConfigurationError):
            facade.record_erasure_report(order.id, "d1", report(order.id, at))
        with pytest.raises(ConfigurationError):
            facade.certificate_revocations()
        with pytest.raises(ConfigurationError):
            facade.certificate_keys()
    finally:
        with_keys.close()
