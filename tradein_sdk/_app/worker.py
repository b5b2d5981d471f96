"""The worker: delivers the webhook outbox and runs the deadlines (``tick``) on a schedule, until stopped.

``tradein worker`` runs :func:`run_worker`; any number of workers, on any number of machines, may run on
one database at once:

- **Webhooks**: each pass claims a batch of due rows with a lease (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), sends them concurrently with a timeout per endpoint, and plans retries or dead-letters them
  (:mod:`tradein_sdk._app.outbox`). A worker that dies leaves its rows leased; they are due again when the
  lease ends, and another worker sends them.
- **Deadlines**: time is cut into slots of ``tick_every``; at the start of each slot one worker, whichever
  claims the slot's row in ``tradein_schedule`` first (a conditional ``UPDATE``, on SQLite and PostgreSQL
  alike), runs :meth:`TradeIn.tick` and releases the contingent liability of buy-back guarantees that
  lapsed (:meth:`TradeIn.release_lapsed_guarantees`); the others skip that slot.
- **Audit checkpoints**: likewise once per slot of ``checkpoint_every``, one worker verifies the audit log
  against the latest signed checkpoint and keeps a new one (:meth:`TradeIn.checkpoint_audit`), when the
  facade has signing keys and a place for checkpoints; a log that does not verify is logged as an error and
  gets no checkpoint.

The loop ends when ``stop`` is set, after the pass under way (each send is bounded by its timeout);
:func:`install_stop_signals` sets it on ``SIGTERM`` and ``SIGINT``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from tradein_sdk._app.outbox import LEASE, DeliveryReport, deliver_due
from tradein_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from types import FrameType

    from tradein_sdk._adapters.http.webhooks import WebhookSender
    from tradein_sdk._app.facade import TradeIn
    from tradein_sdk._domain.outbox import WebhookEndpoint

_log = logging.getLogger("tradein_sdk.worker")

TICK_JOB = "tick"
"""The name of the deadline job's row in ``tradein_schedule``."""
CHECKPOINT_JOB = "audit-checkpoint"
"""The name of the audit checkpoint job's row in ``tradein_schedule``."""

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class WorkerReport:
    """What a worker did until it stopped.

    Attributes:
        passes: delivery passes run.
        deliveries: the webhook rows delivered, retrying, given up and skipped, summed over the passes.
        ticks: the schedule slots this worker ran ``tick`` for.
        changed: orders the ticks changed, and lapsed guarantees released.
        errors: passes that failed (the database was unreachable, say) and were tried again.
        checkpoints: audit checkpoints this worker kept.
    """

    passes: int = 0
    deliveries: DeliveryReport = attrs.field(factory=DeliveryReport)
    ticks: int = 0
    changed: int = 0
    errors: int = 0
    checkpoints: int = 0


