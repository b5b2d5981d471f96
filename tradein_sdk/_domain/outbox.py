"""The webhooks an order change sends: which events, to which endpoints, with which bodies.

When an order changes, :func:`order_events` reads the transitions the change added and names the events a
shop hears about (``device.received``, ``device.inspected``, ``offer.revised``, ``device.paid``,
``device.returned``; ``device.erased`` comes from a provider's erasure report). :func:`outbox_messages`
turns them into one :class:`OutboxMessage` per subscribed endpoint, written **in the same transaction** as
the order, so an event is never lost nor sent for a change that did not happen.

Event data carries ids, states and amounts only, never personal data::

    {"type": "offer.revised", "timestamp": "...", "data": {"order_id": "ord_…", "device_id": "d1",
     "quote_id": "q_…", "state": "revised", "quoted": {"amount": "195.00", "currency": "EUR"},
     "offer": {"amount": "160.00", "currency": "EUR"}}}
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from tradein_sdk._domain.orders.vocabulary import DeviceState
from tradein_sdk._domain.webhooks import (
    RetrySchedule,
    WebhookEvent,
    WebhookEventType,
    WebhookSecrets,
)
from tradein_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder


_EVENTS: dict[DeviceState, WebhookEventType] = {
    DeviceState.RECEIVED: WebhookEventType.DEVICE_RECEIVED,
    DeviceState.INSPECTED: WebhookEventType.DEVICE_INSPECTED,
    DeviceState.REVISED: WebhookEventType.OFFER_REVISED,
    DeviceState.PAID: WebhookEventType.DEVICE_PAID,
    DeviceState.CREDITED: WebhookEventType.DEVICE_PAID,
    DeviceState.RETURNED: WebhookEventType.DEVICE_RETURNED,
}


def _check_url(_: object, __: object, url: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise ConfigurationError("a webhook endpoint is an http(s) URL, not {url!r}", url=url[:60])


def _event_types(types: Iterable[str] | None) -> frozenset[str] | None:
    return None if types is None else frozenset(types)


@attrs.frozen(kw_only=True)
class WebhookEndpoint:
    """Where the service sends its webhooks, and with which secrets.

    Attributes:
        url: the receiver's URL (``https://shop.example/hooks/tradein``).
        secrets: the secrets each attempt is signed with (one signature each, for rotation).
        events: the event types it wants (``None``: every type).
        schedule: when to retry (the Standard Webhooks schedule by default).
        id: the id of an endpoint a tenant registered (``whe_…``); ``None`` for one configured by the
            operator (``$TRADEIN_WEBHOOK_URLS``), which receives every tenant's events.
        organisation: the organisation of a registered endpoint.
        tenant: the one tenant whose events it receives (``None``: every tenant of the organisation).

    Raises:
        ConfigurationError: the URL is not http(s).
    """

    url: str = attrs.field(validator=_check_url)
    secrets: WebhookSecrets
    events: frozenset[str] | None = attrs.field(default=None, converter=_event_types)
    schedule: RetrySchedule = attrs.field(factory=RetrySchedule)
    id: str | None = None
    organisation: str | None = None
    tenant: str | None = None

    @property
    def key(self) -> str:
        """What outbox rows name the endpoint by: its id when registered, else its URL."""
        return self.id or self.url

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to ``event_type``."""
        return self.events is None or event_type in self.events


@attrs.frozen(kw_only=True)
class OutboxMessage:
    """One webhook waiting to be sent to one endpoint.

    Attributes:
        event_id: the ``webhook-id`` (the same for every endpoint and attempt).
        endpoint: the endpoint's :attr:`~WebhookEndpoint.key` (a registered endpoint's id, or a URL).
        type: the event type.
        body: the body, fixed when the change was written.
        created_at: when the change happened.
        tenant: the tenant whose order the event is about.
        organisation: that tenant's organisation.
    """

    event_id: str
    endpoint: str
    type: str
    body: bytes
    created_at: datetime
    tenant: str | None = None
    organisation: str | None = None


def _money(value: Any) -> object:  # noqa: ANN401 - a Money or None
    return None if value is None else value.to_json()


def _data(order: TradeInOrder, device: OrderDevice, state: DeviceState) -> dict[str, object]:
    data: dict[str, object] = {
        "order_id": order.id,
        "device_id": device.id,
        "quote_id": device.quote_id,
        "state": state.value,
    }
    if state in {DeviceState.INSPECTED, DeviceState.REVISED}:
        data["quoted"] = _money(device.quoted)
        data["offer"] = _money(device.offer)
    if state in {DeviceState.PAID, DeviceState.CREDITED}:
        data["amount"] = _money(device.settled)
        data["method"] = device.payout.method.value if device.payout is not None else None
    return data


def order_events(before: TradeInOrder | None, after: TradeInOrder) -> list[WebhookEvent]:
    """The webhook events of one change of an order, in the order the transitions happened.

    Each event's id is derived from the transition (order, device, event id, state), so computing the
    events of the same change again gives the same ids.
    """
    known = {device.id: len(device.history) for device in before.devices} if before is not None else {}
    events = []
    for device in after.devices:
        for entry in device.history[known.get(device.id, 0) :]:
            event_type = _EVENTS.get(entry.to_state)
            if event_type is None:
                continue
            seed = f"{after.id}/{device.id}/{entry.event_id}/{entry.to_state.value}".encode()
            events.append(
                WebhookEvent(
                    id="msg_" + hashlib.sha256(seed).hexdigest()[:32],
                    type=event_type.value,
                    timestamp=entry.at,
                    data=_data(after, device, entry.to_state),
                )
            )
    return events


def outbox_messages(
    events: Iterable[WebhookEvent],
    endpoints: Sequence[WebhookEndpoint],
    *,
    tenant: str | None = None,
    organisation: str | None = None,
) -> list[OutboxMessage]:
    """One message per event and endpoint that wants it (the owner of the order recorded on each)."""
    return [
        OutboxMessage(
            event_id=event.id,
            endpoint=endpoint.key,
            type=event.type,
            body=event.to_body(),
            created_at=event.timestamp,
            tenant=tenant,
            organisation=organisation,
        )
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event.type)
    ]
