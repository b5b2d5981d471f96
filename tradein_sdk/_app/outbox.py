"""Delivering the webhook outbox: due rows claimed with a lease, sent signed, retried on schedule.

:func:`deliver_due` sends the rows that are due, each attempt signed afresh (Standard Webhooks,
:mod:`tradein_sdk.webhooks`), and plans the next attempt on the endpoint's
:class:`~tradein_sdk.webhooks.RetrySchedule` (about 3 days by default, a capped ``Retry-After`` honoured).
A row is claimed with a lease before it is sent, so several processes can deliver from one store without
sending a row twice at once; a receiver still deduplicates by ``webhook-id``, which stays the same on every
attempt. What is written to the outbox, and when, is :mod:`tradein_sdk._domain.outbox`.
"""

from __future__ import annotations

import random as _random
from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from tradein_sdk._domain.webhooks import (
    AttemptOutcome,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tradein_sdk._adapters.http.webhooks import WebhookSender
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.outbox import WebhookEndpoint
    from tradein_sdk._ports import WebhookOutbox


LEASE = timedelta(minutes=2)
"""How long a delivering process holds a row it is sending."""


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


def deliver_due(
    store: WebhookOutbox,
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