def slot_of(moment: datetime, every: timedelta) -> datetime:
    """Return the start of the schedule slot of length ``every`` that ``moment`` falls in (UTC-aligned).

    Raises:
        ConfigurationError: ``every`` is not positive.
    """
    if every <= timedelta(0):
        raise ConfigurationError("the schedule interval must be positive")
    return _EPOCH + ((moment - _EPOCH) // every) * every


def default_worker_name() -> str:
    """A name telling workers apart in ``tradein_schedule``: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_worker(
    trade_in: TradeIn,
    *,
    stop: threading.Event | None = None,
    poll_interval: float = 1.0,
    batch: int = 100,
    concurrency: int = 8,
    per_endpoint: int = 2,
    tick_every: timedelta | None = timedelta(minutes=1),
    timeout: float = 10.0,
    timeouts: Mapping[str, float] | None = None,
    lease: timedelta = LEASE,
    name: str | None = None,
    checkpoint_every: timedelta | None = timedelta(hours=1),
) -> WorkerReport:
    """Deliver due webhooks and run deadlines on schedule until ``stop`` is set.

    Args:
        trade_in: the facade (its store, clock, endpoints and ``tick``).
        stop: set it to end the loop after the pass under way (never set: runs until the process ends).
        poll_interval: seconds to wait when a pass found less than a full batch.
        batch: at most this many webhooks claimed per pass.
        concurrency: at most this many sends at once.
        per_endpoint: at most this many sends at once to one endpoint.
        tick_every: the deadline schedule's slot length; ``None`` runs no deadlines.
        timeout: seconds allowed for each attempt's connect, write, read and pool wait.
        timeouts: a different timeout for some endpoints, by URL.
        lease: how long claimed webhooks are held before another worker may take them.
        name: this worker's name in the schedule (host, process and thread by default).
        checkpoint_every: the audit checkpoint schedule's slot length; ``None`` (or a facade without signing
            keys and checkpoints) keeps none.

    Returns:
        What the worker did.

    Raises:
        ConfigurationError: a setting is out of range.
    """
    if batch < 1 or concurrency < 1 or per_endpoint < 1 or poll_interval < 0:
        raise ConfigurationError("batch, concurrency and per_endpoint must be at least 1, poll_interval >= 0")
    margin = timedelta(seconds=max([timeout, *(timeouts or {}).values()]) + 5)
    if lease <= margin:
        raise ConfigurationError("the lease must be longer than the longest webhook timeout and 5 s")
    stop = stop or threading.Event()
    holder = name or default_worker_name()
    store = trade_in.store
    senders: dict[str, WebhookSender] = {}
    passes = ticks = changed = errors = checkpoints = 0
    deliveries = DeliveryReport()
    if trade_in.checkpoints is None or trade_in.signing_keys is None:
        checkpoint_every = None
    deadlines, audit = _Schedule(TICK_JOB, tick_every), _Schedule(CHECKPOINT_JOB, checkpoint_every)
    _log.info("worker %s started", holder)
    try:
        while not stop.is_set():
            claimed = 0
            try:
                if deadlines.claims(trade_in, holder):
                    ticks += 1
                    changed += trade_in.tick() + trade_in.release_lapsed_guarantees()
                    _log.info("worker %s ran the deadlines of %s", holder, deadlines.last)
                if audit.claims(trade_in, holder):
                    checkpoints += _checkpoint(trade_in, holder)
                endpoints = trade_in.delivery_endpoints()
                _add_senders(senders, endpoints, trade_in, timeout=timeout, timeouts=timeouts or {})
                report = deliver_due(
                    store,
                    endpoints,
                    clock=trade_in.clock,
                    senders=senders,
                    limit=batch,
                    concurrency=concurrency,
                    per_endpoint=per_endpoint,
                    lease=lease,
                    margin=margin,
                )
                passes += 1
                deliveries += report
                claimed = report.claimed
            except Exception:  # noqa: BLE001 - a worker outlives a database or network hiccup
                errors += 1
                _log.exception("worker %s: the pass failed; trying again", holder)
            if claimed < batch:
                stop.wait(poll_interval)
    finally:
        for sender in senders.values():
            sender.close()
        _log.info("worker %s stopped", holder)
    return WorkerReport(
        passes=passes,
        deliveries=deliveries,
        ticks=ticks,
        changed=changed,
        errors=errors,
        checkpoints=checkpoints,
    )


@attrs.define
class _Schedule:
    """A job run once per slot of ``every`` across all workers: by the one that claims the slot first."""

    job: str
    every: timedelta | None
    last: datetime | None = None

    def claims(self, trade_in: TradeIn, holder: str) -> bool:
        """Whether this worker runs the job now: a new slot began and this worker claimed it."""
        if self.every is None:
            return False
        slot = slot_of(trade_in.clock.now(), self.every)
        if slot == self.last:
            return False
        self.last = slot
        return trade_in.store.claim_schedule_slot(
            self.job, slot=slot, holder=holder, now=trade_in.clock.now()
        )


def _checkpoint(trade_in: TradeIn, holder: str) -> int:
    """Verify the audit log and keep a checkpoint; 1 when one was kept, 0 (and an error logged) when not."""
    verification = trade_in.checkpoint_audit()
    if verification.ok:
        _log.info("worker %s kept an audit checkpoint of %d entries", holder, verification.entries_checked)
        return 1
    _log.error(
        "worker %s: the audit log does not verify (%d problem(s), first: %s); no checkpoint kept",
        holder,
        verification.problem_count,
        verification.problems[0] if verification.problems else "-",
    )
    return 0


def _add_senders(
    senders: dict[str, WebhookSender],
    endpoints: Iterable[WebhookEndpoint],
    trade_in: TradeIn,
    *,
    timeout: float,
    timeouts: Mapping[str, float],
) -> None:
    """Create a sender (with its own connection pool and timeout) for each endpoint that has none."""
    from tradein_sdk._adapters.http.webhooks import WebhookSender  # noqa: PLC0415 - httpx loads with the first delivery

    for endpoint in endpoints:
        sender = senders.get(endpoint.key)
        if sender is None or sender.secrets != endpoint.secrets:  # new, or its secret was rotated
            if sender is not None:
                sender.close()
            senders[endpoint.key] = WebhookSender(
                secrets=endpoint.secrets,
                clock=trade_in.clock,
                schedule=endpoint.schedule,
                timeout=timeouts.get(endpoint.url, timeout),
            )


def install_stop_signals(
    stop: threading.Event, signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT)
) -> Callable[[], None]:
    """Make ``SIGTERM`` and ``SIGINT`` set ``stop`` (call from the main thread); return what undoes it.

    The worker then finishes the pass under way and returns; a second signal is handled the same way.
    """
    previous: dict[signal.Signals, object] = {}

    def handle(number: int, _frame: FrameType | None) -> None:
        _log.info("signal %s: stopping after the pass under way", signal.Signals(number).name)
        stop.set()

    for sig in signals:
        previous[sig] = signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    return restore
