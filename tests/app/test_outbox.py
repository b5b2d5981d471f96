"""Webhooks the service sends: events of order changes, kept in an outbox, delivered with retries."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, FixedClock, TradeIn
from tradein_sdk._domain.outbox import WebhookEndpoint
from tradein_sdk._errors import ConfigurationError
from tradein_sdk.webhooks import RetrySchedule, WebhookSecrets, verify

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HOOK = "https://shop.example/hooks/tradein"
SECRETS = WebhookSecrets.generate()
STAFF_CHECKS = ("liquid_indicator", "blocklist_status", "authenticity")


def answers(name: str) -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


def facade(tmp_path: Path, clock: FixedClock, *endpoints: WebhookEndpoint) -> TradeIn:
    """An embedded facade sending webhooks to the endpoints."""
    return TradeIn.embedded(
        tmp_path, clock=clock, webhook_endpoints=endpoints or (WebhookEndpoint(url=HOOK, secrets=SECRETS),)
    )


@pytest.fixture
def receiver() -> Iterator[respx.Route]:
    """The shop's webhook endpoint (respx), answering 204."""
    with respx.mock(assert_all_called=False) as router:
        yield router.post(HOOK).mock(return_value=httpx.Response(204))


def received(route: respx.Route, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Every delivery the endpoint got, verified: (type, data)."""
    events = []
    for call in route.calls:
        event = verify(dict(call.request.headers), call.request.content, SECRETS, now=now)
        events.append((event.type, dict(event.data)))
    return events


def revised_and_paid_order(trade_in: TradeIn) -> str:
    """Two devices: d1 revised, declined and returned; d2 confirmed and paid. Returns the order id."""
    first = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    second = trade_in.quote("apple-iphone-14-128gb", answers("worn"))
    order = trade_in.accept(
        [first.token, second.token],
        payout=BankTransfer(iban="DE89 3704 0044 0532 0130 00", holder="Erika Mustermann"),
    )
    trade_in.issue_label(order.id)
    for device in ("d1", "d2"):
        trade_in.ship(order.id, device)
        trade_in.receive(order.id, device)
    trade_in.inspect(order.id, "d1", answers("store-inspected"), imei="490154203237518")
    trade_in.respond_to_revision(order.id, "d1", accept=False)
    trade_in.record_event(order.id, "d1", "returned", actor="staff")
    inspected = {
        **dict(second.quote.answers),
        **{key: answers("store-inspected")[key] for key in STAFF_CHECKS},
    }
    trade_in.inspect(order.id, "d2", inspected, imei="357805023984942")
    trade_in.pay(order.id, "d2")
    return order.id


def test_an_order_tells_the_shop_what_happened(
    tmp_path: Path, clock: FixedClock, receiver: respx.Route
) -> None:
    """Received, inspected, revised, returned, paid: signed, in order, ids and amounts only."""
    trade_in = facade(tmp_path, clock)
    order_id = revised_and_paid_order(trade_in)
    report = trade_in.deliver_webhooks()
    assert (report.delivered, report.retrying, report.failed) == (7, 0, 0)
    events = received(receiver, clock.now())
    assert [(kind, data["device_id"]) for kind, data in events] == [
        ("device.received", "d1"),
        ("device.received", "d2"),
        ("device.inspected", "d1"),
        ("offer.revised", "d1"),
        ("device.returned", "d1"),
        ("device.inspected", "d2"),
        ("device.paid", "d2"),
    ]
    assert all(data["order_id"] == order_id for _, data in events)
    revised = dict(events)["offer.revised"]
    assert json.loads(json.dumps(revised["offer"]))["currency"] == "EUR"
    assert float(revised["offer"]["amount"]) < float(revised["quoted"]["amount"])
    paid = dict(events)["device.paid"]
    assert paid["method"] == "bank_transfer"
    everything = b"".join(call.request.content for call in receiver.calls)
    assert b"DE89" not in everything
    assert b"Mustermann" not in everything
    assert trade_in.deliver_webhooks().delivered == 0  # each is sent once
    trade_in.close()


def test_a_repeated_event_writes_no_second_webhook(
    tmp_path: Path, clock: FixedClock, receiver: respx.Route
) -> None:
    """A carrier event delivered twice changes the order once, and the shop hears of it once."""
    trade_in = facade(tmp_path, clock)
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    trade_in.ship(order.id, "d1")
    for _ in range(3):
        trade_in.record_event(order.id, "d1", "receive", actor="provider", event_id="carrier-scan-1")
    assert trade_in.deliver_webhooks().delivered == 1
    assert [kind for kind, _ in received(receiver, clock.now())] == ["device.received"]
    trade_in.close()


def test_failed_attempts_are_retried_on_the_schedule_with_the_same_id(
    tmp_path: Path, clock: FixedClock
) -> None:
    """503, then connection refused, then 204: three attempts at the planned times, one id, one body."""
    schedule = RetrySchedule(delays=[timedelta(seconds=5), timedelta(minutes=5)], jitter=0.0)
    trade_in = facade(tmp_path, clock, WebhookEndpoint(url=HOOK, secrets=SECRETS, schedule=schedule))
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    trade_in.ship(order.id, "d1")
    with respx.mock() as router:
        route = router.post(HOOK).mock(
            side_effect=[httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(204)]
        )
        trade_in.receive(order.id, "d1")
        assert trade_in.deliver_webhooks().retrying == 1
        assert trade_in.deliver_webhooks().retrying == 0  # not due yet
        clock.advance(seconds=5)
        assert trade_in.deliver_webhooks().retrying == 1
        clock.advance(minutes=4)
        assert route.call_count == 2
        clock.advance(minutes=1)
        assert trade_in.deliver_webhooks().delivered == 1
    ids = {call.request.headers["webhook-id"] for call in route.calls}
    bodies = {call.request.content for call in route.calls}
    stamps = [int(call.request.headers["webhook-timestamp"]) for call in route.calls]
    assert len(ids) == len(bodies) == 1
    assert stamps[1] - stamps[0] == 5
    assert stamps[2] - stamps[1] == 300
    trade_in.close()


@pytest.mark.parametrize(("answer", "delivered"), [(410, 0), (400, 0), (503, 0)])
def test_refusals_and_exhausted_retries_give_up(
    tmp_path: Path, clock: FixedClock, answer: int, delivered: int
) -> None:
    """410 (gone) and 4xx end at once; a 5xx ends when the schedule's attempts are used up."""
    schedule = RetrySchedule(delays=[timedelta(seconds=1)], jitter=0.0)
    trade_in = facade(tmp_path, clock, WebhookEndpoint(url=HOOK, secrets=SECRETS, schedule=schedule))
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    trade_in.ship(order.id, "d1")
    with respx.mock() as router:
        route = router.post(HOOK).mock(return_value=httpx.Response(answer))
        trade_in.receive(order.id, "d1")
        first = trade_in.deliver_webhooks()
        clock.advance(seconds=1)
        second = trade_in.deliver_webhooks()
    assert first.delivered + second.delivered == delivered
    assert first.failed + second.failed == 1
    assert route.call_count == (2 if answer == 503 else 1)
    trade_in.close()


def test_endpoints_choose_their_events_and_a_removed_endpoint_is_given_up(
    tmp_path: Path, clock: FixedClock
) -> None:
    """An endpoint gets only the types it subscribed to; rows for an endpoint no longer configured end."""
    other = "https://erp.example/hooks"
    endpoints = (
        WebhookEndpoint(url=HOOK, secrets=SECRETS, events=frozenset({"device.paid"})),
        WebhookEndpoint(url=other, secrets=SECRETS),
    )
    trade_in = facade(tmp_path, clock, *endpoints)
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    trade_in.ship(order.id, "d1")
    trade_in.receive(order.id, "d1")
    with respx.mock(assert_all_called=False) as router:
        shop = router.post(HOOK).mock(return_value=httpx.Response(200))
        trade_in.webhook_endpoints = (endpoints[0],)
        report = trade_in.deliver_webhooks()
    assert shop.call_count == 0
    assert report.failed == 1  # device.received for the removed ERP endpoint
    with pytest.raises(ConfigurationError):
        WebhookEndpoint(url="ftp://shop.example", secrets=SECRETS)
    trade_in.close()


def test_several_deliverers_send_each_webhook_once(
    tmp_path: Path, clock: FixedClock, database_url: str | None
) -> None:
    """Six threads delivering from one store at once: each of 12 webhooks is POSTed exactly once."""
    trade_in = TradeIn.embedded(
        tmp_path,
        database_url=database_url,
        clock=clock,
        webhook_endpoints=(WebhookEndpoint(url=HOOK, secrets=SECRETS),),
    )
    for _ in range(12):
        issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
        order = trade_in.accept([issued.token])
        trade_in.issue_label(order.id)
        trade_in.ship(order.id, "d1")
        trade_in.receive(order.id, "d1")
    barrier = threading.Barrier(6)

    def deliver() -> None:
        barrier.wait()
        trade_in.deliver_webhooks(limit=100)

    with respx.mock() as router:
        route = router.post(HOOK).mock(return_value=httpx.Response(204))
        threads = [threading.Thread(target=deliver) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    ids = [call.request.headers["webhook-id"] for call in route.calls]
    assert len(ids) == 12
    assert len(set(ids)) == 12
    trade_in.close()


def test_the_service_delivers_in_the_background_and_reads_its_endpoints(
    tmp_path: Path, clock: FixedClock, receiver: respx.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the service runs, a thread sends due webhooks; endpoints come from the environment."""
    import time  # noqa: PLC0415

    from tradein_sdk._remote import service as _service  # noqa: PLC0415

    environ = {
        "TRADEIN_WEBHOOK_URLS": f"{HOOK} https://erp.example/in",
        "TRADEIN_WEBHOOK_SECRETS": SECRETS.texts[0],
    }
    endpoints = _service.webhook_endpoints_from(environ)
    assert [endpoint.url for endpoint in endpoints] == [HOOK, "https://erp.example/in"]
    assert _service.webhook_endpoints_from({}) == ()
    with pytest.raises(ConfigurationError, match="TRADEIN_WEBHOOK_SECRETS"):
        _service.webhook_endpoints_from({"TRADEIN_WEBHOOK_URLS": HOOK})

    trade_in = facade(tmp_path, clock)
    issued = trade_in.quote("apple-iphone-13-128gb", answers("flawless"))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    trade_in.ship(order.id, "d1")
    trade_in.receive(order.id, "d1")
    monkeypatch.setattr(_service, "WEBHOOK_INTERVAL", 0.01)
    stop = threading.Event()
    worker = threading.Thread(target=_service._deliver_webhooks, args=(trade_in, stop))
    worker.start()
    deadline = time.monotonic() + 10
    while receiver.call_count == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    worker.join()
    assert [kind for kind, _ in received(receiver, clock.now())] == ["device.received"]
    trade_in.close()
