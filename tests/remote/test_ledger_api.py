"""The settlement ledger over HTTP: the same ledger, billing runs, stops and reports as the embedded facade.

An order is walked over HTTP to a settled 24-month bill-credit plan (quote, checkout, confirm, label, ship,
receive, inspect, pay), then read, credited, stopped and reported through the service, raw and with the
typed clients, and compared with what the facade behind the service says.
"""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from grading_questionnaire import example_answers
from tradein_sdk import APIResponseError, AsyncTradeInClient, Money, OrderNotFoundError, TradeInClient
from tradein_sdk._app.ledger import OrderLedger
from tradein_sdk._domain.checkout import CheckoutRequest, CreditPlan, CreditTiming, NewDevice
from tradein_sdk._domain.ledger import EntryKind, LedgerEntry, billing_period
from tradein_sdk._domain.ledger_report import LedgerReport
from tradein_sdk._errors import InvalidPeriodError
from tradein_sdk._remote.openapi import openapi_document
from tradein_sdk._remote.service import TradeInService, make_server
from tradein_sdk.testing import FakeTradeInService, retry_delays_disabled

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradein_sdk import FixedClock, TradeIn

KEY = "ledger-key-0123456789"
"""The carrier's back office: the ledger, billing runs and settlement."""
SHOP_KEY = "ledger-shop-key-0123456789"
"""A shop of the carrier: quotes, checkouts and shipping."""
KEYS = {"carrier-hq@carrier:back_office": KEY, "carrier-shop@carrier:shop": SHOP_KEY}
EUR = "EUR"
IPHONE = "apple-iphone-13-128gb"
IMEI = "490154203237518"
MONTHS = 24
PHONE = NewDevice(
    sku="SM-S931B-256",
    name="Samsung Galaxy S25",
    brand="Samsung",
    category="smartphone",
    price=Money("999", EUR),
)


def worn() -> dict[str, Any]:
    """The iPhone as declared: light wear."""
    return dict(example_answers("smartphone", "worn").answers)


def inspected() -> dict[str, Any]:
    """The inspector's answers: the declared ones plus the staff checks, all clean."""
    store = example_answers("smartphone", "store-inspected").answers
    checks = ("liquid_indicator", "blocklist_status", "authenticity")
    return {**worn(), **{key: store[key] for key in checks}}


@pytest.fixture
def service_url(trade_in: TradeIn) -> Iterator[str]:
    """The real service on a loopback port, on the facade of the test."""
    server = make_server(TradeInService(trade_in, api_keys=KEYS), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(service_url: str) -> Iterator[TradeInClient]:
    """The back office's sync client of the loopback service."""
    with TradeInClient(base_url=service_url, api_key=KEY) as remote:
        yield remote


@pytest.fixture
def shop(service_url: str) -> Iterator[TradeInClient]:
    """The shop's sync client of the loopback service."""
    with TradeInClient(base_url=service_url, api_key=SHOP_KEY) as remote:
        yield remote


@pytest.fixture
def http(service_url: str) -> Iterator[httpx.Client]:
    """Plain HTTP to the loopback service, with the key."""
    with httpx.Client(base_url=service_url, headers={"Authorization": f"Bearer {KEY}"}) as plain:
        yield plain


def settled_bill_credits(shop: TradeInClient, client: TradeInClient) -> tuple[str, list[Money]]:
    """Walk an order over HTTP to a settled 24-month bill-credit plan; its id and its installments.

    The shop quotes, checks out and ships; the back office (``client``) receives, inspects and pays.
    """
    quote = shop.quote(IPHONE, worn(), imei=IMEI).quote
    request = CheckoutRequest(
        quote_ids=(quote.id,),
        new_device=PHONE,
        timing=CreditTiming.DEFERRED,
        plan=CreditPlan.BILL_CREDITS,
        months=MONTHS,
    )
    summary = shop.checkout(request)
    order = shop.confirm_checkout(summary).order
    shop.issue_label(order.id)
    shop.ship(order.id, "d1", tracking="TRACK1")
    client.receive(order.id, "d1")
    client.inspect(order.id, "d1", inspected(), imei=IMEI)
    client.pay(order.id, "d1")
    assert summary.bill_credits is not None
    return order.id, list(summary.bill_credits.installments)


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem document of an error answer, checked for its status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = response.json()
    assert (document["status"], document["code"]) == (status, code)
    return document


def conforms(response: httpx.Response, path: str, method: str = "get") -> None:
    """The answer's JSON is what the OpenAPI document says the operation answers."""
    document = openapi_document()
    answer = document["paths"][path][method]["responses"][str(response.status_code)]
    schema = answer["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": document["components"]}).validate(response.json())


