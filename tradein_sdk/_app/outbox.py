"""The webhooks the service sends: derived from order changes, kept in an outbox, delivered with retries.

When an order changes, :func:`order_events` reads the transitions the change added and names the events a shop
hears about (``device.received``, ``device.inspected``, ``offer.revised``, ``device.paid``,
``device.returned``; ``device.erased`` comes from a provider's erasure report, see
:mod:`~tradein_sdk._remote.provider`). One outbox row per event and endpoint is written
**in the same transaction**
as the order, so an event is never lost nor sent for a change that did not happen. :func:`deliver_due` sends
the rows that are due, each attempt signed afresh (Standard Webhooks, :mod:`tradein_sdk.webhooks`), and
plans the next attempt on the endpoint's :class:`~tradein_sdk.webhooks.RetrySchedule` (about 3 days by
default, a capped ``Retry-After`` honoured). A row is claimed with a lease before it is sent, so several
processes can deliver from one store without sending a row twice at once; a receiver still deduplicates by
``webhook-id``, which stays the same on every attempt.

Event data carries ids, states and amounts only, never personal data::

    {"type": "offer.revised", "timestamp": "...", "data": {"order_id": "ord_…", "device_id": "d1",
     "quote_id": "q_…", "state": "revised", "quoted": {"amount": "195.00", "currency": "EUR"},
     "offer": {"amount": "160.00", "currency": "EUR"}}}
"""

from __future__ import annotations

import hashlib
import random as _random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from tradein_sdk._domain.orders.vocabulary import DeviceState
from tradein_sdk._errors import ConfigurationError
from tradein_sdk.webhooks import (
    AttemptOutcome,
    RetrySchedule,
    WebhookEvent,
    WebhookEventType,
    WebhookSecrets,
    WebhookSender,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from tradein_sdk._adapters.sql.store import Store
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder

_EVENTS: dict[DeviceState, WebhookEventType] = {
    DeviceState.RECEIVED: WebhookEventType.DEVICE_RECEIVED,
    DeviceState.INSPECTED: WebhookEventType.DEVICE_INSPECTED,
    DeviceState.REVISED: WebhookEventType.OFFER_REVISED,
    DeviceState.PAID: WebhookEventType.DEVICE_PAID,
    DeviceState.CREDITED: WebhookEventType.DEVICE_PAID,
    DeviceState.RETURNED: WebhookEventType.DEVICE_RETURNED,
}
LEASE = timedelta(minutes=2)
"""How long a delivering process holds a row it is sending."""


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

    Raises:
        ConfigurationError: the URL is not http(s).
    """

    url: str = attrs.field(validator=_check_url)
    secrets: WebhookSecrets
    events: frozenset[str] | None = attrs.field(default=None, converter=_event_types)
    schedule: RetrySchedule = attrs.field(factory=RetrySchedule)

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to ``event_type``."""
        return self.events is None or event_type in self.events


@attrs.frozen(kw_only=True)
class OutboxMessage:
    """One webhook waiting to be sent to one endpoint.

    Attributes:
        event_id: the ``webhook-id`` (the same for every endpoint and attempt).
        endpoint: the endpoint's URL.
        type: the event type.
        body: the body, fixed when the change was written.
        created_at: when the change happened.
    """

    event_id: str
    endpoint: str
    type: str
    body: bytes
    created_at: datetime


@attrs.frozen(kw_only=True)
class PendingWebhook:
    """An outbox row that is due: the message and how many attempts it had.

    Attributes:
        delivery_id: the row's id.
        message: what to send where.
        attempts: attempts made so far.
        next_attempt_at: when it is due (the claim compares it, so two senders cannot take one row).
    """

    delivery_id: str
    message: OutboxMessage
    attempts: int
    next_attempt_at: datetime


@attrs.frozen(kw_only=True)
class DeliveryReport:
    """What one :func:`deliver_due` pass did.

    Attributes:
        delivered: rows answered with 2xx.
        retrying: rows that failed and have another attempt planned.
        failed: rows given up (retries used up, refused with 4xx, endpoint gone or no longer configured).
    """

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


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
    events: Iterable[WebhookEvent], endpoints: Sequence[WebhookEndpoint]
) -> list[OutboxMessage]:
    """One message per event and endpoint that wants it."""
    return [
        OutboxMessage(
            event_id=event.id,
            endpoint=endpoint.url,
            type=event.type,
            body=event.to_body(),
            created_at=event.timestamp,
        )
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event.type)
    ]


def deliver_due(
    store: Store,
    endpoints: Sequence[WebhookEndpoint],
    *,
    clock: Clock,
    senders: Mapping[str, WebhookSender],
    limit: int = 100,
) -> DeliveryReport:
    """Send the outbox rows that are due, once each, and plan or end each one.

    Args:
        store: the store holding the outbox.
        endpoints: the configured endpoints (a row for an endpoint no longer configured is given up).
        clock: the current time.
        senders: the sender of each endpoint, by URL.
        limit: at most this many rows in this pass.

    Returns:
        How many were delivered, are retrying, or were given up.
    """
    by_url = {endpoint.url: endpoint for endpoint in endpoints}
    delivered = retrying = failed = 0
    now = clock.now()
    for pending in store.due_webhooks(now=now, limit=limit):
        if not store.claim_webhook(pending.delivery_id, due_at=pending.next_attempt_at, until=now + LEASE):
            continue  # another process took it
        endpoint = by_url.get(pending.message.endpoint)
        if endpoint is None:
            store.finish_webhook(
                pending.delivery_id, attempts=pending.attempts, failed=True, error="no endpoint"
            )
            failed += 1
            continue
        number = pending.attempts + 1
        attempt = senders[endpoint.url].attempt_body(
            endpoint.url, pending.message.event_id, pending.message.body, number=number
        )
        if attempt.outcome is AttemptOutcome.DELIVERED:
            store.finish_webhook(pending.delivery_id, attempts=number, delivered_at=attempt.attempted_at)
            delivered += 1
            continue
        if attempt.outcome is AttemptOutcome.RETRY and number < endpoint.schedule.max_attempts:
            delay = endpoint.schedule.delay_before(number + 1, draw=_random.random())  # noqa: S311 - jitter, not a secret
            if attempt.retry_after is not None:
                delay = max(delay, min(attempt.retry_after, timedelta(hours=1)))
            store.finish_webhook(
                pending.delivery_id,
                attempts=number,
                next_attempt_at=attempt.attempted_at + delay,
                error=attempt.summary(),
            )
            retrying += 1
            continue
        store.finish_webhook(pending.delivery_id, attempts=number, failed=True, error=attempt.summary())
        failed += 1
    return DeliveryReport(delivered=delivered, retrying=retrying, failed=failed)
