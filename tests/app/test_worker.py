"""The worker: several on one database deliver every webhook once, retry, dead-letter, replay, tick once."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from tradein_sdk import FixedClock, SystemClock, TradeIn
from tradein_sdk._app.outbox import dead_webhooks, deliver_due, replay_webhooks
from tradein_sdk._app.worker import WorkerReport, install_stop_signals, run_worker, slot_of
from tradein_sdk._domain.outbox import OutboxMessage, WebhookEndpoint
from tradein_sdk.webhooks import RetrySchedule, WebhookEvent, WebhookSecrets, new_webhook_id, verify

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tradein_sdk._domain.clock import Clock

SECRETS = WebhookSecrets.generate()
QUICK = RetrySchedule(delays=[timedelta(milliseconds=20)] * 7, jitter=0.5)  # 8 attempts, milliseconds apart


class Receiver:
    """A local HTTP server receiving webhooks; each path behaves as the test sets it."""

    def __init__(self) -> None:
        """Start serving on a free local port."""
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()  # webhook-id -> POSTs
        self.accepted: Counter[str] = Counter()  # webhook-id -> 2xx answers
        self.behaviour: dict[str, Callable[[str, int], int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                verify(
                    {key.lower(): value for key, value in self.headers.items()},
                    body,
                    SECRETS,
                    now=datetime.now(UTC),
                )
                webhook_id = self.headers["webhook-id"]
                with receiver.lock:
                    receiver.attempts[webhook_id] += 1
                    number = receiver.attempts[webhook_id]
                status = receiver.behaviour.get(self.path, accept)(webhook_id, number)
                if 200 <= status < 300:
                    with receiver.lock:
                        receiver.accepted[webhook_id] += 1
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:  # noqa: ANN401
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """The URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local webhook receiver."""
    server = Receiver()
    yield server
    server.close()


def accept(_webhook_id: str, _number: int) -> int:
    """Answer 204."""
    return 204


def flaky(webhook_id: str, number: int) -> int:
    """Fail about 30 % of first attempts and of the next three, by a hash of id and attempt; never after."""
    draw = hashlib.sha256(f"{webhook_id}/{number}".encode()).digest()[0]
    return 503 if number <= 4 and draw < 77 else 204


def instance(
    tmp_path: Path, database_url: str | None, clock: Clock, endpoints: list[WebhookEndpoint]
) -> TradeIn:
    """One facade on the shared database, as one worker process would open it."""
    return TradeIn.embedded(tmp_path, database_url=database_url, clock=clock, webhook_endpoints=endpoints)


def add_messages(trade_in: TradeIn, urls: list[str], count: int) -> list[str]:
    """Write ``count`` events, each to every URL, due now; return the event ids."""
    now = trade_in.clock.now()
    ids = [new_webhook_id() for _ in range(count)]
    messages = [
        OutboxMessage(
            event_id=event_id,
            endpoint=url,
            type="device.received",
            body=WebhookEvent(id=event_id, type="device.received", timestamp=now, data={}).to_body(),
            created_at=now - timedelta(seconds=1),
        )
        for event_id in ids
        for url in urls
    ]
    trade_in.store.add_audit([], now=now, outbox=messages)
    return ids


def run_workers(instances: list[TradeIn], until: Callable[[], bool], **options: Any) -> list[WorkerReport]:  # noqa: ANN401
    """Run one worker per facade in threads until ``until()`` holds (or 60 s pass); return their reports."""
    stop = threading.Event()
    reports: list[WorkerReport] = []

    def work(trade_in: TradeIn) -> None:
        reports.append(run_worker(trade_in, stop=stop, poll_interval=0.01, **options))

    threads = [threading.Thread(target=work, args=(trade_in,)) for trade_in in instances]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while not until() and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join()
    assert until(), "the workers did not finish in 60 s"
    return reports


def test_three_workers_deliver_every_webhook_once_with_retries_and_dead_letters(
    tmp_path: Path, database_url: str | None, receiver: Receiver
) -> None:
    """40 events to a flaky and a dead endpoint: flaky ones all arrive once, dead ones dead-letter, replay."""
    flaky_url, down_url = receiver.url("/flaky"), receiver.url("/down")
    endpoints = [
        WebhookEndpoint(url=flaky_url, secrets=SECRETS, schedule=QUICK),
        WebhookEndpoint(url=down_url, secrets=SECRETS, schedule=RetrySchedule(delays=[timedelta(0)] * 2)),
    ]
    receiver.behaviour = {"/flaky": flaky, "/down": lambda _id, _n: 503}
    instances = [instance(tmp_path, database_url, SystemClock(), endpoints) for _ in range(3)]
    store = instances[0].store
    ids = add_messages(instances[0], [flaky_url], 40) + add_messages(instances[0], [down_url], 5)

    reports = run_workers(
        instances, lambda: store.outbox_counts().pending == 0, batch=7, concurrency=4, tick_every=None
    )

    assert set(receiver.accepted) == set(ids[:40])  # none lost
    assert set(receiver.accepted.values()) == {1}  # none twice
    assert sum(receiver.attempts[event_id] for event_id in ids[:40]) > 40  # retries happened
    assert {receiver.attempts[event_id] for event_id in ids[40:]} == {3}  # then given up
    dead = dead_webhooks(store)
    assert sorted(letter.event_id for letter in dead) == sorted(ids[40:])
    assert {letter.last_error for letter in dead} == {"HTTP 503"}
    assert sum(report.deliveries.delivered for report in reports) == 40
    assert sum(report.deliveries.failed for report in reports) == 5
    assert sum(report.errors for report in reports) == 0
    assert len([report for report in reports if report.deliveries.claimed]) > 1  # the work was shared

    receiver.behaviour["/down"] = lambda _id, _n: 204
    assert replay_webhooks(store, now=store_now(), delivery_ids=[dead[0].delivery_id]) == 1
    assert replay_webhooks(store, now=store_now(), all_dead=True) == 4
    assert replay_webhooks(store, now=store_now(), event_ids=ids[:1]) == 1  # a delivered one, again
    run_workers(instances, lambda: store.outbox_counts().pending == 0, tick_every=None)
    assert set(receiver.accepted) == set(ids)
    assert receiver.accepted[ids[0]] == 2  # replayed on purpose; the receiver deduplicates by id
    assert dead_webhooks(store) == []
    for trade_in in instances:
        trade_in.close()


def store_now() -> datetime:
    """The real time (the workers' clock)."""
    return datetime.now(UTC)


def test_a_slow_endpoint_does_not_hold_the_others(tmp_path: Path, receiver: Receiver) -> None:
    """One pass of 10 events: the slow endpoint answers only once the 9 others are recorded delivered."""
    slow_url = receiver.url("/slow")
    fast_urls = [receiver.url(f"/fast{number}") for number in range(3)]
    endpoints = [WebhookEndpoint(url=url, secrets=SECRETS) for url in [slow_url, *fast_urls]]
    trade_in = instance(tmp_path, None, SystemClock(), endpoints)
    store = trade_in.store
    add_messages(trade_in, [slow_url], 1)
    add_messages(trade_in, fast_urls, 3)
    seen: dict[str, int] = {}

    def slow(_id: str, _number: int) -> int:
        deadline = time.monotonic() + 5  # at most the 5 s of the measured defect
        while store.outbox_counts().delivered < 9 and time.monotonic() < deadline:
            time.sleep(0.01)
        seen["delivered_while_slow_waited"] = store.outbox_counts().delivered
        return 204

    receiver.behaviour = {"/slow": slow}
    senders = {
        endpoint.url: _sender(endpoint, trade_in.clock, timeout=10.0 if endpoint.url == slow_url else 1.0)
        for endpoint in endpoints
    }
    report = deliver_due(store, endpoints, clock=trade_in.clock, senders=senders, concurrency=8)
    assert report.delivered == 10
    assert seen["delivered_while_slow_waited"] == 9
    for sender in senders.values():
        sender.close()
    trade_in.close()


def _sender(endpoint: WebhookEndpoint, clock: Clock, *, timeout: float) -> Any:  # noqa: ANN401
    from tradein_sdk.webhooks import WebhookSender  # noqa: PLC0415

    return WebhookSender(secrets=endpoint.secrets, clock=clock, schedule=endpoint.schedule, timeout=timeout)


def test_the_deadlines_run_once_per_slot_across_three_workers(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three workers, six one-minute slots: tick runs six times in all, once per slot."""
    clock = FixedClock(datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC))
    instances = [instance(tmp_path, database_url, clock, []) for _ in range(3)]
    ran: list[datetime] = []
    lock = threading.Lock()
    for trade_in in instances:

        def tick(*, limit: int = 500, _real: Callable[..., int] = trade_in.tick) -> int:
            with lock:
                ran.append(slot_of(clock.now(), timedelta(minutes=1)))
            return _real(limit=limit)

        monkeypatch.setattr(trade_in, "tick", tick)
    stop = threading.Event()
    reports: list[WorkerReport] = []
    threads = [
        threading.Thread(
            target=lambda trade_in=trade_in: reports.append(
                run_worker(trade_in, stop=stop, poll_interval=0.005, tick_every=timedelta(minutes=1))
            )
        )
        for trade_in in instances
    ]
    for thread in threads:
        thread.start()
    for number in range(1, 7):
        deadline = time.monotonic() + 20
        while len(ran) < number and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # every worker has polled this slot a few times
        if number < 6:
            clock.advance(minutes=1)
    stop.set()
    for thread in threads:
        thread.join()
    assert len(ran) == 6
    assert len(set(ran)) == 6
    assert sum(report.ticks for report in reports) == 6
    for trade_in in instances:
        trade_in.close()


def test_the_stop_signal_handler_sets_the_event() -> None:
    """SIGTERM sets the worker's stop event; the previous handler is restored afterwards."""
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415

    stop = threading.Event()
    before = signal.getsignal(signal.SIGTERM)
    restore = install_stop_signals(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5)
    finally:
        restore()
    assert signal.getsignal(signal.SIGTERM) == before
