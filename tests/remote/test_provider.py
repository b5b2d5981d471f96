"""The remote fulfilment adapter: a provider's signed webhooks become order transitions, once each."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import DeviceState, FixedClock, SQLStore, TradeIn
from tradein_sdk._remote.service import TradeInService, make_server
from tradein_sdk.testing import example_erasure_report, signed_webhook
from tradein_sdk.webhooks import WebhookEvent, WebhookSecrets, new_webhook_id

if TYPE_CHECKING:
    from pathlib import Path

KEY = "store-key-0123456789"
PROVIDER = WebhookSecrets.generate()
STAFF_CHECKS = ("liquid_indicator", "blocklist_status", "authenticity")


def answers(name: str) -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


def shipped_order(trade_in: TradeIn, name: str = "flawless") -> str:
    """An order of one device, label issued and shipped; its id."""
    issued = trade_in.quote("apple-iphone-13-128gb", answers(name))
    order = trade_in.accept([issued.token])
    trade_in.issue_label(order.id)
    trade_in.ship(order.id, "d1")
    return order.id


def delivery(
    event_type: str, data: dict[str, Any], at: datetime, *, event_id: str | None = None
) -> tuple[dict[str, str], bytes]:
    """A provider's signed delivery."""
    event = WebhookEvent(id=event_id or new_webhook_id(), type=event_type, timestamp=at, data=data)
    headers, body = signed_webhook(event, PROVIDER, at=at)
    return dict(headers), body


@pytest.fixture
def setup(trade_in: TradeIn) -> tuple[TradeIn, httpx.Client]:
    """The facade and an httpx client of the service with the provider's secrets."""
    service = TradeInService(trade_in, api_keys={"s": KEY}, provider_secrets=PROVIDER)
    return trade_in, httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://service")


def post(client: httpx.Client, headers: dict[str, str], body: bytes) -> httpx.Response:
    """POST a delivery to the provider endpoint."""
    return client.post("/v1/provider/events", content=body, headers=headers)


def test_provider_events_drive_the_order(setup: tuple[TradeIn, httpx.Client], clock: FixedClock) -> None:
    """Received, inspected (revised), returned: each changes the order, as the provider."""
    trade_in, client = setup
    order_id = shipped_order(trade_in)
    ids = {"order_id": order_id, "device_id": "d1"}
    now = clock.now()
    assert post(client, *delivery("device.received", ids, now)).json()["applied"] is True
    assert trade_in.order(order_id).device("d1").state is DeviceState.RECEIVED
    inspected = {**ids, "answers": answers("store-inspected"), "imei": "490154203237518"}
    assert post(client, *delivery("device.inspected", inspected, now)).json()["applied"] is True
    device = trade_in.order(order_id).device("d1")
    assert device.state is DeviceState.REVISED
    assert device.history[-2].actor.value == "provider"

    trade_in.respond_to_revision(order_id, "d1", accept=False)
    assert post(client, *delivery("device.returned", ids, now)).json()["applied"] is True
    assert trade_in.order(order_id).device("d1").state is DeviceState.RETURNED