# -- the walk ----------------------------------------------------------------------------------------------


@pytest.fixture
def plan(shop: TradeInClient, client: TradeInClient) -> tuple[str, list[Money]]:
    """An order settled over HTTP into 24 monthly bill credits: its id and its installments."""
    return settled_bill_credits(shop, client)


def test_the_ledger_over_http_is_the_facades(
    plan: tuple[str, list[Money]],
    client: TradeInClient,
    http: httpx.Client,
    trade_in: TradeIn,
) -> None:
    """The ledger's JSON is OrderLedger.to_json; the clients read it back into the same OrderLedger."""
    order_id, installments = plan
    raw = http.get(f"/v1/orders/{order_id}/ledger")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/json"
    assert raw.json() == trade_in.ledger(order_id).to_json()
    conforms(raw, "/v1/orders/{order_id}/ledger")
    ledger = client.ledger(order_id)
    assert isinstance(ledger, OrderLedger)
    assert ledger == trade_in.ledger(order_id)
    assert [item.amount for item in ledger.installments] == installments
    assert ledger.total.scheduled == Money.total(installments, EUR)
    assert ledger.total.open == ledger.total.owed  # nothing credited yet


def test_installments_due_are_paged_by_position(
    plan: tuple[str, list[Money]],
    client: TradeInClient,
    http: httpx.Client,
    trade_in: TradeIn,
    clock: FixedClock,
) -> None:
    """Installments due up to a period, with the positions that page through them."""
    order_id, _ = plan
    first = billing_period(clock.now(), 1)
    due = client.installments_due(first)
    assert due == trade_in.installments_due(first)
    assert len(due) == 1
    assert isinstance(due[0][1], LedgerEntry)
    assert due[0][1].order_id == order_id
    page = http.get("/v1/ledger/installments", params={"period": billing_period(clock.now(), 3)})
    conforms(page, "/v1/ledger/installments")
    positions = [item["position"] for item in page.json()["installments"]]
    assert len(positions) == 3
    assert positions == sorted(positions)
    second_page = client.installments_due(billing_period(clock.now(), 3), limit=2, after=positions[0])
    assert [position for position, _ in second_page] == positions[1:]
    assert client.installments_due(billing_period(clock.now())) == []  # nothing due this month


def test_billing_runs_credit_once_and_a_stop_ends_the_plan(
    plan: tuple[str, list[Money]],
    client: TradeInClient,
    http: httpx.Client,
    trade_in: TradeIn,
    clock: FixedClock,
) -> None:
    """A period credited twice credits 0 the second time; stopping settles what is left, once."""
    order_id, installments = plan
    first = billing_period(clock.now(), 1)
    credited = http.post("/v1/ledger/installments/credit", json={"period": first, "run_id": "bill-2026-12"})
    assert credited.status_code == 200
    assert credited.json() == {"count": 1, "totals": {EUR: installments[0].to_json()}}
    conforms(credited, "/v1/ledger/installments/credit", "post")
    assert client.credit_installments(first) == (0, {})  # exactly once
    second = client.credit_installments(billing_period(clock.now(), 2), run_id="bill-2027-01")
    assert second == (1, {EUR: installments[1]})

    stopped = http.post(f"/v1/orders/{order_id}/installments/stop", json={"reason": "contract_ended"})
    assert stopped.status_code == 200
    conforms(stopped, "/v1/orders/{order_id}/installments/stop", "post")
    entries = stopped.json()["entries"]
    assert len(entries) == MONTHS - 2
    assert {(entry["order_id"], entry["kind"], entry["reason"]) for entry in entries} == {
        (order_id, EntryKind.INSTALLMENT_STOPPED.value, "contract_ended")
    }
    assert client.stop_installments(order_id, reason="contract_ended") == []  # nothing left to stop
    after = client.ledger(order_id)
    assert after == trade_in.ledger(order_id)
    assert after.installments == ()
    assert after.total.credited == after.total.owed == installments[0] + installments[1]
    assert after.total.open == Money("0", EUR)
    assert client.credit_installments(billing_period(clock.now(), 12)) == (0, {})


@pytest.mark.usefixtures("plan")
def test_the_report_in_json_and_csv(
    client: TradeInClient,
    http: httpx.Client,
    trade_in: TradeIn,
    clock: FixedClock,
) -> None:
    """The report as LedgerReport.to_json, or to_csv with format=csv; the clients read a LedgerReport back."""
    client.credit_installments(billing_period(clock.now(), 1))
    today = clock.now().date()
    window = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    expected = trade_in.ledger_report(today, today + timedelta(days=1))
    assert expected.totals  # the plan's entries are in the window
    as_json = http.get("/v1/ledger/report", params=window)
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json() == expected.to_json()
    assert as_json.json()["ties_out"] is True
    conforms(as_json, "/v1/ledger/report")
    as_csv = http.get("/v1/ledger/report", params={**window, "format": "csv"})
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.text == expected.to_csv()
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert any((row["section"], row["currency"], row["name"]) == ("totals", EUR, "credited") for row in rows)
    assert http.get("/v1/ledger/report", params={**window, "format": "json"}).content == as_json.content
    report = client.ledger_report(today, today + timedelta(days=1))
    assert isinstance(report, LedgerReport)
    assert report == expected
    assert report.to_csv() == as_csv.text


