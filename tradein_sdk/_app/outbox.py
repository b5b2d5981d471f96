"""Delivering the webhook outbox: due rows claimed in batches with a lease, sent concurrently, retried.

:func:`deliver_due` claims a batch of due rows in one transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so workers on several machines take disjoint batches), each leased for :data:`LEASE`, and sends
them on a thread pool: each endpoint gets at most ``per_endpoint`` sends at a time, so one slow endpoint
holds only its own rows, never the others'. Each attempt is signed afresh (Standard Webhooks,
:mod:`tradein_sdk.webhooks`) and bounded by its sender's timeout; a failure is planned again on the
endpoint's :class:`~tradein_sdk.webhooks.RetrySchedule` (exponential waits with jitter, a capped
``Retry-After`` honoured). When the schedule's attempts are used up, or the receiver refuses (4xx, 410), the
row becomes a **dead letter**: listed by :func:`dead_webhooks`, sent again by :func:`replay_webhooks`.

A worker that dies leaves its rows leased; they are due again when the lease ends. An attempt's end is
recorded only while its lease holds, and a send is not started when the lease would end before its
timeout, so a row is never sent by two workers at once; a receiver still deduplicates by ``webhook-id``,
which stays the same on every attempt. What is written to the outbox, and when, is
:mod:`tradein_sdk._domain.outbox`.
"""

from __future__ import annotations

import logging
import random as _random
from collections import defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs

from tradein_sdk._domain.webhooks import AttemptOutcome, RetrySchedule

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from tradein_sdk._adapters.http.webhooks import WebhookSender
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.outbox import WebhookEndpoint
    from tradein_sdk._ports import DeadWebhook, PendingWebhook, WebhookOutbox

_log = logging.getLogger("tradein_sdk.webhooks")


LEASE = timedelta(minutes=2)
"""How long a delivering process holds a row it is sending."""

SEND_MARGIN = timedelta(seconds=20)
"""A claimed row is not sent when its lease ends sooner than this (the longest attempt, with slack)."""

DAY_OF_RETRIES = RetrySchedule.exponential(first=timedelta(minutes=1), cap=timedelta(hours=8), retries=11)
"""12 attempts over about 24 hours (1, 2, 4 ... 256 minutes, then 8 hours twice), jitter ±10 %: an
endpoint schedule for shops that want dead letters within a day (``WebhookEndpoint(schedule=...)``)."""


@attrs.frozen(kw_only=True)
class DeliveryReport:
    """What one :func:`deliver_due` pass did.

    Attributes:
        delivered: rows answered with 2xx.
        retrying: rows that failed and have another attempt planned.
        failed: rows given up, now dead letters (retries used up, refused with 4xx, endpoint gone or no
            longer configured).
        skipped: rows claimed but not sent (their lease had run too short, or another worker took them
            over); they are due again when the lease ends.
    """

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def claimed(self) -> int:
        """How many rows this pass took."""
        return self.delivered + self.retrying + self.failed + self.skipped

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        """The two passes' counts added."""
        return DeliveryReport(
            delivered=self.delivered + other.delivered,
            retrying=self.retrying + other.retrying,
            failed=self.failed + other.failed,
            skipped=self.skipped + other.skipped,
        )


def deliver_due(
    store: WebhookOutbox,
    endpoints: Sequence[WebhookEndpoint],
    *,
    clock: Clock,
    senders: Mapping[str, WebhookSender],
    limit: int = 100,
    concurrency: int = 8,
    per_endpoint: int = 1,
    lease: timedelta = LEASE,
    margin: timedelta = SEND_MARGIN,
) -> DeliveryReport:
    """Claim up to ``limit`` due rows, send them concurrently, and plan or end each one.

    Args:
        store: the store holding the outbox.
        endpoints: the configured endpoints (a row for an endpoint no longer configured is given up).
        clock: the current time.
        senders: the sender of each endpoint, by its key (its timeout bounds each attempt).
        limit: at most this many rows in this pass.
        concurrency: at most this many sends at once.
        per_endpoint: at most this many sends at once to one endpoint (1 keeps an endpoint's events in
            order within a pass).
        lease: how long the claimed rows are held.
        margin: a row whose lease ends sooner than this is not sent (at least the senders' timeout).

    Returns:
        How many were delivered, are retrying, were given up, or were skipped.
    """
    now = clock.now()
    claimed = store.claim_due_webhooks(now=now, until=now + lease, limit=limit)
    if not claimed:
        return DeliveryReport()
    by_key = {endpoint.key: endpoint for endpoint in endpoints}

    def send(pending: PendingWebhook) -> str:
        endpoint = by_key.get(pending.message.endpoint)
        return _attempt(store, endpoint, pending, clock=clock, senders=senders, margin=margin)

    outcomes = _run_by_endpoint(claimed, send, concurrency=concurrency, per_endpoint=per_endpoint)
    return DeliveryReport(
        delivered=outcomes.count("delivered"),
        retrying=outcomes.count("retrying"),
        failed=outcomes.count("failed"),
        skipped=outcomes.count("skipped"),
    )


