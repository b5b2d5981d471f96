"""CO2 over HTTP: the same results as the facade, the signed report verifies offline, bad input is typed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from grading_questionnaire import example_answers
from tradein_sdk import (
    BadRequestError,
    InvalidPeriodError,
    OrderNotFoundError,
    PermissionDeniedError,
    TradeIn,
)
from tradein_sdk._domain.co2 import REPORT_PURPOSE, OrderCO2
from tradein_sdk._domain.signing import verify_document
from tradein_sdk.testing import FakeTradeInService

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk._domain.clock import FixedClock

STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}


@pytest.fixture
def fake(tmp_path: Path, clock: FixedClock) -> Iterator[FakeTradeInService]:
    """The fake service on an embedded facade at the test's clock, started."""
    trade_in = TradeIn.embedded(tmp_path, clock=clock)
    with FakeTradeInService(trade_in) as service:
        yield service
    trade_in.close()


def bought(facade: TradeIn) -> tuple[str, str]:
    """An iPhone 13 quoted, accepted, received, inspected as declared and paid; its quote and order ids."""
    issued = facade.quote("apple-iphone-13-128gb", example_answers("smartphone", "flawless").answers)
    order = facade.accept([issued.token])
    facade.issue_label(order.id)
    facade.receive(order.id, "d1")
    facade.inspect(order.id, "d1", {**issued.quote.answers, **STAFF_CHECKS})
    facade.settle(order.id, "d1")
    return issued.quote.id, order.id


def test_co2_over_http_equals_the_facade(fake: FakeTradeInService, clock: FixedClock) -> None:
    """Device, quote and order results over HTTP are the facade's JSON; the report verifies offline."""
    facade = fake.facade("store")
    quote_id, order_id = bought(facade)
    store, office = fake.client(role="store"), fake.client(role="back_office")
    assert store.device_co2("apple-iphone-13-128gb") == facade.device_co2("apple-iphone-13-128gb")
    with_parts = store.device_co2("apple-iphone-13-128gb", second_life_years=3, parts=("battery",))
    assert with_parts == facade.device_co2("apple-iphone-13-128gb", second_life_years=3, parts=("battery",))
    recycled = store.device_co2("apple-iphone-13-128gb", outcome="recycle")
    assert recycled.avoided.central == 0
    assert recycled.treatment.central > Decimal(0)
    assert store.quote_co2(quote_id) == facade.quote_co2(quote_id)
    assert store.order_co2(order_id) == facade.order_co2(order_id)

    today = clock.now().date()
    envelope = office.co2_report(today - timedelta(days=1), today, company="ACME GmbH")
    payload = verify_document(envelope, office.certificate_keys(), purpose=REPORT_PURPOSE)
    assert payload["company"] == "ACME GmbH"
    assert payload["totals"]["devices"] == 1
    assert payload["totals"]["avoided_kg"] == store.order_co2(order_id).totals.avoided.to_json()
    with pytest.raises(PermissionDeniedError):  # a store terminal does not read the company's report
        store.co2_report(today, today)

    async def remote() -> OrderCO2:
        async with fake.async_client(role="back_office") as client:
            return await client.order_co2(order_id)

    assert asyncio.run(remote()) == store.order_co2(order_id)


def test_bad_co2_requests_are_typed(fake: FakeTradeInService, clock: FixedClock) -> None:
    """An unknown order is 404; an unknown outcome, or a period ending before it starts, a typed 4xx."""
    office = fake.client(role="back_office")
    with pytest.raises(OrderNotFoundError):
        office.order_co2("ord_00000000000000000000")
    with pytest.raises(BadRequestError):
        office.device_co2("apple-iphone-13-128gb", outcome="landfill")
    today = clock.now().date()
    with pytest.raises(InvalidPeriodError) as caught:
        office.co2_report(today, today - timedelta(days=1))
    assert caught.value.code == "invalid_period"