def test_the_async_client_reads_the_same_ledger(
    shop: TradeInClient, client: TradeInClient, service_url: str, trade_in: TradeIn, clock: FixedClock
) -> None:
    """The async twin: the same ledger, installments, billing run, stop and report."""
    order_id, installments = settled_bill_credits(shop, client)
    first = billing_period(clock.now(), 1)
    today = clock.now().date()

    async def walk() -> None:
        async with AsyncTradeInClient(base_url=service_url, api_key=KEY) as remote:
            assert await remote.ledger(order_id) == trade_in.ledger(order_id)
            assert await remote.installments_due(first) == trade_in.installments_due(first)
            assert await remote.credit_installments(first) == (1, {EUR: installments[0]})
            assert await remote.credit_installments(first) == (0, {})
            stopped = await remote.stop_installments(order_id, reason="device_returned", device_id="d1")
            assert len(stopped) == MONTHS - 1
            assert all(entry.kind is EntryKind.INSTALLMENT_STOPPED for entry in stopped)
            report = await remote.ledger_report(today, today + timedelta(days=1))
            assert report == trade_in.ledger_report(today, today + timedelta(days=1))
            with pytest.raises(InvalidPeriodError):
                await remote.installments_due("2027-13")

    asyncio.run(walk())


def test_an_idempotency_key_replays_the_billing_run(
    http: httpx.Client, shop: TradeInClient, client: TradeInClient, clock: FixedClock
) -> None:
    """The same key sends the first run's answer again; a new key runs again and credits nothing more."""
    settled_bill_credits(shop, client)
    first = billing_period(clock.now(), 1)
    headers = {"Idempotency-Key": "billing-run-2026-12"}
    once = http.post("/v1/ledger/installments/credit", json={"period": first}, headers=headers)
    again = http.post("/v1/ledger/installments/credit", json={"period": first}, headers=headers)
    assert once.json()["count"] == 1
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == once.content
    fresh = http.post(
        "/v1/ledger/installments/credit", json={"period": first}, headers={"Idempotency-Key": "x-2"}
    )
    assert fresh.json() == {"count": 0, "totals": {}}


# -- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data", "where"),
    [
        ("GET", "/v1/ledger/installments", {"period": "2027-13"}, "query.period"),
        ("GET", "/v1/ledger/installments", {"period": "next month"}, "query.period"),
        ("POST", "/v1/ledger/installments/credit", {"period": "2027-1"}, "$.period"),
        ("GET", "/v1/ledger/report", {"from": "2026-02-30", "to": "2026-03-01"}, "query.from"),
        ("GET", "/v1/ledger/report", {"from": "2026-02-01", "to": "1st of March"}, "query.to"),
    ],
)
def test_a_malformed_period_or_date_is_a_422_naming_it(
    http: httpx.Client, method: str, path: str, data: dict[str, str], where: str
) -> None:
    """A period that is not YYYY-MM, or a day that is not YYYY-MM-DD: 422 invalid_period naming it."""
    response = http.get(path, params=data) if method == "GET" else http.post(path, json=data)
    document = problem(response, 422, "invalid_period")
    assert [item["path"] for item in document["problems"]] == [where]
    assert document["detail"].startswith(f"{where}: ")
    assert document["params"]["period"] in data.values()


def test_a_report_must_end_after_it_starts(http: httpx.Client) -> None:
    """An empty or reversed range is the facade's InvalidPeriodError: 422."""
    response = http.get("/v1/ledger/report", params={"from": "2026-03-01", "to": "2026-03-01"})
    problem(response, 422, "invalid_period")