def test_a_late_or_unknown_event_is_acknowledged_and_changes_nothing(
    setup: tuple[TradeIn, httpx.Client], clock: FixedClock
) -> None:
    """A 'received' after the inspection, or a type from a newer provider: 200, applied false."""
    trade_in, client = setup
    order_id = shipped_order(trade_in)
    ids = {"order_id": order_id, "device_id": "d1"}
    post(client, *delivery("device.received", ids, clock.now()))
    inspected = {
        **ids,
        "answers": {**answers("flawless"), **{key: answers("store-inspected")[key] for key in STAFF_CHECKS}},
    }
    post(client, *delivery("device.inspected", inspected, clock.now()))
    state = trade_in.order(order_id).device("d1").state
    late = post(client, *delivery("device.received", ids, clock.now()))
    assert late.status_code == 200
    assert late.json()["applied"] is False
    newer = post(client, *delivery("device.polished", ids, clock.now()))
    assert newer.json()["applied"] is False
    assert trade_in.order(order_id).device("d1").state is state


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("signature", "webhook_signature_invalid"),
        ("body", "webhook_signature_invalid"),
        ("old", "webhook_timestamp_too_old"),
        ("missing", "webhook_header_missing"),
        ("order_id", "webhook_payload_invalid"),
    ],
)
def test_deliveries_that_do_not_verify_are_refused(
    setup: tuple[TradeIn, httpx.Client], clock: FixedClock, change: str, code: str
) -> None:
    """400 with the webhook error's code; nothing changes."""
    trade_in, client = setup
    order_id = shipped_order(trade_in)
    data: dict[str, Any] = {"order_id": order_id, "device_id": "d1"}
    at = clock.now() - timedelta(minutes=10) if change == "old" else clock.now()
    if change == "order_id":
        data["order_id"] = 42
    headers, body = delivery("device.received", data, at)
    if change == "signature":
        headers["webhook-signature"] = "v1," + "A" * 43 + "="
    if change == "body":
        body = body.replace(b"d1", b"d2")
    if change == "missing":
        del headers["webhook-id"]
    response = post(client, headers, body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert trade_in.order(order_id).device("d1").state is DeviceState.IN_TRANSIT


def test_without_provider_secrets_the_endpoint_does_not_exist(trade_in: TradeIn) -> None:
    """A service configured without a provider answers 404."""
    service = TradeInService(trade_in, api_keys={"s": KEY})
    with httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://s") as client:
        response = client.post("/v1/provider/events", content=b"{}")
    assert response.status_code == 404


def concurrently(base: str, headers: dict[str, str], body: bytes, *, count: int) -> list[bool]:
    """POST one delivery from ``count`` threads at once; the ``applied`` of each answer."""
    barrier = threading.Barrier(count)
    applied: list[bool] = []

    def send() -> None:
        with httpx.Client(base_url=base) as client:
            barrier.wait()
            response = client.post("/v1/provider/events", content=body, headers=headers)
        assert response.status_code == 200, response.text
        applied.append(response.json()["applied"])

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return applied


def test_twenty_concurrent_duplicate_deliveries_change_the_order_once(
    any_store_trade_in: TradeIn, clock: FixedClock
) -> None:
    """The same signed 'received' and 'erased' sent 20 times at once over a real port: one change each."""
    order_id = shipped_order(any_store_trade_in)
    server = make_server(
        TradeInService(any_store_trade_in, api_keys={"s": KEY}, provider_secrets=PROVIDER), "127.0.0.1", 0
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    ids = {"order_id": order_id, "device_id": "d1"}
    received_at = clock.now()
    results: dict[str, list[bool]] = {}
    try:
        results["device.received"] = concurrently(
            base, *delivery("device.received", ids, clock.now()), count=20
        )
        clock.advance(hours=2)  # erased and verified
        erased = {**ids, "report": example_erasure_report(order_id, received_at=received_at)}
        results["device.erased"] = concurrently(
            base, *delivery("device.erased", erased, clock.now()), count=20
        )
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(results["device.received"]) == [False] * 19 + [True]
    assert sorted(results["device.erased"]) == [False] * 19 + [True]
    device = any_store_trade_in.order(order_id).device("d1")
    assert [entry.kind.value for entry in device.history].count("receive") == 1
    store = any_store_trade_in.store
    assert isinstance(store, SQLStore)
    with store._engine.connect() as conn:
        issued = conn.execute(
            sa.text("SELECT count(*) FROM tradein_audit_log WHERE action = 'certificate.issued'")
        ).scalar()
        received = conn.execute(
            sa.text("SELECT count(*) FROM tradein_audit_log WHERE action = 'order.receive'")
        ).scalar()
    assert (issued, received) == (1, 1)
    assert len(store.certificates_of(order_id)) == 1
    assert store.verify_audit().ok


def test_an_erasure_report_is_passed_on_to_the_shops_once(tmp_path: Path, clock: FixedClock) -> None:
    """A provider's erasure report, delivered twice, becomes one certificate and one device.erased webhook."""
    import respx  # noqa: PLC0415

    from tradein_sdk import WebhookEndpoint, verify_certificate  # noqa: PLC0415
    from tradein_sdk.webhooks import verify  # noqa: PLC0415

    shop_secrets = WebhookSecrets.generate()
    hook = "https://shop.example/hooks"
    trade_in = TradeIn.embedded(
        tmp_path, clock=clock, webhook_endpoints=(WebhookEndpoint(url=hook, secrets=shop_secrets),)
    )
    service = TradeInService(trade_in, api_keys={"s": KEY}, provider_secrets=PROVIDER)
    client = httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://service")
    order_id = shipped_order(trade_in)
    received_at = clock.now()
    trade_in.receive(order_id, "d1")  # only a device in custody can be erased
    with respx.mock() as router:  # the shop hears of the receipt first
        router.post(hook).mock(return_value=httpx.Response(204))
        trade_in.deliver_webhooks()
    clock.advance(hours=2)
    report = example_erasure_report(order_id, received_at=received_at)
    headers, body = delivery(
        "device.erased", {"order_id": order_id, "device_id": "d1", "report": report}, clock.now()
    )
    assert [post(client, headers, body).json()["applied"] for _ in range(2)] == [True, False]
    certificate = trade_in.erasure_certificate(order_id, "d1")
    assert certificate is not None
    with respx.mock() as router:
        route = router.post(hook).mock(return_value=httpx.Response(204))
        assert trade_in.deliver_webhooks().delivered == 1
    event = verify(
        dict(route.calls[0].request.headers), route.calls[0].request.content, shop_secrets, now=clock.now()
    )
    assert event.type == "device.erased"
    assert (event.data["order_id"], event.data["device_id"]) == (order_id, "d1")
    assert event.data["certificate"] == certificate  # the signed certificate, as the customer gets it
    checked = verify_certificate(event.data["certificate"], trade_in.certificate_keys())
    assert checked.ok
    trade_in.close()


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        ("no report", "webhook_payload_invalid", "$.data.report"),
        ("incomplete", "document_invalid", "'verification' is a required property"),
        ("another device", "document_invalid", "$.device_id"),
        ("not received", "erasure_not_allowed", None),
        ("failed verification", "erasure_unverified", None),
    ],
)
def test_an_erasure_report_that_does_not_hold_is_refused(
    setup: tuple[TradeIn, httpx.Client], clock: FixedClock, change: str, code: str, path: str | None
) -> None:
    """Missing, incomplete, for another device, for a device not received, unverified: 4xx, nothing kept."""
    trade_in, client = setup
    order_id = shipped_order(trade_in)
    received_at = clock.now()
    if change != "not received":
        trade_in.receive(order_id, "d1")
    clock.advance(hours=2)
    report = example_erasure_report(order_id, received_at=received_at)
    if change == "incomplete":
        del report["verification"]
    if change == "another device":
        report["device_id"] = "d2"
    if change == "failed verification":
        report["verification"] = {**report["verification"], "result": "failed"}
    data: dict[str, Any] = {"order_id": order_id, "device_id": "d1"}
    if change != "no report":
        data["report"] = report
    response = post(client, *delivery("device.erased", data, clock.now()))
    assert 400 <= response.status_code < 500, response.text
    problem = response.json()
    assert problem["code"] == code
    if path is not None:
        assert path in json.dumps(problem)
    assert trade_in.erasure_certificate(order_id, "d1") is None
