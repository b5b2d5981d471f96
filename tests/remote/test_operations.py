"""Operations endpoints: health, readiness against the migrations, Prometheus metrics, request logs."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa

from tradein_sdk._adapters.sql.store import SQLStore, iter_migrations
from tradein_sdk._errors import StoreError
from tradein_sdk._remote.service import TradeInService, _JsonFormatter, configure_logging

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradein_sdk import TradeIn

KEY = "store-key-0123456789"
LATEST = max(version for version, _ in iter_migrations())


def client_of(service: TradeInService) -> httpx.Client:
    """An httpx client calling ``service`` in-process, without a key."""
    return httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://service")


@pytest.fixture
def http(trade_in: TradeIn) -> Iterator[httpx.Client]:
    """A client of the service on the test facade."""
    with client_of(TradeInService(trade_in, api_keys={"store-1": KEY})) as client:
        yield client


def test_health_needs_no_key(http: httpx.Client) -> None:
    """``/healthz`` answers 200 without a key."""
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_has_every_migration(http: httpx.Client) -> None:
    """``/readyz`` is 200 and states the schema version."""
    response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "schema_version": LATEST, "latest": LATEST}


def test_not_ready_when_migrations_are_behind(trade_in: TradeIn) -> None:
    """A database missing the latest migration makes ``/readyz`` a 503 problem naming both versions."""
    store = trade_in.store
    assert isinstance(store, SQLStore)
    with store._engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM tradein_schema_migrations WHERE version = :v"), {"v": LATEST})
    with client_of(TradeInService(trade_in, api_keys={"store-1": KEY})) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    document = response.json()
    assert document["code"] == "not_ready"
    assert document["params"] == {"schema_version": LATEST - 1, "latest": LATEST}
    assert document["request_id"] == response.headers["x-request-id"]


def test_not_ready_when_the_database_fails(trade_in: TradeIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that cannot be reached makes ``/readyz`` a 503, not a 500."""

    def unreachable() -> int:
        raise StoreError("read the schema version")

    monkeypatch.setattr(trade_in.store, "schema_version", unreachable)
    with client_of(TradeInService(trade_in, api_keys={"store-1": KEY})) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"


def test_operations_endpoints_take_get_only(http: httpx.Client) -> None:
    """A POST to ``/healthz`` is a 405 naming the methods."""
    response = http.post("/healthz")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_metrics_count_requests_by_operation_and_status(http: httpx.Client) -> None:
    """``/metrics`` is Prometheus text with request counts and latency histograms per operation."""
    http.get("/healthz")
    http.get("/v1/quotes/q_missing", headers={"Authorization": f"Bearer {KEY}"})
    http.get("/v1/quotes/q_missing")
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'tradein_http_requests_total{operation="healthz",status="200"} 1.0' in text
    assert 'tradein_http_requests_total{operation="get_quote",status="404"} 1.0' in text
    assert 'tradein_http_requests_total{operation="get_quote",status="401"} 1.0' in text
    assert 'tradein_http_request_duration_seconds_count{operation="get_quote"} 2.0' in text


def test_metrics_read_the_outbox_when_the_store_counts_it(trade_in: TradeIn) -> None:
    """With a store that has ``outbox_counts``, the outbox depth, age and dead letters are metrics."""
    from tradein_sdk._ports import OutboxCounts  # noqa: PLC0415 - the port may be absent on older stores

    now = trade_in.clock.now()
    counts = OutboxCounts(pending=3, delivered=5, dead=2, oldest_pending_at=now.replace(microsecond=0))
    store: Any = trade_in.store
    store.outbox_counts = lambda: counts
    with client_of(TradeInService(trade_in, api_keys={"store-1": KEY})) as client:
        text = client.get("/metrics").text
    assert "tradein_webhook_outbox_pending 3.0" in text
    assert "tradein_webhook_outbox_oldest_pending_age_seconds" in text
    assert "tradein_webhook_deliveries_failed_total 2.0" in text


def test_metrics_take_a_key_when_one_is_set(trade_in: TradeIn) -> None:
    """With ``metrics_key``, ``/metrics`` is 401 without it and 200 with it."""
    service = TradeInService(trade_in, api_keys={"store-1": KEY}, metrics_key="metrics-key-0123456789")
    with client_of(service) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer metrics-key-0123456789"})
    assert ok.status_code == 200


def test_each_request_logs_one_structured_line(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    """The access log line carries method, operation, status, duration and the request id."""
    with caplog.at_level(logging.INFO, logger="tradein_sdk.service.access"):
        response = http.get("/v1/quotes/q_1", headers={"X-Request-Id": "trace-42"})
    (record,) = [r for r in caplog.records if r.name == "tradein_sdk.service.access"]
    assert response.headers["x-request-id"] == "trace-42"
    entry = json.loads(_JsonFormatter().format(record))
    assert entry["request_id"] == "trace-42"
    assert entry["method"] == "GET"
    assert entry["operation"] == "get_quote"
    assert entry["status"] == 401
    assert isinstance(entry["duration_ms"], float)


def test_json_logging_is_chosen_by_the_environment() -> None:
    """``TRADEIN_LOG_FORMAT=json`` puts the JSON formatter on the root handler; otherwise text."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        configure_logging({"TRADEIN_LOG_FORMAT": "json"})
        assert isinstance(root.handlers[0].formatter, _JsonFormatter)
        configure_logging({})
        assert not isinstance(root.handlers[0].formatter, _JsonFormatter)
    finally:
        root.handlers[:], root.level = saved, level
