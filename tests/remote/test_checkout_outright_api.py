"""A new phone bought outright over HTTP: ``quote_ids: []``, through both clients and the plain API.

A Samsung Galaxy S23 128 GB at 899.00 € on 4 December 2026, with the damage cover (12 months, 79.00 €
upfront, no trade-in bundle) and the buy-back guarantee ``buyback-24`` (29.00 €, at most 449.50 €): 1007.00 €
due. The answers are the facade's types and amounts; bad input is a typed 4xx naming the field.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tradein_sdk import CheckoutRequest, CheckoutSummary, CustomerCase, Money, NewDevice, TradeIn
from tradein_sdk._domain.converters import json_converter
from tradein_sdk._domain.ledger import EntryKind
from tradein_sdk._domain.tenancy import Role
from tradein_sdk.testing import FakeTradeInService

if TYPE_CHECKING:
    from collections.abc import Iterator

BOUGHT = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
GALAXY = NewDevice(
    sku="SM-S911B-128",
    name="Samsung Galaxy S23",
    brand="Samsung",
    category="smartphone",
    price=Money("899.00", "EUR"),
    catalog_id="samsung-galaxy-s23-128gb",
)
REQUEST = CheckoutRequest(
    quote_ids=(),
    new_device=GALAXY,
    customer_case=CustomerCase.NONE,
    insurance_offer_id="example-de/damage-cover/upfront_12",
    guarantee_plan_id="buyback-24",
)


def eur(amount: str) -> Money:
    """An amount in euros."""
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def start() -> dt.datetime:
    """The day the Galaxy S23 is bought."""
    return BOUGHT


@pytest.fixture
def fake(any_store_trade_in: TradeIn) -> Iterator[FakeTradeInService]:
    """The fake service on the embedded facade of each store kind, started."""
    with FakeTradeInService(any_store_trade_in) as service:
        yield service


def http_of(fake: FakeTradeInService, role: Role = Role.SHOP) -> httpx.Client:
    """A plain httpx client of the fake service with the key of ``role``."""
    return httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_keys[role]}"})


def test_a_phone_bought_outright_over_http(fake: FakeTradeInService) -> None:
    """The sync client checks out and confirms; the back office reads the ledger; the async client agrees."""
    shop, office = fake.client(role="shop"), fake.client(role="back_office")
    summary = shop.checkout(REQUEST)
    assert isinstance(summary, CheckoutSummary)
    assert summary.trade_ins == ()
    assert summary.due_now == eur("1007.00")  # 899.00 + 79.00 + 29.00
    assert [line.code for line in summary.lines] == ["new_device", "insurance", "guarantee"]
    confirmed = shop.confirm_checkout(summary, insurance_accepted=True, guarantee_accepted=True)
    assert confirmed.summary == summary
    assert confirmed.order.devices == ()
    assert confirmed.consent is not None
    assert confirmed.consent.decision.value == "accepted"
    assert confirmed.guarantee is not None
    assert confirmed.guarantee_consent is not None
    assert confirmed.guarantee_consent.contract_id == confirmed.guarantee["payload"]["id"]
    assert shop.order(confirmed.order.id) == confirmed.order
    ledger = office.ledger(confirmed.order.id)
    assert ledger == fake.facade("back_office").ledger(confirmed.order.id)
    assert [(entry.kind, entry.amount) for entry in ledger.entries] == [
        (EntryKind.INSURANCE_PREMIUM, eur("79.00")),
        (EntryKind.GUARANTEE_CONTINGENT, eur("449.50")),
    ]
    assert office.clawbacks(confirmed.order.id) == {}

    async def remote() -> tuple[CheckoutSummary, str]:
        async with fake.async_client(role="shop") as client:
            plain = await client.checkout(CheckoutRequest(quote_ids=(), new_device=GALAXY))
            done = await client.confirm_checkout(plain)
            return plain, done.order.id

    plain, order_id = asyncio.run(remote())
    assert plain.due_now == eur("899.00")
    assert fake.facade("shop").order(order_id).devices == ()


def test_the_api_takes_an_empty_list_of_quotes_and_refuses_bad_input_by_name(
    fake: FakeTradeInService,
) -> None:
    """``"quote_ids": []`` is a checkout; a negative price, an unknown category or a second confirm is not."""
    device: dict[str, Any] = json_converter().unstructure(GALAXY)
    with http_of(fake) as http:
        answer = http.post("/v1/checkouts", json={"quote_ids": [], "new_device": device})
        assert answer.status_code == 201, answer.text
        assert answer.json()["due_now"] == {"amount": "899.00", "currency": "EUR"}
        assert answer.json()["trade_ins"] == []
        confirm = {"summary": answer.json()}
        first = http.post("/v1/checkouts/confirm", json=confirm)
        assert first.status_code == 201, first.text
        assert first.json()["order"]["devices"] == []
        again = http.post("/v1/checkouts/confirm", json=confirm)
        assert (again.status_code, again.json()["code"]) == (422, "checkout_changed"), again.text

        negative = {**device, "price": {"amount": "-1.00", "currency": "EUR"}}
        refused = http.post("/v1/checkouts", json={"quote_ids": [], "new_device": negative})
        assert (refused.status_code, refused.json()["code"]) == (422, "checkout_invalid"), refused.text
        assert "new_device.price" in refused.json()["detail"]
        unknown = {**device, "device_category": "phablet"}
        refused = http.post("/v1/checkouts", json={"quote_ids": [], "new_device": unknown})
        assert (refused.status_code, refused.json()["code"]) == (400, "request_invalid"), refused.text
        assert "$.new_device.device_category" in [problem["path"] for problem in refused.json()["problems"]]
        missing = http.post("/v1/checkouts", json={"new_device": device})
        assert (missing.status_code, missing.json()["code"]) == (400, "request_invalid"), missing.text
