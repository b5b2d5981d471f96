"""Calls that change nothing: a stored quote served as stored; read-only POSTs without idempotency records."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa

from grading_questionnaire import ConditionReport, example_answers
from tradein_sdk import (
    AsyncTradeInClient,
    CheckoutRequest,
    CheckoutSummary,
    InvalidIdempotencyKeyError,
    Money,
    NewDevice,
    QuoteClaims,
    TradeInClient,
)
from tradein_sdk._adapters.sql.store import SQLStore
from tradein_sdk._domain.converters import json_converter
from tradein_sdk._remote.api import operations
from tradein_sdk._remote.service import TradeInService
from tradein_sdk._remote.transport import ClientConfig, RequestCore
from tradein_sdk.testing import FakeTradeInService, retry_delays_disabled

if TYPE_CHECKING:
    from collections.abc import Iterator

    import respx

    from tradein_sdk import TradeIn

BERLIN_KEY = "berlin-store-key-0123456789"
PARIS_KEY = "paris-store-key-0123456789"
KEYS = {"berlin@carrier-x:store": BERLIN_KEY, "paris@carrier-x:store": PARIS_KEY}
DEVICE = "apple-iphone-13-128gb"
GALAXY = NewDevice(
    sku="SM-S931B-256",
    name="Galaxy S25 256 GB",
    brand="Samsung",
    category="smartphone",
    price=Money("999.00", "EUR"),
)


Results = tuple[QuoteClaims, ConditionReport, CheckoutSummary, str]
"""What the client test's calls return: the token's claims, a grade, a checkout summary, the quote's id."""


def answers(name: str = "flawless") -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


@pytest.fixture
def service(any_store_trade_in: TradeIn) -> TradeInService:
    """The service on each store kind, with a Berlin and a Paris store key of one organisation."""
    return TradeInService(any_store_trade_in, api_keys=KEYS)


@pytest.fixture
def http(service: TradeInService) -> Iterator[httpx.Client]:
    """An httpx client calling the service in-process with Berlin's key."""
    with httpx.Client(
        transport=httpx.WSGITransport(app=service),
        base_url="http://service",
        headers={"Authorization": f"Bearer {BERLIN_KEY}"},
    ) as client:
        yield client


def idempotency_rows(trade_in: TradeIn) -> int:
    """How many idempotency keys the store keeps."""
    store = trade_in.store
    assert isinstance(store, SQLStore)
    with store._engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM tradein_idempotency_keys")).scalar()
    assert isinstance(count, int)
    return count


def issue(http: httpx.Client, **headers: str) -> dict[str, Any]:
    """Issue a quote over HTTP (German texts: the document holds non-ASCII text)."""
    body = {"device_id": DEVICE, "answers": answers("worn"), "locale": "de"}
    response = http.post("/v1/quotes", json=body, headers=headers)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


# -- GET /v1/quotes/{id} ---------------------------------------------------------------------------------


def test_a_stored_quote_is_served_as_the_store_keeps_it(
    service: TradeInService, http: httpx.Client, any_store_trade_in: TradeIn
) -> None:
    """The answer is the facade's StoredQuote as JSON, its quote the stored text verbatim; Paris gets 404."""
    trade_in = any_store_trade_in
    scope = service.scope_for(BERLIN_KEY)
    assert scope is not None
    berlin = trade_in.scoped(scope)
    issued = issue(http)
    quote_id = issued["quote"]["id"]
    path = f"/v1/quotes/{quote_id}"

    for redeemed in (False, True):
        if redeemed:
            redemption = http.post("/v1/quotes/redeem", json={"token": issued["token"], "reference": "o-1"})
            assert redemption.status_code == 200, redemption.text
        response = http.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        stored = berlin.get_quote(quote_id)
        assert (stored.redemption is not None) is redeemed
        assert response.json() == json_converter().unstructure(stored)  # what the service answered before
        assert response.json()["quote"] == stored.quote.to_json() == issued["quote"]
        record, _ = trade_in.store.get_quote(quote_id)
        assert record.document.encode() in response.content

    paris = http.get(path, headers={"Authorization": f"Bearer {PARIS_KEY}"})
    assert paris.status_code == 404
    assert paris.headers["content-type"] == "application/problem+json"
    assert paris.json()["code"] == "quote_not_found"
    missing = http.get("/v1/quotes/q_missing")
    assert (missing.status_code, missing.json()["code"]) == (404, "quote_not_found")


# -- read-only POSTs keep no idempotency record -----------------------------------------------------------