@pytest.mark.parametrize(
    ("path", "params", "where"),
    [
        ("/v1/ledger/installments", {"period": "2027-01", "limit": "0"}, "query.limit"),
        ("/v1/ledger/installments", {"period": "2027-01", "limit": "1001"}, "query.limit"),
        ("/v1/ledger/installments", {"period": "2027-01", "after": "-1"}, "query.after"),
        ("/v1/ledger/installments", {"period": "2027-01", "after": str(2**64)}, "query.after"),
        ("/v1/ledger/installments", {"period": "2027-01", "limit": "many"}, "query.limit"),
        ("/v1/ledger/installments", {}, "query.period"),
        ("/v1/ledger/report", {"to": "2026-03-01"}, "query.from"),
        ("/v1/ledger/report", {"from": "2026-02-01", "to": "2026-03-01", "format": "xml"}, "query.format"),
    ],
)
def test_other_bad_queries_are_400s_naming_the_parameter(
    http: httpx.Client, path: str, params: dict[str, str], where: str
) -> None:
    """Bounds, types, a missing parameter or an unknown format: 400 request_invalid naming the parameter."""
    document = problem(http.get(path, params=params), 400, "request_invalid")
    assert where in [item["path"] for item in document["problems"]]


@pytest.mark.parametrize("reason", ["", "two words", "x" * 101, "contract\nended"])
def test_a_stop_reason_is_a_short_code(http: httpx.Client, reason: str) -> None:
    """A reason is a code (letters, digits, ``_.:-``), never free text that could hold personal data."""
    response = http.post("/v1/orders/ord_nope/installments/stop", json={"reason": reason})
    document = problem(response, 400, "request_invalid")
    assert [item["path"] for item in document["problems"]] == ["$.reason"]


def test_an_unknown_order_is_a_404(http: httpx.Client, client: TradeInClient) -> None:
    """Reading or stopping the ledger of no order: 404 order_not_found, and OrderNotFoundError remotely."""
    problem(http.get("/v1/orders/ord_nope/ledger"), 404, "order_not_found")
    stop = http.post("/v1/orders/ord_nope/installments/stop", json={"reason": "contract_ended"})
    problem(stop, 404, "order_not_found")
    with pytest.raises(OrderNotFoundError):
        client.ledger("ord_nope")
    with pytest.raises(OrderNotFoundError):
        client.stop_installments("ord_nope", reason="contract_ended")


def test_the_clients_raise_the_facades_period_error(client: TradeInClient) -> None:
    """A bad period raises InvalidPeriodError carrying the period, as the embedded call does."""
    with pytest.raises(InvalidPeriodError) as caught:
        client.credit_installments("2027-13")
    assert caught.value.period == "2027-13"
    assert caught.value.status == 422  # type: ignore[attr-defined]
    assert "2027-13" in caught.value.localized("de_DE")
    with pytest.raises(InvalidPeriodError):
        client.installments_due("{period}")
    with pytest.raises(InvalidPeriodError):
        client.ledger_report(date(2026, 11, 24), date(2026, 11, 24))


# -- faults ------------------------------------------------------------------------------------------------


def test_a_billing_run_retried_after_a_503_credits_once(trade_in: TradeIn, clock: FixedClock) -> None:
    """The fake service fails the run once: the client retries with the same key and credits once."""
    with FakeTradeInService(trade_in) as fake, retry_delays_disabled():
        client = fake.client(role="back_office")
        settled_bill_credits(fake.client(), client)
        fake.fail("credit_installments", times=1, status=503)
        count, _ = client.credit_installments(billing_period(clock.now(), 1))
        assert count == 1
        calls = fake.routes["credit_installments"].calls
        assert len(calls) == 2
        assert len({call.request.headers["Idempotency-Key"] for call in calls}) == 1
        fake.fail("ledger_report", times=1, body=b"not json", status=502)
        today = clock.now().date()
        assert client.ledger_report(today, today + timedelta(days=1)).ties_out
        client.close()


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("ledger", b'{"order_id": "ord_1"}'),
        ("ledger", b"[]"),
        ("installments_due", b'{"installments": [{"position": "1"}]}'),
        ("credit_installments", b'{"count": "one", "totals": {}}'),
        ("stop_installments", b'{"entries": [{"id": 1}]}'),
        ("ledger_report", b'{"start": "yesterday"}'),
    ],
)
def test_a_ledger_answer_that_does_not_fit_is_a_response_error(
    trade_in: TradeIn, operation: str, body: bytes
) -> None:
    """A 200 whose JSON is not the form the client reads back: APIResponseError, not a KeyError."""
    calls = {
        "ledger": lambda client: client.ledger("ord_1"),
        "installments_due": lambda client: client.installments_due("2027-01"),
        "credit_installments": lambda client: client.credit_installments("2027-01"),
        "stop_installments": lambda client: client.stop_installments("ord_1", reason="contract_ended"),
        "ledger_report": lambda client: client.ledger_report(date(2026, 11, 1), date(2026, 12, 1)),
    }
    with FakeTradeInService(trade_in) as fake, fake.client() as client:
        fake.fail(operation, status=200, body=body)
        with pytest.raises(APIResponseError) as raised:
            calls[operation](client)
        assert raised.value.attempts == 1
