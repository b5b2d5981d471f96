"""Protection offers from an insurance provider's plan catalog, fetched over HTTP (cached, revalidated)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from tradein_sdk._adapters.http.documents import HTTPDocumentFeed
from tradein_sdk._domain.insurance import (
    ANCILLARY_EXEMPTION_THRESHOLD,
    InsuranceOffer,
    InsurancePlans,
    PurchaseCondition,
    offers_for,
    parse_insurance_plans,
)
from tradein_sdk._errors import (
    InsuranceProviderError,
)

if TYPE_CHECKING:
    import httpx

    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.devices import DeviceCategory
    from tradein_sdk._domain.money import Money


class HTTPInsuranceOfferSource:
    """Protection offers priced from an insurance provider's plan catalog, fetched over HTTP.

    The provider publishes its plan catalog (``schemas/insurance-plans.schema.json``), per country when its
    URL has ``{country}``; it is cached and revalidated (ETag / Last-Modified) and offers are priced locally
    with :func:`offers_for`. A provider that cannot be reached raises :class:`InsuranceProviderError`,
    never an empty list that would look like "no plan fits".

    >>> source = HTTPInsuranceOfferSource("https://insurer.example/plans/{country}.json")  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 5.0,
        refresh_after: timedelta = timedelta(minutes=15),
        max_stale: timedelta = timedelta(0),
        headers: dict[str, str] | None = None,
        clock: Clock | None = None,
        exemption_threshold: Money = ANCILLARY_EXEMPTION_THRESHOLD,
    ) -> None:
        """Configure the source (see :class:`~tradein_sdk.HTTPPriceFeed` for the caching options).

        Args:
            url: the plan catalog's URL; ``{country}`` is replaced by the customer's country.
            client: an httpx client (pooling, proxies, test transports); one is created when omitted.
            timeout: seconds allowed for each request.
            refresh_after: how long a fetched catalog is used before it is revalidated.
            max_stale: how long past that the last good catalog may be served while the provider fails.
            headers: extra request headers (the provider's API key).
            clock: where "now" comes from.
            exemption_threshold: the annual premium from which offers are flagged (see :func:`offers_for`).
        """
        self._feed: HTTPDocumentFeed[InsurancePlans] = HTTPDocumentFeed(
            url.replace("{country}", "{key}"),
            parse=lambda document, _key, origin: parse_insurance_plans(document, origin=origin),
            error=InsuranceProviderError,
            label="insurance provider",
            document="plan catalog",
            client=client,
            timeout=timeout,
            refresh_after=refresh_after,
            max_stale=max_stale,
            headers=headers,
            clock=clock,
        )
        self.exemption_threshold = exemption_threshold

    def offers(
        self,
        *,
        category: DeviceCategory,
        device_price: Money,
        condition: PurchaseCondition,
        country: str,
        purchased_on: date,
        today: date,
        with_trade_in: bool,
    ) -> tuple[InsuranceOffer, ...]:
        """Return the provider's offers for this device (see :func:`offers_for`).

        Raises:
            InsuranceProviderError: the provider cannot be reached or sent an unusable catalog.
        """
        return offers_for(
            self._feed.get(country.upper()),
            category=category,
            device_price=device_price,
            condition=condition,
            country=country,
            purchased_on=purchased_on,
            today=today,
            with_trade_in=with_trade_in,
            exemption_threshold=self.exemption_threshold,
        )

    def close(self) -> None:
        """Close the HTTP client the source created."""
        self._feed.close()
