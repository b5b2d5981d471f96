"""Erasure certificates over HTTP (FakeTradeInService: the real service and store behind respx routes).

Recorded by a store key, fetched, bundled, verified offline with the published keys, revoked by the back
office only; another tenant's order is not found.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from grading_questionnaire import example_answers
from tradein_sdk import (
    CertificateExistsError,
    ErasureNotAllowedError,
    OrderNotFoundError,
    PermissionDeniedError,
    TradeIn,
    verify_certificate,
)
from tradein_sdk._domain.erasure import CertificateStatus, verify_bundle
from tradein_sdk.testing import FakeTradeInService

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk._domain.clock import FixedClock
    from tradein_sdk._domain.orders.model import TradeInOrder

IMEI = "490154203237518"


def stamp(moment: datetime) -> str:
    """A time as a report writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(order_id: str, received: datetime) -> dict[str, Any]:
    """A valid Purge report for device d1 of ``order_id``, its custody starting at ``received``."""
    erased = received + timedelta(seconds=30)
    return {
        "order_id": order_id,
        "device_id": "d1",
        "device": {
            "manufacturer": "Apple",
            "model": "iPhone 13",
            "imei": IMEI,
            "media_type": "embedded_flash",
            "capacity_gb": 128,
        },
        "sanitization": {
            "method": "purge",
            "technique": "cryptographic_erase",
            "tool": {"name": "Blancco Mobile", "version": "7.2.1"},
            "operator_role": "Erasure technician",
            "site": "Store 1",
            "started_at": stamp(received + timedelta(seconds=10)),
            "ended_at": stamp(erased),
        },
        "verification": {
            "method": "crypto_key_destruction",
            "result": "passed",
            "verifier_role": "Store manager",
            "verified_at": stamp(erased),
        },
        "destination": "resale",
        "custody": [
            {"step": "received", "at": stamp(received), "site": "Store 1", "role": "Sales associate"},
            {"step": "erased", "at": stamp(erased), "site": "Store 1", "role": "Erasure technician"},
        ],
    }


@pytest.fixture
def fake(tmp_path: Path, clock: FixedClock) -> Iterator[FakeTradeInService]:
    """The fake service on an embedded facade at the test's clock, started."""
    trade_in = TradeIn.embedded(tmp_path, clock=clock)
    with FakeTradeInService(trade_in) as service:
        yield service
    trade_in.close()


def opened(facade: TradeIn, clock: FixedClock, *, receive: bool = True) -> tuple[TradeInOrder, datetime]:
    """An order of one iPhone opened by ``facade``, shipped and received unless told not to; and when.

    The clock then moves on a day, so that the report's times are all in the past.
    """
    issued = facade.quote(
        "apple-iphone-13-128gb", example_answers("smartphone", "flawless").answers, imei=IMEI
    )
    order = facade.accept([issued.token])
    if receive:
        facade.issue_label(order.id)
        facade.ship(order.id, "d1")
        facade.receive(order.id, "d1")
    at = clock.now()
    clock.advance(days=1)
    return order, at


def test_record_fetch_verify_and_revoke_over_http(fake: FakeTradeInService, clock: FixedClock) -> None:
    """A store key records; the certificate verifies with the published keys; only the back office revokes.

    The revocation shows in the signed list any key may read.
    """
    order, received = opened(fake.facade("store"), clock)
    store, shop, office = fake.client(role="store"), fake.client(), fake.client(role="back_office")

    issued = store.record_erasure_report(order.id, "d1", report(order.id, received))
    keys = shop.certificate_keys()
    assert verify_certificate(issued.to_json(), keys).ok
    assert store.erasure_certificate(order.id, "d1") == issued.to_json()
    assert verify_bundle(shop.certificate_bundle(order.id), keys).ok
    with pytest.raises(CertificateExistsError):
        store.record_erasure_report(order.id, "d1", report(order.id, received))

    with pytest.raises(PermissionDeniedError):
        shop.revoke_certificate(issued.certificate.id, "issued_in_error")
    with pytest.raises(PermissionDeniedError):
        store.revoke_certificate(issued.certificate.id, "issued_in_error")
    revocation = office.revoke_certificate(issued.certificate.id, "issued_in_error")
    assert revocation.certificate_id == issued.certificate.id

    revocations = fake.client(role="provider").certificate_revocations()
    check = verify_certificate(issued.to_json(), keys, revocations=revocations)
    assert check.status is CertificateStatus.REVOKED


def test_no_certificate_before_receipt_over_http(fake: FakeTradeInService, clock: FixedClock) -> None:
    """An accepted device is refused with the library's typed error; nothing is kept."""
    order, received = opened(fake.facade("store"), clock, receive=False)
    client = fake.client(role="store")
    with pytest.raises(ErasureNotAllowedError):
        client.record_erasure_report(order.id, "d1", report(order.id, received))
    assert client.erasure_certificate(order.id, "d1") is None


def test_another_tenants_order_is_not_found(fake: FakeTradeInService, clock: FixedClock) -> None:
    """An order of another organisation is 404 for every erasure operation."""
    foreign, received = opened(fake.trade_in, clock)  # the embedded shop, outside the fake's organisation
    client = fake.client(role="back_office")
    with pytest.raises(OrderNotFoundError):
        client.record_erasure_report(foreign.id, "d1", report(foreign.id, received))
    with pytest.raises(OrderNotFoundError):
        client.erasure_certificate(foreign.id, "d1")
    with pytest.raises(OrderNotFoundError):
        client.certificate_bundle(foreign.id)


def test_the_async_client_reads_the_certificate(fake: FakeTradeInService, clock: FixedClock) -> None:
    """The async twin records and reads the same documents."""
    order, received = opened(fake.facade("back_office"), clock)

    async def run() -> None:
        client = fake.async_client(role="back_office")
        issued = await client.record_erasure_report(order.id, "d1", report(order.id, received))
        assert await client.erasure_certificate(order.id, "d1") == issued.to_json()
        assert verify_certificate(issued.to_json(), await client.certificate_keys()).ok
        await client.aclose()

    asyncio.run(run())