def _attempt(
    store: WebhookOutbox,
    endpoint: WebhookEndpoint | None,
    pending: PendingWebhook,
    *,
    clock: Clock,
    senders: Mapping[str, WebhookSender],
    margin: timedelta,
) -> str:
    """Send one leased row once and record its end; return what came of it (a report field's name)."""
    lease = pending.next_attempt_at

    def finish(
        attempts: int,
        *,
        delivered_at: datetime | None = None,
        next_attempt_at: datetime | None = None,
        failed: bool = False,
        error: str | None = None,
    ) -> bool:
        return store.finish_leased_webhook(
            pending.delivery_id,
            leased_until=lease,
            attempts=attempts,
            delivered_at=delivered_at,
            next_attempt_at=next_attempt_at,
            failed=failed,
            error=error,
        )

    if endpoint is None:
        return "failed" if finish(pending.attempts, failed=True, error="no endpoint") else "skipped"
    if clock.now() + margin > lease:
        return "skipped"  # the lease would end mid-send: leave it to whoever takes it next
    number = pending.attempts + 1
    attempt = senders[endpoint.key].attempt_body(
        endpoint.url, pending.message.event_id, pending.message.body, number=number
    )
    if attempt.outcome is AttemptOutcome.DELIVERED:
        done = finish(number, delivered_at=attempt.attempted_at)
        return "delivered" if done else "skipped"
    if attempt.outcome is AttemptOutcome.RETRY and number < endpoint.schedule.max_attempts:
        delay = endpoint.schedule.delay_before(number + 1, draw=_random.random())  # noqa: S311 - jitter, not a secret
        if attempt.retry_after is not None:
            delay = max(delay, min(attempt.retry_after, timedelta(hours=1)))
        planned = finish(number, next_attempt_at=attempt.attempted_at + delay, error=attempt.summary())
        return "retrying" if planned else "skipped"
    _log.warning(
        "webhook %s to %s given up after %d attempts: %s",
        pending.message.event_id,
        endpoint.url,
        number,
        attempt.summary(),
    )
    return "failed" if finish(number, failed=True, error=attempt.summary()) else "skipped"


def _run_by_endpoint(
    rows: Sequence[PendingWebhook],
    send: Callable[[PendingWebhook], str],
    *,
    concurrency: int,
    per_endpoint: int,
) -> list[str]:
    """Run ``send`` on every row on a pool, at most ``per_endpoint`` at once per endpoint, in row order."""
    queues: dict[str, deque[PendingWebhook]] = defaultdict(deque)
    for row in rows:
        queues[row.message.endpoint].append(row)
    busy: dict[str, int] = defaultdict(int)
    running: dict[Future[str], str] = {}
    outcomes: list[str] = []
    workers = max(1, min(concurrency, len(rows)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tradein-webhook") as pool:
        while queues or running:
            for url in list(queues):
                queue = queues[url]
                while queue and busy[url] < per_endpoint and len(running) < workers:
                    running[pool.submit(send, queue.popleft())] = url
                    busy[url] += 1
                if not queue:
                    del queues[url]
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                busy[running.pop(future)] -= 1
                try:
                    outcomes.append(future.result())
                except Exception:  # noqa: BLE001 - a failure on one row must not lose the others' results
                    _log.exception("recording a webhook attempt failed")
                    outcomes.append("skipped")
    return outcomes


def dead_webhooks(
    store: WebhookOutbox,
    *,
    limit: int = 100,
    after: str | None = None,
    **scope: Any,  # noqa: ANN401 - the store's scope keyword, passed on
) -> list[DeadWebhook]:
    """Return the dead letters: rows given up (retries used up, refused, endpoint gone), by delivery id.

    Args:
        store: the store holding the outbox.
        limit: at most this many.
        after: the last delivery id of the previous page.
        **scope: ``scope=``: only rows of that tenant's or organisation's orders.

    Returns:
        The dead letters, with their attempts and last error.
    """
    return store.dead_webhooks(limit=limit, after=after, **scope)


def replay_webhooks(
    store: WebhookOutbox,
    *,
    now: datetime,
    delivery_ids: Sequence[str] = (),
    event_ids: Sequence[str] = (),
    all_dead: bool = False,
    **scope: Any,  # noqa: ANN401 - the store's scope keyword, passed on
) -> int:
    """Send finished webhooks again: dead letters or delivered ones, by delivery id, by event id, or all dead.

    The rows become due at ``now`` with a fresh attempt count and the endpoint's full retry schedule; the
    ``webhook-id`` and body stay as they were, so a receiver that already has the event drops it. A row
    still pending is left as it is.

    Args:
        store: the store holding the outbox.
        now: when the rows become due.
        delivery_ids: rows by delivery id (from :func:`dead_webhooks`).
        event_ids: every row of these events, one per endpoint.
        all_dead: every dead letter.
        **scope: ``scope=``: only rows of that tenant's or organisation's orders.

    Returns:
        How many rows were made due again.
    """
    count = store.replay_webhooks(
        now=now, delivery_ids=delivery_ids, event_ids=event_ids, all_dead=all_dead, **scope
    )
    _log.info("replaying %d webhook deliveries", count)
    return count