def test_read_only_posts_keep_no_idempotency_record(http: httpx.Client, any_store_trade_in: TradeIn) -> None:
    """Verify, grade, check out, with no key, a new, a used or an unusable key: no row kept, nothing replayed.

    A quote under a key still keeps its row, and its key still refuses another write.
    """
    issued = issue(http, **{"Idempotency-Key": "quote-1"})
    assert idempotency_rows(any_store_trade_in) == 1
    verify = {"token": issued["token"]}
    grade = {"category": "smartphone", "answers": answers()}
    request = CheckoutRequest(quote_ids=(issued["quote"]["id"],), new_device=GALAXY)
    checkout = json_converter().unstructure(request)
    calls = [("/v1/quotes/verify", verify, 200), ("/v1/grade", grade, 200), ("/v1/checkouts", checkout, 201)]
    for path, body, status in calls:
        for key in (None, "read-1", "read-1", "quote-1", "tab\there"):
            headers = {} if key is None else {"Idempotency-Key": key}
            response = http.post(path, json=body, headers=headers)
            assert response.status_code == status, (path, key, response.text)
            assert "idempotent-replayed" not in response.headers, (path, key)
    assert http.post("/v1/quotes/verify", json=verify).json()["quote_id"] == issued["quote"]["id"]
    assert idempotency_rows(any_store_trade_in) == 1

    redeemed = http.post("/v1/quotes/redeem", json=verify, headers={"Idempotency-Key": "redeem-1"})
    assert redeemed.status_code == 200
    assert idempotency_rows(any_store_trade_in) == 2
    reused = http.post("/v1/quotes/redeem", json=verify, headers={"Idempotency-Key": "quote-1"})
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")


def test_the_read_only_posts_are_those_that_change_nothing() -> None:
    """Every GET is read-only; of the POSTs: grading, verifying, offers, checkout, CO2, an asset list."""
    read_only_posts = {op.id for op in operations().values() if op.method == "POST" and op.read_only}
    assert read_only_posts == {
        "grade",
        "verify_token",
        "insurance_offers",
        "checkout",
        "device_co2",
        "read_assets",
        "offer_guarantees",
        "guarantee_promise",
    }
    assert all(op.read_only for op in operations().values() if op.method == "GET")


# -- the clients send no key for them ------------------------------------------------------------------------


@pytest.fixture
def fake(trade_in: TradeIn) -> Iterator[FakeTradeInService]:
    """The respx fake of the service, with backoff delays removed."""
    with FakeTradeInService(trade_in) as service, retry_delays_disabled():
        yield service


def calls_of(fake: FakeTradeInService, kind: str) -> Results:
    """Quote, verify (with and without a key), grade and check out with the sync or the async client.

    Each read-only operation fails twice with 503 first. Returns their results and the quote's id.
    """
    for operation in ("verify_token", "grade", "checkout"):
        fake.fail(operation, times=2, status=503)

    def sync() -> Results:
        with TradeInClient(base_url=fake.base_url, api_key=fake.api_key, max_retries=2) as client:
            issued = client.quote(DEVICE, answers())
            claims = client.verify_token(issued.token)
            client.verify_token(issued.token, idempotency_key="verify-once")
            report = client.grade("smartphone", answers(), idempotency_key="grade-once")
            summary = client.checkout(CheckoutRequest(quote_ids=(issued.quote.id,), new_device=GALAXY))
            return claims, report, summary, issued.quote.id

    async def asynchronous() -> Results:
        async with AsyncTradeInClient(base_url=fake.base_url, api_key=fake.api_key, max_retries=2) as client:
            issued = await client.quote(DEVICE, answers())
            claims = await client.verify_token(issued.token)
            await client.verify_token(issued.token, idempotency_key="verify-once")
            report = await client.grade("smartphone", answers(), idempotency_key="grade-once")
            summary = await client.checkout(CheckoutRequest(quote_ids=(issued.quote.id,), new_device=GALAXY))
            return claims, report, summary, issued.quote.id

    return sync() if kind == "sync" else asyncio.run(asynchronous())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_clients_send_no_idempotency_key_for_read_only_calls(
    fake: FakeTradeInService, trade_in: TradeIn, kind: str
) -> None:
    """verify_token, grade and checkout carry no Idempotency-Key, even when given one, and are still retried.

    quote, a write, carries one.
    """
    claims, report, summary, quote_id = calls_of(fake, kind)
    assert claims.quote_id == quote_id
    assert report.pricing_grade
    assert summary.request.quote_ids == (quote_id,)

    def keys(operation: str) -> list[str | None]:
        return [call.request.headers.get("Idempotency-Key") for call in fake.routes[operation].calls]

    assert keys("verify_token") == [None] * 4  # two 503s, then an answer; then once more with a key given
    assert keys("grade") == [None] * 3
    assert keys("checkout") == [None] * 3
    [quote_key] = keys("quote")
    assert quote_key
    assert idempotency_rows(trade_in) == 1


def test_the_request_core_sends_a_read_only_post_without_a_key(router: respx.MockRouter) -> None:
    """read_only: no Idempotency-Key on any attempt, retries as usual; a key given with it is refused."""
    route = router.post("https://tradein.test/v1/quotes/verify").mock(
        side_effect=[httpx.ConnectError("down"), httpx.Response(503), httpx.Response(200, json={})]
    )
    config = ClientConfig(base_url="https://tradein.test", api_key="test-api-key-0123456789")
    with retry_delays_disabled(), RequestCore(config) as core:
        response = core.request("POST", "/v1/quotes/verify", json={"token": "t"}, read_only=True)
        assert (response.attempts, response.idempotency_key) == (3, None)
        assert [call.request.headers.get("Idempotency-Key") for call in route.calls] == [None] * 3
        with pytest.raises(InvalidIdempotencyKeyError):
            core.request("POST", "/v1/quotes/verify", json={}, idempotency_key="k", read_only=True)
        assert route.call_count == 3
        written = router.post("https://tradein.test/v1/quotes").respond(201, json={})
        assert core.request("POST", "/v1/quotes", json={}).idempotency_key
        assert written.calls.last.request.headers["Idempotency-Key"]
