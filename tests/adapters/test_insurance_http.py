from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from tradein_sdk import (
    DeviceCategory,
    FixedClock,
    HTTPInsuranceOfferSource,
    InsuranceProviderError,
    Money,
    PurchaseCondition,
)
from tradein_sdk._domain.insurance import EXAMPLE_INSURANCE_PLANS

if TYPE_CHECKING:
    import respx

URL = "https://insurer.example/plans/{country}.json"
TODAY = date(2026, 11, 24)


def offers(source: HTTPInsuranceOfferSource) -> tuple[object, ...]:
    """The offers for a 999 € new smartphone in Germany, bought today with a trade-in."""
    return source.offers(
        category=DeviceCategory.SMARTPHONE,
        device_price=Money("999.00", "EUR"),
        condition=PurchaseCondition.NEW,
        country="de",
        purchased_on=TODAY,
        today=TODAY,
        with_trade_in=True,
    )


def test_offers_come_from_the_providers_catalog(router: respx.MockRouter) -> None:
    """The provider's plan catalog is fetched once per refresh window and priced locally."""
    catalog = json.loads(EXAMPLE_INSURANCE_PLANS.read_text(encoding="utf-8"))
    route = router.get(URL.format(country="DE")).respond(200, json=catalog, headers={"ETag": '"v1"'})
    clock = FixedClock(datetime(2026, 11, 24, 12, tzinfo=UTC))
    with httpx.Client() as client:
        source = HTTPInsuranceOfferSource(URL, client=client, clock=clock, headers={"X-Api-Key": "k"})
        first = offers(source)
        assert first
        assert offers(source) == first
        assert route.call_count == 1
        assert route.calls[0].request.headers["X-Api-Key"] == "k"
        source.close()
        assert not client.is_closed


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ConnectError("down"),
        httpx.ReadTimeout("slow"),
        httpx.Response(503),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"catalog_id": "x"}),
    ],
    ids=["connect-error", "timeout", "503", "not-json", "invalid-catalog"],
)
def test_a_failing_provider_is_a_typed_error_not_an_empty_list(
    router: respx.MockRouter, answer: httpx.Response | Exception
) -> None:
    """Every way the provider can fail raises InsuranceProviderError (never 'no plan fits')."""
    route = router.get(URL.format(country="DE"))
    if isinstance(answer, Exception):
        route.side_effect = answer
    else:
        route.return_value = answer
    with httpx.Client() as client, pytest.raises(InsuranceProviderError) as caught:
        offers(HTTPInsuranceOfferSource(URL, client=client))
    assert caught.value.code == "insurance_provider_unavailable"
    assert "insurance provider" in str(caught.value)


def test_stale_catalog_is_served_within_max_stale(router: respx.MockRouter) -> None:
    """With max_stale, the last good catalog keeps offers available while the provider is down."""
    catalog = json.loads(EXAMPLE_INSURANCE_PLANS.read_text(encoding="utf-8"))
    route = router.get(URL.format(country="DE"))
    route.side_effect = [
        httpx.Response(200, json=catalog),
        httpx.ConnectError("down"),
        httpx.ConnectError("down"),
    ]
    clock = FixedClock(datetime(2026, 11, 24, 12, tzinfo=UTC))
    with httpx.Client() as client:
        source = HTTPInsuranceOfferSource(
            URL, client=client, clock=clock, refresh_after=timedelta(minutes=15), max_stale=timedelta(hours=1)
        )
        first = offers(source)
        clock.advance(minutes=30)
        assert offers(source) == first
        clock.advance(hours=2)
        with pytest.raises(InsuranceProviderError):
            offers(source)
